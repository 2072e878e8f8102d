"""The alert state machine, per series, as Wavefront evaluates alerts (no I/O: the
evaluation in categories/alert_evaluation.py reads the data and writes what this decides).

One evaluation sees, for each series the condition answers (source + point tags), its
values per minute in the alert's window (`minutes`) and in the resolve window
(`resolveAfterMinutes`, default `minutes`), for each severity's condition (a CLASSIC alert
has one). Then:

- a series *fails* at a severity when it has points in the window and every one of them
  holds (is non-zero); a THRESHOLD alert's series fails at the most severe such severity;
- a failing series *holds* while any of its points in the resolve window holds, and
  *recovers* once none does (no points at all included);
- series whose source a running maintenance window covers are *in maintenance*: they are
  tracked, listed apart and notify nothing;
- the alert is FIRING while any series (not in maintenance) fails, NO_DATA when the
  condition answers no point at all, INVALID when it cannot be evaluated, else CHECKING.

Each change is a trigger: ALERT_OPENED, ALERT_UPDATED (the failing series changed while
firing), ALERT_SEVERITY_UPDATE, ALERT_RESOLVED, ALERT_NO_DATA / ALERT_NO_DATA_RESOLVED,
ALERT_INVALID / ALERT_NO_LONGER_INVALID, and ALERT_MAINTENANCE / ALERT_SNOOZED when a
maintenance window or a snooze starts to cover the alert. While the alert is snoozed, or
the whole alert is in maintenance, the state moves on but only those two notify.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CHECKING, FIRING, NO_DATA, INVALID = "CHECKING", "FIRING", "NO_DATA", "INVALID"
SNOOZED, IN_MAINTENANCE = "SNOOZED", "IN_MAINTENANCE"

OPENED, UPDATED, RESOLVED = "ALERT_OPENED", "ALERT_UPDATED", "ALERT_RESOLVED"
MAINTENANCE, SNOOZE = "ALERT_MAINTENANCE", "ALERT_SNOOZED"
BROKE, MENDED = "ALERT_INVALID", "ALERT_NO_LONGER_INVALID"
NO_DATA_STARTED, NO_DATA_RESOLVED = "ALERT_NO_DATA", "ALERT_NO_DATA_RESOLVED"
SEVERITY_UPDATE = "ALERT_SEVERITY_UPDATE"
# Sent by hand (POST /notificant/test/{id}: the delivery side), never by an evaluation.
TESTING = "ALERT_TESTING"
TRIGGERS = (
    OPENED,
    UPDATED,
    RESOLVED,
    MAINTENANCE,
    SNOOZE,
    BROKE,
    MENDED,
    NO_DATA_STARTED,
    NO_DATA_RESOLVED,
    SEVERITY_UPDATE,
    TESTING,
)
# Triggers that still notify while the alert is snoozed or wholly in maintenance.
ALWAYS = frozenset({MAINTENANCE, SNOOZE})
REASONS = {
    OPENED: "Alert Opened",
    UPDATED: "Alert Updated",
    RESOLVED: "Alert Resolved",
    MAINTENANCE: "Alert In Maintenance",
    SNOOZE: "Alert Snoozed",
    BROKE: "Alert Invalid",
    MENDED: "Alert No Longer Invalid",
    NO_DATA_STARTED: "Alert No Data",
    NO_DATA_RESOLVED: "Alert No Data Resolved",
    SEVERITY_UPDATE: "Alert Severity Update",
    TESTING: "Alert Testing",
}
SEVERITIES = ("INFO", "SMOKE", "WARN", "SEVERE")  # least to most severe
# The most failing series one state keeps (the state is one item: 400 KB).
MAX_SERIES = 500


def series_key(host: str, tags: Mapping[str, str], label: str) -> str:
    """The stable name of a series in the state: label, source and sorted point tags."""
    pairs = ",".join(f"{k}={v}" for k, v in sorted(tags.items()))
    return f"{label}|{host}|{pairs}"


@dataclass(frozen=True)
class Observed:
    """One series as the evaluation saw it: per severity, its values (time order) in the
    alert's window and in the resolve window."""

    host: str
    tags: Mapping[str, str]
    label: str
    window: Mapping[str, Sequence[float]]  # severity -> values in the `minutes` window
    recent: Mapping[str, Sequence[float]]  # severity -> values in the resolve window

    @property
    def key(self) -> str:
        return series_key(self.host, self.tags, self.label)

    def failing_at(self, order: Sequence[str]) -> str | None:
        """The most severe severity whose condition held at every point of the window."""
        for severity in reversed(order):
            values = self.window.get(severity) or ()
            if values and all(v != 0 for v in values):
                return severity
        return None

    def holds(self) -> bool:
        """Whether any condition held at any point of the resolve window."""
        return any(v != 0 for values in self.recent.values() for v in values)

    def observed(self) -> float | None:
        """The last value of the most severe condition that has one (the notification's)."""
        for severity in reversed(SEVERITIES):
            values = self.window.get(severity)
            if values:
                return float(values[-1])
        return None

    def points(self) -> int:
        return max((len(v) for v in self.window.values()), default=0)


