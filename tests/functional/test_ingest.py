"""Direct ingestion end to end in-process: wavefront-sdk-python's bytes -> POST /report ->
202 -> the ingest worker (workers.local.drain) -> the timeseries table, sources, usage,
ingestion policies."""

from __future__ import annotations

import gzip
import json

import pytest
from wavefront_sdk.common import utils as sdk
from wavefront_sdk.entities.histogram import histogram_granularity
from wavefront_sdk.entities.tracing.span_log import SpanLog

from chalicelib.auth import apitokens
from chalicelib.auth.permissions import patterns
from chalicelib.domain import ingestion, messages
from chalicelib.store import ingestusage, queues, series
from chalicelib.workers import Record, ingest, local

NOW = 1_700_000_000_000
TRACE = "7b3bf470-9456-11e8-9eb6-529269fb1459"
SPAN = "0313bafe-9457-11e8-9eb6-529269fb1459"


@pytest.fixture(autouse=True)
def fresh() -> None:
    """Nothing a previous test's process memory holds (the index, sources, policies)."""
    series.forget_noted()
    ingest.forget_sources()
    ingestion.forget_policies()


@pytest.fixture
def sender(api, make_user):
    """An account holding Direct Data Ingestion, and an API token of it."""

    def make(tenant: str | None = None, acl: list[str] | None = None):
        user = make_user(acl if acl is not None else patterns("ingestion"), tenant=tenant)
        secret, _ = apitokens.create(user.tenant, user.uuid, "user")
        return user, secret

    return make


def post(api, token: str, lines: list[str], fmt: str = "wavefront", *, path: str = "/report", headers=None):
    """What the SDK's WavefrontClient sends: the lines gzipped, its headers, ?f=."""
    body = sdk.gzip_compress(("\n".join(lines) + "\n").encode())
    h = {"Content-Type": "application/octet-stream", "Content-Encoding": "gzip", **(headers or {})}
    param = "format" if path != "/report" else "f"
    return api.json("POST", f"{path}?{param}={fmt}", token=token, headers=h, raw=body)


def point(name: str, value: float, source: str = "web1", ts: int = NOW, **tags: str) -> str:
    return sdk.metric_to_line_data(name, value, ts, source, tags or None, "default").strip()


def values(tenant: str, metric: str, kind: str = "metric") -> dict[str, list[tuple[int, float]]]:
    found = series.find_series(tenant, kind, metric)  # type: ignore[arg-type]
    read = series.read_points(tenant, [s.key for s in found], NOW - 86_400_000, NOW + 86_400_000)
    return {k.source: v for k, v in read.items()}


def _hour_ms() -> int:
    import time

    return int(time.time() * 1000)


def usage(tenant: str, dimension: str) -> int:
    return ingestusage.current(tenant, [dimension], ingestion.hour_of(_hour_ms())).get(dimension, 0)


def test_can_write_what_the_sdk_sends_and_read_it_back(api, sender):
    user, token = sender()
    lines = [point("cpu.load", 0.5, ts=NOW, env="prod"), point("cpu.load", 1.5e3, "web2", ts=NOW + 1000)]

    status, answer = post(api, token, lines)

    assert status == 202, answer
    assert answer == {"accepted": 2, "rejected": 0, "errors": []}
    assert values(api.root, "cpu.load") == {}  # nothing written before the worker ran
    assert local.drain("ingest").handled == 1
    assert values(api.root, "cpu.load") == {"web1": [(NOW, 0.5)], "web2": [(NOW + 1000, 1500.0)]}
    tags = {s.key.source: s.key.tag_map for s in series.find_series(api.root, "metric", "cpu.load")}
    assert tags == {"web1": {"env": "prod"}, "web2": {}}
    assert usage(api.root, "metric:t") == 2
    assert usage(api.root, f"metric:a:{user.uuid}") == 2


