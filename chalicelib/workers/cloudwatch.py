"""The CloudWatch pull: points from the customers' AWS accounts, through their enabled
CloudWatch integrations (chalicelib/categories/cloudintegration.py).

Every minute the schedule (`fan_out`) reads the registry of pulled integrations
(store/cloudpulls.py, one Query, no Scan) and sends one message per tenant with
integrations due (at most MAX_PER_MESSAGE integrations a message) to the `cloudwatch`
queue; it pulls nothing itself. The worker (`handle`) pulls each integration of its
message, one after the other:

1. skip it when it is gone, disabled, trashed or not CloudWatch (its registry row is
   dropped), or when it was pulled less than its refresh period ago (a duplicate message);
2. assume the configured role with the tenant's external id (STS AssumeRole, ExternalId);
3. list the metrics of the configured namespaces (all when none) with data in the last
   3 hours, kept by the integration's metricFilterRegex, at most MAX_METRICS;
4. GetMetricData for STATISTICS of each over the window since the previous pull (re-read
   from LATE_MS before it, as CloudWatch publishes late; at most MAX_WINDOW_MS back, and
   FIRST_WINDOW_MS on a first pull) at PERIOD_SECONDS;
5. write them as points (store/series.py), named `aws.<namespace>.<metric>.<statistic>`,
   source = the dimension that names the resource, point tags = the other dimensions, the
   region and the integration's additionalTags, kept for the tenant's retention;
6. record how it went on the integration (lastProcessingTimestamp, lastReceivedDataPointMs,
   lastMetricCount, lastProcessorId; after a failure lastError, lastErrorMs and
   lastErrorEvent, and the window is not moved, so the next pull reads it again) and move
   its registry row's next pull on by serviceRefreshRateInMins (default 5).

What AWS refuses (the role cannot be assumed, access denied) or cannot answer now
(throttling) is recorded on that integration and does not stop the others or other
tenants. Only a failure of opsplane's own store fails the message (SQS delivers it again;
points written twice are one point).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from chalicelib.categories import cloudintegration
from chalicelib.domain import entities, ingestion
from chalicelib.domain.context import Context
from chalicelib.errors import NotFound, Unavailable
from chalicelib.ingest.lines import MAX_METRIC_CHARS, MAX_POINT_TAGS, MAX_SOURCE_CHARS, MAX_TAG_VALUE_CHARS
from chalicelib.store import cloudpulls, cloudwatch, queues, series
from chalicelib.store.repository import Entity
from chalicelib.workers import Record, Schedule, Worker

logger = logging.getLogger("opsplane.workers.cloudwatch")

QUEUE = "cloudwatch"
EVERY_SECONDS = 60
MAX_PER_MESSAGE = 10  # integrations pulled by one message (a message's work stays bounded)
MAX_METRICS = 500  # metrics read per integration and pull: 2,500 series, 5 GetMetricData calls
STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
PERIOD_SECONDS = 60
MINUTE_MS = 60_000
FIRST_WINDOW_MS = 15 * MINUTE_MS
LATE_MS = 5 * MINUTE_MS
MAX_WINDOW_MS = 3 * 60 * MINUTE_MS  # ListMetrics' RecentlyActive sees 3 hours back too
DEFAULT_REFRESH_MINUTES = 5
# A pull this close to its due time counts as due (the schedule runs once a minute).
DUE_SLACK_MS = 30_000
DAY_S = 86_400
MAX_ERROR_CHARS = 1000

# The dimension that names the resource, by preference: it becomes the point's source.
SOURCE_DIMENSIONS = (
    "InstanceId",
    "DBInstanceIdentifier",
    "DBClusterIdentifier",
    "LoadBalancerName",
    "LoadBalancer",
    "TargetGroup",
    "FunctionName",
    "TableName",
    "QueueName",
    "TopicName",
    "BucketName",
    "VolumeId",
    "CacheClusterId",
    "StreamName",
    "DeliveryStreamName",
    "AutoScalingGroupName",
    "ClusterName",
    "ServiceName",
    "ApiName",
    "DistributionId",
    "NatGatewayId",
    "StateMachineArn",
    "DomainName",
)
REGION_TAG = "Region"
_NAME_BAD = re.compile(r"[^a-z0-9_.-]+")
_SOURCE_BAD = re.compile(r"[^A-Za-z0-9_.-]+")
_TAG_KEY_BAD = re.compile(r"[^A-Za-z0-9_.-]+")


# ---- naming --------------------------------------------------------------------------------


def base_name(namespace: str, metric: str) -> str:
    """aws.<namespace>.<metric>, lower case, the namespace without its "AWS/" ("AWS/EC2" ->
    "ec2", "MyApp/Orders" -> "myapp.orders"), characters a metric name cannot hold as "_"."""
    space = namespace.lower()
    space = space[4:] if space.startswith("aws/") else space
    return "aws." + ".".join(_NAME_BAD.sub("_", part) for part in (space.replace("/", "."), metric.lower()))


def metric_name(namespace: str, metric: str, statistic: str) -> str:
    """Wavefront's name for a CloudWatch statistic: aws.<namespace>.<metric>.<statistic>."""
    return f"{base_name(namespace, metric)}.{_NAME_BAD.sub('_', statistic.lower())}"


