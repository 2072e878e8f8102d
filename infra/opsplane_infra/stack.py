"""The production stack: tables, the blobs bucket, one function per category, the authorizer,
the REST API with every route of the app, usage plans per tier, worker queues and the
signing keys."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import CfnOutput, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.settings import get_settings
from chalicelib.workers import Worker

from . import asset, openapi, registry
from .config import StageConfig

# Never shipped from a code directory: caches and the builder's own bookkeeping.
CODE_EXCLUDE = [asset.FINGERPRINT, "*.lock"]

# Queues of the workers to come, whose consumers are not written yet (see README); the
# registered workers' queues (chalicelib/workers: "ingest") are added to these.
PLANNED_QUEUES = ("webhook-delivery", "alert-evaluation")
WORKER_QUEUES = tuple(sorted({*PLANNED_QUEUES, *(w.queue for w in registry.workers())}))
WORKER_VISIBILITY = Duration.minutes(3)
# SQS's advice for a Lambda event source: visibility at least six times the function's timeout.
VISIBILITY_PER_TIMEOUT = 6
MAX_RECEIVES = 5
WORKER_MEMORY_MB = 1024  # parsing JSON and batching writes wants CPU, which scales with memory

AUTHORIZER_MEMORY_MB = 1024  # argon2id for Basic logins wants CPU, which scales with memory
DEFAULT_MEMORY_MB = 256

_KEY_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


def construct_id(name: str) -> str:
    """A CloudFormation-friendly id from a category name ("user-group" -> "UserGroup")."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def lambda_uri(function: lambda_.IFunction) -> str:
    """The API Gateway integration URI of a Lambda function (one Fn::Sub: the API body
    repeats it for every method, and a template holds at most 1 MB)."""
    return Fn.sub(
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn}/invocations",
        {"Fn": function.function_arn},
    )


