"""Grafana saves under concurrent writers: of N saves naming one version exactly one wins.

The save is called directly from threads, as the domain operation over a Context
(chalice.test.Client keeps the current request on the app object, so it cannot serve
threads); the `aws` fixture makes moto apply
one request at a time, as DynamoDB applies a conditional write atomically per item.
"""

from __future__ import annotations

from chalicelib.dashboards import store
from chalicelib.errors import VersionMismatch
from tests.functional.test_alert_concurrency import race
from tests.functional.test_grafana_dashboards import get, save

WRITERS = 12


def test_can_let_exactly_one_of_racing_saves_of_one_version_win(api):
    # GIVEN a dashboard at version 1
    uid = save(api, {"uid": "raced", "title": "Raced"})["uid"]
    # WHEN 12 writers post version 1 at once
    calls = [
        (
            lambda i=i: store.save_grafana(
                api.context(), store.Save({"uid": uid, "title": "Raced", "version": 1, "w": i})
            )
        )
        for i in range(WRITERS)
    ]
    results = race(calls)
    # THEN exactly one is saved and the other 11 get version-mismatch (412 in this dialect)
    losers = [r for r in results if isinstance(r, VersionMismatch)]
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == WRITERS - 1, results
    assert all(r.code == "version-mismatch" for r in losers)
    # AND the stored version went up by exactly one, holding the winner's document
    stored = get(api, uid)[1]
    assert stored["meta"]["version"] == 2 == winners[0].version
    assert stored["dashboard"]["w"] == winners[0].doc["w"]
    assert len(api.json("GET", f"/api/dashboards/uid/{uid}/versions")[1]) == 2