def source_of(metric: cloudwatch.Metric, account: str) -> str:
    """The dimension that names the resource (SOURCE_DIMENSIONS, else the first one), or
    the account when the metric has no dimension."""
    dimensions = dict(metric.dimensions)
    chosen = next((dimensions[d] for d in SOURCE_DIMENSIONS if d in dimensions), None)
    if chosen is None:
        chosen = min(metric.dimensions)[1] if metric.dimensions else account or "aws"
    return _SOURCE_BAD.sub("_", chosen)[:MAX_SOURCE_CHARS] or "aws"


def tags_of(metric: cloudwatch.Metric, source: str, region: str, extra: dict[str, str], keep: Any) -> dict[str, str]:
    """Point tags: the dimensions other than the source's (those keep() keeps), the region
    and the integration's additional tags; at most MAX_POINT_TAGS, in name order."""
    tags: dict[str, str] = {}
    for name, value in metric.dimensions:
        if _SOURCE_BAD.sub("_", value)[:MAX_SOURCE_CHARS] == source or (keep is not None and not keep(name)):
            continue
        tags[_TAG_KEY_BAD.sub("_", name)] = value[:MAX_TAG_VALUE_CHARS]
    tags[REGION_TAG] = region
    tags.update(extra)
    return dict(sorted(tags.items())[:MAX_POINT_TAGS])


# ---- the schedule ------------------------------------------------------------------------------


def fan_out(now: int) -> int:
    """Send one message per tenant with integrations due (MAX_PER_MESSAGE a message)."""
    due: dict[str, list[str]] = defaultdict(list)
    for row in cloudpulls.enlisted(due_by=now):
        due[row.tenant].append(row.integration_id)
    bodies = [
        json.dumps({"tenant": tenant, "integrations": ids[i : i + MAX_PER_MESSAGE], "at": now})
        for tenant, ids in due.items()
        for i in range(0, len(ids), MAX_PER_MESSAGE)
    ]
    return queues.send(QUEUE, bodies) if bodies else 0


# ---- the worker --------------------------------------------------------------------------------


def handle(record: Record) -> None:
    """Pull every integration the message names (failures recorded, not raised)."""
    message = json.loads(record.body)
    ctx = Context.service(str(message["tenant"]), "cloudwatch")
    for integration_id in message["integrations"]:
        pull_one(ctx, str(integration_id))


def _refresh_ms(doc: dict[str, Any]) -> int:
    return int(doc.get("serviceRefreshRateInMins") or DEFAULT_REFRESH_MINUTES) * MINUTE_MS


def pull_one(ctx: Context, integration_id: str) -> None:
    """Pull one integration if it is still pulled and due; record the outcome."""
    kind = cloudintegration.CLOUD_INTEGRATION
    entity = entities.repo(ctx, kind).find(integration_id)
    if entity is None or entity.deleted or not cloudintegration.pulled(entity.doc):
        cloudpulls.drop(ctx.tenant, integration_id)  # its tenant or its last write went without it
        return
    now = ctx.now()
    last = (entity.doc.get(cloudintegration.PULL) or {}).get("lastProcessingTimestamp")
    if last is not None and now < last + _refresh_ms(entity.doc) - DUE_SLACK_MS:
        return  # pulled meanwhile (a second message for the same turn)
    try:
        outcome = pull(ctx, entity, now)
    except (cloudwatch.Refused, Unavailable) as exc:
        logger.info("cloudwatch pull of %s/%s failed: %s", ctx.tenant, integration_id, exc)
        _record(ctx, integration_id, failure(str(exc) or type(exc).__name__, now))
    else:
        _record(ctx, integration_id, outcome)
    cloudpulls.reschedule(ctx.tenant, integration_id, now + _refresh_ms(entity.doc))


def window(entity: Entity, now: int) -> tuple[int, int]:
    """[start, end) of the next pull, in whole periods (epoch ms)."""
    end = now - now % (PERIOD_SECONDS * 1000)
    last = (entity.doc.get(cloudintegration.PULL) or {}).get("lastProcessingTimestamp")
    start = end - FIRST_WINDOW_MS if last is None else int(last) - LATE_MS
    start = max(start, end - MAX_WINDOW_MS)
    return start - start % (PERIOD_SECONDS * 1000), end


