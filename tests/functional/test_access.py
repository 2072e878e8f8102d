"""Access (GET /api/access/{entity}): what queries recorded (domain/access.record, as the chart
route calls it) is answered "accessed", per day and per host prefix, within the look-back;
what nobody recorded is "not accessed". Properties: whatever was recorded is never answered
"not accessed" (hypothesis), and threads recording into one filter shard at once lose
nothing. Also bounds, permissions, tenant isolation and the filters' storage."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ACCESS = "/api/access"
DAY_MS = 86_400_000


def now_ms() -> int:
    from chalicelib.store.repository import now_ms as clock

    return clock()


def context(tenant: str, days_ago: int = 0) -> Any:
    """A query's context, its clock days_ago days back (the routes run on the real clock)."""
    from chalicelib.domain.context import Context

    return Context.service(tenant, "query", clock=lambda: now_ms() - days_ago * DAY_MS)


def record(tenant: str, reads: list[tuple[str, str, str]], days_ago: int = 0) -> int:
    from chalicelib.domain import access

    return access.record(context(tenant, days_ago), reads)


def seed_index(tenant: str, metric: str, sources: list[str]) -> None:
    from chalicelib.store import series

    keys = [(series.SeriesKey.of("metric", metric, s), now_ms(), 1.0) for s in sources]
    series.write_points(tenant, keys, expires=2_000_000_000)


def ask(api, entity: str, query: str, token: str | None = None) -> tuple[int, Any]:
    return api.json("GET", f"{ACCESS}/{entity}?{query}", token=token)


@pytest.fixture(autouse=True)
def fresh_memory() -> None:
    from chalicelib.store import accessfilters, series

    accessfilters.forget_written()
    series.forget_noted()


# ---- answers ------------------------------------------------------------------------------------


def test_can_answer_accessed_for_what_a_query_read_and_not_for_the_rest(api):
    # GIVEN a query that read cpu.load of web-01 and a histogram
    record(api.root, [("metric", "cpu.load", "web-01"), ("histogram", "req.latency", "")])
    # THEN those are accessed, other names and kinds are not
    status, body = ask(api, "metric", "name=cpu.load")
    assert status == 200, body
    assert body["response"] == {"entity": "metric", "name": "cpu.load", "usageThresholdDays": 7, "accessed": True}
    assert ask(api, "histogram", "name=req.latency")[1]["response"]["accessed"] is True
    assert ask(api, "metric", "name=cpu.idle")[1]["response"]["accessed"] is False
    assert ask(api, "span", "name=cpu.load")[1]["response"]["accessed"] is False
    assert ask(api, "metric", "name=req.latency")[1]["response"]["accessed"] is False


def test_can_answer_per_host_prefix_over_the_hosts_the_index_knows(api):
    seed_index(api.root, "cpu.load", ["web-01-id-1", "web-02-id-2", "db-01"])
    record(api.root, [("metric", "cpu.load", "web-02-id-2")])
    assert ask(api, "metric", "name=cpu.load&hostPrefix=web-")[1]["response"]["accessed"] is True
    assert ask(api, "metric", "name=cpu.load&hostPrefix=web-02")[1]["response"]["accessed"] is True
    assert ask(api, "metric", "name=cpu.load&hostPrefix=web-01")[1]["response"]["accessed"] is False
    assert ask(api, "metric", "name=cpu.load&hostPrefix=db")[1]["response"]["accessed"] is False
    # AND a whole host name is answered even when the index does not know it
    record(api.root, [("metric", "cpu.load", "gone-host")])
    assert ask(api, "metric", "name=cpu.load&hostPrefix=gone-host")[1]["response"]["accessed"] is True


def test_can_answer_each_day_of_the_look_back(api):
    # GIVEN reads today and 3 and 10 days ago
    record(api.root, [("metric", "disk.used", "h")])
    record(api.root, [("metric", "disk.used", "h")], days_ago=3)
    record(api.root, [("metric", "old.metric", "h")], days_ago=10)
    # WHEN the daily detail of the last 5 days is asked
    status, body = ask(api, "metric", "name=disk.used&usageThresholdDays=5&includeDailyDetail=true")
    assert status == 200, body
    days = body["response"]["dailyDetail"]
    # THEN today first, one entry a day, the two days read marked
    dates = [datetime.fromtimestamp((now_ms() - n * DAY_MS) / 1000, tz=UTC).strftime("%Y-%m-%d") for n in range(5)]
    assert [d["date"] for d in days] == dates
    assert [d["accessed"] for d in days] == [True, False, False, True, False]
    # AND a read older than the look-back is not counted, a longer look-back finds it
    assert ask(api, "metric", "name=old.metric")[1]["response"]["accessed"] is False
    assert ask(api, "metric", "name=old.metric&usageThresholdDays=11")[1]["response"]["accessed"] is True


def test_can_refuse_bad_arguments_with_400(api):
    for entity, query, word in [
        ("log", "name=x", "entity"),
        ("metric", "", "name"),
        ("metric", "name=" + "x" * 300, "name"),
        ("metric", "name=x&usageThresholdDays=0", "usageThresholdDays"),
        ("metric", "name=x&usageThresholdDays=91", "usageThresholdDays"),
        ("metric", "name=x&hostPrefix=" + "h" * 200, "hostPrefix"),
        ("metric", "name=x&includeDailyDetail=perhaps", "includeDailyDetail"),
    ]:
        status, body = ask(api, entity, query)
        assert status == 400, (entity, query, body)
        assert word in body["status"]["message"], body


def test_can_refuse_a_host_prefix_that_names_too_many_hosts(api):
    from chalicelib.domain import access

    seed_index(api.root, "wide", [f"h{n}" for n in range(access.MAX_HOSTS + 1)])
    status, body = ask(api, "metric", "name=wide&hostPrefix=h")
    assert status == 400 and "more specific" in body["status"]["message"], body


