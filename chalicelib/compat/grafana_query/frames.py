"""Grafana's data source query (/api/ds/query) over opsplane's metric store.

A Grafana query request names, per query, a data source and an expression; opsplane's own
metric store (the data source "opsplane", id 0) evaluates the expression with the query
engine (chalicelib/query/engine.py, docs/queries.md: Wavefront's language, in `expr` or in
Wavefront's plugin's `query` field). Every answered series is one Grafana data frame: a
time field and a value field whose labels are the series' source and point tags. Other data
sources are stored configurations opsplane does not connect to: their queries fail, each in
its own result, as Grafana answers a failed query (`error`, `status`); the request is then a
400, as in Grafana.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from chalicelib.compat.grafana import datasources
from chalicelib.domain import access, metrics
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, NotFound
from chalicelib.query import MAX_QUERY_LENGTH, ast, engine, parse
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

MAX_QUERIES = 20  # queries in one request (a Grafana panel has a handful)
MAX_REF_ID = 64
DEFAULT_INTERVAL_MS = 60_000
DEFAULT_MAX_POINTS = 1000
RELATIVE = re.compile(r"now(?:-(\d{1,9})([smhdw]))?\Z")
UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
STEPS = (("d", engine.DAY), ("h", engine.HOUR), ("m", engine.MINUTE), ("s", engine.SECOND))

Time = StrictStr | StrictInt


class DatasourceRef(Model):
    """A query's data source: {"uid", "type"}."""

    model_config = ConfigDict(extra="ignore")

    uid: Annotated[StrictStr, Field(max_length=datasources.MAX_TEXT)] | None = None
    type: Annotated[StrictStr, Field(max_length=datasources.MAX_TEXT)] | None = None


class DsQuery(Model):
    """One of a request's queries (Grafana's DataQuery; other fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    refId: Annotated[StrictStr, Field(min_length=1, max_length=MAX_REF_ID)] = "A"
    datasource: DatasourceRef | None = None
    datasourceId: StrictInt | None = Field(default=None, description="A numeric id; 0 is opsplane's store")
    expr: Annotated[StrictStr, Field(max_length=MAX_QUERY_LENGTH)] | None = Field(
        default=None, description="The query, Wavefront's language (as Prometheus' field)"
    )
    query: Annotated[StrictStr, Field(max_length=MAX_QUERY_LENGTH)] | None = Field(
        default=None, description="The query, Wavefront's language (as Wavefront's plugin's field)"
    )
    intervalMs: StrictInt | StrictFloat | None = Field(default=None, gt=0, le=engine.DAY * 366)
    maxDataPoints: StrictInt | None = Field(default=None, ge=1, le=engine.LIMITS.buckets)
    hide: StrictBool = Field(default=False, description="True: not run, not answered")


class DsQueryBody(Model):
    """POST /api/ds/query."""

    model_config = ConfigDict(extra="ignore")

    queries: list[DsQuery] = Field(min_length=1, max_length=MAX_QUERIES)
    from_: Time = Field(default="now-1h", alias="from", description="Epoch ms, now or now-<n><s|m|h|d|w>")
    to: Time = Field(default="now", description="Epoch ms, now or now-<n><s|m|h|d|w>")


class QueryResults(Model):
    """The answer: one result per refId ({"frames"} or {"error", "status"})."""

    results: dict[str, dict[str, Any]]


class QueryFailed(Exception):
    """One query that cannot be answered: its own result, with a status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def instant(value: str | int, now: int, name: str) -> int:
    """Epoch ms from Grafana's time: epoch ms (a number or its digits), now, now-5m."""
    if isinstance(value, int) or value.isdigit():
        return int(value)
    found = RELATIVE.match(value.strip())
    if not found:
        raise Invalid(f"{name}: epoch milliseconds, now, or now-<n><s|m|h|d|w>, not {value!r}")
    amount, unit = found.groups()
    return now - (int(amount) * UNITS[unit] if amount else 0)


def _granularity(interval_ms: float) -> str:
    """The engine's granularity for Grafana's interval: the largest of d, h, m, s not above it."""
    return next((g for g, size in STEPS if size <= interval_ms), "s")


def _labels(series: engine.Series) -> dict[str, str]:
    labels = dict(series.key.tags)
    if series.key.source:
        labels["source"] = series.key.source
    return labels


