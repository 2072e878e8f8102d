"""Grafana's /api/ds/query over opsplane's metric store: points written through the store
(store/series.write_points), queried in Grafana's request shape, answered as data frames
checked by hand; other data sources, bad requests, permissions and tenants."""

from __future__ import annotations

from typing import Any

from tests.functional.test_chart import T0, at, write

QUERY = "/api/ds/query"
OPSPLANE = {"uid": "opsplane", "type": "opsplane"}


def ask(api: Any, *queries: dict[str, Any], seconds: int = 3600, token: str | None = None, **window: Any):
    body = {"queries": list(queries), "from": str(at(0)), "to": str(at(seconds)), **window}
    return api.json("POST", QUERY, body, token=token)


def seed(api: Any, tenant: str | None = None) -> None:
    tenant = tenant or api.root
    write(tenant, "cpu.load", "web-1", [(0, 1), (60, 2), (120, 3), (180, 4)], env="prod")
    write(tenant, "cpu.load", "web-2", [(30, 10), (150, 20)], env="dev")


def test_can_answer_a_query_as_data_frames(api):
    # GIVEN points of two series in the store
    seed(api)
    # WHEN Grafana asks for the metric per minute
    status, answer = ask(api, {"refId": "A", "datasource": OPSPLANE, "expr": "ts(cpu.load)", "intervalMs": 60_000})
    # THEN each series is one frame: Time and Value fields, labels source and point tags
    assert status == 200, answer
    result = answer["results"]["A"]
    assert result["status"] == 200
    first, second = result["frames"]
    assert first["schema"]["name"] == "cpu.load" and first["schema"]["refId"] == "A"
    assert first["schema"]["meta"]["executedQueryString"] == "ts(cpu.load)"
    time, value = first["schema"]["fields"]
    assert (time["name"], time["type"], time["config"]["interval"]) == ("Time", "time", 60_000)
    assert (value["name"], value["type"]) == ("Value", "number")
    assert value["labels"] == {"source": "web-1", "env": "prod"}
    assert first["data"]["values"] == [[at(0), at(60), at(120), at(180)], [1.0, 2.0, 3.0, 4.0]]
    assert second["schema"]["fields"][1]["labels"] == {"source": "web-2", "env": "dev"}
    # web-2's points at 30 s and 150 s fall in the buckets of minutes 0 and 2
    assert second["data"]["values"] == [[at(0), at(120)], [10.0, 20.0]]


def test_can_answer_several_queries_with_wavefront_fields_and_wider_buckets(api):
    seed(api)
    # the Wavefront plugin's `query` field; maxDataPoints 2 over 4 minutes: 2-minute buckets (mean)
    wavefront = {"refId": "W", "datasourceId": 0, "query": "sum(ts(cpu.load))", "intervalMs": 1000, "maxDataPoints": 2}
    hidden = {"refId": "H", "expr": "ts(cpu.load)", "hide": True}
    status, answer = ask(api, wavefront, hidden, seconds=240)
    assert status == 200, answer
    assert set(answer["results"]) == {"W"}
    [summed] = answer["results"]["W"]["frames"]
    assert summed["schema"]["fields"][1]["labels"] == {}
    assert summed["schema"]["fields"][0]["config"]["interval"] == 120_000
    # sum at 0: 1; 30: 11.5; 60: 14.5 -> mean 9; at 120: 20.5; 150: 23.5; 180: 4 -> mean 16
    assert summed["data"]["values"] == [[at(0), at(120)], [9.0, 16.0]]


def test_can_answer_relative_times(api):
    # GIVEN a point a minute ago
    now = api.context().now()
    write(api.root, "mem.used", "db-1", [((now - 60_000 - T0) / 1000, 5)])
    body = {"queries": [{"refId": "A", "expr": "ts(mem.used)"}], "from": "now-5m", "to": "now"}
    status, answer = api.json("POST", QUERY, body)
    assert status == 200, answer
    [found] = answer["results"]["A"]["frames"]
    assert found["data"]["values"][1] == [5.0]


