"""The CloudWatch pull on moto's STS and CloudWatch: the registry of pulled integrations kept
by the integrations' own writes, the schedule's fan-out, the worker's points, and failures
recorded on the integration without stopping anyone else."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.session import get_session

from chalicelib.categories import cloudintegration
from chalicelib.categories.cloudintegration import CLOUD_INTEGRATION, CloudIntegrationBody
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.store import aws, cloudpulls, queues, series
from chalicelib.workers import cloudwatch
from chalicelib.workers.local import drain
from tests.functional.test_alert import client_reads
from tests.functional.test_cloudintegration import BASE, external_id
from tests.functional.test_cloudintegration import cloudwatch as body_of

ACCOUNT = "111122223333"  # not moto's default account: the customer's own
ROLE = f"arn:aws:iam::{ACCOUNT}:role/opsplane-reader"
DENIED = "arn:aws:iam::210987654321:role/not-trusting-opsplane"
REGION = "us-east-1"


def customer_cloudwatch(role: str = ROLE) -> Any:
    """A CloudWatch client of the customer's account (moto keeps accounts apart by credentials)."""
    session = get_session()
    sts = session.create_client("sts", region_name=REGION)
    found = sts.assume_role(RoleArn=role, RoleSessionName="customer")["Credentials"]
    return session.create_client(
        "cloudwatch",
        region_name=REGION,
        aws_access_key_id=found["AccessKeyId"],
        aws_secret_access_key=found["SecretAccessKey"],
        aws_session_token=found["SessionToken"],
    )


def put(client: Any, namespace: str, name: str, dimensions: dict[str, str], points: list[tuple[int, float]]) -> None:
    client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Timestamp": datetime.fromtimestamp(at / 1000, tz=UTC),
                "Value": value,
            }
            for at, value in points
        ],
    )


def minute(ago: int) -> int:
    """The start of the minute `ago` minutes before now, plus 10 s (epoch ms)."""
    now = int(time.time() * 1000)
    return now - now % 60_000 - ago * 60_000 + 10_000


