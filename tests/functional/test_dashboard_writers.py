"""Wavefront dashboards under concurrent writers and at size: conditional writes never lose
an update, a multi-MB dashboard round-trips equal, bodies past the documented maximum get 413.

The domain operations are called directly from threads, as in test_alert_concurrency.py."""

from __future__ import annotations

import json
import os
from typing import Any

from chalicelib.dashboards import store
from chalicelib.errors import VersionMismatch
from tests.functional.test_alert_concurrency import WRITERS, race
from tests.functional.test_dashboard import DASH, body, new_dashboard, reads

MB = 1024 * 1024


def test_can_let_exactly_one_of_racing_versioned_updates_win(api):
    # GIVEN a dashboard at version 1
    new_dashboard(api, "raced")
    # WHEN 8 writers PUT at once, each naming version 1
    doc = {k: v for k, v in body("raced").items() if k not in ("id", "version")}
    calls = [
        (
            lambda i=i: store.update_wavefront(
                api.context(), "raced", {**doc, "description": f"w{i}"}, None, expected_version=1
            )
        )
        for i in range(WRITERS)
    ]
    results = race(calls)
    # THEN one wins and the others get VersionMismatch (409)
    winners = [r.doc for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, VersionMismatch)]
    assert len(winners) == 1 and len(losers) == WRITERS - 1, results
    stored = api.json("GET", f"{DASH}/raced")[1]["response"]
    assert stored["version"] == 2 and stored["description"] == winners[0]["description"]
    assert api.json("GET", f"{DASH}/raced/history")[1]["response"]["totalItems"] == 2


def _big_sections(size: int) -> list[dict[str, Any]]:
    """Sections whose chart descriptions hold `size` bytes of incompressible text."""
    charts = []
    chunk = 256 * 1024
    for i in range(size // chunk):
        noise = os.urandom(chunk // 2).hex()
        charts.append(
            {
                "name": f"chart {i}",
                "description": noise,
                "sources": [{"name": "A", "query": f"ts(metric.{i})"}],
                "chartSettings": {"type": "line"},
            }
        )
    return [{"name": "Big", "rows": [{"charts": charts[j : j + 4]} for j in range(0, len(charts), 4)]}]


def test_can_round_trip_a_dashboard_of_several_megabytes(api):
    # GIVEN a 3 MB dashboard that does not compress
    sections = _big_sections(3 * MB)
    posted = body("big", sections=sections)
    assert len(json.dumps(posted)) > 3 * MB
    # WHEN it is created, read, updated and its first version read back
    status, created = api.json("POST", DASH, posted)
    assert status == 200, str(created)[:300]
    status, got = api.json("GET", f"{DASH}/big")
    assert status == 200
    reads(got)
    # THEN every answer holds the sections as posted
    assert json.dumps(got["response"]["sections"]) == json.dumps(sections)
    status, updated = api.json("PUT", f"{DASH}/big", body("big", sections=sections, description="v2"))
    assert status == 200 and updated["response"]["version"] == 2
    past = api.json("GET", f"{DASH}/big/history/1")[1]["response"]
    assert json.dumps(past["sections"]) == json.dumps(sections) and "description" not in past
    listed = api.json("GET", DASH)[1]["response"]["items"]
    assert json.dumps(listed[0]["sections"]) == json.dumps(sections)


def test_can_refuse_a_body_past_the_document_limit_with_413(api):
    from chalicelib.settings import get_settings

    # GIVEN a body one byte past the documented maximum
    limit = get_settings().max_document_bytes
    padding = "x" * (limit - len(json.dumps(body("huge", description=""))) + 1)
    raw = json.dumps(body("huge", description=padding))
    assert len(raw) == limit + 1
    # WHEN it is created or PUT
    status, answer = api.json("POST", DASH, raw=raw)
    assert status == 413 and answer["status"]["code"] == 413
    new_dashboard(api, "huge")
    assert api.json("PUT", f"{DASH}/huge", raw=raw)[0] == 413
    # THEN nothing was written
    assert api.json("GET", f"{DASH}/huge")[1]["response"]["version"] == 1
    assert api.json("GET", DASH)[1]["response"]["totalItems"] == 1