def test_can_answer_no_frames_when_nothing_matches(api):
    status, answer = ask(api, {"refId": "A", "expr": "ts(nothing.here)"})
    assert status == 200 and answer == {"results": {"A": {"status": 200, "frames": []}}}, answer


def test_can_refuse_queries_per_result_in_grafanas_shape(api):
    seed(api)
    # GIVEN a stored Prometheus data source
    prom = {"name": "Prom", "type": "prometheus", "url": "http://prom:9090", "uid": "prom-1"}
    assert api.json("POST", "/api/datasources", prom)[0] == 200
    good = {"refId": "A", "expr": "ts(cpu.load, source=web-1)"}
    stored = {"refId": "B", "datasource": {"uid": "prom-1", "type": "prometheus"}, "expr": "up"}
    unknown = {"refId": "C", "datasource": {"uid": "nope"}, "expr": "up"}
    syntax = {"refId": "D", "expr": "ts(cpu.load"}
    unsupported = {"refId": "E", "expr": "highpass(1, ts(cpu.load))"}
    empty = {"refId": "F", "expr": " "}
    events = {"refId": "G", "expr": "events()"}
    status, answer = ask(api, good, stored, unknown, syntax, unsupported, empty, events)
    # THEN the request is a 400, the good query is answered and each failure says why
    assert status == 400, answer
    results = answer["results"]
    assert len(results["A"]["frames"]) == 1
    assert results["B"]["status"] == 502 and "http://prom:9090 is not reachable" in results["B"]["error"]
    assert results["C"]["status"] == 404 and "not found" in results["C"]["error"]
    assert results["D"]["status"] == 400 and "Syntax error" in results["D"]["error"]
    assert results["E"]["status"] == 400 and "highpass" in results["E"]["error"]
    assert results["F"]["status"] == 400 and "expr" in results["F"]["error"]
    assert results["G"]["status"] == 400 and "annotations" in results["G"]["error"]


def test_can_refuse_bad_requests(api):
    one = {"refId": "A", "expr": "ts(cpu)"}
    cases = [
        ({"queries": []}, "queries"),
        ({"queries": [one], "from": "yesterday"}, "from"),
        ({"queries": [one], "from": str(at(60)), "to": str(at(0))}, "from, to"),
        ({"queries": [one, one]}, "refId"),
        ({"queries": [{**one, "maxDataPoints": 0}]}, "maxDataPoints"),
        ({"queries": [one] * 21}, "queries"),
    ]
    for body, field in cases:
        status, answer = api.json("POST", QUERY, body)
        assert status == 400 and field in answer["message"], (body, answer)
    # a fine interval over a long window is widened to at most maxDataPoints buckets
    status, answer = ask(api, {**one, "intervalMs": 1, "maxDataPoints": 10_000}, seconds=86_400 * 30)
    assert status == 200 and answer["results"]["A"]["frames"] == [], answer


def test_can_query_only_with_browse_and_only_the_tenants_points(api, make_user, make_tenant):
    seed(api)
    other = make_tenant("other")
    write(other, "cpu.load", "web-9", [(0, 99)])
    # a caller without chart.read is refused
    stranger = make_user(["alert.read"])
    status, answer = ask(api, {"refId": "A", "expr": "ts(cpu.load)"}, token=stranger.token)
    assert status == 403 and "message" in answer
    # a browsing user of the other tenant sees only its own series
    viewer = make_user(["chart.read"], tenant=other)
    status, answer = ask(api, {"refId": "A", "expr": "ts(cpu.load)"}, token=viewer.token)
    assert status == 200, answer
    [only] = answer["results"]["A"]["frames"]
    assert only["schema"]["fields"][1]["labels"] == {"source": "web-9"}
    # a stored data source the caller may not read is not found
    assert api.json("POST", "/api/datasources", {"name": "P", "type": "prometheus", "uid": "p-1"})[0] == 200
    status, answer = ask(
        api, {"refId": "A", "datasource": {"uid": "p-1"}, "expr": "up"}, token=make_user(["chart.read"]).token
    )
    assert status == 400 and answer["results"]["A"]["status"] == 404