def read(tenant: str, metric: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[int, float]]]:
    """The points of each series of metric, by (source, tags), their times as minutes
    (CloudWatch answers a period's start; moto the point's own time)."""
    found = series.find_series(tenant, "metric", metric)
    now = int(time.time() * 1000)
    points = series.read_points(tenant, [s.key for s in found], now - 86_400_000, now + 60_000)
    return {(k.source, k.tags): [(t // 60_000, v) for t, v in p] for k, p in points.items()}


def integration(api, ext: str | None = None, **fields) -> dict:
    status, answer = api.json("POST", BASE, body_of(ext or external_id(api), role=ROLE, **fields))
    assert status == 200, answer
    return answer["response"]


def tenant_integration(tenant: str, role: str, **fields) -> str:
    """An enabled CloudWatch integration in another tenant, made through the domain."""
    ctx = Context.service(tenant, "test")
    ext = cloudintegration.issue_external_id(ctx)
    body = CloudIntegrationBody.model_validate(body_of(ext, role=role, **fields))
    return entities.create(ctx, CLOUD_INTEGRATION, body).id


def rows() -> set[tuple[str, str]]:
    return {(r.tenant, r.integration_id) for r in cloudpulls.enlisted()}


def run_schedule() -> int:
    """What the clock does: the schedule's run, now; then the queue's worker, drained."""
    sent = cloudwatch.fan_out(int(time.time() * 1000))
    drain(cloudwatch.QUEUE)
    return sent


@pytest.fixture
def refused_roles() -> Iterator[set[str]]:
    """Roles STS refuses to let opsplane assume, as AWS answers: AccessDenied (moto
    assumes any role, so this hook answers for STS before moto is asked)."""
    refused: set[str] = set()

    def answer(params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or {}
        if isinstance(body, dict) and body.get("RoleArn") in refused:
            error = {
                "Code": "AccessDenied",
                "Message": f"User is not authorized to perform: sts:AssumeRole on resource: {body['RoleArn']}",
            }
            return SimpleNamespace(status_code=403, headers={}), {
                "Error": error,
                "ResponseMetadata": {"HTTPStatusCode": 403},
            }
        return None

    events = aws.session().get_component("event_emitter")
    events.register("before-call.sts.AssumeRole", answer, unique_id="test-refused-roles")
    yield refused
    events.unregister("before-call.sts.AssumeRole", unique_id="test-refused-roles")


def test_the_registry_follows_enable_disable_trash_undelete_and_delete(api):
    # GIVEN a CloudWatch integration and a CloudTrail one
    ext = external_id(api)
    made = integration(api, ext)
    trail = {
        "name": "trail",
        "service": "CLOUDTRAIL",
        "cloudTrail": {
            "baseCredentials": {"roleArn": ROLE, "externalId": ext},
            "bucketName": "trail",
            "region": REGION,
        },
    }
    assert api.json("POST", BASE, trail)[0] == 200
    key = (api.root, made["id"])
    # THEN only the CloudWatch one is listed, due at once
    assert rows() == {key}
    assert next(cloudpulls.enlisted()).due <= int(time.time() * 1000)
    # AND each write keeps the row in step, in the same transaction as the write
    for action, listed in (("disable", False), ("enable", True)):
        assert api.json("POST", f"{BASE}/{made['id']}/{action}")[0] == 200
        assert (key in rows()) is listed, action
    assert api.json("DELETE", f"{BASE}/{made['id']}")[0] == 200  # to the trash
    assert rows() == set()
    assert api.json("POST", f"{BASE}/{made['id']}/undelete")[0] == 200
    assert rows() == {key}
    assert api.json("PUT", f"{BASE}/{made['id']}", body_of(ext, role=ROLE, name="renamed"))[0] == 200
    assert rows() == {key}
    assert api.json("DELETE", f"{BASE}/{made['id']}?skipTrash=true")[0] == 200
    assert rows() == set()


def test_a_failed_write_leaves_the_registry_as_it_was(api):
    made = integration(api)
    # WHEN a write is refused (a stale version: 409)
    status, _ = api.json("POST", f"{BASE}/{made['id']}/disable")
    assert status == 200
    stale = body_of(made["cloudWatch"]["baseCredentials"]["externalId"], role=ROLE, version=made["version"])
    assert api.json("PUT", f"{BASE}/{made['id']}", stale)[0] == 409
    # THEN the disabled integration is still not listed (the refused write wrote nothing)
    assert rows() == set()


def test_the_pull_ingests_cloudwatch_points_named_as_wavefront_names_them(api):
    # GIVEN CPU points in the customer's CloudWatch and an enabled integration on EC2
    customer = customer_cloudwatch()
    put(
        customer,
        "AWS/EC2",
        "CPUUtilization",
        {"InstanceId": "i-0abc", "AutoScalingGroupName": "web"},
        [
            (minute(3), 40.0),
            (minute(2), 60.0),
        ],
    )
    put(customer, "AWS/SQS", "NumberOfMessagesSent", {"QueueName": "jobs"}, [(minute(2), 7.0)])
    made = integration(api, additionalTags={"team": "core"})
    # WHEN the schedule runs and its queue is drained
    assert run_schedule() == 1
    # THEN the points are stored as aws.<namespace>.<metric>.<statistic>, the instance as
    # the source, the other dimensions, the region and the additional tags as point tags
    tags = (("AutoScalingGroupName", "web"), ("Region", REGION), ("team", "core"))
    assert read(api.root, "aws.ec2.cpuutilization.average") == {
        ("i-0abc", tags): [(minute(3) // 60_000, 40.0), (minute(2) // 60_000, 60.0)]
    }
    assert read(api.root, "aws.ec2.cpuutilization.samplecount") == {
        ("i-0abc", tags): [(minute(3) // 60_000, 1.0), (minute(2) // 60_000, 1.0)]
    }
    assert set(read(api.root, "aws.ec2.cpuutilization.maximum")) == {("i-0abc", tags)}
    # AND the namespaces not configured are not pulled
    assert read(api.root, "aws.sqs.numberofmessagessent.sum") == {}
    # AND the integration says how the pull went, through the API
    answer = api.json("GET", f"{BASE}/{made['id']}")[1]["response"]
    assert answer["lastMetricCount"] == 1
    assert answer["lastReceivedDataPointMs"] // 60_000 == minute(2) // 60_000
    assert answer["lastProcessingTimestamp"] >= minute(1) - 10_000
    assert answer["lastProcessorId"] and "lastError" not in answer
    assert client_reads(answer, "CloudIntegration").last_metric_count == 1
    # AND it is not due again before its refresh period (5 minutes by default)
    (row,) = cloudpulls.enlisted()
    assert row.due == answer["lastProcessingTimestamp"] + 5 * 60_000 or row.due > int(time.time() * 1000)
    assert run_schedule() == 0


def test_the_metric_filter_and_all_namespaces(api):
    customer = customer_cloudwatch()
    put(customer, "AWS/SQS", "NumberOfMessagesSent", {"QueueName": "jobs"}, [(minute(2), 7.0)])
    put(customer, "AWS/SQS", "NumberOfMessagesDeleted", {"QueueName": "jobs"}, [(minute(2), 5.0)])
    put(customer, "MyApp/Orders", "Placed", {}, [(minute(2), 3.0)])
    body = body_of(external_id(api), role=ROLE)
    body["cloudWatch"].pop("namespaces")
    body["cloudWatch"]["metricFilterRegex"] = r"^aws\.(sqs\.numberofmessagessent|myapp\.orders\..*)$"
    assert api.json("POST", BASE, body)[0] == 200
    run_schedule()
    # THEN every namespace is read (none configured) and only what the filter matches kept
    assert read(api.root, "aws.sqs.numberofmessagessent.sum") == {
        ("jobs", (("Region", REGION),)): [(minute(2) // 60_000, 7.0)]
    }
    assert read(api.root, "aws.sqs.numberofmessagesdeleted.sum") == {}
    # AND a metric without dimensions has the role's account as its source
    assert set(read(api.root, "aws.myapp.orders.placed.sum")) == {(ACCOUNT, (("Region", REGION),))}


def test_disabled_integrations_are_never_pulled(api):
    put(customer_cloudwatch(), "AWS/EC2", "CPUUtilization", {"InstanceId": "i-0abc"}, [(minute(2), 40.0)])
    made = integration(api)
    assert api.json("POST", f"{BASE}/{made['id']}/disable")[0] == 200
    # WHEN the schedule runs
    assert run_schedule() == 0
    # THEN nothing was pulled or recorded
    assert read(api.root, "aws.ec2.cpuutilization.average") == {}
    assert "lastProcessingTimestamp" not in api.json("GET", f"{BASE}/{made['id']}")[1]["response"]
    # AND a message sent before the disable pulls nothing either (the worker looks again)
    queues.send(cloudwatch.QUEUE, [json.dumps({"tenant": api.root, "integrations": [made["id"]], "at": 0})])
    drain(cloudwatch.QUEUE)
    assert read(api.root, "aws.ec2.cpuutilization.average") == {}


def test_a_role_that_cannot_be_assumed_is_recorded_and_does_not_stop_another_tenant(api, make_tenant, refused_roles):
    # GIVEN two tenants' integrations, one naming a role that does not trust opsplane
    put(customer_cloudwatch(), "AWS/EC2", "CPUUtilization", {"InstanceId": "i-0abc"}, [(minute(2), 40.0)])
    put(customer_cloudwatch(DENIED), "AWS/EC2", "CPUUtilization", {"InstanceId": "i-0def"}, [(minute(2), 50.0)])
    refused_roles.add(DENIED)
    other = make_tenant("other")
    broken = tenant_integration(api.root, DENIED)
    tenant_integration(other, ROLE)
    # WHEN the schedule runs: one message per tenant
    assert run_schedule() == 2
    # THEN the refusal is recorded on its integration, as Wavefront's fields
    answer = api.json("GET", f"{BASE}/{broken}")[1]["response"]
    assert answer["lastError"].startswith("AccessDenied: User is not authorized to perform: sts:AssumeRole")
    assert answer["lastErrorMs"] > 0 and "lastProcessingTimestamp" not in answer
    event = answer["lastErrorEvent"]
    assert event["name"] and event["startTime"] == answer["lastErrorMs"]
    assert event["annotations"]["details"] == answer["lastError"]
    # AND the real client reads them (its Event requires name, annotations and startTime)
    read_back = client_reads(answer, "CloudIntegration")
    assert read_back.last_error == answer["lastError"] and read_back.last_error_event.start_time == event["startTime"]
    # AND the other tenant's integration was pulled all the same
    assert set(read(other, "aws.ec2.cpuutilization.average")) == {("i-0abc", (("Region", REGION),))}
    assert read(api.root, "aws.ec2.cpuutilization.average") == {}
    # AND once the role trusts opsplane, the next pull clears the error
    refused_roles.clear()
    cloudpulls.reschedule(api.root, broken, 0)
    assert run_schedule() == 1
    answer = api.json("GET", f"{BASE}/{broken}")[1]["response"]
    assert "lastError" not in answer and "lastErrorEvent" not in answer
    assert answer["lastMetricCount"] == 1 and answer["lastProcessingTimestamp"] > 0
    assert set(read(api.root, "aws.ec2.cpuutilization.average")) == {("i-0def", (("Region", REGION),))}


def test_the_pull_assumes_the_role_with_the_tenants_external_id(api, aws_calls):
    seen: list[dict[str, Any]] = []

    def watch(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params.get("body") or {}))

    events = aws.session().get_component("event_emitter")
    events.register("before-call.sts.AssumeRole", watch, unique_id="test-watch-sts")
    try:
        made = integration(api)
        run_schedule()
    finally:
        events.unregister("before-call.sts.AssumeRole", unique_id="test-watch-sts")
    ext = made["cloudWatch"]["baseCredentials"]["externalId"]
    assert [(s["RoleArn"], s["ExternalId"], s["RoleSessionName"]) for s in seen] == [
        (ROLE, ext, f"opsplane-{api.root}")
    ]


def test_a_tenant_or_integration_gone_drops_its_row(api):
    made = integration(api)
    # WHEN the integration disappears without its own write (its tenant purged)
    cloudintegration_repo = entities.repo(api.context(), CLOUD_INTEGRATION)
    cloudintegration_repo.purge(made["id"])
    assert rows() == {(api.root, made["id"])}
    # THEN the next run's worker finds nothing to pull and drops the row
    assert run_schedule() == 1
    assert rows() == set()


def test_names_sources_and_windows() -> None:
    from chalicelib.store.cloudwatch import Metric
    from chalicelib.store.repository import Entity

    assert cloudwatch.metric_name("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum") == (
        "aws.applicationelb.httpcode_target_5xx_count.sum"
    )
    assert (
        cloudwatch.metric_name("MyApp/Orders v2", "Placed", "SampleCount") == "aws.myapp.orders_v2.placed.samplecount"
    )
    balancer = Metric(
        "AWS/ApplicationELB", "RequestCount", (("AvailabilityZone", "us-east-1a"), ("LoadBalancer", "app/web/50dc"))
    )
    assert cloudwatch.source_of(balancer, ACCOUNT) == "app_web_50dc"
    assert cloudwatch.tags_of(balancer, "app_web_50dc", REGION, {}, None) == {
        "AvailabilityZone": "us-east-1a",
        "Region": REGION,
    }
    # pointTagFilterRegex keeps the dimensions it matches as point tags
    assert cloudwatch.tags_of(balancer, "app_web_50dc", REGION, {}, lambda name: name == "Nope") == {"Region": REGION}
    unnamed = Metric("Custom", "Depth", (("Zone", "b"), ("Pool", "a")))
    assert cloudwatch.source_of(unnamed, ACCOUNT) == "a"  # the first dimension by name
    # windows: 15 minutes on a first pull, from 5 minutes before the last one after, 3 hours at most
    now = 1_700_000_000_000 + 12_345
    end = now - now % 60_000
    first = Entity("1", "cloudintegration", "t", {})
    assert cloudwatch.window(first, now) == (end - 15 * 60_000, end)
    later = Entity("1", "cloudintegration", "t", {"_pull": {"lastProcessingTimestamp": end - 60_000}})
    assert cloudwatch.window(later, now) == (end - 6 * 60_000, end)
    stale = Entity("1", "cloudintegration", "t", {"_pull": {"lastProcessingTimestamp": end - 86_400_000}})
    assert cloudwatch.window(stale, now) == (end - 3 * 3_600_000, end)
