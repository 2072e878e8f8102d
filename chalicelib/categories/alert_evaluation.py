"""Alert evaluation: read an alert's condition over its window through the query engine,
decide its next state (domain/alert_states.py), and write it with its firing event and
the notifications it makes (docs/alert-evaluation.md).

One evaluation per alert and tick (the schedule's minute, `at`), made idempotent by the
state's `evaluatedAt` and its conditional write: a duplicated or redelivered message finds
the tick done and evaluates nothing. Notifications go through an outbox: the state write
records them as `pending`, the send comes after, and the pending jobs are cleared after
the send. A crash in between leaves them pending, and the next message for the alert (the
redelivery, or the next minute's) sends them again with the same notificationId: at least
once, never lost.

A firing's event is created in the transaction of the state write that opens it
(record_system_event's `extra`), and ended in that of the write that resolves it, so a
firing never has two events and never lacks one.

No route here (alert.py declares them); `preview` evaluates a body that is not saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalicelib import query as wql
from chalicelib.categories.alert_views import SEVERITY_KEYS
from chalicelib.categories.maintenancewindow import MAINTENANCE_WINDOW, running_state
from chalicelib.domain import alert_states, entities, events, metrics, notifications
from chalicelib.domain.alert_states import Observed
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Invalid, VersionMismatch
from chalicelib.query import engine
from chalicelib.store import alerting
from chalicelib.store.repository import Entity

logger = logging.getLogger("opsplane.alerts")

MINUTE = 60_000
FOREVER = -1
# Without evaluateRealtimeData the newest minute is left out: its points may still arrive.
REALTIME_LAG_MS = MINUTE
# includeObsoleteMetrics false: series not seen for four weeks are left out (Wavefront's rule).
OBSOLETE_MS = 28 * 24 * 60 * MINUTE
# The most series of each list a notification carries (the state keeps pending ones: 400 KB).
MAX_NOTIFIED_SERIES = 100

Wire = Callable[[Entity], dict[str, Any]]


# ---- what an alert asks ---------------------------------------------------------------------


def queries(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of the WQL queries that decide whether the alert is valid."""
    if doc.get("conditionQueryType", "WQL") != "WQL":
        return []  # PromQL / hybrid queries are not ours to parse
    if doc.get("alertType") == "THRESHOLD":
        return [(f"{k} condition", doc["conditions"][k]) for k in SEVERITY_KEYS if k in doc.get("conditions", {})]
    return [("condition", doc.get("condition", ""))]


