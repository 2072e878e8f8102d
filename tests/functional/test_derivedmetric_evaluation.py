"""Derived metric evaluation in process: points written through store/series.write_points,
the schedule's fan-out, the derived-metric-evaluation worker (workers.local.drain), the
result points read back through the chart route; a duplicated message; a query that fails
-> INVALID; a trashed derived metric no longer runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.store import series
from chalicelib.workers import derivedeval, local
from tests.functional.test_alert import client_reads

MINUTE = 60_000
T = 1_700_000_000_000 - 1_700_000_000_000 % MINUTE  # a tick
BASE = "/api/v2/derivedmetric"
EXPIRES = 4_000_000_000


@pytest.fixture(autouse=True)
def fresh() -> None:
    series.forget_noted()


def write(tenant: str, metric: str, source: str, values: list[tuple[int, float]]) -> None:
    key = series.SeriesKey.of("metric", metric, source, {"env": "prod"})
    series.write_points(tenant, [(key, t, v) for t, v in values], expires=EXPIRES)


def create(api, query: str, **extra: Any) -> str:
    status, body = api.json("POST", BASE, {"name": "doubled", "query": query, "minutes": 5, **extra})
    assert status == 200, body
    return str(body["response"]["id"])


def get(api, metric_id: str) -> dict[str, Any]:
    status, body = api.json("GET", f"{BASE}/{metric_id}")
    assert status == 200, body
    client_reads(body, "ResponseContainerDerivedMetricDefinition")
    return body["response"]


def run(at: int, *, times: int = 1) -> None:
    for _ in range(times):
        derivedeval.fan_out(at)
    local.drain(derivedeval.QUEUE)


def chart(api, q: str) -> dict[tuple[str, str], list[list[float]]]:
    params = {"q": q, "s": str(T - 20 * MINUTE), "e": str(T + 5 * MINUTE), "g": "m"}
    status, body = api.json("GET", "/api/v2/chart/api?" + "&".join(f"{k}={quote(v)}" for k, v in params.items()))
    assert status == 200, body
    return {
        (s["label"], s.get("host", "")): [[t * 1000 - T, v] for t, v in s["data"]] for s in body.get("timeseries", [])
    }


def test_can_write_the_result_series_as_points_the_chart_route_reads(api):
    # GIVEN points of app.requests over the last minutes and a derived metric doubling them
    write(api.root, "app.requests", "web-1", [(T - m * MINUTE, float(m)) for m in range(2, 8)])
    metric_id = create(api, "ts(app.requests) * 2")
    # WHEN the schedule runs at T, twice (a duplicated message), and the worker drains
    run(T, times=2)
    # THEN the window [T-6m, T-1m) is written under derived.app.requests, same source
    assert chart(api, "ts(derived.app.requests)") == {
        ("derived.app.requests", "web-1"): [[-m * MINUTE, 2.0 * m] for m in range(6, 1, -1)]
    }
    # AND the run is recorded on the derived metric
    got = get(api, metric_id)
    assert got["status"] == ["CHECKING"]
    assert got["lastProcessedMillis"] == T
    assert got["pointsScannedAtLastQuery"] == 5
    assert got["lastQueryTime"] >= 0
    # AND the same tick runs once: nothing changes when run again
    run(T)
    assert get(api, metric_id)["lastProcessedMillis"] == T


def test_can_keep_processRateMinutes_between_runs(api):
    metric_id = create(api, "ts(app.requests)", processRateMinutes=3)
    run(T)
    run(T + MINUTE)
    assert get(api, metric_id)["lastProcessedMillis"] == T
    run(T + 3 * MINUTE)
    assert get(api, metric_id)["lastProcessedMillis"] == T + 3 * MINUTE


def test_can_mark_a_query_that_fails_as_invalid(api):
    # GIVEN a query that parses but cannot run (an unknown function)
    metric_id = create(api, "nosuchfunction(ts(app.requests))")
    run(T)
    got = get(api, metric_id)
    assert got["status"] == ["INVALID"]
    assert got["lastErrorMessage"]
    assert got["lastFailedTime"] == T


def test_can_stop_running_a_trashed_derived_metric(api):
    write(api.root, "app.requests", "web-1", [(T - 2 * MINUTE, 1.0)])
    metric_id = create(api, "ts(app.requests)")
    status, _ = api.json("DELETE", f"{BASE}/{metric_id}")
    assert status == 200
    assert derivedeval.fan_out(T) == 0
    local.drain(derivedeval.QUEUE)
    assert chart(api, "ts(derived.app.requests)") == {}
    # AND back from the trash it runs again
    assert api.json("POST", f"{BASE}/{metric_id}/undelete")[0] == 200
    run(T)
    assert chart(api, "ts(derived.app.requests)") != {}
