"""Charts (Wavefront /api/v2/chart): the query API and the raw points view.

`GET /api/v2/chart/api` evaluates a query of the supported language subset
(chalicelib/query/engine.py, docs/queries.md) over [s, e) at granularity g and answers the
client's QueryResult; `GET /api/v2/chart/raw` answers one metric's points, averaged per
second, as RawTimeseries. Both read the tenant's time series (domain/metrics.py) and need
only Browse, as in Wavefront: `chart.read`. Each records what it read, before it answers,
for the access endpoint (domain/access.py).
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import access, metrics
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.query import engine
from chalicelib.query.data import EventRecord
from chalicelib.store.timeline import MAX_TIME
from chalicelib.wire.wavefront import QueryResult, RawTimeseries

router = Router("chart")

BASE = "/api/v2/chart"
ACL = "chart.read"
RAW_DEFAULT_WINDOW = engine.HOUR
QUERY_TYPES = ("WQL",)  # PROMQL and HYBRID are not built
VIEWS = ("METRIC",)  # the HISTOGRAM view is not built

QUERY_PARAMETERS = (
    ("q", "string", "the query (required)"),
    ("s", "string", "window start, epoch milliseconds (required)"),
    ("e", "string", "window end, epoch milliseconds; absent: now"),
    ("g", "string", "granularity: s, m, h or d (required)"),
    ("n", "string", "a name for the query, echoed back"),
    ("p", "string", "about how many points per series to answer (widens the buckets)"),
    ("summarization", "string", "MEAN (default), MEDIAN, MIN, MAX, SUM, COUNT, LAST, FIRST"),
    ("strict", "boolean", "leave out the bucket that starts before s"),
    ("sorted", "boolean", "series are always sorted (metric, source, tags)"),
    ("includeObsoleteMetrics", "boolean", "accepted; series without points in the window are never answered"),
    ("queryType", "string", "WQL (the only one built)"),
    ("view", "string", "METRIC (the only one built)"),
    ("autoEvents", "boolean", "not built: true is refused"),
    ("i", "boolean", "accepted; points outside the window are never answered"),
    ("listMode", "boolean", "accepted, no effect"),
    ("cached", "boolean", "accepted, no effect (no query cache)"),
)


def _millis(req: Request, name: str, default: int | None = None) -> int:
    """An epoch-milliseconds parameter (required when there is no default)."""
    if default is None and not req.arg(name):
        raise Invalid(f"{name}: required (epoch milliseconds)")
    return req.int_arg(name, default or 0, low=0, high=MAX_TIME)


def _required(req: Request, name: str) -> str:
    value = req.arg(name)
    if not value:
        raise Invalid(f"{name}: required")
    return value


def _one_of(req: Request, name: str, allowed: tuple[str, ...]) -> None:
    value = (req.arg(name) or allowed[0]).upper()
    if value not in allowed:
        raise Invalid(f"{name}: only {', '.join(allowed)} is supported")


def _event(event: EventRecord) -> dict[str, Any]:
    """The client's QueryEvent: annotations (type, severity, details) as its tags."""
    out: dict[str, Any] = {
        "name": event.name,
        "start": event.start,
        "hosts": list(event.hosts),
        "tags": event.annotation_map,
        "isEphemeral": event.ephemeral,
    }
    if event.end is not None:
        out["end"] = event.end
    return out


def _timeseries(series: engine.Series) -> dict[str, Any]:
    """The client's Timeseries: label (metric), host (source), tags, data [[epoch s, value]]."""
    out: dict[str, Any] = {
        "label": series.key.metric,
        "tags": series.key.tag_map,
        "data": [[t / 1000, v] for t, v in series.points],
    }
    if series.key.source:
        out["host"] = series.key.source
    return out


def answer(text: str, name: str | None, result: engine.Result, latency_ms: int) -> dict[str, Any]:
    """The QueryResult of an evaluated query."""
    out: dict[str, Any] = {
        "query": text,
        "granularity": result.granularity_ms // 1000,
        "timeseries": [_timeseries(s) for s in result.series],
        "events": [_event(e) for e in result.events],
        "stats": {
            "keys": result.keys,
            "points": result.points,
            "metrics": len(result.metrics),
            "hosts_used": len(result.sources),
            "queries": 1,
            "summaries": sum(len(s.points) for s in result.series),
            "latency": latency_ms,
        },
    }
    if name:
        out["name"] = name
    return out


@router.get(
    f"{BASE}/api",
    acl=ACL,
    query=QUERY_PARAMETERS,
    response=QueryResult,
    envelope=False,
    summary="Evaluate a chart query over a window at a granularity",
)
def query_api(req: Request) -> dict[str, Any]:
    """Evaluate q over [s, e) and answer its series (or events) bucketed at g."""
    began = req.ctx.now()
    text = _required(req, "q")
    _one_of(req, "queryType", QUERY_TYPES)
    _one_of(req, "view", VIEWS)
    if req.flag("autoEvents"):
        raise Invalid("autoEvents: not supported; add events() as a query of its own")
    start = _millis(req, "s")
    end = _millis(req, "e", default=req.ctx.now())
    result = engine.query(
        text,
        metrics.data(req.ctx),
        start=start,
        end=end,
        granularity=_required(req, "g"),
        summarization=(req.arg("summarization") or "MEAN").upper(),
        max_points=req.int_arg("p", 0, low=0) or None,
        strict=req.flag("strict"),
    )
    access.record(req.ctx, result.accessed)
    return answer(text, req.arg("n"), result, req.ctx.now() - began)


@router.get(
    f"{BASE}/raw",
    acl=ACL,
    query=(
        ("metric", "string", "the metric, no wildcards (required)"),
        ("source", "string", "one source, no wildcards; absent: every source"),
        ("host", "string", "the same as source"),
        ("startTime", "integer", "epoch milliseconds; absent: an hour before endTime"),
        ("endTime", "integer", "epoch milliseconds; absent: now"),
    ),
    response=list[RawTimeseries],
    envelope=False,
    summary="The raw points of one metric, averaged per second",
)
def query_raw(req: Request) -> list[dict[str, Any]]:
    """One metric's points in [startTime, endTime), per series, averaged per second."""
    source, host = req.arg("source") or None, req.arg("host") or None
    if source and host and source != host:
        raise Invalid("source, host: give one of them (they mean the same)")
    end = _millis(req, "endTime", default=req.ctx.now())
    start = _millis(req, "startTime", default=max(0, end - RAW_DEFAULT_WINDOW))
    found = engine.raw(metrics.data(req.ctx), _required(req, "metric"), source or host, start=start, end=end)
    access.record(req.ctx, [("metric", s.key.metric, s.key.source) for s in found])
    return [
        {
            "tags": {**s.key.tag_map, "source": s.key.source},
            "points": [{"timestamp": t, "value": v} for t, v in s.points],
        }
        for s in found
    ]


CATEGORY = Category(router, tables=("entities", "timeseries", "usage"), permission="browse")
