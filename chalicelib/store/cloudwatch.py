"""AWS STS and CloudWatch, as the CloudWatch pull (chalicelib/workers/cloudwatch.py) uses them.

`assume` takes the customer's role with the external id its trust policy demands (STS
AssumeRole, ExternalId, 15 minutes: one pull); `list_metrics` pages ListMetrics of one
namespace (or all) keeping what the caller's filter keeps, up to a bound; `metric_data`
asks GetMetricData for several statistics of many metrics over one window (500 queries a
call, pages followed). Every call runs on the assumed role's credentials, in one region.

What AWS refuses (the role cannot be assumed, access denied, an invalid token) leaves as
`Refused` with AWS's code and message, for the pull to record on the integration; throttling,
5xx answers and unreachable endpoints leave as Unavailable (store/failures.py), as
everywhere in store/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import OpsplaneError
from chalicelib.store import aws
from chalicelib.store.failures import translated

# GetMetricData takes at most 500 queries a call; ListMetrics answers 500 metrics a page.
QUERIES_PER_CALL = 500
SESSION_SECONDS = 900  # AssumeRole's shortest session: a pull takes seconds
# Role session names: 2..64 of [\w+=,.@-].
_SESSION_NAME = re.compile(r"[^\w+=,.@-]")


class Refused(OpsplaneError):
    """AWS refused a call: AWS's error code and message, for the integration's lastError."""

    status = 502

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code, code=code)
        self.code = code


@dataclass(frozen=True)
class Session:
    """Temporary credentials of an assumed role, and the region calls go to."""

    access_key: str
    secret_key: str
    token: str
    region: str
    account: str  # the role's account id


@dataclass(frozen=True)
class Metric:
    """A CloudWatch metric: namespace, name and dimensions ((name, value) pairs, in the
    order ListMetrics gave them, which GetMetricData is asked in)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Datapoints:
    """What GetMetricData answered for one metric and statistic: (epoch ms, value) in time order."""

    metric: Metric
    statistic: str
    points: tuple[tuple[int, float], ...]


def _client(service: str, region: str, session: Session | None = None) -> Any:
    from botocore.config import Config  # kept out of module import: only workers pull

    config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})
    credentials: dict[str, str] = {}
    if session is not None:
        credentials = {
            "aws_access_key_id": session.access_key,
            "aws_secret_access_key": session.secret_key,
            "aws_session_token": session.token,
        }
    return aws.create(lambda s: s.create_client(service, region_name=region, config=config, **credentials))


def _call(operation: Callable[..., Any], **request: Any) -> Any:
    """One AWS call: a refusal is Refused, a retryable failure Unavailable."""
    try:
        with translated():
            return operation(**request)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise Refused(str(error.get("Code") or "Error"), str(error.get("Message") or "")) from exc
    except BotoCoreError as exc:  # no credentials, a bad parameter: not worth a retry either
        raise Refused(type(exc).__name__, str(exc)) from exc


def session_name(tenant: str) -> str:
    """The role session name the customer sees in CloudTrail: opsplane-<tenant>."""
    return _SESSION_NAME.sub("-", f"opsplane-{tenant}")[:64]


def assume(role_arn: str, external_id: str, *, tenant: str, region: str) -> Session:
    """Assume the customer's role with the tenant's external id (Refused when AWS says no)."""
    answer = _call(
        _client("sts", region).assume_role,
        RoleArn=role_arn,
        RoleSessionName=session_name(tenant),
        ExternalId=external_id,
        DurationSeconds=SESSION_SECONDS,
    )
    found = answer["Credentials"]
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    return Session(found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"], region, account)


def list_metrics(
    session: Session, namespace: str | None, *, keep: Callable[[Metric], bool], limit: int
) -> tuple[list[Metric], bool]:
    """The metrics of namespace (every namespace when None) that keep() keeps, at most
    limit; and whether more were left unread. Only metrics with data in the last 3 hours
    (RecentlyActive): the rest have nothing to pull."""
    client = _client("cloudwatch", session.region, session)
    request: dict[str, Any] = {"RecentlyActive": "PT3H"}
    if namespace is not None:
        request["Namespace"] = namespace
    found: list[Metric] = []
    seen: set[Metric] = set()
    while True:
        answer = _call(client.list_metrics, **request)
        for raw in answer.get("Metrics", []):
            dimensions = tuple((d["Name"], d["Value"]) for d in raw.get("Dimensions", []))
            metric = Metric(raw["Namespace"], raw["MetricName"], dimensions)
            if metric in seen or not keep(metric):
                continue
            seen.add(metric)
            if len(found) == limit:
                return found, True
            found.append(metric)
        token = answer.get("NextToken")
        if not token:
            return found, False
        request["NextToken"] = token


def metric_data(
    session: Session, metrics: Sequence[Metric], statistics: Sequence[str], *, start: int, end: int, period: int
) -> Iterator[Datapoints]:
    """Each statistic of each metric over [start, end) (epoch ms) at period seconds."""
    client = _client("cloudwatch", session.region, session)
    wanted = [(m, s) for m in metrics for s in statistics]
    for first in range(0, len(wanted), QUERIES_PER_CALL):
        chunk = wanted[first : first + QUERIES_PER_CALL]
        queries = [
            {
                "Id": f"q{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": metric.namespace,
                        "MetricName": metric.name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions],
                    },
                    "Period": period,
                    "Stat": statistic,
                },
                "ReturnData": True,
            }
            for i, (metric, statistic) in enumerate(chunk)
        ]
        found: dict[str, dict[int, float]] = {}
        request: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start / 1000,
            "EndTime": end / 1000,
            "ScanBy": "TimestampAscending",
        }
        while True:
            answer = _call(client.get_metric_data, **request)
            for result in answer.get("MetricDataResults", []):
                points = found.setdefault(result["Id"], {})
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    points[int(stamp.timestamp() * 1000)] = float(value)
            token = answer.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
        for i, (metric, statistic) in enumerate(chunk):
            answered = found.get(f"q{i}")
            if answered:
                yield Datapoints(metric, statistic, tuple(sorted(answered.items())))
