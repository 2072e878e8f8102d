"""Alerts under concurrent writers: conditional writes never lose an update.

The domain operations are called directly from threads with a Context, as a worker would
(chalice.test.Client keeps the current request on the app object, so it cannot serve
threads). The `aws` fixture makes moto
apply one request at a time, as DynamoDB applies a conditional write atomically per item.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from chalicelib.categories.alert import ALERT as KIND
from chalicelib.categories.alert_views import AlertBody
from chalicelib.domain import entities
from chalicelib.errors import VersionMismatch
from tests.functional.test_alert import ALERT, BODY, new_alert

WRITERS = 8


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run calls in threads released together; each result or raised exception."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def update(api: Any, aid: str, body: dict[str, Any]) -> dict[str, Any]:
    """One PUT of an alert, as the domain operation (the wire object back)."""
    ctx = api.context()
    return entities.wire(ctx, KIND, entities.replace(ctx, KIND, aid, AlertBody.model_validate(body)))


def test_can_let_exactly_one_of_racing_versioned_updates_win(api):
    # GIVEN an alert at version 1
    aid = new_alert(api)["id"]
    # WHEN 8 writers PUT at once, each naming version 1
    calls = [(lambda i=i: update(api, aid, {**BODY, "name": f"w{i}", "version": 1})) for i in range(WRITERS)]
    results = race(calls)
    # THEN one wins and the others get VersionMismatch (409)
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, VersionMismatch)]
    assert len(winners) == 1 and len(losers) == WRITERS - 1, results
    stored = api.json("GET", f"{ALERT}/{aid}")[1]["response"]
    assert stored["version"] == 2 and stored["name"] == winners[0]["name"]
    assert api.json("GET", f"{ALERT}/{aid}/history")[1]["response"]["totalItems"] == 2


def test_can_keep_every_tag_added_concurrently(api):
    aid = new_alert(api)["id"]
    calls = [(lambda i=i: entities.add_tag(api.context(), KIND, aid, f"tag-{i}")) for i in range(WRITERS)]
    results = race(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    tags = api.json("GET", f"{ALERT}/{aid}/tag")[1]["response"]["items"]
    assert tags == sorted(f"tag-{i}" for i in range(WRITERS))
    assert api.json("GET", f"{ALERT}/{aid}")[1]["response"]["version"] == WRITERS + 1


def test_can_apply_every_unversioned_update_to_the_latest(api):
    aid = new_alert(api)["id"]
    calls = [(lambda i=i: update(api, aid, {**BODY, "minutes": i + 1})) for i in range(WRITERS)]
    results = race(calls)
    assert all(isinstance(r, dict) for r in results), results
    assert sorted(r["version"] for r in results) == list(range(2, WRITERS + 2))