def frame(ref_id: str, text: str, series: engine.Series, interval: int) -> dict[str, Any]:
    """One series as a Grafana data frame: Time and Value fields, the labels on Value."""
    meta = {"type": "timeseries-multi", "typeVersion": [0, 1], "executedQueryString": text}
    return {
        "schema": {
            "name": series.key.metric,
            "refId": ref_id,
            "meta": meta,
            "fields": [
                {"name": "Time", "type": "time", "typeInfo": {"frame": "time.Time"}, "config": {"interval": interval}},
                {
                    "name": "Value",
                    "type": "number",
                    "typeInfo": {"frame": "float64", "nullable": True},
                    "labels": _labels(series),
                    "config": {},
                },
            ],
        },
        "data": {"values": [[t for t, _ in series.points], [v for _, v in series.points]]},
    }


def _datasource_uid(q: DsQuery) -> str:
    """The uid a query names (its datasource, else its numeric id; absent: opsplane's store)."""
    if q.datasource is not None and q.datasource.uid:
        return q.datasource.uid
    if q.datasourceId not in (None, 0):
        return str(q.datasourceId)
    return datasources.BUILT_IN


def _stored(ctx: Context, uid: str) -> Entity:
    """The stored data source a query names, by uid or numeric id (404 when not visible)."""
    try:
        entity = datasources.by_number(ctx, uid) if uid.isdigit() else datasources.by_uid(ctx, uid)
    except (NotFound, Invalid) as exc:
        raise QueryFailed(f"data source {uid!r} not found", 404) from exc
    if not ctx.can(f"datasource.{entity.id}.read"):
        raise QueryFailed(f"data source {uid!r} not found", 404)
    return entity


def _tree(text: str) -> ast.Node:
    try:
        return parse(text).tree
    except Invalid as exc:
        raise QueryFailed(exc.message, 400) from exc


def run(ctx: Context, q: DsQuery, start: int, end: int) -> list[dict[str, Any]]:
    """The frames of one query (QueryFailed when it cannot be answered)."""
    uid = _datasource_uid(q)
    if uid != datasources.BUILT_IN:
        entity = _stored(ctx, uid)
        url = entity.doc.get("url") or "it"
        raise QueryFailed(datasources.UNREACHABLE.format(url=url), 502)
    text = q.expr if q.expr is not None else q.query
    if not text or not text.strip():
        raise QueryFailed("expr: a query is required (Wavefront's language, docs/queries.md)", 400)
    if isinstance(_tree(text), ast.Events):
        raise QueryFailed("events() is not answered as data frames: read annotations (/api/annotations)", 400)
    interval = max(1, int(q.intervalMs or DEFAULT_INTERVAL_MS))
    buckets = math.ceil((end - start) / interval)
    try:
        result = engine.query(
            text,
            metrics.data(ctx),
            start=start,
            end=end,
            granularity=_granularity(interval),
            max_points=max(1, min(q.maxDataPoints or DEFAULT_MAX_POINTS, buckets)),
        )
    except Invalid as exc:
        raise QueryFailed(exc.message, 400) from exc
    access.record(ctx, result.accessed)
    return [frame(q.refId, text, s, result.granularity_ms) for s in result.series]


def query(ctx: Context, body: DsQueryBody) -> tuple[dict[str, Any], int]:
    """Every query's result by refId, and the status: 200, or 400 when any failed."""
    now = ctx.now()
    start, end = instant(body.from_, now, "from"), instant(body.to, now, "to")
    if end <= start:
        raise Invalid("from, to: the range must end after it starts")
    refs = [q.refId for q in body.queries]
    if len(set(refs)) != len(refs):
        raise Invalid("queries: each refId must be unique")
    results: dict[str, dict[str, Any]] = {}
    for q in body.queries:
        if q.hide:
            continue
        try:
            results[q.refId] = {"status": 200, "frames": run(ctx, q, start, end)}
        except QueryFailed as exc:
            results[q.refId] = {"error": exc.message, "errorSource": "downstream", "status": exc.status}
    errors = [f"{ref}: {r['error']}" for ref, r in results.items() if "error" in r]
    if errors:
        # Grafana answers 400 when a query failed; the message (the error shape's) names them.
        return {"message": "; ".join(errors), "results": results}, 400
    return {"results": results}, 200
