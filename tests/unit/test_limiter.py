"""The Limiter alone: its flushes go to an in-memory shared counter passed in, its clock is
the test's. Several Limiters on one counter are several warm containers."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest

from chalicelib.errors import Throttled, Unavailable
from chalicelib.http.limits import Limiter
from chalicelib.settings import Settings

START = 1_800_000_000


class Shared:
    """The usage table's rows: what every container's flushes add to."""

    def __init__(self) -> None:
        self.rows: Counter[tuple[str, str]] = Counter()
        self.calls = 0
        self.down = False
        self._lock = threading.Lock()

    def add(self, pk: str, sk: str, hits: int, *, expires: float) -> int:
        with self._lock:
            self.calls += 1
            if self.down:
                raise Unavailable(error="ThrottlingException")
            self.rows[(pk, sk)] += hits
            return self.rows[(pk, sk)]


def quiet(*args: Any, **kwargs: Any) -> None:
    """A warn that tells nobody (the warnings have their own tests)."""


class Told:
    """A warn that records what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()

    def __call__(self, tenant: str, category: str, budget: str, **facts: Any) -> None:
        with self._lock:
            self.calls.append((tenant, category, budget, facts["limit"], facts["window_start"]))


def settings(limit: int, flush_hits: int, flush_seconds: int = 60) -> Settings:
    return Settings(rate_limit_get=limit, rate_limit_flush_hits=flush_hits, rate_limit_flush_seconds=flush_seconds)


def admitted(limiter: Limiter, config: Settings, tenant: str = "t1") -> bool:
    try:
        limiter.take(config, tenant, "alert", "GET", False)
    except Throttled:
        return False
    return True


def test_can_admit_exactly_the_limit_from_many_threads():
    # GIVEN one container serving 8 threads at once, a budget of 100, a flush every 7 hits
    shared = Shared()
    limiter = Limiter(clock=lambda: START + 1.0, flush=shared.add, warn=quiet)
    config = settings(limit=100, flush_hits=7)
    results: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(50):
            ok = admitted(limiter, config)
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN exactly 100 of the 400 pass, and at most one call per 7 admitted hits was made
    assert results.count(True) == 100
    assert shared.calls <= 100 // 7 + 1


def test_can_keep_serving_on_local_counts_when_a_flush_fails():
    # GIVEN a store that throttles every flush
    shared = Shared()
    shared.down = True
    limiter = Limiter(clock=lambda: START + 1.0, flush=shared.add, warn=quiet)
    config = settings(limit=5, flush_hits=2, flush_seconds=5)
    # WHEN seven requests arrive within the flush interval
    # THEN the limit still holds, on this container's counts
    assert [admitted(limiter, config) for _ in range(7)] == [True] * 5 + [False] * 2
    # AND after the failed flush no other is tried before the interval is over
    assert shared.calls == 1


def test_can_retry_the_hits_of_a_failed_flush_after_the_interval():
    shared = Shared()
    now = [START + 1.0]
    limiter = Limiter(clock=lambda: now[0], flush=shared.add, warn=quiet)
    config = settings(limit=50, flush_hits=2, flush_seconds=5)
    shared.down = True
    assert admitted(limiter, config) and admitted(limiter, config)  # the second's flush fails
    shared.down = False
    assert admitted(limiter, config)  # not retried on the next request
    assert shared.rows == Counter()
    now[0] += 5
    assert admitted(limiter, config)  # the interval is over: one flush of all four hits
    assert shared.rows[("t1#rate#alert#get", str(START))] == 4
    assert shared.calls == 2


@pytest.mark.parametrize(("containers", "flush_hits", "limit"), [(2, 3, 10), (4, 5, 50), (10, 5, 50), (3, 1, 20)])
def test_can_stay_within_the_documented_bound_with_several_containers(containers, flush_hits, limit):
    # GIVEN C containers on one shared counter, and requests landing on them at random
    shared = Shared()
    config = settings(limit=limit, flush_hits=flush_hits)
    rng = random.Random(containers * 1000 + flush_hits)
    fleet = [Limiter(clock=lambda: START + 1.0, flush=shared.add, warn=quiet) for _ in range(containers)]
    # WHEN far more requests than the budget arrive
    passed = sum(admitted(rng.choice(fleet), config) for _ in range(limit * containers * 3))
    # THEN at least the limit passes, and at most limit + (C - 1) * (N - 1)
    assert limit <= passed <= limit + (containers - 1) * (flush_hits - 1)


