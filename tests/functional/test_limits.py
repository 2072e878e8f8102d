"""Per-tenant rate limits through the edge: counted in the container, flushed in batches.

The app here is built with a Limiter on a clock the test moves (no sleeps). AWS calls to the
usage table are counted with a botocore `before-call` handler on the usage model's client,
as tests/functional/test_store_unavailable.py injects failures: nothing of ours is patched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.settings import Settings, reset_settings
from tests.functional.conftest import ADMIN_PASSWORD, Api, mint

USERS = "/api/auth/0.1/users"  # Wazo, category wazo, a non-paginated GET
ALERTS = "/api/v2/alert"  # native, category alert, a paginated GET
START = 1_800_000_000  # a window boundary (a multiple of 60)
HANDLER_ID = "opsplane-test-usage-calls"


class Clock:
    """Wall-clock seconds that move only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class UsageCalls:
    """The DynamoDB calls that reach the usage table (operation names, in order)."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.seen: list[str] = []
        self.client: Any = None

    def attach(self) -> None:
        from chalicelib.store.models import UsageItem

        self.client = UsageItem._get_connection().connection.client  # type: ignore[attr-defined]
        self.client.meta.events.register("before-call.dynamodb", self._record, unique_id=HANDLER_ID)

    def detach(self) -> None:
        self.client.meta.events.unregister("before-call.dynamodb", unique_id=HANDLER_ID)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if json.loads(params.get("body") or b"{}").get("TableName") == self.table:
            self.seen.append(model.name)


@pytest.fixture
def clock() -> Clock:
    return Clock(START + 15.0)


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the limiter's settings for one test: budget(get=3, flush_hits=1000, ...)."""

    def set_budget(**values: int) -> None:
        monkeypatch.setenv("OPSPLANE_RATE_LIMIT_ENABLED", "true")
        for name, value in values.items():
            monkeypatch.setenv(f"OPSPLANE_RATE_LIMIT_{name.upper()}", str(value))
        reset_settings()

    set_budget()
    yield set_budget
    reset_settings()


@pytest.fixture
def limited(aws: None, clock: Clock, budget: Any) -> Iterator[Api]:
    """The whole API on a Limiter whose clock is `clock`."""
    from chalicelib.api import routers
    from chalicelib.http.edge import Edge
    from chalicelib.http.limits import Limiter
    from chalicelib.identity.bootstrap import bootstrap

    app = Chalice(app_name="opsplane-limited")
    Edge(app, routers(()), limiter=Limiter(clock=clock)).register()
    inst = bootstrap(ADMIN_PASSWORD)
    with Client(app) as client:
        yield Api(client, mint(inst.admin_uuid, inst.root_tenant), inst.root_tenant, inst.admin_uuid)


@pytest.fixture
def usage_calls(limited: Api) -> Iterator[UsageCalls]:
    from chalicelib.settings import get_settings

    counted = UsageCalls(get_settings().usage_table)
    counted.attach()
    yield counted
    counted.detach()


def _remaining(resp: Any) -> int:
    return int(resp.headers["X-RateLimit-Remaining"])


def test_can_count_requests_below_the_flush_threshold_without_calling_aws(limited, budget, usage_calls):
    # GIVEN a budget of 10 GETs a minute, flushed every 5 hits or 5 seconds
    budget(get=10, flush_hits=5, flush_seconds=5)
    # WHEN four GETs arrive within a second
    answers = [limited.call("GET", USERS) for _ in range(4)]
    # THEN each is counted in the headers, and not one touched the usage table
    assert [r.status_code for r in answers] == [200] * 4
    assert [_remaining(r) for r in answers] == [9, 8, 7, 6]
    assert usage_calls.seen == []
    # AND the fifth is the one that flushes: one UpdateItem for the five hits
    assert _remaining(limited.call("GET", USERS)) == 5
    assert usage_calls.seen == ["UpdateItem"]