def test_can_require_both_ingestion_and_metrics_permissions(api, make_user):
    from chalicelib.auth.permissions import patterns_of

    record(api.root, [("metric", "cpu.load", "")])
    both = make_user(patterns_of(["ingestion", "metrics_management"]))
    assert ask(api, "metric", "name=cpu.load", token=both.token)[1]["response"]["accessed"] is True
    for only in (["ingestion"], ["metrics_management"], ["browse"]):
        user = make_user(patterns_of(only))
        assert ask(api, "metric", "name=cpu.load", token=user.token)[0] == 403, only


def test_can_keep_tenants_apart(api, make_tenant, make_user):
    record(api.root, [("metric", "cpu.load", "web")])
    other = make_user(["ingestion.#", "metric.#"], tenant=make_tenant("other"))
    assert ask(api, "metric", "name=cpu.load", token=other.token)[1]["response"]["accessed"] is False


# ---- properties -----------------------------------------------------------------------------------

names = st.text(alphabet="abcdefghij.-_", min_size=1, max_size=12)
reads = st.lists(st.tuples(st.sampled_from(["metric", "histogram", "span"]), names, names), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recorded=reads, prefix_length=st.integers(min_value=1, max_value=12), days_ago=st.integers(0, 6))
def test_can_never_answer_not_accessed_for_what_was_recorded(aws, recorded, prefix_length, days_ago):
    from chalicelib.domain import access

    # GIVEN a tenant whose metrics' series the index knows, and reads recorded some days ago
    tenant = uuid.uuid4().hex
    for kind, name, source in recorded:
        if kind == "metric":
            seed_index(tenant, name, [source])
    record(tenant, recorded, days_ago=days_ago)
    ctx = context(tenant)
    for kind, name, source in recorded:
        # THEN the name is accessed, and so is any prefix of a host the index knows
        assert any(hit for _, hit in access.accessed(ctx, kind, name))
        assert any(hit for _, hit in access.accessed(ctx, kind, name, host_prefix=source))
        if kind == "metric":
            prefix = source[:prefix_length]
            assert any(hit for _, hit in access.accessed(ctx, kind, name, host_prefix=prefix))


def test_can_lose_nothing_when_threads_record_into_one_shard_at_once(aws):
    from chalicelib.domain import access
    from chalicelib.store import accessfilters

    # GIVEN 40 metric names whose keys all fall in the same shard
    tenant = uuid.uuid4().hex
    crowded: list[str] = []
    n = 0
    while len(crowded) < 40:
        name = f"m{n}"
        if accessfilters.shard_of(access.keys_of([("metric", name, "")]).pop()) == 0:
            crowded.append(name)
        n += 1
    # WHEN 8 threads record 5 of them each, at once
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(mine: list[str]) -> None:
        try:
            start.wait()
            for name in mine:
                record(tenant, [("metric", name, "")])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(crowded[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # THEN every name is in the filter (read fresh from the table)
    accessfilters.forget_written()
    ctx = context(tenant)
    missing = [m for m in crowded if not any(hit for _, hit in access.accessed(ctx, "metric", m))]
    assert missing == []


# ---- storage ---------------------------------------------------------------------------------------


def test_can_skip_writes_of_what_is_already_recorded_and_expire_filters(aws):
    from chalicelib.store import accessfilters
    from chalicelib.store.models import UsageItem, connection

    tenant = uuid.uuid4().hex
    today = now_ms() // DAY_MS
    assert record(tenant, [("metric", "a", "h")]) >= 1
    # the same reads again: nothing written, neither from this process's memory nor after it forgot
    assert record(tenant, [("metric", "a", "h")]) == 0
    accessfilters.forget_written()
    assert record(tenant, [("metric", "a", "h")]) == 0
    items = connection().client.query(
        TableName=UsageItem.Meta.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{tenant}#access#{today}"}},
    )["Items"]
    assert items and all(i["w"]["N"] == "1" for i in items)
    expires = {int(i["expires"]["N"]) for i in items}
    assert expires == {(today + 1 + accessfilters.RETENTION_DAYS) * 86_400}


# ---- recorded by the chart routes ---------------------------------------------------------------


def test_can_answer_accessed_for_what_the_chart_routes_read(api):
    from tests.functional.test_chart import RAW, at, chart, write

    # GIVEN three metrics of two hosts, none read yet
    write(api.root, "cpu.load", "web-1", [(0, 1), (60, 2)])
    write(api.root, "cpu.load", "db-1", [(0, 3)])
    write(api.root, "cpu.idle", "web-1", [(0, 5)])
    write(api.root, "disk.free", "db-1", [(0, 7)])
    assert ask(api, "metric", "name=cpu.load")[1]["response"]["accessed"] is False
    # WHEN a chart query reads cpu.load of web-1, and the raw view reads disk.free
    status, body = chart(api, "ts(cpu.load, source=web-1)")
    assert status == 200, body
    status, body = api.json("GET", f"{RAW}?metric=disk.free&startTime={at(0)}&endTime={at(60)}")
    assert status == 200, body
    # THEN those reads are accessed, of the hosts read; the rest is not
    assert ask(api, "metric", "name=cpu.load")[1]["response"]["accessed"] is True
    assert ask(api, "metric", "name=cpu.load&hostPrefix=web")[1]["response"]["accessed"] is True
    assert ask(api, "metric", "name=cpu.load&hostPrefix=db")[1]["response"]["accessed"] is False
    assert ask(api, "metric", "name=disk.free&hostPrefix=db-1")[1]["response"]["accessed"] is True
    assert ask(api, "metric", "name=cpu.idle")[1]["response"]["accessed"] is False
