"""The production stack, synthesized offline and checked: tables, functions, least-privilege
IAM, every route of the app on API Gateway, usage plans, queues, and cfn-lint."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk
import pytest
from aws_cdk.assertions import Match, Template

from chalicelib import api, tiers
from chalicelib.api import routers
from chalicelib.settings import Settings, get_settings, reset_settings
from infra.opsplane_infra import asset, openapi, registry
from infra.opsplane_infra.config import BASE
from infra.opsplane_infra.stack import OpsplaneStack

pytestmark = pytest.mark.infra


STAGE = "prod"
ITEM_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
}


class Synth:
    """The synthesized prod stack (or another stage's): its template (dict and assertions)
    and cloud assembly."""

    def __init__(self, outdir: Path, stage: str = STAGE) -> None:
        app = aws_cdk.App(outdir=str(outdir))
        OpsplaneStack(app, f"opsplane-{stage}", config=BASE[stage])
        assembly = app.synth()
        artifact = assembly.get_stack_by_name(f"opsplane-{stage}")
        self.directory = Path(assembly.directory)
        self.template_path = Path(artifact.template_full_path)
        self.template: dict[str, Any] = json.loads(self.template_path.read_text())
        self.assertions = Template.from_json(self.template)

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == kind}

    def table_keys(self) -> dict[str, str]:
        """Table logical id -> table key (entities, tokens, usage)."""
        prefix = f"opsplane-{STAGE}-"
        return {
            k: r["Properties"]["TableName"].removeprefix(prefix)
            for k, r in self.of_type("AWS::DynamoDB::Table").items()
        }

    def functions(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Function name suffix (category, default, authorizer) -> (logical id, properties)."""
        prefix = f"opsplane-{STAGE}-"
        return {
            r["Properties"]["FunctionName"].removeprefix(prefix): (k, r["Properties"])
            for k, r in self.of_type("AWS::Lambda::Function").items()
        }

    def statements(self, function_name: str) -> list[dict[str, Any]]:
        """Every IAM statement that applies to the function's role."""
        _, props = self.functions()[function_name]
        role = props["Role"]["Fn::GetAtt"][0]
        found = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role} in policy["Properties"]["Roles"]:
                found += policy["Properties"]["PolicyDocument"]["Statement"]
        for inline in self.template["Resources"][role]["Properties"].get("Policies", []):
            found += inline["PolicyDocument"]["Statement"]
        return found

    def table_access(self, function_name: str) -> dict[str, set[str]]:
        """Table key -> DynamoDB actions the function may perform."""
        keys = self.table_keys()
        access: dict[str, set[str]] = {}
        for statement in self.statements(function_name):
            actions = _listed(statement["Action"])
            if not any(a.startswith("dynamodb:") for a in actions):
                continue
            for logical in _refs(statement["Resource"]):
                access.setdefault(keys[logical], set()).update(actions)
        return access

    def api_body(self) -> dict[str, Any]:
        (api,) = self.of_type("AWS::ApiGateway::RestApi").values()
        return api["Properties"]["Body"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _refs(value: Any) -> set[str]:
    """Logical ids named by Ref / Fn::GetAtt anywhere in an expression."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and not str(value["Ref"]).startswith("AWS::"):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= _refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= _refs(item)
    return found


def _target(operation: dict[str, Any]) -> str:
    """The logical id of the function an API operation invokes."""
    (logical,) = _refs(operation[openapi.INTEGRATION]["uri"])
    return logical


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield Synth(tmp_path_factory.mktemp("cdk.out"))


def test_can_deploy_the_tables_with_pitr_ttl_encryption_and_no_index(synth: Synth) -> None:
    # GIVEN the prod stack WHEN it is synthesized THEN it holds exactly the app's four tables
    assert sorted(synth.table_keys().values()) == ["entities", "timeseries", "tokens", "usage"]
    for key in ("entities", "timeseries", "tokens", "usage"):
        synth.assertions.has_resource(
            "AWS::DynamoDB::Table",
            {
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": Match.object_like(
                    {
                        "TableName": f"opsplane-{STAGE}-{key}",
                        "BillingMode": "PAY_PER_REQUEST",
                        "KeySchema": [
                            {"AttributeName": "pk", "KeyType": "HASH"},
                            {"AttributeName": "sk", "KeyType": "RANGE"},
                        ],
                        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                        "SSESpecification": {"SSEEnabled": True},
                        "DeletionProtectionEnabled": True,
                    }
                ),
            },
        )
    tables = {r["Properties"]["TableName"]: r["Properties"] for r in synth.of_type("AWS::DynamoDB::Table").values()}
    entities = tables[f"opsplane-{STAGE}-entities"]
    # Every read is a keyed Get or a Query on the table itself: no secondary index to pay for.
    assert all("GlobalSecondaryIndexes" not in table for table in tables.values())
    assert entities["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    for key, ttl in (("tokens", "expires"), ("usage", "expires"), ("timeseries", "x")):
        assert tables[f"opsplane-{STAGE}-{key}"]["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def _blob_grants(synth: Synth, function_name: str) -> tuple[set[str], set[str]]:
    """(object actions on the bucket's objects, actions on the bucket) of a function."""
    (bucket,) = synth.of_type("AWS::S3::Bucket")
    on_objects: set[str] = set()
    on_bucket: set[str] = set()
    for statement in synth.statements(function_name):
        actions = _listed(statement["Action"])
        if not any(a.startswith("s3:") for a in actions):
            continue
        (resource,) = _listed(statement["Resource"])
        assert _refs(resource) == {bucket}, statement
        if "Fn::Join" in resource:  # the bucket's ARN + "/*"
            assert resource["Fn::Join"][1][-1] == "/*"
            on_objects.update(actions)
        else:
            assert resource == {"Fn::GetAtt": [bucket, "Arn"]}
            on_bucket.update(actions)
    return on_objects, on_bucket


def test_can_keep_large_documents_in_a_private_encrypted_bucket(synth: Synth) -> None:
    # GIVEN the prod stack WHEN it is synthesized THEN one bucket holds the blobs: encrypted,
    # never public, TLS only, incomplete uploads aborted, kept when the stack goes
    (bucket_id, bucket) = next(iter(synth.of_type("AWS::S3::Bucket").items()))
    assert len(synth.of_type("AWS::S3::Bucket")) == 1
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    (policy,) = synth.of_type("AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # AND every function is told its name
    for _, props in synth.functions().values():
        assert props["Environment"]["Variables"]["OPSPLANE_BLOBS_BUCKET"] == {"Ref": bucket_id}


def test_can_drop_the_bucket_with_a_dev_stack(tmp_path_factory: pytest.TempPathFactory) -> None:
    # GIVEN the dev stack WHEN it is synthesized
    dev = Synth(tmp_path_factory.mktemp("cdk.out.dev"), stage="dev")
    (bucket,) = dev.of_type("AWS::S3::Bucket").values()
    # THEN its bucket goes with the stack, emptied first (prod retains its own: test above)
    assert bucket["DeletionPolicy"] == "Delete"
    assert dev.of_type("Custom::S3AutoDeleteObjects")


def test_can_grant_blobs_to_the_functions_that_use_entities(synth: Synth) -> None:
    # GIVEN each function's DynamoDB access
    for name in synth.functions():
        entities = synth.table_access(name).get("entities", set())
        on_objects, on_bucket = _blob_grants(synth, name)
        # THEN a function that reads entities may read blobs (and list: a missing key is 404),
        # one that writes entities may also put and delete them; nothing more, nothing else
        if not entities:
            assert (on_objects, on_bucket) == (set(), set()), name
            continue
        writes = bool(entities & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"})
        expected = {"s3:GetObject"} | ({"s3:PutObject", "s3:DeleteObject"} if writes else set())
        assert on_objects == expected, name
        assert on_bucket == {"s3:ListBucket"}, name
    # AND the authorizer reads blobs only; the unknown-path function touches none
    assert _blob_grants(synth, "authorizer") == ({"s3:GetObject"}, {"s3:ListBucket"})
    assert _blob_grants(synth, "default") == (set(), set())
    assert any(_blob_grants(synth, c.name)[0] >= {"s3:PutObject"} for c in api.every() if "entities" in c.tables)


def test_can_run_one_function_per_category_of_the_registry(synth: Synth) -> None:
    # GIVEN the category registry WHEN the stack is synthesized
    functions = synth.functions()
    # THEN each category has its own function registering only that category
    workers = {f"worker-{w.queue}" for w in registry.workers()}
    assert set(functions) == {c.name for c in api.every()} | {"default", "authorizer"} | workers
    for category in api.every():
        _, props = functions[category.name]
        env = props["Environment"]["Variables"]
        assert env["OPSPLANE_CATEGORIES"] == category.name
        assert props["Handler"] == "app.app"
        assert props["MemorySize"] == category.memory_mb
        assert props["Runtime"] == "python3.11"
        # AND each is traced (the edge annotates requests with tenant and category)
        assert props["TracingConfig"] == {"Mode": "Active"}
    # AND the authorizer runs app.py's `authorizer` lambda function
    assert functions["authorizer"][1]["Handler"] == "app.authorizer"


def test_can_name_tables_and_the_secret_the_way_settings_read_them(
    synth: Synth, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a deployed function's environment, references resolved to physical names
    names = {k: r["Properties"]["TableName"] for k, r in synth.of_type("AWS::DynamoDB::Table").items()}
    (bucket,) = synth.of_type("AWS::S3::Bucket")
    names[bucket] = "cfn-named-blobs-bucket"
    (secret,) = synth.of_type("AWS::SecretsManager::Secret").values()
    _, props = synth.functions()["alert"]
    for name in [n for n in os.environ if n.startswith("OPSPLANE_")]:
        monkeypatch.delenv(name)
    for name, value in props["Environment"]["Variables"].items():
        monkeypatch.setenv(name, names[value["Ref"]] if isinstance(value, dict) else value)
    # WHEN the app reads its settings
    reset_settings()
    try:
        settings = get_settings()
        # THEN it finds the stack's tables, secret and category
        assert settings.entities_table == f"opsplane-{STAGE}-entities"
        assert settings.tokens_table == f"opsplane-{STAGE}-tokens"
        assert settings.usage_table == f"opsplane-{STAGE}-usage"
        assert settings.blobs_bucket == "cfn-named-blobs-bucket"
        assert settings.signing_keys_secret == secret["Properties"]["Name"]
        assert settings.categories == ("alert",)
        assert settings.stage == STAGE
    finally:
        reset_settings()


def test_can_grant_dynamodb_without_scan_wildcards_or_star_resources(synth: Synth) -> None:
    # GIVEN every IAM statement of the stack
    statements = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in synth.of_type("AWS::IAM::Role").values():
        for inline in role["Properties"].get("Policies", []):
            statements += inline["PolicyDocument"]["Statement"]
    table_ids = set(synth.table_keys())
    dynamodb_statements = 0
    for statement in statements:
        actions = _listed(statement["Action"])
        # THEN nothing allows Scan or a dynamodb wildcard
        assert "dynamodb:Scan" not in actions
        assert not any(a == "*" or (a.startswith("dynamodb:") and "*" in a) for a in actions)
        if any(a.startswith("dynamodb:") for a in actions):
            dynamodb_statements += 1
            assert set(actions) <= ITEM_ACTIONS
            # AND every dynamodb resource is one of the stack's tables (or its index), never "*"
            for resource in _listed(statement["Resource"]):
                assert resource != "*"
                assert _refs(resource) and _refs(resource) <= table_ids
    assert dynamodb_statements > 0


def test_can_limit_each_function_to_its_category_tables(synth: Synth) -> None:
    # GIVEN each category's declared tables and whether it has authenticated routes
    for category in api.every():
        routes = [r for router in routers((category.name,)) for r in router.routes]
        authenticated = any(not r.public for r in routes)
        # WHEN its function's grants are read
        access = synth.table_access(category.name)
        # THEN its own tables get the item actions the repository uses
        for table in category.tables:
            assert access[table] == ITEM_ACTIONS, (category.name, table)
        # AND any other table is only what the edge does for authenticated routes:
        # resolve the tenant (entities, read) and count the request (usage, one update)
        edge = {"entities": {"dynamodb:GetItem", "dynamodb:Query"}, "usage": {"dynamodb:UpdateItem"}}
        for table, actions in access.items():
            if table not in category.tables:
                assert authenticated, (category.name, table)
                assert actions == edge[table], (category.name, table, actions)
        if authenticated:
            assert "usage" in access, category.name
    # AND the unknown-path function touches no table; the authorizer reads entities and
    # maintains token records, with no batch writes
    assert synth.table_access("default") == {}
    authorizer = synth.table_access("authorizer")
    assert set(authorizer) == {"entities", "tokens"}
    assert authorizer["entities"] <= {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}
    assert "dynamodb:BatchWriteItem" not in authorizer["tokens"]


def test_can_read_the_signing_keys_only_from_functions_that_authenticate(synth: Synth) -> None:
    # GIVEN the signing-key secret
    (secret_id,) = synth.of_type("AWS::SecretsManager::Secret")
    readers = set()
    for name in synth.functions():
        for statement in synth.statements(name):
            if any(a.startswith("secretsmanager:") for a in _listed(statement["Action"])):
                # THEN a grant is GetSecretValue on that secret only
                assert _listed(statement["Action"]) == ["secretsmanager:GetSecretValue"]
                assert statement["Resource"] == {"Ref": secret_id}
                readers.add(name)
    # AND it goes to the authorizer, to categories with authenticated routes and to token issuers
    expected = {"authorizer"}
    for category in api.every():
        routes = [r for router in routers((category.name,)) for r in router.routes]
        if any(not r.public for r in routes) or "tokens" in category.tables:
            expected.add(category.name)
    # AND to the workers, which act through the same repositories
    expected |= {f"worker-{w.queue}" for w in registry.workers()}
    assert readers == expected
    assert "default" not in readers


def test_can_serve_every_route_of_the_app_on_its_category_function(synth: Synth) -> None:
    # GIVEN the route table of the app and the API body
    body = synth.api_body()
    functions = {name: logical for name, (logical, _) in synth.functions().items()}
    declared = 0
    for category in api.every():
        for router in routers((category.name,)):
            for route in router.routes:
                # THEN each route is a method of its path, on its category's function
                operation = body["paths"][route.path][route.method.lower()]
                assert _target(operation) == functions[category.name], (route.method, route.path)
                # AND every non-public route is behind the authorizer (and the API key in prod)
                if route.public:
                    assert "security" not in operation, route.path
                else:
                    assert operation["security"] == [{openapi.AUTHORIZER: [], openapi.API_KEY: []}], route.path
                declared += 1
    # AND the API has exactly the app's routes, plus HEAD for GET and the ANY fallbacks
    app_routes = registry.chalice_app().edge.routes
    assert declared == len(app_routes) > 0
    app_methods = {(r.path, r.method.lower()) for r in app_routes}
    for path, item in body["paths"].items():
        for method, operation in item.items():
            if method == openapi.ANY:
                assert "security" not in operation  # wrong methods answer 405 from the app
            elif method == "head" and (path, "head") not in app_methods:
                # HEAD follows GET, as the app serves it
                assert _target(operation) == _target(item["get"])
                assert operation.get("security") == item["get"].get("security")
            else:
                assert (path, method) in app_methods, (path, method)


def test_can_send_unknown_paths_to_the_default_function(synth: Synth) -> None:
    # GIVEN the API body
    body = synth.api_body()
    default, _ = synth.functions()["default"]
    # THEN any path API Gateway does not know (and the bare root) reaches the default function
    for path in ("/{proxy+}", "/"):
        if path == "/" and any(r.path == "/" for r in registry.all_routes()):
            continue
        operation = body["paths"][path][openapi.ANY]
        assert _target(operation) == default
        assert "security" not in operation


def test_can_authorize_with_an_uncached_request_authorizer(synth: Synth) -> None:
    # GIVEN the API body and its properties
    body = synth.api_body()
    authorizer, _ = synth.functions()["authorizer"]
    scheme = body["securityDefinitions"][openapi.AUTHORIZER]
    settings = scheme["x-amazon-apigateway-authorizer"]
    # THEN the authorizer is a REQUEST authorizer on the authorizer function, not cached
    assert scheme["x-amazon-apigateway-authtype"] == "custom"
    assert settings["type"] == "request"
    assert settings["authorizerResultTtlInSeconds"] == 0
    assert _refs(settings["authorizerUri"]) == {authorizer}
    # AND the API key that usage plans meter comes from the authorizer
    synth.assertions.has_resource_properties("AWS::ApiGateway::RestApi", {"ApiKeySourceType": "AUTHORIZER"})
    # AND API Gateway may invoke the authorizer for this API's authorizers only
    (permission,) = [
        p["Properties"]
        for p in synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [authorizer, "Arn"]}
    ]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert json.dumps(permission["SourceArn"]).endswith('"/authorizers/*"]]}')


def test_can_meter_tenants_with_a_usage_plan_per_tier(synth: Synth) -> None:
    plans = {
        r["Properties"]["UsagePlanName"]: r["Properties"] for r in synth.of_type("AWS::ApiGateway::UsagePlan").values()
    }
    # THEN a plan per tier of chalicelib/tiers.py, each throttled, with a quota, on the stage
    assert set(plans) == {f"opsplane-{STAGE}-{tier}" for tier in ("free", "standard", "premium", "enterprise")}
    (api_id,) = synth.of_type("AWS::ApiGateway::RestApi")
    for plan in plans.values():
        assert plan["Throttle"]["RateLimit"] > 0 and plan["Throttle"]["BurstLimit"] > 0
        assert plan["Quota"]["Limit"] > 0 and plan["Quota"]["Period"] == "MONTH"
        (stage,) = plan["ApiStages"]
        assert stage["ApiId"] == {"Ref": api_id}
    # AND with the tiers' numbers, in ascending order
    for tier in tiers.TIERS:
        plan = plans[f"opsplane-{STAGE}-{tier.name}"]
        assert plan["Throttle"] == {"RateLimit": tier.rate, "BurstLimit": tier.burst}
        assert plan["Quota"]["Limit"] == tier.monthly_quota
    rates = [plans[f"opsplane-{STAGE}-{t}"]["Throttle"]["RateLimit"] for t in tiers.NAMES]
    assert rates == sorted(rates)


def test_can_meter_tenants_without_their_own_key_under_a_fallback_key_per_tier(synth: Synth) -> None:
    plans = {k: r["Properties"]["UsagePlanName"] for k, r in synth.of_type("AWS::ApiGateway::UsagePlan").items()}
    keys = {k: r["Properties"] for k, r in synth.of_type("AWS::ApiGateway::ApiKey").items()}
    attached = {
        r["Properties"]["KeyId"]["Ref"]: plans[r["Properties"]["UsagePlanId"]["Ref"]]
        for r in synth.of_type("AWS::ApiGateway::UsagePlanKey").values()
    }
    # THEN each tier has one enabled key, named and valued as the app's settings derive it,
    # on that tier's plan
    settings = Settings(stage=STAGE)
    expected = {settings.fallback_key_prefix + t: settings.usage_plan_prefix + t for t in tiers.NAMES}
    found = {props["Name"]: attached[logical] for logical, props in keys.items()}
    assert found == expected
    for props in keys.values():
        assert props["Value"] == props["Name"] and props["Enabled"] is True
    # AND every function turns per-tenant keys on; the Wazo tenants' function may queue key jobs
    for name, (_, props) in synth.functions().items():
        assert props["Environment"]["Variables"]["OPSPLANE_API_KEYS"] == "true", name
    sends = [s for s in synth.statements("wazo") if "sqs:SendMessage" in _listed(s["Action"])]
    assert sends and all("TenantKeys" in json.dumps(s["Resource"]) for s in sends)


def test_can_park_failed_worker_messages_in_dead_letter_queues(synth: Synth) -> None:
    queues = synth.of_type("AWS::SQS::Queue")
    dead_letter_ids = set()
    workers = {}
    for queue in queues.values():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive:
            workers[queue["Properties"]["QueueName"]] = redrive
            dead_letter_ids.add(redrive["deadLetterTargetArn"]["Fn::GetAtt"][0])
            assert redrive["maxReceiveCount"] > 0
    # THEN each worker queue redrives to its own dead-letter queue
    assert set(workers) == {
        f"opsplane-{STAGE}-webhook-delivery",
        f"opsplane-{STAGE}-alert-evaluation",
        *(f"opsplane-{STAGE}-{w.queue}" for w in registry.workers()),  # ingest, cloudwatch, ...
    }
    assert {"ingest", "cloudwatch"} <= {w.queue for w in registry.workers()}
    assert len(dead_letter_ids) == len(workers)
    assert dead_letter_ids | {k for k, q in queues.items() if "RedrivePolicy" in q["Properties"]} == set(queues)


def test_can_run_each_worker_off_its_queue_reporting_failed_records(synth: Synth) -> None:
    functions = synth.functions()
    mappings = list(synth.of_type("AWS::Lambda::EventSourceMapping").values())
    queues = {k: q["Properties"]["QueueName"] for k, q in synth.of_type("AWS::SQS::Queue").items()}
    for worker in registry.workers():
        # GIVEN a registered worker WHEN the stack is synthesized
        logical, props = functions[f"worker-{worker.queue}"]
        # THEN its function runs app.worker within the worker's timeout
        assert props["Handler"] == "app.worker"
        assert props["Timeout"] == worker.timeout
        # AND its queue feeds it in the worker's batches, failed records reported one by one
        (mapping,) = [m["Properties"] for m in mappings if _refs(m["Properties"]["FunctionName"]) == {logical}]
        (queue,) = _refs(mapping["EventSourceArn"])
        assert queues[queue] == f"opsplane-{STAGE}-{worker.queue}"
        assert mapping["BatchSize"] == worker.batch_size
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # AND the queue hides a message longer than the function may run
        visibility = synth.template["Resources"][queue]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * worker.timeout
        # AND it may write the time series, count usage and keep entities, and consume its queue
        access = synth.table_access(f"worker-{worker.queue}")
        assert access == {"entities": ITEM_ACTIONS, "usage": ITEM_ACTIONS, "timeseries": ITEM_ACTIONS}
        consumed = [st for st in synth.statements(f"worker-{worker.queue}") if "sqs:ReceiveMessage" in st["Action"]]
        assert consumed and all(_refs(st["Resource"]) == {queue} for st in consumed)


def test_can_send_to_a_worker_queue_only_from_the_categories_that_name_it(synth: Synth) -> None:
    queues = {q["Properties"]["QueueName"]: k for k, q in synth.of_type("AWS::SQS::Queue").items()}
    for category in api.every():
        sends = [st for st in synth.statements(category.name) if "sqs:SendMessage" in _listed(st["Action"])]
        wanted = {queues[f"opsplane-{STAGE}-{q}"] for q in category.queues}
        # THEN a category sends to the queues it declares, and only those
        assert {r for st in sends for r in _refs(st["Resource"])} == wanted, category.name
    assert any(c.queues == ("ingest",) for c in api.every())


def test_can_keep_every_log_for_a_bounded_time(synth: Synth) -> None:
    groups = synth.of_type("AWS::Logs::LogGroup")
    # THEN every log group has a retention, and every function logs into one of them
    assert groups
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] > 0
    for logical, props in synth.functions().values():
        assert _refs(props["LoggingConfig"]["LogGroup"]) <= set(groups), logical


def test_can_package_the_app_with_its_runtime_dependencies_only(synth: Synth) -> None:
    # GIVEN the staged code asset of the functions
    _, props = synth.functions()["alert"]
    key = props["Code"]["S3Key"]
    staged = synth.directory / f"asset.{key.removesuffix('.zip')}"
    entries = {p.name for p in staged.iterdir()}
    # THEN it holds the app and what it imports at runtime, compiled
    assert {"app.py", "chalicelib", "chalice", "pynamodb", "botocore", "pydantic", "pydantic_core", "lark"} <= entries
    assert (staged / "chalicelib" / "query" / "grammar.lark-cache").is_file()
    assert any(staged.glob("chalicelib/__pycache__/*.cpython-311.pyc"))
    # AND nothing of the dev tree, nor a dev, test or CDK package
    assert not entries & {"tests", "infra", ".venv", ".local", "docs", "bench", "scripts", ".git", "requirements.txt"}
    assert not entries & {"moto", "boto3", "pytest", "aws_cdk", "jsii", "ruff", "mypy", "pip", "setuptools", "click"}


def test_can_run_on_the_platform_the_asset_is_built_for(synth: Synth) -> None:
    for logical, props in synth.functions().values():
        assert props["Runtime"] == f"python{asset.PYTHON_VERSION}", logical
        assert props.get("Architectures", ["x86_64"]) == [asset.ARCHITECTURE], logical


def test_can_lint_the_template_without_errors(synth: Synth) -> None:
    from cfnlint.api import ManualArgs, lint_file

    # WHEN cfn-lint checks the synthesized template
    matches = lint_file(synth.template_path, config=ManualArgs(regions=["us-east-1"]))
    # THEN it reports no error
    errors = [f"{m.rule.id} {m.path} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_can_let_only_the_tenant_keys_worker_manage_api_keys(synth: Synth) -> None:
    # GIVEN the synthesized stack WHEN the functions' policies are read
    holders = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("apigateway:") for a in actions):
                holders.add(policy["Properties"]["PolicyName"])
    # THEN exactly one role may call API Gateway's management API: the tenant-keys worker's
    assert len(holders) == 1 and "WorkerTenantKeys" in next(iter(holders)), holders