def _regex(pattern: str | None) -> Any:
    return re.compile(pattern, re.IGNORECASE).search if pattern else None


def pull(ctx: Context, entity: Entity, now: int) -> dict[str, Any]:
    """Pull one integration's window and write its points; its new pull fields."""
    config = entity.doc["cloudWatch"]
    credentials = config["baseCredentials"]
    region = ctx.settings.region
    session = cloudwatch.assume(credentials["roleArn"], credentials["externalId"], tenant=ctx.tenant, region=region)
    metric_filter = _regex(config.get("metricFilterRegex"))
    tag_filter = _regex(config.get("pointTagFilterRegex"))

    def keep(metric: cloudwatch.Metric) -> bool:
        return metric_filter is None or bool(metric_filter(base_name(metric.namespace, metric.name)))

    metrics: list[cloudwatch.Metric] = []
    for namespace in config.get("namespaces") or [None]:
        found, more = cloudwatch.list_metrics(session, namespace, keep=keep, limit=MAX_METRICS - len(metrics))
        metrics.extend(found)
        if more or len(metrics) >= MAX_METRICS:
            logger.info("cloudwatch pull of %s/%s: more than %d metrics", ctx.tenant, entity.id, MAX_METRICS)
            break
    start, end = window(entity, now)
    extra = dict(entity.doc.get("additionalTags") or {})
    newest = [0]

    def points() -> Iterator[tuple[series.SeriesKey, int, float]]:
        data = cloudwatch.metric_data(session, metrics, STATISTICS, start=start, end=end, period=PERIOD_SECONDS)
        for found in data:
            name = metric_name(found.metric.namespace, found.metric.name, found.statistic)
            if len(name) > MAX_METRIC_CHARS:
                continue
            source = source_of(found.metric, session.account)
            key = series.SeriesKey.of("metric", name, source, tags_of(found.metric, source, region, extra, tag_filter))
            for stamp, value in found.points:
                newest[0] = max(newest[0], stamp)
                yield key, stamp, value

    expires = now // 1000 + ingestion.retention_days(ctx.tenant, ctx.settings) * DAY_S
    series.write_points(ctx.tenant, points(), expires=expires)
    previous = (entity.doc.get(cloudintegration.PULL) or {}).get("lastReceivedDataPointMs")
    outcome: dict[str, Any] = {
        "lastProcessingTimestamp": end,
        "lastMetricCount": len(metrics),
        "lastProcessorId": processor_id(),
    }
    if newest[0] or previous:
        outcome["lastReceivedDataPointMs"] = max(newest[0], int(previous or 0))
    return outcome


def processor_id() -> str:
    """What ran the pull: the Lambda function (deployed) or this host (make run)."""
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or f"opsplane-worker@{socket.gethostname()}"


def failure(reason: str, now: int) -> dict[str, Any]:
    """The pull fields of a failed pull: the error, when, and the client's Event of it."""
    reason = reason[:MAX_ERROR_CHARS]
    event = {
        "name": "CloudWatch pull failed",
        "startTime": now,
        "endTime": now,
        "annotations": {"severity": "warn", "type": "cloudIntegrationError", "details": reason},
        "creatorType": ["SYSTEM"],
        "isUserEvent": False,
        "runningState": "ENDED",
    }
    return {"lastError": reason, "lastErrorMs": now, "lastErrorEvent": event}


def _record(ctx: Context, integration_id: str, outcome: dict[str, Any]) -> None:
    """Keep how the pull went on the integration: a success replaces the whole record (the
    last error goes), a failure keeps the last success's fields and adds the error."""
    failed = "lastError" in outcome

    def edit(entity: Entity) -> None:
        before = dict(entity.doc.get(cloudintegration.PULL) or {})
        if failed:
            entity.doc[cloudintegration.PULL] = {**before, **outcome}
        else:
            entity.doc[cloudintegration.PULL] = {**_kept(before), **outcome}

    try:
        entities.change(ctx, cloudintegration.CLOUD_INTEGRATION, integration_id, edit)
    except NotFound:
        pass  # trashed or deleted while it was pulled: nothing to record on


def _kept(before: dict[str, Any]) -> dict[str, Any]:
    """What a success keeps of the previous record: nothing of its error."""
    return {k: v for k, v in before.items() if not k.startswith("lastError")}


WORKER = Worker(queue=QUEUE, handle=handle, batch_size=1, timeout=300, assumes_roles=True)
SCHEDULE = Schedule(every_seconds=EVERY_SECONDS, run=fan_out)
