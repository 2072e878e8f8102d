"""Schedules (chalicelib/workers Schedule): the registry, the Lambda entry, the local runner."""

from __future__ import annotations

import threading
import time

import pytest

from chalicelib import workers
from chalicelib.workers import Schedule, registry, runtime, schedules
from chalicelib.workers.local import Runner


def test_a_schedule_runs_every_whole_number_of_minutes() -> None:
    assert Schedule(every_seconds=60, run=lambda now: 0).rate == "rate(1 minute)"
    assert Schedule(every_seconds=300, run=lambda now: 0).rate == "rate(5 minutes)"
    for seconds in (0, 30, 90):
        with pytest.raises(ValueError, match="whole number of minutes"):
            Schedule(every_seconds=seconds, run=lambda now: 0)


def test_every_schedule_feeds_the_queue_of_its_own_worker() -> None:
    found = schedules()
    # THEN the CloudWatch pull is scheduled, and each schedule is named by a worker's queue
    assert "cloudwatch" in found
    assert set(found) <= set(registry())
    assert all(isinstance(s, Schedule) for s in found.values())


def _recording(sent: int = 3) -> tuple[Schedule, list[int]]:
    runs: list[int] = []

    def run(now: int) -> int:
        runs.append(now)
        return sent

    return Schedule(every_seconds=60, run=run), runs


def test_the_worker_entry_runs_the_schedule_its_event_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import worker

    schedule, runs = _recording()
    monkeypatch.setattr(runtime, "schedules", lambda: {"tick": schedule})
    # WHEN EventBridge invokes the worker function with the rule's input
    answer = worker(runtime.schedule_event("tick"), None)
    # THEN the schedule ran once, now, and the answer says what it sent
    assert answer == {"schedule": "tick", "sent": 3}
    assert len(runs) == 1 and abs(runs[0] - time.time() * 1000) < 5000
    # AND an event naming no known schedule is refused (EventBridge retries, then drops it)
    with pytest.raises(ValueError, match="no schedule"):
        worker(runtime.schedule_event("nope"), None)
    # AND an SQS event still goes to the SQS handler, not to a schedule
    assert not runtime.is_schedule_event({"Records": []})


def test_handle_schedule_event_passes_the_time_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    schedule, runs = _recording(sent=0)
    monkeypatch.setattr(runtime, "schedules", lambda: {"tick": schedule})
    assert runtime.handle_schedule_event(runtime.schedule_event("tick"), now=1_700_000_000_000)["sent"] == 0
    assert runs == [1_700_000_000_000]


def test_the_local_runner_runs_each_schedule_at_start_and_keeps_running_after_a_failure() -> None:
    ran = threading.Event()
    runs: list[int] = []

    def run(now: int) -> int:
        runs.append(now)
        ran.set()
        return 1

    def broken(now: int) -> int:
        raise RuntimeError("boom")

    runner = Runner(
        workers={},
        schedules={"tick": Schedule(every_seconds=60, run=run), "broken": Schedule(every_seconds=60, run=broken)},
    )
    runner.start()
    try:
        # THEN the schedule runs at once (then once a minute), whatever another one does
        assert ran.wait(5)
        assert len(runs) == 1
        assert {t.name for t in runner._threads} == {"schedule-tick", "schedule-broken"}
        assert all(t.is_alive() for t in runner._threads)
    finally:
        runner.stop()
    assert not any(t.is_alive() for t in runner._threads)


def test_a_schedule_without_a_worker_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    module = types.ModuleType("chalicelib.workers.lonely")
    module.SCHEDULE = Schedule(every_seconds=60, run=lambda now: 0)  # type: ignore[attr-defined]
    monkeypatch.setattr(workers.importlib, "import_module", lambda name: module)
    monkeypatch.setattr(workers.pkgutil, "iter_modules", lambda path: [types.SimpleNamespace(name="lonely")])
    workers._modules.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="needs the WORKER"):
            workers._modules()
    finally:
        monkeypatch.undo()
        workers._modules.cache_clear()
        registry.cache_clear()