def test_can_keep_good_lines_and_name_the_bad_ones(api, sender):
    _, token = sender()
    lines = [point("ok.one", 1), "bad!name 1 source=web1", point("ok.two", 2)]

    status, answer = post(api, token, lines)

    assert status == 202
    assert answer["accepted"] == 2 and answer["rejected"] == 1
    assert len(answer["errors"]) == 1 and answer["errors"][0].startswith("line 2: ")
    local.drain("ingest")
    assert values(api.root, "ok.one") == {"web1": [(NOW, 1.0)]}
    assert values(api.root, "ok.two") == {"web1": [(NOW, 2.0)]}


def test_cannot_queue_anything_when_every_line_is_bad(api, sender):
    _, token = sender()

    status, answer = post(api, token, ["nope", "bad!name 1 source=a", "m notanumber source=a"])

    assert status == 400
    assert "No line was accepted (3 rejected)" in json.dumps(answer)
    assert "line 1" in json.dumps(answer)
    assert queues.depth("ingest") == 0


def test_cannot_inflate_a_body_past_the_limit(api, sender, monkeypatch):
    from chalicelib.settings import reset_settings

    _, token = sender()
    monkeypatch.setenv("OPSPLANE_MAX_INGEST_BYTES", "100000")
    reset_settings()
    try:
        # Good lines first: a bomb that starts well still queues nothing.
        text = ("\n".join(point("m", i, ts=NOW + i) for i in range(5000)) + "\n").encode()
        bomb = gzip.compress(text)
        assert len(bomb) < 100_000 < len(text)
        status, _ = api.json(
            "POST",
            "/report?f=wavefront",
            token=token,
            headers={"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"},
            raw=bomb,
        )
    finally:
        monkeypatch.delenv("OPSPLANE_MAX_INGEST_BYTES")
        reset_settings()

    assert status == 413
    assert queues.depth("ingest") == 0


def test_cannot_report_without_direct_data_ingestion(api, sender):
    _, token = sender(acl=["*.read", "*.*.read"])

    status, _ = post(api, token, [point("m", 1)])

    assert status == 403
    assert queues.depth("ingest") == 0


def test_cannot_write_into_another_tenant(api, sender, make_tenant):
    other = make_tenant("other")
    _, token = sender(tenant=other)

    assert post(api, token, [point("shared.name", 7)])[0] == 202
    local.drain("ingest")

    assert values(other, "shared.name") == {"web1": [(NOW, 7.0)]}
    assert values(api.root, "shared.name") == {}
    assert usage(api.root, "metric:t") == 0


def test_can_count_a_batch_resent_with_the_same_idempotency_key_once(api, sender):
    _, token = sender()
    lines = [point("retried", 1), point("retried", 2, ts=NOW + 1)]

    for _ in range(2):
        status, answer = post(api, token, lines, headers={"Idempotency-Key": "batch-42"})
        assert status == 202 and answer["accepted"] == 2
    local.drain("ingest")
    assert post(api, token, lines, headers={"Idempotency-Key": "batch-43"})[0] == 202
    local.drain("ingest")

    assert values(api.root, "retried") == {"web1": [(NOW, 1.0), (NOW + 1, 2.0)]}
    assert usage(api.root, "metric:t") == 4  # batch-42 once, batch-43 once


def test_can_count_a_batch_resent_without_a_key_once_as_the_sdk_resends_it(api, sender):
    # GIVEN the SDK's batch (no Idempotency-Key), sent, then resent after a timeout
    _, token = sender()
    lines = [point("resent", 1), point("resent", 2, ts=NOW + 1)]
    for _ in range(2):
        assert post(api, token, lines)[0] == 202
    local.drain("ingest")
    # THEN it is stored once and counted once: the same records from the same sender
    assert values(api.root, "resent") == {"web1": [(NOW, 1.0), (NOW + 1, 2.0)]}
    assert usage(api.root, "metric:t") == 2
    # AND other data (one more point), or the same lines from another account, count again
    assert post(api, token, [*lines, point("resent", 3, ts=NOW + 2)])[0] == 202
    _, other = sender()
    assert post(api, other, lines)[0] == 202
    local.drain("ingest")
    assert usage(api.root, "metric:t") == 2 + 3 + 2


