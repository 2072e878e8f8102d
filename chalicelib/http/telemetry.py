"""Per-request telemetry: CloudWatch metrics as EMF (Powertools Metrics) and X-Ray
annotations (Powertools Tracer). The edge reports every request here once.

Metrics, per request, one EMF blob: `latency` (ms), `status_2xx` / `status_4xx` /
`status_5xx` (1 for the request's class, 0 for the others, so that Sum counts and Average is
a rate) and `aws_calls` (AWS API calls the request made, store/calls.py). Dimensions:
service, route (the template, never the path) and method, nothing else. The tenant, the
category, the status and the request id are properties (EMF metadata): searchable in Logs
Insights, not metrics. Every distinct set of dimension values is one more CloudWatch metric,
billed per month: a tenant dimension would bill a metric per tenant per route per method.

Where the blob goes:
- deployed (in Lambda, not `chalice local`): one JSON line on stdout, which CloudWatch Logs
  turns into metrics;
- POWERTOOLS_METRICS_DISABLED=true: nowhere;
- POWERTOOLS_DEV=true (development mode): a readable line on stdout;
- otherwise locally (`chalice local`, tests): nowhere, unless POWERTOOLS_METRICS_DISABLED=false
  asks for the EMF line.

Tracing runs only deployed, with aws-xray-sdk installed and POWERTOOLS_TRACE_DISABLED not
set: locally there is no X-Ray daemon, and Powertools' Tracer cannot even be built without
the SDK. A request is then one subsegment annotated with its tenant and category.

Powertools is imported by the edge's Logger already (its package imports Metrics and
Tracer): nothing here adds import time at a cold start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = "opsplane"
_TRUE = ("1", "true", "t", "yes", "y", "on")


@dataclass
class Sample:
    """What the edge knows of one answered request."""

    route: str  # the route template ("/api/v2/alert/{id}"), or "unknown"
    method: str
    status: int
    ms: float
    aws_calls: int
    request_id: str
    tenant: str | None = None
    category: str | None = None
    aws_operations: dict[str, int] | None = None  # "dynamodb.GetItem" -> calls


def blob(sample: Sample) -> dict[str, Any]:
    """The request's EMF blob."""
    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE
    metrics = EphemeralMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or SERVICE, service=service)
    metrics.add_dimension(name="service", value=service)
    metrics.add_dimension(name="route", value=sample.route)
    metrics.add_dimension(name="method", value=sample.method)
    metrics.add_metric(name="latency", unit=MetricUnit.Milliseconds, value=sample.ms)
    for status_class in ("2xx", "4xx", "5xx"):
        hit = 1 if f"{sample.status // 100}xx" == status_class else 0
        metrics.add_metric(name=f"status_{status_class}", unit=MetricUnit.Count, value=hit)
    metrics.add_metric(name="aws_calls", unit=MetricUnit.Count, value=sample.aws_calls)
    # Properties, not dimensions (see the module docstring: a dimension per tenant is billed).
    metrics.add_metadata(key="tenant", value=sample.tenant)
    metrics.add_metadata(key="category", value=sample.category)
    metrics.add_metadata(key="status", value=sample.status)
    metrics.add_metadata(key="request_id", value=sample.request_id)
    metrics.add_metadata(key="aws_operations", value=sample.aws_operations or {})
    return dict(metrics.serialize_metric_set())


def publish(sample: Sample) -> dict[str, Any] | None:
    """Emit the request's metrics where this process sends them; the blob, or None."""
    disabled = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower()
    if disabled in _TRUE:
        return None
    if _flag("POWERTOOLS_DEV"):
        print(
            f"metrics {sample.method} {sample.route} -> {sample.status} {sample.ms:.1f} ms, "
            f"{sample.aws_calls} AWS calls, tenant {sample.tenant}",
            flush=True,
        )
        return blob(sample)
    if not emits_emf():
        return None
    emf = blob(sample)
    print(json.dumps(emf, separators=(",", ":"), default=str), flush=True)
    return emf


class Trace:
    """One request's trace: annotations go to its subsegment, or nowhere when tracing is off."""

    def __init__(self, tracer: Any = None) -> None:
        self.tracer = tracer

    def annotate(self, **values: str | None) -> None:
        if self.tracer is None:
            return
        for key, value in values.items():
            if value is not None:
                self.tracer.put_annotation(key=key, value=value)


@contextmanager
def traced(name: str) -> Iterator[Trace]:
    """A subsegment for one request when tracing is on."""
    tracer = _tracer()
    if tracer is None:
        yield Trace()
        return
    with tracer.provider.in_subsegment(name=f"## {name}"):
        yield Trace(tracer)


def emits_emf() -> bool:
    """Do EMF lines go to stdout here (deployed, or POWERTOOLS_METRICS_DISABLED=false asks)?
    Workers' metrics follow the same rule."""
    disabled = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower()
    if disabled in _TRUE:
        return False
    return _deployed() or disabled in ("0", "false", "f", "no", "n", "off")


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _deployed() -> bool:
    """In Lambda, and not `chalice local` (which sets AWS_CHALICE_CLI_MODE)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not os.environ.get("AWS_CHALICE_CLI_MODE")


@lru_cache(maxsize=1)
def _tracer() -> Any:
    """Powertools' Tracer when tracing is on (read once per process), else None."""
    if not _deployed() or _flag("POWERTOOLS_TRACE_DISABLED") or find_spec("aws_xray_sdk") is None:
        return None
    from aws_lambda_powertools import Tracer

    # auto_patch=False: patching botocore adds a subsegment per AWS call and import time;
    # store/calls.py already counts the calls.
    return Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE, auto_patch=False)