@dataclass(frozen=True)
class Inputs:
    """What one evaluation found: the series (empty when the condition answered none),
    an error (the alert cannot be evaluated), who is in maintenance and whether snoozed."""

    at: int  # the evaluation's time (epoch ms, the schedule's tick)
    severities: Sequence[str]  # the alert's severities with a condition, least severe first
    series: Sequence[Observed] = ()
    error: str | None = None
    snoozed: bool = False
    maintenance: Sequence[str] = ()  # ids of the running windows that cover the alert
    whole_alert_in_maintenance: bool = False
    hosts_in_maintenance: frozenset[str] = frozenset()


@dataclass
class Trigger:
    """One notification to make: the trigger and the series it is about."""

    trigger: str
    severity: str
    failing: list[dict[str, Any]] = field(default_factory=list)
    newly_failing: list[dict[str, Any]] = field(default_factory=list)
    recovered: list[dict[str, Any]] = field(default_factory=list)
    in_maintenance: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Step:
    """The state after an evaluation and the triggers it made (all, suppressed or not:
    `notify` says which notify)."""

    state: dict[str, Any]
    triggers: list[Trigger]
    notify: list[Trigger]
    opened: bool = False  # a firing started (its event is recorded)
    resolved: bool = False  # the firing ended (its event is ended)


def _record(seen: Observed, severity: str, since: int) -> dict[str, Any]:
    return {
        "host": seen.host,
        "tags": dict(seen.tags),
        "label": seen.label,
        "severity": severity,
        "since": since,
        "observed": seen.observed(),
        "points": seen.points(),
    }


def _worst(records: Iterable[dict[str, Any]]) -> str | None:
    ranks = [SEVERITIES.index(r["severity"]) for r in records if r.get("severity") in SEVERITIES]
    return SEVERITIES[max(ranks)] if ranks else None


def step(previous: Mapping[str, Any], inputs: Inputs, *, default_severity: str = "WARN") -> Step:
    """The next state of an alert from its previous one and what this evaluation found."""
    before: dict[str, dict[str, Any]] = dict(previous.get("series") or {})
    was = str(previous.get("status") or CHECKING)
    was_maintenance = bool(previous.get("maintenance"))
    was_snoozed = bool(previous.get("snoozed"))
    state: dict[str, Any] = {
        k: v for k, v in previous.items() if k not in ("series", "inMaintenance", "error", "pending")
    }
    state.update(snoozed=inputs.snoozed, maintenance=list(inputs.maintenance), lastProcessed=inputs.at)
    triggers: list[Trigger] = []
    severity = _worst(before.values()) or default_severity

    if inputs.error is not None:
        # Nothing can be said about the series: they keep their state until it is valid again.
        state.update(status=INVALID, error=inputs.error, series=before, inMaintenance={})
        if was != INVALID:
            state["invalidSince"] = inputs.at
            triggers.append(Trigger(BROKE, severity))
        return _finish(state, triggers, inputs, was_maintenance, was_snoozed)

    if was == INVALID:
        triggers.append(Trigger(MENDED, severity))
    state.pop("invalidSince", None)
    seen = {s.key: s for s in inputs.series}
    failing: dict[str, dict[str, Any]] = {}
    in_maintenance: dict[str, dict[str, Any]] = {}
    recovered: list[dict[str, Any]] = []
    newly: list[dict[str, Any]] = []
    for key, series in seen.items():
        at = series.failing_at(inputs.severities)
        old = before.get(key)
        if at is None and old is not None and series.holds():
            at = old["severity"]  # not failing now, not recovered yet
        if at is None:
            continue
        record = _record(series, at, old["since"] if old is not None else inputs.at)
        if inputs.whole_alert_in_maintenance or series.host in inputs.hosts_in_maintenance:
            in_maintenance[key] = record
            continue
        failing[key] = record
        if old is None:
            newly.append(record)
    for key, old in before.items():
        if key not in failing and key not in in_maintenance:
            recovered.append(old)
    if len(failing) > MAX_SERIES:  # keep the most severe, then the oldest
        kept = sorted(failing.items(), key=lambda kv: (-SEVERITIES.index(kv[1]["severity"]), kv[1]["since"]))
        failing = dict(kept[:MAX_SERIES])
    in_maintenance = dict(list(in_maintenance.items())[:MAX_SERIES])

    if failing:
        status = FIRING
    elif not inputs.series:
        status = NO_DATA
    else:
        status = CHECKING
    severity = _worst(failing.values()) or severity
    old_severity = previous.get("severity")
    state.update(status=status, series=failing, inMaintenance=in_maintenance, severity=severity)
    series_lists = {
        "failing": list(failing.values()),
        "newly_failing": newly,
        "recovered": recovered,
        "in_maintenance": list(in_maintenance.values()),
    }
    if status == FIRING and was != FIRING:
        triggers.append(Trigger(OPENED, severity, **series_lists))
        state.update(firingSince=inputs.at, lastFailed=inputs.at)
    elif status == FIRING:
        state["lastFailed"] = inputs.at
        if old_severity is not None and old_severity != severity:
            triggers.append(Trigger(SEVERITY_UPDATE, severity, **series_lists))
        elif newly or recovered:
            triggers.append(Trigger(UPDATED, severity, **series_lists))
    elif was == FIRING:
        triggers.append(Trigger(RESOLVED, str(old_severity or severity), **series_lists))
        state["resolvedAt"] = inputs.at
    if status == NO_DATA and was != NO_DATA:
        triggers.append(Trigger(NO_DATA_STARTED, severity))
    elif status != NO_DATA and was == NO_DATA:
        triggers.append(Trigger(NO_DATA_RESOLVED, severity, **series_lists))
    done = _finish(state, triggers, inputs, was_maintenance, was_snoozed)
    done.opened = status == FIRING and was != FIRING
    done.resolved = was == FIRING and status != FIRING
    return done