def test_can_count_lines_without_a_timestamp_each_time_they_are_sent(api):
    # GIVEN a line that names no timestamp (stored under the time it is received)
    from chalicelib.domain.context import Context

    body = b"untimed 5 source=web1\n"
    # WHEN it is received twice, a minute apart
    for at in (NOW, NOW + 60_000):
        ctx = Context.service(api.root, "sender", clock=lambda at=at: at)
        assert ingestion.receive(ctx, "wavefront", body, None).accepted == 1
    local.drain("ingest")
    # THEN these are two points, counted twice (in the hour they were received)
    assert values(api.root, "untimed") == {"web1": [(NOW, 5.0), (NOW + 60_000, 5.0)]}
    hour = ingestion.hour_of(NOW)
    assert ingestusage.current(api.root, ["metric:t"], hour) == {"metric:t": 2}


def test_can_count_a_redelivered_message_once(api, sender):
    _, token = sender()
    assert post(api, token, [point("redelivered", 3)])[0] == 202
    (message,) = queues.receive("ingest")
    record = Record(id=message.id, body=queues.unwrap(message.body), receives=1)

    ingest.handle(record)
    ingest.handle(Record(id="another-delivery", body=record.body, receives=2))

    assert values(api.root, "redelivered") == {"web1": [(NOW, 3.0)]}
    assert usage(api.root, "metric:t") == 1


def test_can_record_sources_with_first_and_last_seen(api, sender):
    _, token = sender()
    post(api, token, [point("m", 1, "fresh-host", ts=NOW), point("m", 2, "fresh-host", ts=NOW + 5000)])
    local.drain("ingest")

    status, found = api.json("GET", "/api/v2/source/fresh-host")

    assert status == 200
    assert found["response"]["lastSeenEpochMillis"] == NOW + 5000
    first = found["response"]["markedNewEpochMillis"]
    ingest.forget_sources()
    post(api, token, [point("m", 3, "fresh-host", ts=NOW + 60_000)])
    local.drain("ingest")
    again = api.json("GET", "/api/v2/source/fresh-host")[1]["response"]
    assert again["markedNewEpochMillis"] == first
    assert again["lastSeenEpochMillis"] == NOW + 60_000


def test_can_write_histograms_spans_and_span_logs(api, sender):
    _, token = sender()
    histogram = sdk.histogram_to_line_data(
        "latency", [(1.5, 3), (2.0, 1)], {histogram_granularity.MINUTE}, NOW, "web1", {"env": "prod"}, "d"
    ).strip()
    span = sdk.tracing_span_to_line_data(
        "getUser", NOW, 343, "web1", TRACE, SPAN, [], [], [("application", "shop")], None, "d"
    ).strip()
    logs = sdk.span_log_to_line_data(TRACE, SPAN, [SpanLog(NOW * 1000, {"event": "error"})], span).strip()

    assert post(api, token, [histogram], "histogram")[1]["accepted"] == 1
    assert post(api, token, [span], "trace")[1]["accepted"] == 1
    assert post(api, token, [logs], "spanLogs", path="/api/v2/wfproxy/report")[1]["accepted"] == 1
    assert local.drain("ingest").handled == 3

    (hs,) = series.find_series(api.root, "histogram", "latency.m")
    read = series.read_histograms(api.root, [hs.key], NOW, NOW)
    assert read[hs.key][0].centroids == ((1.5, 3), (2.0, 1))
    trace = series.read_trace(api.root, TRACE)
    assert trace[SPAN]["name"] == "getUser" and trace[SPAN]["durationMs"] == 343
    assert trace[f"{SPAN}#logs"]["logs"] == [{"timestamp": NOW * 1000, "fields": {"event": "error"}}]
    assert usage(api.root, "span:t") == 1 and usage(api.root, "spanlog:t") == 1


