"""Charts: points written through the store (store/series.write_points), queried through
the routes, compared with hand-computed answers; the real QueryApi in process; events and
source tags from their own records; permissions, tenants and refusals."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

CHART, RAW = "/api/v2/chart/api", "/api/v2/chart/raw"
T0 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000  # an hour boundary
EXPIRES = 4_000_000_000  # epoch seconds: the points outlive the test


def at(seconds: float) -> int:
    return T0 + int(seconds * 1000)


def write(tenant: str, metric: str, source: str, points: list[tuple[float, float]], **tags: str) -> None:
    from chalicelib.store import series

    key = series.SeriesKey.of("metric", metric, source, tags)
    series.write_points(tenant, [(key, at(s), float(v)) for s, v in points], expires=EXPIRES)


@pytest.fixture
def seeded(api) -> Any:
    write(api.root, "cpu.load", "web-1", [(0, 1), (60, 2), (120, 3), (180, 4)], env="prod")
    write(api.root, "cpu.load", "web-2", [(30, 10), (150, 20)], env="dev")
    write(api.root, "cpu.idle", "web-1", [(0, 5), (120, 7)], env="prod")
    return api


def chart(api, q: str, *, g: str = "s", seconds: int = 3600, token: str | None = None, **params: Any):
    query = {"q": q, "s": str(at(0)), "e": str(at(seconds)), "g": g, **params}
    path = CHART + "?" + "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
    return api.json("GET", path, token=token)


def series_of(body: dict[str, Any]) -> dict[tuple[str, str], list[list[float]]]:
    """{(label, host): [[seconds after T0, value]]} of a QueryResult."""
    client_reads(body, "QueryResult")
    return {(s["label"], s.get("host", "")): [[t - T0 / 1000, v] for t, v in s["data"]] for s in body["timeseries"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ts(cpu.load, source=web-1)", {("cpu.load", "web-1"): [[0, 1], [60, 2], [120, 3], [180, 4]]}),
        (
            "sum(ts(cpu.load))",
            {("cpu.load", ""): [[0, 1], [30, 11.5], [60, 14.5], [120, 20.5], [150, 23.5], [180, 4]]},
        ),
        ("rawsum(ts(cpu.load))", {("cpu.load", ""): [[0, 1], [30, 10], [60, 2], [120, 3], [150, 20], [180, 4]]}),
        (
            "sum(ts(cpu.*), sources)",
            {("", "web-1"): [[0, 6], [60, 8], [120, 10], [180, 4]], ("cpu.load", "web-2"): [[30, 10], [150, 20]]},
        ),
        (
            "ts(cpu.load) - ts(cpu.idle)",
            {("cpu.load", "web-1"): [[0, -4], [60, -4], [120, -4]], ("cpu.load", "web-2"): [[30, 4.5], [120, 10.5]]},
        ),
        ("mavg(2m, ts(cpu.load, env=prod))", {("cpu.load", "web-1"): [[0, 1], [60, 1.5], [120, 2.5], [180, 3.5]]}),
    ],
)
def test_can_answer_queries_over_stored_points_as_computed_by_hand(seeded, q, expected):
    status, body = chart(seeded, q)
    assert status == 200, body
    assert series_of(body) == expected
    assert body["query"] == q and body["granularity"] == 1


def test_can_bucket_at_the_granularity_with_the_summarization(seeded):
    status, body = chart(seeded, "ts(cpu.load, source=web-1)", g="m", seconds=240, summarization="SUM", p="2")
    assert status == 200, body
    assert series_of(body) == {("cpu.load", "web-1"): [[0, 3], [120, 7]]}
    assert body["granularity"] == 120
    assert body["stats"]["points"] == 4 and body["stats"]["keys"] == 1


def test_can_filter_by_the_tags_of_source_records(seeded):
    status, _ = seeded.json("POST", "/api/v2/source", {"id": "web-2", "sourceName": "web-2", "tags": {"canary": True}})
    assert status == 200
    status, body = chart(seeded, "ts(cpu.load, tag=canary)")
    assert status == 200 and list(series_of(body)) == [("cpu.load", "web-2")]


def test_can_answer_percentiles_of_stored_histograms(api):
    from chalicelib.store import series

    key = series.SeriesKey.of("histogram", "lat", "web-1")
    stored = [series.Histogram(at(0), ((1.0, 2), (5.0, 2), (10.0, 1))), series.Histogram(at(60), ((3.0, 1),))]
    series.write_histograms(api.root, [(key, h) for h in stored], expires=EXPIRES)
    status, body = chart(api, "percentile(90, hs(lat, source=web-1))")
    assert status == 200, body
    assert series_of(body) == {("lat", "web-1"): [[0, 10], [60, 3]]}


def test_can_answer_events_of_the_window(seeded):
    for name, start, kind in (("deploy", at(10), "deploy"), ("outage", at(20), "alert"), ("old", at(-100), "deploy")):
        body = {"name": name, "startTime": start, "endTime": start + 1000, "annotations": {"type": kind}}
        status, answer = seeded.json("POST", "/api/v2/event", body)
        assert status == 200, answer
    status, body = chart(seeded, "events(type=deploy)")
    assert status == 200, body
    result = client_reads(body, "QueryResult")
    assert [(e.name, e.start, e.tags) for e in result.events] == [("deploy", at(10), {"type": "deploy"})]
    assert result.timeseries == []


def test_can_serve_the_real_query_api_in_process(seeded):
    # GIVEN the real QueryApi
    queries = wf.QueryApi(wavefront(seeded))
    # WHEN it queries and reads raw points; THEN its models deserialize our answers
    result = queries.query_api("sum(ts(cpu.load), env)", str(at(0)), "m", e=str(at(600)), n="by env", strict=True)
    assert result.name == "by env" and result.granularity == 60
    assert {(tuple(s.tags.items()), tuple(tuple(p) for p in s.data)) for s in result.timeseries} == {
        ((("env", "prod"),), ((T0 / 1000, 1.0), (T0 / 1000 + 60, 2.0), (T0 / 1000 + 120, 3.0), (T0 / 1000 + 180, 4.0))),
        ((("env", "dev"),), ((T0 / 1000, 10.0), (T0 / 1000 + 120, 20.0))),
    }
    raw = queries.query_raw("cpu.load", source="web-2", start_time=at(0), end_time=at(600))
    assert [(r.tags, [(p.timestamp, p.value) for p in r.points]) for r in raw] == [
        ({"env": "dev", "source": "web-2"}, [(at(30), 10.0), (at(150), 20.0)])
    ]
    assert len(queries.query_raw("cpu.load", start_time=at(0), end_time=at(600))) == 2


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"q": "hideAfter(5m, ts(cpu.load))"}, "function 'hideAfter' is not supported"),
        ({"q": "ts(cpu.load"}, "Syntax error"),
        ({"q": "ts(cpu.load)", "g": "w"}, "granularity"),
        ({"q": "ts(cpu.load)", "summarization": "AVERAGE"}, "summarization"),
        ({"q": "ts(cpu.load)", "queryType": "PROMQL"}, "queryType"),
        ({"q": "ts(cpu.load)", "autoEvents": "true"}, "autoEvents"),
        ({"q": "ts(cpu.load)", "s": "yesterday"}, "Query parameter s must be an integer"),
        ({"q": ""}, "q: required"),
    ],
)
def test_can_refuse_what_it_cannot_answer_with_400(seeded, params, words):
    status, body = chart(seeded, **{"q": "", **params})
    assert status == 400, body
    assert words in body["status"]["message"], body


def test_can_refuse_bad_raw_reads(seeded):
    for path, words in (
        (f"{RAW}?metric=cpu.*", "wildcards"),
        (f"{RAW}", "metric: required"),
        (f"{RAW}?metric=cpu.load&source=a&host=b", "one of them"),
        (f"{RAW}?metric=cpu.load&startTime=0&endTime={at(0)}", "one day"),
    ):
        status, body = seeded.json("GET", path)
        assert status == 400 and words in body["status"]["message"], (path, body)


def test_can_read_only_with_browse_and_only_the_tenants_own_points(seeded, make_user, make_tenant):
    # GIVEN an account with Browse only, one with nothing, and one of another tenant
    from chalicelib.auth.permissions import patterns_of

    browse = make_user(patterns_of(["browse"]))
    nothing = make_user(["alert.read"])
    other = make_user(["#"], tenant=make_tenant("other"))
    assert chart(seeded, "ts(cpu.load)", token=browse.token)[0] == 200
    assert chart(seeded, "ts(cpu.load)", token=nothing.token)[0] == 403
    status, body = chart(seeded, "ts(cpu.load)", token=other.token)
    assert status == 200 and body["timeseries"] == []
    with pytest.raises(ApiException) as refused:
        wf.QueryApi(wavefront(seeded, nothing.token)).query_raw("cpu.load")
    assert refused.value.status == 403
