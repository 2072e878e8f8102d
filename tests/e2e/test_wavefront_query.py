"""QueryApi through the unmodified Wavefront client against the live server: both of its
operations (query_api, query_raw). Points are sent the way users send them, by
wavefront-sdk-python's direct-ingestion client to `/report`."""

from __future__ import annotations

import time

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_person, new_tenant_admin, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e

MINUTE = 60


@pytest.fixture(scope="module")
def sent(server, admin_token):
    """A fresh tenant whose admin sent two series of one metric through the SDK."""
    from wavefront_sdk.client import WavefrontClient

    boss = new_tenant_admin(server.url, admin_token)
    metric = unique("e2e.cpu").replace("-", "_")
    start = (int(time.time()) // 3600 - 1) * 3600  # seconds: an hour boundary in the last two hours
    sdk = WavefrontClient(server=server.url, token=boss.token, flush_interval_seconds=60, enable_internal_metrics=False)
    try:
        for n, value in enumerate((1.0, 2.0, 3.0)):
            sdk.send_metric(metric, value, start + n * MINUTE, "web-1", {"env": "prod"})
        sdk.send_metric(metric, 10.0, start + 30, "web-2", {"env": "dev"})
        sdk.send_metric(metric, 20.0, start + 150, "web-2", {"env": "dev"})
        sdk.flush_now()
    finally:
        sdk.close()
    return boss, metric, start


def _eventually(read, ready, timeout: float = 10.0):
    """read() until ready(answer) (ingestion is asynchronous: a queue and a worker)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = read()
        if ready(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.25)


def test_can_query_points_sent_by_the_sdk(server, sent):
    boss, metric, start = sent
    api = wf.QueryApi(wavefront(server.url, boss.token))
    # the hand-computed answer: the sum at every timestamp of either series (the other
    # interpolated between its own points, absent outside them), then the mean of each
    # minute: [1, 1.5 + 10], [2 + 12.5], [3 + 17.5, 20]
    expected = [[start, (1 + 11.5) / 2], [start + 60, 14.5], [start + 120, (20.5 + 20) / 2]]
    # WHEN the points are queried per minute, summed over sources (interpolated), once the
    # worker has written both series (it indexes one series after the other)
    result = _eventually(
        lambda: api.query_api(f"sum(ts({metric}))", str(start * 1000), "m", e=str((start + 600) * 1000), n="total"),
        lambda r: bool(r.timeseries) and r.timeseries[0].data == expected,
    )
    # THEN the answer is the hand-computed one
    assert result.name == "total" and result.granularity == 60
    (series,) = result.timeseries
    assert series.data == expected
    # AND a filter and a group-by reach the same points
    by_env = api.query_api(f"sum(ts({metric}, source=web-*), env)", str(start * 1000), "h", e=str((start + 600) * 1000))
    assert {s.tags["env"]: s.data for s in by_env.timeseries} == {
        "prod": [[start, 2.0]],
        "dev": [[start, 15.0]],
    }


def test_can_read_raw_points_sent_by_the_sdk(server, sent):
    boss, metric, start = sent
    api = wf.QueryApi(wavefront(server.url, boss.token))
    raw = _eventually(
        lambda: api.query_raw(metric, source="web-2", start_time=start * 1000, end_time=(start + 600) * 1000),
        lambda r: r and len(r[0].points) == 2,
    )
    assert [(r.tags, [(p.timestamp, p.value) for p in r.points]) for r in raw] == [
        ({"env": "dev", "source": "web-2"}, [((start + 30) * 1000, 10.0), ((start + 150) * 1000, 20.0)])
    ]


def test_can_refuse_queries_to_accounts_without_browse_and_unsupported_functions(server, sent, admin_token):
    boss, metric, start = sent
    nobody = new_person(server.url, admin_token, ["alert.read"], tenant=boss.tenant)
    api = wf.QueryApi(wavefront(server.url, nobody.token))
    assert refused_status(lambda: api.query_api(f"ts({metric})", str(start * 1000), "m")) == 403
    assert refused_status(lambda: api.query_raw(metric)) == 403
    mine = wf.QueryApi(wavefront(server.url, boss.token))
    assert refused_status(lambda: mine.query_api(f"hideAfter(5m, ts({metric}))", str(start * 1000), "m")) == 400
