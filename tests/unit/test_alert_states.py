"""The per-series alert state machine (domain/alert_states.py) with an injected clock:
fire, hold, resolve, no data, invalid, maintenance, snooze, severity change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.domain import alert_states as s
from chalicelib.domain.alert_states import Inputs, Observed

MINUTE = 60_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % MINUTE


class Clock:
    """The evaluation ticks: a minute apart, from T0."""

    def __init__(self) -> None:
        self.now = T0

    def tick(self) -> int:
        self.now += MINUTE
        return self.now


def seen(host: str, window: Sequence[float], recent: Sequence[float] | None = None, severity: str = "WARN") -> Observed:
    return Observed(host, {"env": "prod"}, "cpu", {severity: list(window)}, {severity: list(recent or window)})


def run(state: dict[str, Any], clock: Clock, *series: Observed, **extra: Any) -> s.Step:
    severities = extra.pop("severities", ["WARN"])
    return s.step(state, Inputs(at=clock.tick(), severities=severities, series=series, **extra))


def kinds(step: s.Step, notified: bool = True) -> list[str]:
    return [t.trigger for t in (step.notify if notified else step.triggers)]


def test_can_fire_only_when_every_point_of_the_window_holds() -> None:
    clock = Clock()
    # GIVEN a series with one point below the threshold in its window
    step = run({}, clock, seen("web-1", [1, 0, 1]))
    # THEN it does not fire
    assert step.state["status"] == s.CHECKING and kinds(step) == []
    # WHEN every point holds THEN it opens, listing the failing series with its start
    step = run(step.state, clock, seen("web-1", [1, 1, 1]), seen("web-2", [0, 0]))
    assert step.state["status"] == s.FIRING and kinds(step) == [s.OPENED] and step.opened
    (record,) = step.state["series"].values()
    assert (record["host"], record["since"], record["tags"]) == ("web-1", clock.now, {"env": "prod"})
    assert [r["host"] for r in step.notify[0].newly_failing] == ["web-1"]


def test_can_hold_while_any_point_of_the_resolve_window_holds_then_resolve() -> None:
    clock = Clock()
    fired = run({}, clock, seen("web-1", [1, 1]))
    started = clock.now
    # WHEN the window no longer holds everywhere but the resolve window still has a true point
    held = run(fired.state, clock, seen("web-1", [1, 0], recent=[1, 0]))
    # THEN it keeps firing, silently, from the same start
    assert held.state["status"] == s.FIRING and kinds(held) == []
    assert next(iter(held.state["series"].values()))["since"] == started
    # WHEN no point of the resolve window holds THEN it resolves, naming the recovered series
    resolved = run(held.state, clock, seen("web-1", [0, 0]))
    assert resolved.state["status"] == s.CHECKING and kinds(resolved) == [s.RESOLVED] and resolved.resolved
    assert [r["host"] for r in resolved.notify[0].recovered] == ["web-1"]
    assert resolved.state["series"] == {}


def test_can_update_when_the_failing_series_change_while_firing() -> None:
    clock = Clock()
    fired = run({}, clock, seen("web-1", [1]))
    more = run(fired.state, clock, seen("web-1", [1]), seen("web-2", [1]))
    assert kinds(more) == [s.UPDATED] and [r["host"] for r in more.notify[0].newly_failing] == ["web-2"]
    assert sorted(r["host"] for r in more.notify[0].failing) == ["web-1", "web-2"]


def test_can_say_no_data_and_when_it_ends() -> None:
    clock = Clock()
    empty = run({}, clock)
    assert empty.state["status"] == s.NO_DATA and kinds(empty) == [s.NO_DATA_STARTED]
    again = run(empty.state, clock)
    assert kinds(again) == []  # said once
    back = run(again.state, clock, seen("web-1", [0]))
    assert back.state["status"] == s.CHECKING and kinds(back) == [s.NO_DATA_RESOLVED]


def test_can_resolve_a_firing_series_that_stops_reporting() -> None:
    clock = Clock()
    fired = run({}, clock, seen("web-1", [1]))
    gone = run(fired.state, clock)
    assert kinds(gone) == [s.RESOLVED, s.NO_DATA_STARTED]


def test_can_go_invalid_keep_the_series_and_come_back() -> None:
    clock = Clock()
    fired = run({}, clock, seen("web-1", [1]))
    broken = s.step(fired.state, Inputs(at=clock.tick(), severities=["WARN"], error="function 'x' is not supported"))
    assert broken.state["status"] == s.INVALID and kinds(broken) == [s.BROKE]
    assert broken.state["error"] and list(broken.state["series"])  # the series are kept
    mended = run(broken.state, clock, seen("web-1", [1]))
    assert mended.state["status"] == s.FIRING and kinds(mended) == [s.MENDED, s.OPENED]


def test_can_fire_per_severity_and_notify_a_severity_change() -> None:
    clock = Clock()
    levels = ["WARN", "SEVERE"]

    def both(warn: list[float], severe: list[float]) -> Observed:
        return Observed("db-1", {}, "disk", {"WARN": warn, "SEVERE": severe}, {"WARN": warn, "SEVERE": severe})

    warn = run({}, clock, both([1, 1], [1, 0]), severities=levels)
    assert warn.state["severity"] == "WARN" and kinds(warn) == [s.OPENED]
    severe = run(warn.state, clock, both([1, 1], [1, 1]), severities=levels)
    assert severe.state["severity"] == "SEVERE" and kinds(severe) == [s.SEVERITY_UPDATE]
    assert severe.notify[0].severity == "SEVERE"
    same = run(severe.state, clock, both([1, 1], [1, 1]), severities=levels)
    assert kinds(same) == []


def test_can_suppress_series_in_maintenance_and_say_so_once() -> None:
    clock = Clock()
    # GIVEN a window covering host web-1
    step = run({}, clock, seen("web-1", [1]), maintenance=["w1"], hosts_in_maintenance=frozenset({"web-1"}))
    # THEN web-1 is in maintenance, not failing, and only ALERT_MAINTENANCE is made
    assert step.state["status"] == s.CHECKING and kinds(step) == [s.MAINTENANCE]
    assert [r["host"] for r in step.state["inMaintenance"].values()] == ["web-1"]
    assert s.statuses(step.state, snoozed=False) == [s.CHECKING, s.IN_MAINTENANCE]
    later = run(step.state, clock, seen("web-1", [1]), maintenance=["w1"], hosts_in_maintenance=frozenset({"web-1"}))
    assert kinds(later) == []
    # WHEN the window ends THEN the failing series opens the alert
    after = run(later.state, clock, seen("web-1", [1]))
    assert kinds(after) == [s.OPENED]


def test_can_keep_a_whole_alert_quiet_in_maintenance() -> None:
    clock = Clock()
    step = run({}, clock, seen("web-1", [1]), maintenance=["w1"], whole_alert_in_maintenance=True)
    assert kinds(step) == [s.MAINTENANCE]


def test_can_track_while_snoozed_and_notify_only_the_snooze() -> None:
    clock = Clock()
    snoozed = run({}, clock, seen("web-1", [1]), snoozed=True)
    # THEN the firing is tracked (its event too) but only ALERT_SNOOZED notifies
    assert snoozed.state["status"] == s.FIRING and snoozed.opened
    assert kinds(snoozed, notified=False) == [s.OPENED, s.SNOOZE] and kinds(snoozed) == [s.SNOOZE]
    assert s.statuses(snoozed.state, snoozed=True) == [s.FIRING, s.SNOOZED]
    resolved = run(snoozed.state, clock, seen("web-1", [0]), snoozed=True)
    assert kinds(resolved) == []
    unsnoozed = run(resolved.state, clock, seen("web-1", [1]))
    assert kinds(unsnoozed) == [s.OPENED]


def test_can_match_maintenance_windows_by_alert_tag_host_tag_and_host_name() -> None:
    hosts = {"web-1": frozenset({"rack-a"}), "web-2": frozenset({"rack-b"}), "db-1": frozenset()}
    whole = s.coverage([{"id": "w", "relevantCustomerTags": ["team-a"]}], ["team-a"], hosts)
    assert whole.windows == ("w",) and whole.whole_alert
    other = s.coverage([{"id": "w", "relevantCustomerTags": ["team-b"]}], ["team-a"], hosts)
    assert other.windows == () and not other.whole_alert
    by_tag = s.coverage([{"id": "w", "relevantHostTags": ["rack-a"]}], [], hosts)
    assert by_tag.hosts == {"web-1"} and not by_tag.whole_alert
    by_name = s.coverage([{"id": "w", "relevantHostNames": ["db-1"], "relevantHostTags": ["rack-b"]}], [], hosts)
    assert by_name.hosts == {"db-1", "web-2"}
    anded = s.coverage(
        [
            {
                "id": "w",
                "relevantHostNames": ["web-1", "web-2"],
                "relevantHostTags": ["rack-b"],
                "hostTagGroupHostNamesGroupAnded": True,
            }
        ],
        [],
        hosts,
    )
    assert anded.hosts == {"web-2"}
