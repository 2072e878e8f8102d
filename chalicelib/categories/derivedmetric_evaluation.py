"""Derived metric evaluation: run a derived metric's query over its window through the
query engine and write each series of the answer back as points, which queries, charts
and alerts then read like any other (docs/derived-metrics.md).

Names: as Wavefront does, a result series keeps the name the query gives it (metric,
source, point tags). Wavefront's queries rename their output with `aliasMetric`, which the
query engine does not have yet; a result series named like a metric the query reads
would overwrite the points it is computed from, so it is written as
`derived.<its name>` instead (PREFIX), same source and tags; one that mixes metrics (no
name) as `derived.<derived metric id>`.

One evaluation per derived metric and tick (the schedule's minute), due every
processRateMinutes (1 by default); the state row (store/alerting.py, kind STATE_KIND) is
written on condition that its version has not moved. The points are written before the
state: a run that dies in between is run again and writes the same points under the same
keys (a series and a timestamp are one point), so a redelivered message changes nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from chalicelib.domain import entities, ingestion, metrics
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, VersionMismatch
from chalicelib.query import engine
from chalicelib.store import alerting, series
from chalicelib.store.repository import Entity, Writes

logger = logging.getLogger("opsplane.derivedmetrics")

REGISTRY = alerting.DERIVED_PARTITION  # tenants with live derived metrics (store/alerting.py)
STATE_KIND = "derivedmetricstate"
MINUTE = 60_000
DAY_S = 86_400
# The newest minute is left out of the window: its points may still arrive.
LAG_MS = MINUTE
# includeObsoleteMetrics false: series not seen for four weeks are left out (as alerts).
OBSOLETE_MS = 28 * 24 * 60 * MINUTE
OK, INVALID = "OK", "INVALID"
PREFIX = "derived."  # the name of a result series that would overwrite what it reads


def follow(tenant: str, metric_id: str, *, live: bool) -> Writes:
    """The write that keeps a derived metric in its tenant's registry row while it is live."""
    return alerting.follow(tenant, metric_id, enlisted=live, registry=REGISTRY)


def enlisted() -> list[tuple[str, list[str]]]:
    """(tenant, derived metric ids) of every tenant with live derived metrics. One Query."""
    return list(alerting.enlisted(REGISTRY))


def load(tenant: str, metric_id: str) -> dict[str, Any]:
    """The derived metric's last run (empty before the first)."""
    return alerting.load(tenant, metric_id, kind=STATE_KIND).doc


def fields(state: dict[str, Any]) -> dict[str, Any]:
    """The DerivedMetricDefinition fields its last run gives (none before the first)."""
    out = {
        "lastProcessedMillis": state.get("lastProcessed"),
        "lastQueryTime": state.get("lastQueryTime"),
        "pointsScannedAtLastQuery": state.get("pointsScanned"),
        "lastFailedTime": state.get("lastFailed"),
    }
    if state.get("status") == INVALID:
        out["lastErrorMessage"] = state.get("error")
    return {k: v for k, v in out.items() if v is not None}


def due(doc: dict[str, Any], state: dict[str, Any], at: int) -> bool:
    """Not yet run at this tick, and processRateMinutes (default 1) since the last run."""
    last = state.get("evaluatedAt")
    if last is None:
        return True
    return at > int(last) and at - int(last) >= int(doc.get("processRateMinutes") or 1) * MINUTE


def output_name(metric: str, read: set[str], metric_id: str) -> str:
    """The metric a result series is written as: its own name, unless the query reads it."""
    if not metric:
        return PREFIX + metric_id
    return PREFIX + metric if metric in read else metric


def compute(ctx: Context, metric: Entity, at: int) -> tuple[list[engine.Series], int]:
    """The query's answer over [at - LAG - minutes, at - LAG) by the minute, named as it is
    written, and the points it read; Invalid when it cannot run."""
    doc, end = metric.doc, at - LAG_MS
    fresh = None if doc.get("includeObsoleteMetrics") else at - OBSOLETE_MS
    data = metrics.TenantData(ctx, fresh_since=fresh)
    result = engine.query(str(doc["query"]), data, start=end - int(doc["minutes"]) * MINUTE, end=end, granularity="m")
    if result.events:
        raise Invalid("the query answers events, not series: nothing to write")
    read = result.metrics
    named = [replace(s, key=replace(s.key, metric=output_name(s.key.metric, read, metric.id))) for s in result.series]
    return named, result.points


def write(ctx: Context, found: list[engine.Series], at: int) -> int:
    """Write the series as points kept for the tenant's retention; how many."""
    expires = at // 1000 + ingestion.retention_days(ctx.tenant, ctx.settings) * DAY_S
    points = [
        (series.SeriesKey.of("metric", s.key.metric, s.key.source, dict(s.key.tags)), t, float(v))
        for s in found
        for t, v in s.points
    ]
    if points:
        series.write_points(ctx.tenant, points, expires=expires)
    return len(points)


def evaluate(ctx: Context, metric: Entity, state: alerting.State, at: int) -> None:
    """Run one derived metric at tick `at` (once per tick) and record the run."""
    if not due(metric.doc, state.doc, at):
        return
    began = time.monotonic()
    doc: dict[str, Any] = {"evaluatedAt": at, "lastProcessed": at, "lastFailed": state.doc.get("lastFailed")}
    try:
        found, scanned = compute(ctx, metric, at)
        doc.update(status=OK, pointsScanned=scanned, written=write(ctx, found, at))
    except Invalid as exc:
        doc.update(status=INVALID, error=str(exc), lastFailed=at, pointsScanned=0)
    doc["lastQueryTime"] = int((time.monotonic() - began) * 1000)
    try:
        alerting.save(ctx.tenant, state, {k: v for k, v in doc.items() if v is not None}, kind=STATE_KIND)
    except VersionMismatch:
        logger.info("derived metric %s/%s: run at %d by another worker", ctx.tenant, metric.id, at)


def run(ctx: Context, metric_ids: list[str], at: int, *, kind: Any) -> int:
    """Run the tenant's derived metrics named (those gone leave the registry); how many."""
    found = {m.id: m for m in entities.repo(ctx, kind).get_many(metric_ids)}
    states = alerting.load_many(ctx.tenant, list(found), kind=STATE_KIND)
    for metric_id in metric_ids:
        if metric_id not in found:
            alerting.drop(ctx.tenant, metric_id, registry=REGISTRY, kind=STATE_KIND)
    for metric_id, metric in found.items():
        evaluate(ctx, metric, states[metric_id], at)
    return len(found)
