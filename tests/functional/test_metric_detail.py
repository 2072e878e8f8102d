"""Metric details (GET /api/v2/chart/metric/detail): a metric's series from the series index,
host globs, continuation tokens, bounds, tenant isolation, and the real MetricApi."""

from __future__ import annotations

from typing import Any

import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import wavefront

DETAIL = "/api/v2/chart/metric/detail"
T0 = 1_764_460_800_000  # 2025-11-30T00:00:00Z


def seed(tenant: str, points: list[tuple[str, str, dict[str, str], int]]) -> None:
    """Write one point per (metric, source, tags, timestamp) through the data plane's store."""
    from chalicelib.store import series

    series.forget_noted()
    keys = [(series.SeriesKey.of("metric", m, s, tags), t, 1.0) for m, s, tags, t in points]
    series.write_points(tenant, keys, expires=2_000_000_000)


def detail(api, query: str, token: str | None = None) -> tuple[int, Any]:
    return api.json("GET", f"{DETAIL}?{query}", token=token)


def test_can_list_the_hosts_of_a_metric_with_tags_and_last_update(api):
    # GIVEN cpu.load from two hosts (one with two series) and another metric
    seed(
        api.root,
        [
            ("cpu.load", "web-2", {"env": "prod"}, T0),
            ("cpu.load", "web-1", {"env": "prod", "az": "a"}, T0 + 1000),
            ("cpu.load", "web-1", {"env": "dev"}, T0 + 2000),
            ("mem.used", "db-1", {}, T0),
        ],
    )
    # WHEN its details are read
    status, body = detail(api, "m=cpu.load")
    # THEN every series is listed bare (no envelope), by host, with its tags and last update
    assert status == 200, body
    assert "continuationToken" not in body
    got = [(h["host"], h["tags"], h["last_update"]) for h in body["hosts"]]
    assert sorted(got, key=lambda g: (g[0], g[2])) == [
        ("web-1", {"env": "prod", "az": "a"}, T0 + 1000),
        ("web-1", {"env": "dev"}, T0 + 2000),
        ("web-2", {"env": "prod"}, T0),
    ]
    assert [h["host"] for h in body["hosts"]] == ["web-1", "web-1", "web-2"]
    # AND an unknown metric has no hosts
    assert detail(api, "m=no.such")[1] == {"hosts": []}


def test_can_filter_hosts_by_glob_and_page_with_continuation_tokens(api):
    seed(api.root, [("disk", f"h-{n:02d}", {}, T0 + n) for n in range(7)] + [("disk", "other", {}, T0)])
    status, body = detail(api, "m=disk&h=h-0*&h=other&l=3")
    assert status == 200 and len(body["hosts"]) == 3 and body["continuationToken"]
    seen = [h["host"] for h in body["hosts"]]
    while "continuationToken" in body:
        status, body = detail(api, f"m=disk&h=h-0*&h=other&l=3&c={body['continuationToken']}")
        assert status == 200, body
        seen += [h["host"] for h in body["hosts"]]
    assert seen == [f"h-{n:02d}" for n in range(7)] + ["other"]
    assert [h["host"] for h in detail(api, "m=disk&h=h-0[12]")[1]["hosts"]] == ["h-01", "h-02"]


def test_can_refuse_bad_arguments_with_400(api):
    for query, word in [
        ("", "m:"),
        ("m=" + "x" * 300, "m:"),
        ("m=cpu&c=%25%25%25", "c:"),
        ("m=cpu&l=0", "l"),
        ("m=cpu&l=1001", "l"),
        ("m=cpu&" + "&".join(["h=x"] * 51), "h:"),
    ]:
        status, body = detail(api, query)
        assert status == 400, (query, body)
        assert word in body["status"]["message"], body


def test_can_keep_tenants_apart_and_require_the_read_permission(api, make_tenant, make_user):
    seed(api.root, [("cpu.load", "web-1", {}, T0)])
    other = make_user(["metric.read"], tenant=make_tenant("other"))
    assert detail(api, "m=cpu.load", token=other.token)[1] == {"hosts": []}
    nobody = make_user(["alert.read"])
    assert detail(api, "m=cpu.load", token=nobody.token)[0] == 403


def test_can_serve_the_real_client(api):
    seed(api.root, [("cpu.load", "web-1", {"env": "prod"}, T0), ("cpu.load", "web-2", {}, T0)])
    metrics = wf.MetricApi(wavefront(api))
    answer = metrics.get_metric_details("cpu.load", h=["web-1"], l=10)
    assert [(d.host, d.tags, d.last_update) for d in answer.hosts] == [("web-1", {"env": "prod"}, T0)]
    first = metrics.get_metric_details("cpu.load", l=1)
    assert first.continuation_token and len(first.hosts) == 1
    rest = metrics.get_metric_details("cpu.load", l=1, c=first.continuation_token)
    assert [d.host for d in first.hosts + rest.hosts] == ["web-1", "web-2"] and rest.continuation_token is None
    try:
        metrics.get_metric_details("cpu.load", l=5000)
        raise AssertionError("a page of 5000 was served")
    except ApiException as exc:
        assert exc.status == 400
