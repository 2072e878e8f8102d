"""Deleting a tenant (issue 14): 410 at once, then a background purge removes everything it
owns (entities of every kind with their history, names and per-principal partitions,
credentials, usage rows, blobs, time series) and its descendants, in resumable steps, and
leaves a sibling untouched."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.conftest import Api
from tests.functional.test_apitoken import create_token
from tests.functional.test_oauth import credentials
from tests.functional.test_wazo_tokens import W, login

DAY_MS = 86_400_000


@pytest.fixture
def no_auth_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The purge starts once cached principals have aged out (auth_cache_seconds): with the
    cache off it starts at once, so a test can drain the queue."""
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("OPSPLANE_AUTH_CACHE_SECONDS", "0")
    reset_settings()
    yield
    monkeypatch.delenv("OPSPLANE_AUTH_CACHE_SECONDS")
    reset_settings()


def ok(answer: tuple[int, Any]) -> Any:
    status, body = answer
    assert status in (200, 201), body
    return body.get("response", body) if isinstance(body, dict) else body


def populate(api: Api, make_user: Any, tenant: str, name: str) -> dict[str, Any]:
    """A tenant with data of every kind, written through the API by its own administrator
    (and points, histograms and spans through the time series store)."""
    from pynamodb.transactions import TransactWrite

    from chalicelib.store import accessfilters, cloudpulls, series
    from chalicelib.store.models import transaction_connection

    admin = make_user(["#"], tenant=tenant, username=f"{name}-admin", password="admin-password-1")
    h = {"token": admin.token}
    target = ok(
        api.json(
            "POST",
            "/api/v2/notificant",
            {
                "title": "pager",
                "description": "d",
                "method": "WEBHOOK",
                "recipient": "https://hooks.example.com/x",
                "template": "{{name}}",
                "triggers": ["ALERT_OPENED"],
            },
            **h,
        )
    )
    alert_body = {"name": "cpu", "condition": "ts(cpu) > 1", "minutes": 5, "target": f"target:{target['id']}"}
    alert = ok(api.json("POST", "/api/v2/alert", alert_body, **h))
    ok(api.json("PUT", f"/api/v2/alert/{alert['id']}", {**alert_body, "minutes": 7}, **h))
    dash = {"id": "ops", "name": "Ops", "sections": [{"name": "S", "rows": [{"charts": []}]}]}
    ok(api.json("POST", "/api/v2/dashboard", dash, **h))
    ok(api.json("PUT", "/api/v2/dashboard/ops", {**dash, "name": "Ops v2"}, **h))
    # Random text does not compress: the document goes to S3 (store/documents.py).
    big = {**dash, "id": "big", "name": "Big", "description": secrets.token_hex(150_000)}
    ok(api.json("POST", "/api/v2/dashboard", big, **h))
    folder = api.json("POST", "/api/folders", {"title": "Ops"}, **h)
    assert folder[0] == 200, folder
    event = {"name": "deploy", "startTime": 1_700_000_000_000, "annotations": {}, "tags": ["e"]}
    ok(api.json("POST", "/api/v2/event", event, **h))
    ok(api.json("POST", "/api/v2/savedsearch", {"entityType": "ALERT", "query": {"name": "cpu"}}, **h))
    ok(api.json("POST", "/api/v2/apitoken", {"tokenName": "ci"}, **h))
    group = api.json("POST", f"{W}/groups", {"name": "crowd"}, **h)
    assert group[0] == 200, group
    policy = api.json("POST", f"{W}/policies", {"name": "readers", "acl": ["alert.read"]}, **h)
    assert policy[0] == 200, policy
    # A service account with an OAuth client; a session and a refresh token by login.
    robot = f"sa::{name}-robot"
    ok(api.json("POST", "/api/v2/account/serviceaccount", {"identifier": robot, "active": True}, **h))
    creds = credentials(api, robot, token=admin.token)
    status, session = login(api, admin.username, admin.password, {"access_type": "offline", "client_id": "app"})
    assert status == 200, session
    now = int(time.time() * 1000)
    key = series.SeriesKey.of("metric", "cpu.load", "web-1", {"env": "prod"})
    expires = now // 1000 + 86_400
    series.write_points(tenant, [(key, now - 2 * DAY_MS, 1.0), (key, now, 2.0)], expires=expires)
    hist = series.SeriesKey.of("histogram", "latency", "web-1")
    series.write_histograms(tenant, [(hist, series.Histogram(now, ((1.0, 3),)))], expires=expires)
    series.write_spans(
        tenant, [("trace-1", "span-1", {"name": "GET /"}), ("trace-1", "span-2", {"n": 2})], expires=expires
    )
    # What the access endpoint keeps (a day's filter) and a scheduled pull of an integration.
    accessfilters.add(tenant, now // DAY_MS, ["metric:cpu.load"])
    with TransactWrite(connection=transaction_connection()) as tx:
        cloudpulls.follow(tenant, "integration-1", enlisted=True, now=now)(tx)
    return {
        "admin": admin,
        "session": session["data"]["token"],
        "client": creds,
        "series": key,
    }


# ---- what the tables hold ------------------------------------------------------------------------


def _tables() -> dict[str, str]:
    from chalicelib.store.models import EntityItem, TimeseriesItem, TokenItem, UsageItem

    return {
        "entities": str(EntityItem.Meta.table_name),
        "tokens": str(TokenItem.Meta.table_name),
        "usage": str(UsageItem.Meta.table_name),
        "timeseries": str(TimeseriesItem.Meta.table_name),
    }


def every_row_naming(tenant: str) -> set[tuple[str, str, str]]:
    """The oracle: every row of every table (a Scan of moto, the test's own) whose key or any
    text attribute names the tenant, as (table, pk, sk)."""
    from chalicelib.store.models import connection

    client, found = connection().client, set()
    for table, name in _tables().items():
        for page in client.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                texts = [v["S"] for v in item.values() if "S" in v]
                if any(tenant in t for t in texts):
                    found.add((table, item["pk"]["S"], item["sk"]["S"]))
    return found


def tombstones(*tenants: str) -> set[tuple[str, str]]:
    """What a purge leaves of tenants: their records, and each one's audit record of the
    tombstone's write."""
    return {("entities", f"{t}#{suffix}") for t in tenants for suffix in ("tenant", "audit")}


def leftovers(tenant: str, above: list[str]) -> set[tuple[str, str, str]]:
    """every_row_naming(tenant), less the audit logs of the tenants above it (their own
    records of what they did to it), checking that at most one audit record is its own."""
    found = {row for row in every_row_naming(tenant) if row[1] not in {f"{t}#audit" for t in above if t != tenant}}
    assert len([row for row in found if row[1] == f"{tenant}#audit"]) <= 1, sorted(found)
    return found


def blobs_of(tenant: str) -> list[str]:
    from chalicelib.identity.purge import blob_prefixes
    from chalicelib.store import blobs

    return [key for prefix in blob_prefixes(tenant) for key in blobs.keys(prefix, 1000)]


def queried(tenant: str, partitions_before: set[tuple[str, str]], made: dict[str, Any]) -> list[tuple[str, str]]:
    """What Queries by the tenant's keys find: every partition it had (its registry, read
    before the delete), its credentials' partitions, its series and traces."""
    from chalicelib.identity import purge
    from chalicelib.store import partitions, series

    keys: list[tuple[str, str]] = []
    for table, pk in partitions_before - {("entities", f"{tenant}#tenant")}:  # the tombstone stays
        for suffix in ("", "#head", "#name", "#t"):
            keys += [(table, pk + suffix, k[1]) for k in partitions.take(table, pk + suffix, 10)]
    for source, _ in purge.CREDENTIALS:
        for pk in source(tenant):
            keys += [("tokens", k[1]) for k in partitions.take("tokens", pk, 10)]
    keys += [("entities", k[1]) for k in partitions.take("entities", partitions.registry(tenant), 10)]
    for kind in purge.SERIES_KINDS:
        keys += [("timeseries", k[1]) for k in partitions.take("timeseries", f"{tenant}#c#{kind}", 10)]
    key = made["series"]
    keys += [("timeseries", k[1]) for k in partitions.take("timeseries", f"{tenant}#i#metric#{key.metric}", 10)]
    now_day = int(time.time() * 1000) // DAY_MS
    for day in range(now_day - 3, now_day + 1):
        keys += [
            ("timeseries", k[1])
            for k in partitions.take("timeseries", series.data_partition(tenant, "metric", key.id, day), 10)
        ]
    keys += [("timeseries", k[1]) for k in partitions.take("timeseries", f"{tenant}#t#trace-1", 10)]
    return keys


def registered(tenant: str) -> set[tuple[str, str]]:
    from chalicelib.store import partitions

    return set(partitions.listed(tenant, 1000))


# ---- the tests -------------------------------------------------------------------------------------


def test_can_purge_everything_a_tenant_owns_and_leave_its_sibling_untouched(api, make_user, make_tenant, no_auth_cache):
    from chalicelib.identity import tenants
    from chalicelib.workers import local

    # GIVEN a tenant and its sibling with data of every kind, and a client tenant below the first
    doomed, sibling = make_tenant("doomed"), make_tenant("sibling")
    client = make_tenant("client", parent=doomed)
    made = populate(api, make_user, doomed, "doomed")
    populate(api, make_user, client, "client")
    populate(api, make_user, sibling, "sibling")
    before = registered(doomed)
    assert ("entities", f"{doomed}#alert") in before and blobs_of(doomed)
    sibling_rows, sibling_blobs = every_row_naming(sibling), blobs_of(sibling)

    # WHEN the tenant is deleted and the purge queue drained
    assert api.json("DELETE", f"{W}/tenants/{doomed}")[0] == 204
    drained = local.drain(tenants.PURGE_QUEUE)

    # THEN the purge took several steps and none failed
    assert drained.failed == 0 and drained.handled > 1
    # AND Queries by the tenant's keys (and its client's) find nothing
    assert queried(doomed, before, made) == []
    # AND no row of any table names either, but the tombstone records (a client's names its
    # parent) with the audit record of their write, and the audit logs of the tenants above
    for gone in (doomed, client):
        left = leftovers(gone, [api.root, doomed, client])
        assert {(t, pk) for t, pk, _ in left} <= tombstones(doomed, client), sorted(left)
        assert tenants.get_tenant(gone)["deleted"] is True and "name" not in tenants.get_tenant(gone)
        # AND its blobs are gone
        assert blobs_of(gone) == []
    # AND no scheduled pull names it any more
    from chalicelib.store import cloudpulls

    assert {e.tenant for e in cloudpulls.enlisted()} == {sibling}
    # AND the sibling keeps every row and blob it had
    assert every_row_naming(sibling) >= sibling_rows
    assert blobs_of(sibling) == sibling_blobs
    status, alerts = api.json("GET", "/api/v2/alert", token=make_user(["#"], tenant=sibling).token)
    assert status == 200 and alerts["response"]["totalItems"] == 1
    # AND the tenant's slug is free again under its parent, its id is not
    assert api.json("POST", f"{W}/tenants", {"name": "doomed", "slug": "doomed"})[0] == 200
    assert api.json("POST", f"{W}/tenants", {"name": "again", "uuid": doomed})[0] == 409


def test_can_answer_410_for_every_credential_at_once(api, make_user, make_tenant):
    from chalicelib.auth.cache import AUTH_CACHE

    # GIVEN a tenant whose administrator's JWT, session token and API token were all just
    # used (so the container has cached their principals), and its OAuth client
    doomed = make_tenant("doomed")
    made = populate(api, make_user, doomed, "doomed")
    api_token = create_token(api, token=made["admin"].token)
    tokens = [made["admin"].token, made["session"], api_token]
    for token in tokens:
        assert api.json("GET", "/api/v2/alert", token=token)[0] == 200
    assert len(AUTH_CACHE) > 0

    # WHEN it is deleted (nothing purged yet: the purge waits out the cache bound)
    assert api.json("DELETE", f"{W}/tenants/{doomed}")[0] == 204

    # THEN every credential of it answers 410 at once
    for token in tokens:
        status, body = api.json("GET", "/api/v2/alert", token=token)
        assert status == 410, body
    # AND entering it from above does too, and so does reading or changing it
    headers = {"Wazo-Tenant": doomed}
    assert api.json("GET", "/api/v2/alert", headers=headers)[0] == 410
    assert api.json("GET", f"{W}/tenants/{doomed}")[0] == 410
    assert api.json("PUT", f"{W}/tenants/{doomed}", {"active": True})[0] == 410
    # AND it is no longer listed
    listed = api.json("GET", f"{W}/tenants")[1]["items"]
    assert doomed not in {t["uuid"] for t in listed}
    # AND its OAuth client gets no token
    from tests.functional.test_oauth import grant, token_request

    assert token_request(api, grant(made["client"])).status_code in (401, 410)


def test_can_resume_a_purge_interrupted_after_one_step(api, make_user, make_tenant, no_auth_cache):
    from chalicelib.identity import purge, tenants
    from chalicelib.store import queues
    from chalicelib.workers import local

    # GIVEN a deleted tenant whose purge ran one small step, then stopped before it could
    # send the next one (the message sent at deletion is consumed by that step)
    doomed = make_tenant("doomed")
    made = populate(api, make_user, doomed, "doomed")
    before = registered(doomed)
    assert api.json("DELETE", f"{W}/tenants/{doomed}")[0] == 204
    taken = queues.receive(tenants.PURGE_QUEUE)
    assert len(taken) == 1
    assert purge.run(doomed, 0, rows=5) == 1
    queues.delete(tenants.PURGE_QUEUE, [m.receipt for m in taken])
    assert purge.progress(doomed)["step"] == 1

    # WHEN the same message is delivered again, as a first delivery (a duplicate): dropped
    assert purge.run(doomed, 0) is None
    # WHEN it is redelivered after the failure THEN the step it lost is sent again
    assert purge.run(doomed, 0, redelivered=True) == 1
    tenants.enqueue_purge(doomed, 1)
    # AND the purge goes on from there to the end, in many bounded steps
    steps = 1
    while (following := purge.run(doomed, steps, rows=40)) is not None:
        steps = following
    assert steps > 5
    assert purge.progress(doomed)["done"] is True
    # AND a message still queued for an old step changes nothing
    assert local.drain(tenants.PURGE_QUEUE).failed == 0
    assert queried(doomed, before, made) == []
    assert {(t, pk) for t, pk, _ in leftovers(doomed, [api.root])} <= tombstones(doomed)


def test_can_resume_a_stalled_purge_by_deleting_again(api, make_user, make_tenant, no_auth_cache):
    from chalicelib.identity import purge, tenants
    from chalicelib.store import queues
    from chalicelib.workers import local

    # GIVEN a deleted tenant whose purge message was lost
    doomed = make_tenant("doomed")
    populate(api, make_user, doomed, "doomed")
    assert api.json("DELETE", f"{W}/tenants/{doomed}")[0] == 204
    lost = queues.receive(tenants.PURGE_QUEUE)
    queues.delete(tenants.PURGE_QUEUE, [m.receipt for m in lost])

    # WHEN it is deleted again THEN the purge goes on and completes
    assert api.json("DELETE", f"{W}/tenants/{doomed}")[0] == 204
    local.drain(tenants.PURGE_QUEUE)
    assert purge.progress(doomed)["done"] is True
    # AND deleting a purged tenant again is harmless
    assert api.json("DELETE", f"{W}/tenants/{doomed}")[0] == 204
    assert local.drain(tenants.PURGE_QUEUE).handled == 0