def test_can_refuse_an_account_past_its_policy_limit_and_tell_the_admins(api, sender, monkeypatch):
    monkeypatch.setattr(ingestion, "BUDGET_SECONDS", 1)  # a budget of limitPPS points an hour
    user, token = sender()
    policy = {"name": "small", "scope": "ACCOUNT", "accounts": [user.uuid], "isLimited": True, "limitPPS": 3}
    status, created = api.json("POST", "/api/v2/usage/ingestionpolicy", policy)
    assert status == 200, created
    policy_id = created["response"]["id"]

    assert post(api, token, [point("p", 1), point("p", 2, ts=NOW + 1)])[0] == 202
    local.drain("ingest")
    assert post(api, token, [point("p", 3, ts=NOW + 2), point("p", 4, ts=NOW + 3)])[0] == 202  # 2 of 3 used
    (message,) = queues.receive("ingest")
    ingest.handle(Record(message.id, queues.unwrap(message.body)))  # 4 of 3: the admins are told
    header, _ = ingestion.unpack(queues.unwrap(message.body))
    ingest.warn_over_budget(header, [p for p in ingestion.policies(api.context()) if p.id == policy_id])
    resp = api.call(
        "POST",
        "/report?f=wavefront",
        token=token,
        headers={"Content-Encoding": "gzip"},
        raw=sdk.gzip_compress(point("p", 5).encode()),
    )

    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 3600
    told = [m for m in messages.shown(api.root, api.admin, now=_hour_ms(), unread_only=False)]
    about = [m for m in told if m.doc.get("attributes", {}).get("policy") == policy_id]
    assert len(about) == 1
    assert usage(api.root, f"p:{policy_id}") == 4
    _, other = sender()
    assert post(api, other, [point("p", 6)])[0] == 202  # outside the policy's scope


def test_can_export_the_counted_usage_as_csv(api, sender):
    user, token = sender()
    policy = {"name": "web", "scope": "SOURCE", "sources": ["web1"]}
    policy_id = api.json("POST", "/api/v2/usage/ingestionpolicy", policy)[1]["response"]["id"]
    post(api, token, [point("u", 1, "web1"), point("u", 2, "web2"), point("u", 3, "web1", ts=NOW + 1)])
    local.drain("ingest")
    hour = ingestion.hour_of(_hour_ms())

    resp = api.call("GET", f"/api/v2/usage/exportcsv?startTime={hour}&endTime={hour + 1}")

    rows = resp.body.decode().strip().split("\r\n")
    assert rows[1].split(",")[0] == policy_id
    assert rows[1].split(",")[3:] == ["2", str(round(2 / 3600, 3))]


def test_can_take_the_proxy_report_and_refuse_a_bad_proxy_id(api, sender):
    _, token = sender()

    assert post(api, token, [point("via.proxy", 1)], path="/api/v2/wfproxy/report")[0] == 202
    status, _ = api.json("POST", "/api/v2/wfproxy/report?format=wavefront&proxyId=nope", token=token, raw=point("x", 1))
    assert status == 400
    assert api.json("POST", "/report?f=graphite", token=token, raw=point("x", 1))[0] == 400
    assert api.json("POST", "/report", token=token, raw=point("x", 1))[0] == 400
    local.drain("ingest")
    assert values(api.root, "via.proxy") == {"web1": [(NOW, 1.0)]}


def test_can_refuse_a_tenant_past_its_tiers_points_for_the_hour(api, sender):
    # GIVEN a free tenant (100 points/s) that has sent all but one point of this hour's budget
    from chalicelib import tiers
    from chalicelib.identity import tenants

    tenant = tenants.create_tenant(name="Free", slug=None, parent_uuid=api.root, by="test", tier="free")["uuid"]
    _, token = sender(tenant)
    budget = tiers.get("free").ingest_points_per_second * 3600
    hour = ingestion.hour_of(_hour_ms())
    assert ingestusage.count_once(tenant, "seed", hour, {"metric:t": budget - 2, "span:t": 1}) is True
    # WHEN it sends one more batch THEN it passes (the budget is not used up yet) ...
    assert post(api, token, [point("t", 1), point("t", 2, ts=NOW + 1)])[0] == 202
    local.drain("ingest")
    # ... and the next is 429 until the hour ends, naming the tier
    resp = api.call(
        "POST",
        "/report?f=wavefront",
        token=token,
        headers={"Content-Encoding": "gzip"},
        raw=sdk.gzip_compress(b"t 3\n"),
    )
    assert resp.status_code == 429 and "free tier" in resp.json_body["status"]["message"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 3600
    # AND another tenant is not touched by it
    _, other = sender()
    assert post(api, other, [point("t", 4)])[0] == 202