def test_can_reach_the_bound_when_every_container_holds_n_minus_1_unflushed_hits():
    # GIVEN 3 containers, a budget of 10 and a flush every 4 hits
    shared = Shared()
    config = settings(limit=10, flush_hits=4)
    fleet: list[Any] = [Limiter(clock=lambda: START + 1.0, flush=shared.add, warn=quiet) for _ in range(3)]
    # WHEN each takes 3 hits unseen by the others, then the worst order follows
    passed = sum(admitted(c, config) for c in fleet for _ in range(3))
    passed += sum(admitted(fleet[i % 3], config) for i in range(60))
    # THEN the overshoot is exactly (C - 1) * (N - 1) = 6 at most
    assert 10 <= passed <= 10 + 2 * 3


def test_can_flush_nothing_into_a_window_that_has_ended():
    # GIVEN hits counted in one minute and not flushed
    shared = Shared()
    now = [START + 58.0]
    limiter = Limiter(clock=lambda: now[0], flush=shared.add, warn=quiet)
    config = settings(limit=10, flush_hits=3)
    assert admitted(limiter, config) and admitted(limiter, config)
    # WHEN the next minute starts THEN its count starts from zero, and the old hits are dropped
    now[0] = START + 61.0
    assert [admitted(limiter, config) for _ in range(3)] == [True] * 3
    assert shared.rows == Counter({("t1#rate#alert#get", str(START + 60)): 3})


def test_can_write_a_large_budget_far_from_spent_less_often():
    # GIVEN a budget of 5000 a minute and a flush setting of 5 hits
    shared = Shared()
    limiter = Limiter(clock=lambda: START + 1.0, flush=shared.add, warn=quiet)
    config = settings(limit=5000, flush_hits=5)
    # WHEN 1000 requests arrive within the same second
    assert all(admitted(limiter, config) for _ in range(1000))
    # THEN the container keeps up to 2% of what is left unwritten (100 hits, then 98, 96,
    # ... as the budget runs down), not 5: 11 writes, not 200, and 7 hits still held
    assert shared.calls == 11
    assert shared.rows[("t1#rate#alert#get", str(START))] == 993


@pytest.mark.parametrize(("containers", "limit"), [(10, 5000), (4, 1000)])
def test_can_stay_within_the_bound_of_a_large_budget(containers, limit):
    # GIVEN C containers on one counter, a large budget and the flush setting 5
    shared = Shared()
    config = settings(limit=limit, flush_hits=5)
    rng = random.Random(containers + limit)
    fleet = [Limiter(clock=lambda: START + 1.0, flush=shared.add, warn=quiet) for _ in range(containers)]
    # WHEN far more requests than the budget arrive
    passed = sum(admitted(rng.choice(fleet), config) for _ in range(limit * 3))
    # THEN at least the limit passes, and at most L + (C - 1) * (max(N, L / 50) - 1)
    assert limit <= passed <= limit + (containers - 1) * (max(5, limit // 50) - 1)


def test_can_warn_once_per_key_and_window_when_several_containers_pass_80_percent():
    # GIVEN 4 containers on one counter, a budget of 50 (warned at 40), a flush every 3 hits
    shared, told = Shared(), Told()
    now = [START + 1.0]
    config = settings(limit=50, flush_hits=3)
    fleet = [Limiter(clock=lambda: now[0], flush=shared.add, warn=told) for _ in range(4)]
    rng = random.Random(7)
    # WHEN far more requests than the budget arrive, in two windows, for two tenants
    for tenant in ("t1", "t2"):
        for _ in range(200):
            admitted(rng.choice(fleet), config, tenant)
    now[0] += 60
    for _ in range(200):
        admitted(rng.choice(fleet), config, "t1")
    # THEN exactly one warning per tenant and window: the one flush that crossed 40 sent it
    assert sorted(told.calls) == [
        ("t1", "alert", "get", 50, START),
        ("t1", "alert", "get", 50, START + 60),
        ("t2", "alert", "get", 50, START),
    ]


def test_can_stay_silent_below_80_percent():
    shared, told = Shared(), Told()
    limiter = Limiter(clock=lambda: START + 1.0, flush=shared.add, warn=told)
    config = settings(limit=50, flush_hits=1)
    assert all(admitted(limiter, config) for _ in range(39))
    assert told.calls == []
    assert admitted(limiter, config)  # the 40th request is 80%
    assert len(told.calls) == 1