def _finish(
    state: dict[str, Any], triggers: list[Trigger], inputs: Inputs, was_maintenance: bool, was_snoozed: bool
) -> Step:
    """Add the maintenance and snooze triggers (when they start) and decide what notifies."""
    severity = str(state.get("severity") or "WARN")
    in_maintenance = list((state.get("inMaintenance") or {}).values())
    if inputs.maintenance and not was_maintenance:
        triggers.append(Trigger(MAINTENANCE, severity, in_maintenance=in_maintenance))
    if inputs.snoozed and not was_snoozed:
        triggers.append(Trigger(SNOOZE, severity))
    quiet = inputs.snoozed or inputs.whole_alert_in_maintenance
    notify = [t for t in triggers if t.trigger in ALWAYS or not quiet]
    if triggers:
        state["lastEvent"] = inputs.at
    return Step(state=state, triggers=triggers, notify=notify)


def statuses(state: Mapping[str, Any], *, snoozed: bool) -> list[str]:
    """The alert's status list from its state: its evaluation status, IN_MAINTENANCE while
    a window covers it, SNOOZED while snoozed."""
    found = [str(state.get("status") or CHECKING)]
    if state.get("maintenance"):
        found.append(IN_MAINTENANCE)
    if snoozed:
        found.append(SNOOZED)
    return found


# ---- maintenance windows -------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """What the running maintenance windows cover of one alert."""

    windows: tuple[str, ...] = ()
    whole_alert: bool = False
    hosts: frozenset[str] = frozenset()


def coverage(
    windows: Iterable[Mapping[str, Any]], alert_tags: Iterable[str], host_tags: Mapping[str, frozenset[str]]
) -> Coverage:
    """Which running windows (documents with their `id`) cover the alert, whether wholly,
    and which of the hosts (host -> its source tags) they put in maintenance.

    A window names alert tags (relevantCustomerTags), host tags (relevantHostTags) and
    host names (relevantHostNames). With alert tags, it covers only alerts with one of
    them; then with no host criteria it covers the whole alert, else only the hosts that
    match them (host tags and names both, when hostTagGroupHostNamesGroupAnded, else
    either)."""
    tags = set(alert_tags)
    ids: list[str] = []
    whole = False
    hosts: set[str] = set()
    for window in windows:
        alert_wanted = set(window.get("relevantCustomerTags") or ())
        if alert_wanted and not alert_wanted & tags:
            continue
        names = set(window.get("relevantHostNames") or ())
        wanted_tags = set(window.get("relevantHostTags") or ())
        if not names and not wanted_tags:
            if alert_wanted:
                ids.append(str(window["id"]))
                whole = True
            continue
        both = bool(window.get("hostTagGroupHostNamesGroupAnded"))
        matched = set()
        for host, its_tags in host_tags.items():
            by_name = host in names if names else both
            by_tag = bool(wanted_tags & its_tags) if wanted_tags else both
            if (by_name and by_tag) if both else (by_name or by_tag):
                matched.add(host)
        if matched:
            ids.append(str(window["id"]))
            hosts |= matched
    return Coverage(tuple(sorted(set(ids))), whole, frozenset(hosts))