def test_can_flush_at_most_once_per_interval_below_the_hit_threshold(limited, budget, clock, usage_calls):
    # GIVEN a flush every 1000 hits or 5 seconds
    budget(get=100, flush_hits=1000, flush_seconds=5)
    # WHEN GETs arrive once a second for eleven seconds
    for _ in range(11):
        assert limited.call("GET", USERS).status_code == 200
        clock.now += 1
    # THEN two flushes (at +5 s and +10 s), not one per request
    assert usage_calls.seen == ["UpdateItem", "UpdateItem"]


def test_can_throttle_within_one_container_without_any_flush(limited, budget, clock, usage_calls):
    # GIVEN a budget of 3 GETs a minute that would flush only after 1000 hits
    budget(get=3, flush_hits=1000, flush_seconds=60)
    # WHEN four GETs arrive 15 s into the window
    answers = [limited.call("GET", USERS) for _ in range(4)]
    # THEN three pass, counting down, and the fourth is throttled until the window ends
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [_remaining(r) for r in answers] == [2, 1, 0, 0]
    throttled = answers[3]
    assert throttled.headers["Retry-After"] == "45"
    assert throttled.headers["X-RateLimit-Reset"] == str(START + 60)
    assert throttled.headers["X-RateLimit-Limit"] == "3"
    # AND no request called the usage table
    assert usage_calls.seen == []


def test_can_merge_another_containers_hits_at_a_flush(limited, budget, usage_calls):
    from chalicelib.http.limits import row
    from chalicelib.store import usage

    # GIVEN a budget of 10 GETs, flushed every 3 hits, and another container that has
    # already flushed 6 hits of this tenant's window
    budget(get=10, flush_hits=3, flush_seconds=60)
    usage.add(row(limited.root, "wazo", "get"), str(START), 6, expires=START + 120)
    usage_calls.seen.clear()
    # WHEN this container serves three GETs (the third flushes)
    answers = [limited.call("GET", USERS) for _ in range(3)]
    # THEN the headers count locally until the flush, which brings in the other's 6
    assert [_remaining(r) for r in answers] == [9, 8, 1]
    assert usage_calls.seen == ["UpdateItem"]
    # AND the budget left is spent locally, then refused without calling AWS
    assert _remaining(limited.call("GET", USERS)) == 0
    assert limited.call("GET", USERS).status_code == 429
    assert usage_calls.seen == ["UpdateItem"]


def test_can_refuse_a_request_when_the_flush_shows_the_budget_spent(limited, budget):
    from chalicelib.http.limits import row
    from chalicelib.store import usage

    # GIVEN other containers that spent the whole budget of 5 already
    budget(get=5, flush_hits=2, flush_seconds=60)
    usage.add(row(limited.root, "wazo", "get"), str(START), 5, expires=START + 120)
    # WHEN this container serves its first GET (counted locally) and its second (the flush)
    first, second = limited.call("GET", USERS), limited.call("GET", USERS)
    # THEN the first passes on the stale view, the second learns better and is refused
    assert (first.status_code, second.status_code) == (200, 429)
    assert _remaining(second) == 0


def test_can_reset_the_budget_when_the_window_rolls_over(limited, budget, clock):
    # GIVEN a budget of 2 GETs, spent
    budget(get=2, flush_hits=1000, flush_seconds=60)
    assert [limited.call("GET", USERS).status_code for _ in range(3)] == [200, 200, 429]
    # WHEN the next minute starts
    clock.now = START + 60
    resp = limited.call("GET", USERS)
    # THEN the budget is whole again, up to the new window's end
    assert resp.status_code == 200
    assert _remaining(resp) == 1
    assert resp.headers["X-RateLimit-Reset"] == str(START + 120)


def test_can_keep_tenants_budgets_apart(limited, budget, make_tenant, make_user):
    budget(get=3)
    for _ in range(4):
        limited.call("GET", USERS)
    other = make_user(["#"], tenant=make_tenant("other"))
    resp = limited.call("GET", USERS, token=other.token)
    assert resp.status_code == 200
    assert _remaining(resp) == 2


