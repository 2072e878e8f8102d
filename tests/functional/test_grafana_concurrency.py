"""Grafana saves under concurrent writers: of N saves naming one version exactly one wins.

The save handler is called directly from threads (chalice.test.Client keeps the current
request on the app object, so it cannot serve threads); the `aws` fixture makes moto apply
one request at a time, as DynamoDB applies a conditional write atomically per item.
"""

from __future__ import annotations

import json

from chalicelib.errors import VersionMismatch
from tests.functional.test_alert_concurrency import race
from tests.functional.test_grafana_dashboards import DB, get, save

WRITERS = 12


def test_can_let_exactly_one_of_racing_saves_of_one_version_win(api):
    from chalicelib.compat.grafana.dashboards import save as save_route

    # GIVEN a dashboard at version 1
    uid = save(api, {"uid": "raced", "title": "Raced"})["uid"]
    # WHEN 12 writers post version 1 at once
    calls = [
        (
            lambda i=i: save_route(
                api.handler_request(
                    "POST", DB, {}, {"dashboard": {"uid": uid, "title": "Raced", "version": 1, "writer": i}}
                )
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
    winner = json.loads(winners[0].payload) if isinstance(winners[0].payload, str) else winners[0].payload
    # AND the stored version went up by exactly one, holding the winner's document
    stored = get(api, uid)[1]
    assert stored["meta"]["version"] == 2 == winner["version"]
    assert len(api.json("GET", f"/api/dashboards/uid/{uid}/versions")[1]) == 2