class OpsplaneStack(Stack):
    """Everything opsplane runs on in one AWS account and region, for one stage."""

    def __init__(self, scope: Construct, construct_id_: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id_, description=f"opsplane management API ({config.stage})", **kwargs)
        self.config = config
        self.table_specs = {spec.key: spec for spec in registry.tables()}
        self.tables = {key: self._table(spec) for key, spec in self.table_specs.items()}
        self.blobs = self._blobs_bucket()
        # A literal name: the functions find the secret by it (the token CDK derives from
        # the ARN only parses back names with a single hyphen).
        self.signing_keys_name = f"opsplane/{config.stage}/signing-keys"
        self.signing_keys = secretsmanager.Secret(
            self,
            "SigningKeys",
            secret_name=self.signing_keys_name,
            description="opsplane ES256 signing-key ring and cursor secret (seed: infra/README.md)",
            removal_policy=config.removal_policy,
        )
        self.queues = {name: self._queue(name) for name in WORKER_QUEUES}

        # app.py, chalicelib/ and the runtime dependencies for the functions' platform
        # (asset.py; built here, once per change of requirements or sources, unless given).
        self.code = lambda_.Code.from_asset(config.code_dir or str(asset.build()), exclude=CODE_EXCLUDE)
        self.functions: dict[str, lambda_.Function] = {}
        for served in registry.served():
            if served.name in ("default", "authorizer"):
                raise ValueError(f"Category name {served.name!r} is reserved by infra/")
            function = self._function(
                construct_id(served.name) + "Function",
                served.name,
                handler="app.app",
                categories=(served.name,),
                memory_mb=served.category.memory_mb,
                description=f"opsplane {served.name} routes",
            )
            self._grant_tables(function, served.table_access())
            self._grant_blobs(function, registry.blob_access(served.table_access()))
            if served.reads_keys:
                self._grant_keys(function)
            self.functions[served.name] = function

        for served in registry.served():
            for queue in served.category.queues:
                self._grant_send(self.functions[served.name], self.queues[queue])
        self.workers = {worker.queue: self._worker(worker) for worker in registry.workers()}
        self.schedules = {queue: self._schedule(queue, s.rate) for queue, s in registry.schedules().items()}

        edge_only = registry.edge_only_categories()
        self.default_function = self._function(
            "DefaultFunction",
            "default",
            handler="app.app",
            categories=edge_only,
            memory_mb=DEFAULT_MEMORY_MB,
            description="opsplane unknown paths (404 in the caller's dialect)",
        )
        self.authorizer = self._function(
            "AuthorizerFunction",
            "authorizer",
            handler=registry.authorizer_handler(),
            categories=edge_only,
            memory_mb=AUTHORIZER_MEMORY_MB,
            description="opsplane API Gateway REQUEST authorizer",
        )
        self._grant_tables(self.authorizer, registry.AUTHORIZER_ACCESS)
        self._grant_blobs(self.authorizer, registry.blob_access(registry.AUTHORIZER_ACCESS))
        self._grant_keys(self.authorizer)

        self.api = self._api()
        self.usage_plans = self._usage_plans()
        self.fallback_keys = self._fallback_keys()
        self._outputs()

    # -- storage -------------------------------------------------------------------------

    def _table(self, spec: registry.TableSpec) -> dynamodb.Table:
        def attribute(key: tuple[str, str]) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=key[0], type=_KEY_TYPES[key[1]])

        table = dynamodb.Table(
            self,
            construct_id(spec.key) + "Table",
            table_name=self.config.table_name(spec.key),
            partition_key=attribute(spec.hash_key),
            sort_key=attribute(spec.range_key) if spec.range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=self.config.protect_data,
            removal_policy=self.config.removal_policy,
        )
        for index in spec.indexes:
            types = {d["AttributeName"]: d["AttributeType"] for d in index["attribute_definitions"]}
            keys = {k["KeyType"]: k["AttributeName"] for k in index["key_schema"]}
            projection = index["projection"]
            table.add_global_secondary_index(
                index_name=index["index_name"],
                partition_key=attribute((keys["HASH"], types[keys["HASH"]])),
                sort_key=attribute((keys["RANGE"], types[keys["RANGE"]])) if "RANGE" in keys else None,
                projection_type=_PROJECTIONS[projection["ProjectionType"]],
                non_key_attributes=projection.get("NonKeyAttributes"),
            )
        return table

    def _blobs_bucket(self) -> s3.Bucket:
        """Documents too large for a DynamoDB item (chalicelib/store/blobs.py). The name is
        CloudFormation's (bucket names are global); functions get it as OPSPLANE_BLOBS_BUCKET."""
        return s3.Bucket(
            self,
            "BlobsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Blobs are written whole (PutObject), never in parts: a part left behind by
            # any other client would be billed forever.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)
                )
            ],
            removal_policy=self.config.removal_policy,
            # Dev stacks go away whole; prod keeps its documents, as it keeps its tables.
            auto_delete_objects=not self.config.protect_data,
        )

    def _queue(self, name: str) -> sqs.Queue:
        base = construct_id(name)
        worker = next((w for w in registry.workers() if w.queue == name), None)
        visibility = WORKER_VISIBILITY
        if worker is not None:
            visibility = Duration.seconds(max(WORKER_VISIBILITY.to_seconds(), VISIBILITY_PER_TIMEOUT * worker.timeout))
        common: dict[str, Any] = {
            "encryption": sqs.QueueEncryption.SQS_MANAGED,
            "enforce_ssl": True,
            "removal_policy": self.config.removal_policy,
        }
        dead = sqs.Queue(
            self,
            f"{base}DeadLetters",
            queue_name=f"opsplane-{self.config.stage}-{name}-dlq",
            retention_period=Duration.days(14),
            **common,
        )
        return sqs.Queue(
            self,
            f"{base}Queue",
            queue_name=f"opsplane-{self.config.stage}-{name}",
            visibility_timeout=visibility,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVES, queue=dead),
            **common,
        )

    # -- functions -----------------------------------------------------------------------

    def _function(
        self,
        cid: str,
        name: str,
        *,
        handler: str,
        categories: tuple[str, ...],
        memory_mb: int,
        description: str,
        timeout_seconds: int | None = None,
    ) -> lambda_.Function:
        function_name = f"opsplane-{self.config.stage}-{name}"
        log_group = logs.LogGroup(
            self,
            f"{cid}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=self.config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        environment = {
            "OPSPLANE_STAGE": self.config.stage,
            "OPSPLANE_CATEGORIES": ",".join(categories),
            "OPSPLANE_SIGNING_KEYS_SECRET": self.signing_keys_name,
            "OPSPLANE_STATE_DIR": "/tmp",  # the only writable directory in Lambda
            "POWERTOOLS_SERVICE_NAME": "opsplane",
            # Per-tenant API keys (chalicelib/identity/tenant_keys.py) on the plans made here.
            "OPSPLANE_API_KEYS": "true",
        }
        for key, table in self.tables.items():
            environment[self.table_specs[key].env_var] = table.table_name
        environment["OPSPLANE_BLOBS_BUCKET"] = self.blobs.bucket_name
        return lambda_.Function(
            self,
            cid,
            function_name=function_name,
            description=description,
            runtime=lambda_.Runtime.PYTHON_3_11,  # asset.PYTHON_VERSION: what the asset is built for
            architecture=lambda_.Architecture.X86_64,  # asset.ARCHITECTURE
            handler=handler,
            code=self.code,
            memory_size=memory_mb,
            timeout=Duration.seconds(timeout_seconds or self.config.timeout_seconds),
            environment=environment,
            log_group=log_group,
            # X-Ray: the edge annotates each request with tenant and category (http/telemetry.py).
            tracing=lambda_.Tracing.ACTIVE,
        )

    def _worker(self, worker: Worker) -> lambda_.Function:
        """A worker's function: app.worker fed by its queue, the failed records of a batch
        reported (ReportBatchItemFailures) so SQS redelivers only those."""
        name = f"worker-{worker.queue}"
        function = self._function(
            construct_id(name) + "Function",
            name,
            handler="app.worker",
            categories=registry.edge_only_categories(),
            memory_mb=WORKER_MEMORY_MB,
            description=f"opsplane {worker.queue} worker",
            timeout_seconds=worker.timeout,
        )
        self._grant_tables(function, registry.WORKER_ACCESS)
        self._grant_blobs(function, registry.blob_access(registry.WORKER_ACCESS))
        self._grant_keys(function)  # cursor secret: the repository signs cursors
        if worker.assumes_roles:
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=[registry.ASSUME_ROLE],
                    resources=[f"arn:{self.partition}:iam::*:role/*"],
                    conditions=registry.ASSUME_ROLE_CONDITION,
                )
            )
        if worker.manages_api_keys:
            gateway = f"arn:{self.partition}:apigateway:{self.region}::"
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=list(registry.API_KEY_ACTIONS),
                    resources=[
                        f"{gateway}/apikeys",
                        f"{gateway}/apikeys/*",
                        f"{gateway}/usageplans",
                        f"{gateway}/usageplans/*/keys",
                        f"{gateway}/usageplans/*/keys/*",
                        f"{gateway}/tags/*",
                    ],
                )
            )
        function.add_event_source(
            event_sources.SqsEventSource(
                self.queues[worker.queue],
                batch_size=worker.batch_size,
                report_batch_item_failures=True,
                # As few at a time as SQS allows (2): API Gateway's key management limits are
                # per account; throttled calls back off and retry (store/gatewaykeys.py).
                max_concurrency=2 if worker.manages_api_keys else None,
            )
        )
        return function

    def _schedule(self, queue: str, rate: str) -> events.Rule:
        """An EventBridge rule that invokes the worker function of queue on the schedule's
        rate, with the input that makes app.worker run the schedule, which sends to queue."""
        function = self.workers[queue]
        self._grant_send(function, self.queues[queue])
        return events.Rule(
            self,
            construct_id(queue) + "Schedule",
            rule_name=f"opsplane-{self.config.stage}-{queue}",
            description=f"opsplane {queue} schedule: fans out one message per tenant due",
            schedule=events.Schedule.expression(rate),
            targets=[
                events_targets.LambdaFunction(
                    function, event=events.RuleTargetInput.from_object(registry.schedule_input(queue)), retry_attempts=2
                )
            ],
        )

    def _grant_send(self, function: lambda_.Function, queue: sqs.Queue) -> None:
        function.add_to_role_policy(iam.PolicyStatement(actions=list(registry.QUEUE_SEND), resources=[queue.queue_arn]))

    def _grant_tables(self, function: lambda_.Function, access: dict[str, tuple[str, ...]]) -> None:
        """Item-level actions on the named tables only (and their indexes, for Query)."""
        for key in sorted(access):
            table, spec = self.tables[key], self.table_specs[key]
            resources = [table.table_arn]
            if registry.QUERY in access[key]:
                resources += [f"{table.table_arn}/index/{index['index_name']}" for index in spec.indexes]
            function.add_to_role_policy(iam.PolicyStatement(actions=list(access[key]), resources=resources))

    def _grant_blobs(self, function: lambda_.Function, actions: tuple[str, ...]) -> None:
        """Object actions on the blobs bucket's objects, and ListBucket on the bucket itself."""
        if not actions:
            return
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(actions), resources=[self.blobs.arn_for_objects("*")])
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=[registry.BLOB_LIST], resources=[self.blobs.bucket_arn])
        )

    def _grant_keys(self, function: lambda_.Function) -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[self.signing_keys.secret_arn])
        )

    # -- API -------------------------------------------------------------------------------

    def _api(self) -> apigw.SpecRestApi:
        body = openapi.build(
            title=f"opsplane-{self.config.stage}",
            version=get_settings().version,
            routes=[(s.name, r) for s in registry.served() for r in s.routes],
            uri_for=lambda category: lambda_uri(self.functions[category]),
            default_uri=lambda_uri(self.default_function),
            authorizer_uri=lambda_uri(self.authorizer),
            binary_types=registry.binary_types(),
            api_key_required=self.config.api_key_required,
        )
        access_logs = logs.LogGroup(
            self, "ApiAccessLogs", retention=self.config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        api = apigw.SpecRestApi(
            self,
            "Api",
            rest_api_name=f"opsplane-{self.config.stage}",
            api_definition=apigw.ApiDefinition.from_inline(body),
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=self.config.stage,
                throttling_rate_limit=self.config.stage_rate,
                throttling_burst_limit=self.config.stage_burst,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        cfn_api: Any = api.node.default_child
        cfn_api.api_key_source_type = "AUTHORIZER"  # the authorizer's usageIdentifierKey meters the tenant
        # A new body must make a new deployment, or the stage keeps serving the old routes.
        deployment = api.latest_deployment
        if deployment is None:
            raise ValueError("SpecRestApi made no deployment")
        deployment.add_to_logical_id(body)

        invoke = iam.ServicePrincipal("apigateway.amazonaws.com")
        for function in [*self.functions.values(), self.default_function]:
            function.add_permission("ApiInvoke", principal=invoke, source_arn=api.arn_for_execute_api())
        self.authorizer.add_permission(
            "ApiAuthorize",
            principal=invoke,
            source_arn=self.format_arn(service="execute-api", resource=api.rest_api_id, resource_name="authorizers/*"),
        )
        self.api_body = body
        return api

    def _usage_plans(self) -> dict[str, apigw.UsagePlan]:
        plans = {}
        for tier in self.config.tiers:
            plan = self.api.add_usage_plan(
                construct_id(tier.name) + "Plan",
                name=self.config.plan_name(tier.name),
                description=f"opsplane {tier.name} tier (tenant API keys are bound at onboarding)",
                throttle=apigw.ThrottleSettings(rate_limit=tier.rate, burst_limit=tier.burst),
                quota=apigw.QuotaSettings(limit=tier.monthly_quota, period=apigw.Period.MONTH),
            )
            plan.add_api_stage(stage=self.api.deployment_stage)
            plans[tier.name] = plan
        return plans

    def _fallback_keys(self) -> dict[str, apigw.CfnApiKey]:
        """One shared API key per tier, on the tier's plan: what the authorizer hands API
        Gateway for a tenant whose own key the tenant-keys worker has not made or moved yet
        (identity/tenant_keys.py). Name and value are the stage's fallback name: a metering
        id, not a secret (the API takes keys from the authorizer only, never from callers)."""
        keys = {}
        for tier in self.config.tiers:
            name = self.config.fallback_key(tier.name)
            key = apigw.CfnApiKey(
                self,
                construct_id(tier.name) + "FallbackKey",
                name=name,
                value=name,
                enabled=True,
                description=f"opsplane {tier.name} tier: tenants without their own key yet",
            )
            apigw.CfnUsagePlanKey(
                self,
                construct_id(tier.name) + "FallbackPlanKey",
                key_id=key.ref,
                key_type="API_KEY",
                usage_plan_id=self.usage_plans[tier.name].usage_plan_id,
            )
            keys[tier.name] = key
        return keys

    def _outputs(self) -> None:
        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "SigningKeysSecret", value=self.signing_keys_name)
        for name, plan in self.usage_plans.items():
            CfnOutput(self, construct_id(name) + "UsagePlanId", value=plan.usage_plan_id)
        for name, queue in self.queues.items():
            CfnOutput(self, construct_id(name) + "QueueUrl", value=queue.queue_url)
        for key, table in self.tables.items():
            CfnOutput(self, construct_id(key) + "TableName", value=table.table_name)
        CfnOutput(self, "BlobsBucketName", value=self.blobs.bucket_name)