def test_can_carry_the_budget_on_every_error_of_an_authenticated_tenant(limited, budget, make_user):
    budget(get=100, write=100, get_paged=100)
    # 404, 400, 409 from the handler; 403 after authentication; none on a 401
    missing = limited.call("GET", f"{ALERTS}/1700000000000000000")
    invalid = limited.call("POST", ALERTS, {"name": 5})
    body = {"username": "twice", "password": "long-enough-1"}
    assert limited.call("POST", USERS, body).status_code == 200
    duplicate = limited.call("POST", USERS, body)
    reader = make_user(["alert.read"])
    forbidden = limited.call("POST", ALERTS, {"name": "x"}, token=reader.token)
    anonymous = limited.call("GET", ALERTS, token="")
    assert [r.status_code for r in (missing, invalid, duplicate, forbidden, anonymous)] == [404, 400, 409, 403, 401]
    for resp in (missing, invalid, duplicate, forbidden):
        assert resp.headers["X-RateLimit-Limit"] == "100", resp.status_code
        assert int(resp.headers["X-RateLimit-Remaining"]) < 100
    assert "X-RateLimit-Limit" not in anonymous.headers


@pytest.mark.parametrize(
    ("path", "exact"),
    [
        (USERS, True),  # Wazo: the bare body
        ("/api/search", True),  # Grafana: the bare body
        (ALERTS, False),  # native: inside the envelope
    ],
)
def test_can_answer_429_in_each_dialect(limited, budget, path, exact):
    # GIVEN a budget of one request of each class
    budget(get=1, get_paged=1, write=1, flush_hits=1000, flush_seconds=60)
    assert limited.call("GET", path).status_code == 200
    # WHEN the second arrives
    resp = limited.call("GET", path)
    # THEN 429, with the throttled body in the dialect's shape, and never another's
    assert resp.status_code == 429
    body = json.loads(resp.body)
    throttled = {"error": "throttled", "error_description": "Too Many Requests"}
    if exact:
        assert body == throttled
    else:
        assert body == {**throttled, "status": {"result": "ERROR", "code": 429, "message": "Too Many Requests"}}


def test_can_answer_429_in_the_oauth_dialect_with_the_bare_body():
    from chalicelib.errors import Throttled
    from chalicelib.http import dialects

    body = dialects.error_body(dialects.OAUTH, Throttled("Too many failed logins", retry_after=10))
    assert body == {"error": "throttled", "error_description": "Too Many Requests"}


def test_can_default_to_the_msp_platform_budgets(limited, budget):
    # GIVEN no budget variable set (the fixture only turns the limiter on)
    settings = Settings()
    # THEN 500 single GETs, 50 paged GETs and 50 writes a minute
    assert (settings.rate_limit_get, settings.rate_limit_get_paged, settings.rate_limit_write) == (500, 50, 50)
    # AND the 51st paginated GET of a minute is throttled
    answers = [limited.call("GET", ALERTS).status_code for _ in range(51)]
    assert answers == [200] * 50 + [429]


def test_can_meter_ingestion_requests_apart_from_writes(limited, budget):
    # GIVEN a budget of one write and three ingestion requests a minute
    budget(write=1, ingest=3, flush_hits=1000)
    report = {"path": "/report?f=wavefront", "raw": b"cpu 1 source=a\n"}
    # WHEN an SDK sends three batches THEN none spends the write budget (an SDK flushes often)
    answers = [limited.call("POST", report["path"], raw=report["raw"]) for _ in range(3)]
    assert [r.status_code for r in answers] == [202] * 3
    assert [_remaining(r) for r in answers] == [2, 1, 0]
    assert (
        limited.call(
            "POST", "/api/v2/alert", {"name": "a", "condition": "ts(x) > 1", "minutes": 1, "severity": "WARN"}
        ).status_code
        == 200
    )
    # AND the fourth batch is 429 on its own budget, as the second write is on its
    assert limited.call("POST", report["path"], raw=report["raw"]).status_code == 429
    assert (
        limited.call(
            "POST", "/api/v2/alert", {"name": "b", "condition": "ts(x) > 1", "minutes": 1, "severity": "WARN"}
        ).status_code
        == 429
    )