def conditions(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(severity, condition) least severe first: one per severity for THRESHOLD alerts,
    the condition at the alert's severity (WARN by default) for CLASSIC ones."""
    if doc.get("alertType") == "THRESHOLD":
        return [(k.upper(), doc["conditions"][k]) for k in SEVERITY_KEYS if k in doc.get("conditions", {})]
    return [(str(doc.get("severity") or "WARN"), str(doc.get("condition", "")))]


def snoozed_until(doc: dict[str, Any], now: int) -> int | None:
    """-1 (forever) or the epoch ms the running snooze ends; None when not snoozed."""
    until = doc.get("_snoozed")
    if until is None:
        return None
    if until == FOREVER or until > now:
        return int(until)
    return None


def tags_of(doc: dict[str, Any], alert: Entity | None) -> list[str]:
    """The alert's tags (stored on the entity; in the body's tags.customerTags when previewed)."""
    if alert is not None:
        return sorted(alert.tags)
    return sorted(((doc.get("tags") or {}).get("customerTags")) or [])


# ---- reading the data ------------------------------------------------------------------------


def window_end(doc: dict[str, Any], at: int) -> int:
    """Where the windows end: the tick, or a minute before it without evaluateRealtimeData."""
    return at if doc.get("evaluateRealtimeData") else at - REALTIME_LAG_MS


def observe(ctx: Context, doc: dict[str, Any], at: int) -> tuple[list[Observed], int, str | None]:
    """Each series of the condition(s) over the windows: (series, points read, error)."""
    if doc.get("conditionQueryType", "WQL") != "WQL":
        return [], 0, f"{doc['conditionQueryType']} conditions are not evaluated: only WQL is"
    end = window_end(doc, at)
    minutes = int(doc["minutes"])
    resolve = int(doc.get("resolveAfterMinutes") or minutes)
    start = end - max(minutes, resolve) * MINUTE
    window_start, recent_start = end - minutes * MINUTE, end - resolve * MINUTE
    fresh = None if doc.get("includeObsoleteMetrics") else at - OBSOLETE_MS
    data = metrics.TenantData(ctx, fresh_since=fresh)
    found: dict[tuple[str, tuple[tuple[str, str], ...], str], dict[str, Any]] = {}
    scanned = 0
    try:
        for severity, text in conditions(doc):
            result = engine.query(text, data, start=start, end=end, granularity="m")
            scanned += result.points
            for series in result.series:
                key = (series.key.source, series.key.tags, series.key.metric)
                seen = found.setdefault(key, {"window": {}, "recent": {}})
                # A bucket answered at its minute's start holds points from the window on.
                seen["window"][severity] = [v for t, v in series.points if t >= window_start - window_start % MINUTE]
                seen["recent"][severity] = [v for t, v in series.points if t >= recent_start - recent_start % MINUTE]
    except Invalid as exc:
        return [], scanned, str(exc)
    observed = [
        Observed(host=source, tags=dict(tags), label=label, window=v["window"], recent=v["recent"])
        for (source, tags, label), v in sorted(found.items())
        if any(v["window"].values()) or any(v["recent"].values())
    ]
    return observed, scanned, None


def coverage(ctx: Context, tags: list[str], series: list[Observed], now: int) -> alert_states.Coverage:
    """What the running maintenance windows of the tenant cover of the alert."""
    running = []
    for window in entities.repo(ctx, MAINTENANCE_WINDOW).iterate():
        if running_state(window.doc, now) == "ONGOING":
            running.append({**window.doc, "id": window.id})
    if not running:
        return alert_states.Coverage()
    hosts = sorted({s.host for s in series})
    host_tags: dict[str, frozenset[str]] = dict.fromkeys(hosts, frozenset())
    if any(w.get("relevantHostTags") for w in running):
        host_tags.update(metrics.TenantData(ctx).source_tags(hosts))
    return alert_states.coverage(running, tags, host_tags)


def inputs_for(ctx: Context, doc: dict[str, Any], at: int, alert: Entity | None) -> tuple[alert_states.Inputs, int]:
    """The state machine's inputs for one evaluation at `at`, and the points read."""
    severities = [s for s, _ in conditions(doc)]
    syntax = wql.inspect(queries(doc))
    if syntax.invalid:
        return alert_states.Inputs(at=at, severities=severities, error=syntax.fields().get("lastErrorMessage")), 0
    series, scanned, error = observe(ctx, doc, at)
    covered = coverage(ctx, tags_of(doc, alert), series, at)
    return (
        alert_states.Inputs(
            at=at,
            severities=severities,
            series=series,
            error=error,
            snoozed=snoozed_until(doc, at) is not None,
            maintenance=covered.windows,
            whole_alert_in_maintenance=covered.whole_alert,
            hosts_in_maintenance=covered.hosts,
        ),
        scanned,
    )


# ---- the alert's fields --------------------------------------------------------------------


def _pairs(records: dict[str, Any] | None) -> list[dict[str, Any]]:
    """State series as the client's SourceLabelPair."""
    return [
        {
            "host": r["host"],
            "tags": r.get("tags") or {},
            "label": r["label"],
            "severity": r["severity"],
            "startTime": r["since"],
            "firing": int(r.get("points") or 0),
            "observed": int(r.get("points") or 0),
        }
        for r in (records or {}).values()
    ]


def fields(state: dict[str, Any]) -> dict[str, Any]:
    """The Alert fields an evaluation state gives (absent before the first evaluation)."""
    if not state:
        return {}
    out: dict[str, Any] = {
        "failingHostLabelPairs": _pairs(state.get("series")),
        "inMaintenanceHostLabelPairs": _pairs(state.get("inMaintenance")),
        "activeMaintenanceWindows": list(state.get("maintenance") or []),
        "lastProcessedMillis": state.get("lastProcessed"),
        "lastQueryTime": state.get("lastQuery"),
        "pointsScannedAtLastQuery": state.get("pointsScanned"),
        "lastEventTime": state.get("lastEvent"),
        "lastFailedTime": state.get("lastFailed"),
        "lastNotificationMillis": state.get("lastNotification"),
    }
    if state.get("status") == alert_states.INVALID and state.get("error"):
        out["lastErrorMessage"] = state["error"]
    if state.get("event"):
        out["event"] = state["event"]
    return {k: v for k, v in out.items() if v is not None}


# ---- one evaluation ---------------------------------------------------------------------------


def due(doc: dict[str, Any], state: dict[str, Any], at: int) -> bool:
    """Whether the alert is evaluated at this tick: not yet evaluated at it, and
    processRateMinutes (default 1) since the last evaluation."""
    last = state.get("evaluatedAt")
    if last is None:
        return True
    return at > int(last) and at - int(last) >= int(doc.get("processRateMinutes") or 1) * MINUTE


def _capped(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return notifications.wire_series(records[:MAX_NOTIFIED_SERIES])


def job(
    ctx: Context, alert: dict[str, Any], trigger: alert_states.Trigger, state: dict[str, Any], at: int
) -> dict[str, Any]:
    """The notification job of one trigger (domain/notifications.py has its shape)."""
    alert_id = str(alert["id"])
    resolved = trigger.trigger == alert_states.RESOLVED
    return {
        "tenant": ctx.tenant,
        "notificationId": notifications.notification_id(alert_id, trigger.trigger, at),
        "trigger": trigger.trigger,
        "alertId": alert_id,
        "alert": alert,
        "severity": trigger.severity,
        "reason": alert_states.REASONS[trigger.trigger],
        "startedTime": state.get("firingSince"),
        "endedTime": at if resolved else None,
        "evaluatedAt": at,
        "failingAlertSeries": _capped(trigger.failing),
        "newlyFailingAlertSeries": _capped(trigger.newly_failing),
        "recoveredAlertSeries": _capped(trigger.recovered),
        "inMaintenanceAlertSeries": _capped(trigger.in_maintenance),
    }


def _event_fields(doc: dict[str, Any], state: dict[str, Any], at: int) -> dict[str, Any]:
    """The client's Event of the open firing (the alert's `event`)."""
    return {
        "name": f"Alert Fired: {doc.get('name', '')}",
        "startTime": state.get("firingSince", at),
        "annotations": {"severity": str(state.get("severity", "WARN")).lower(), "type": "alert"},
        "creatorType": ["ALERT"],
        "isUserEvent": False,
        "runningState": "ONGOING",
    }


def evaluate(ctx: Context, alert: Entity, state: alerting.State, at: int, *, wire: Wire) -> alerting.State:
    """Evaluate one alert at tick `at` (once per tick) and send what it notifies."""
    if state.doc.get("pending"):
        notifications.send(state.doc["pending"])  # an earlier evaluation's, maybe unsent
    if not due(alert.doc, state.doc, at):
        return _cleared(ctx, state)
    inputs, scanned = inputs_for(ctx, alert.doc, at, alert)
    step = alert_states.step(state.doc, inputs, default_severity=conditions(alert.doc)[-1][0])
    doc = step.state
    doc.update(evaluatedAt=at, lastQuery=at, pointsScanned=scanned)
    if step.opened:
        doc["event"] = _event_fields(alert.doc, doc, at)
    elif step.resolved:
        doc.pop("event", None)
    wired = {**wire(alert), **fields(doc)}
    wired["status"] = alert_states.statuses(doc, snoozed=inputs.snoozed)
    jobs = [job(ctx, wired, t, doc, at) for t in step.notify]
    doc["pending"] = jobs
    if jobs:
        doc["lastNotification"] = at
    try:
        written = _write(ctx, alert, state, doc, step, at)
    except (VersionMismatch, Conflict):
        logger.info("alert %s/%s: evaluated at %d by another worker", ctx.tenant, alert.id, at)
        return alerting.load(ctx.tenant, alert.id)
    notifications.send(jobs)
    return _cleared(ctx, written)


def _write(
    ctx: Context, alert: Entity, state: alerting.State, doc: dict[str, Any], step: alert_states.Step, at: int
) -> alerting.State:
    """Write the state, with its firing event opened or ended in the same transaction."""
    if step.opened:
        failing = _pairs(doc.get("series"))

        def with_event(event_id: str) -> Any:
            doc["event"]["id"] = doc["eventId"] = event_id
            return alerting.state_writes(ctx.tenant, state, doc)

        events.record_system_event(
            ctx,
            doc["event"]["name"],
            at,
            annotations=doc["event"]["annotations"],
            hosts=sorted({p["host"] for p in failing})[:100],
            tags=tags_of(alert.doc, alert),
            alert_id=alert.id,
            queries=dict(queries(alert.doc)),
            sources=failing[:MAX_NOTIFIED_SERIES],
            extra=with_event,
        )
        return alerting.State(alert.id, doc, (state.version or 0) + 1)
    event_id = state.doc.get("eventId")
    if step.resolved and event_id:
        doc.pop("eventId", None)
        doc["lastEventId"] = event_id

        def finish(e: Entity) -> None:
            e.doc["endTime"] = max(at, int(e.doc["startTime"]))

        _, ended = events.repo(ctx).staged_update(str(event_id), finish, by=ctx.actor)
        return alerting.save(ctx.tenant, state, doc, extra=ended)
    return alerting.save(ctx.tenant, state, doc)


def _cleared(ctx: Context, state: alerting.State) -> alerting.State:
    """The state without its pending notifications (sent): best effort, a lost race
    leaves them to be sent once more."""
    if not state.doc.get("pending"):
        return state
    try:
        return alerting.save(ctx.tenant, state, {**state.doc, "pending": []})
    except VersionMismatch:
        return state


def run(ctx: Context, alert_ids: list[str], at: int, *, kind: Any, wire: Wire) -> int:
    """Evaluate the tenant's alerts named (those gone leave the registry); how many."""
    alerts = {a.id: a for a in entities.repo(ctx, kind).get_many(alert_ids)}
    states = alerting.load_many(ctx.tenant, list(alerts))
    for alert_id in alert_ids:
        if alert_id not in alerts:
            alerting.drop(ctx.tenant, alert_id)
    for alert_id, alert in alerts.items():
        evaluate(ctx, alert, states[alert_id], at, wire=wire)
    return len(alerts)


# ---- preview ---------------------------------------------------------------------------------


def preview(ctx: Context, doc: dict[str, Any], at: int) -> alert_states.Step:
    """What an evaluation of an unsaved alert body would decide now, from no prior state."""
    inputs, _ = inputs_for(ctx, doc, at, None)
    return alert_states.step({}, inputs, default_severity=conditions(doc)[-1][0])
