"""The audit log: every dialect's write is recorded in its own transaction with the actor,
credential and source address; secrets never reach a diff; a refused write leaves neither
the change nor its record; GET /api/v2/audit filters, pages newest first, stays in its
tenant and is for the audit_log permission only."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.functional.test_alert import new_alert
from tests.functional.test_wazo_users import login

AUDIT = "/api/v2/audit"
ALERT = "/api/v2/alert"
W = "/api/auth/0.1"


@pytest.fixture
def from_address(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the next requests come from an address (API Gateway's identity.sourceIp)."""
    from chalice.local import LambdaEventConverter

    def use(address: str) -> None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


def jti(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])


def records(api: Any, token: str | None = None, **query: Any) -> list[dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    status, body = api.json("GET", f"{AUDIT}?{qs}" if qs else AUDIT, token=token)
    assert status == 200, body
    return list(body["response"]["items"])


def of(api: Any, entity_id: str, **query: Any) -> list[dict[str, Any]]:
    return records(api, entityId=entity_id, **query)


# ---- every dialect is audited ---------------------------------------------------------------


def test_can_audit_a_wavefront_write_with_actor_credential_and_address(api, from_address):
    # GIVEN the admin calling from 198.51.100.7 with its session token
    from_address("198.51.100.7")
    # WHEN it creates an alert, changes it, tags it, trashes and restores it
    alert = new_alert(api)
    aid = alert["id"]
    changed = {**{k: alert[k] for k in ("name", "condition", "minutes", "severity")}, "name": "cpu higher"}
    assert api.json("PUT", f"{ALERT}/{aid}", changed)[0] == 200
    assert api.json("PUT", f"{ALERT}/{aid}/tag/team-a")[0] == 200
    assert api.json("DELETE", f"{ALERT}/{aid}")[0] == 200
    assert api.json("POST", f"{ALERT}/{aid}/undelete")[0] == 200
    # THEN each change has its record, newest first, naming who, how, from where and what
    found = of(api, aid)
    assert [r["action"] for r in found] == ["undelete", "trash", "tag", "update", "create"]
    for record in found:
        assert record["actor"] == {"id": api.admin, "name": "admin"}
        assert record["credential"] == f"jwt:{jti(api.token)}"
        assert record["source"] == "198.51.100.7"
        assert record["entity"]["kind"] == "alert" and record["entity"]["id"] == aid
    update = found[3]
    assert update["diff"]["before"]["name"] == "cpu high" and update["diff"]["after"]["name"] == "cpu higher"
    assert found[2]["tags"] == {"before": [], "after": ["team-a"]}
    assert found[4]["diff"]["before"] == {} and found[4]["diff"]["after"]["name"] == "cpu high"


def test_can_audit_a_grafana_write(api):
    # WHEN a folder is created through the Grafana dialect
    status, folder = api.json("POST", "/api/folders", {"title": "Ops", "uid": "ops-1"})
    assert status == 200, folder
    # THEN the audit log holds its creation by the admin
    created = records(api, entityKind="folder", action="create")
    assert any(r["diff"]["after"].get("title") == "Ops" for r in created)
    assert all(r["actor"]["id"] == api.admin for r in created)


def test_can_audit_a_wazo_write_and_keep_the_password_out(api):
    # WHEN a user is created through the Wazo dialect, with a password
    status, user = api.json("POST", f"{W}/users", {"username": "bob", "password": "long-enough-1"})
    assert status == 200, user
    # THEN its record shows the account, its password hash redacted
    (created,) = of(api, user["uuid"], action="create")
    assert created["entity"]["kind"] == "account"
    after = created["diff"]["after"]
    assert after["username"] == "bob" and after["password_hash"] == "<redacted>"
    body = json.dumps(records(api))
    assert "long-enough-1" not in body and "$argon" not in body and "pbkdf2" not in body


def test_can_audit_an_api_token_by_its_api_token(api):
    # GIVEN an API token of the admin
    status, body = api.json("POST", "/api/v2/apitoken", {"tokenName": "ci"})
    assert status == 200, body
    secret = body["response"][0]["tokenID"]
    # THEN its creation is audited, its digest redacted, its secret nowhere
    listing = records(api, entityKind="apitoken")
    (created,) = [r for r in listing if r["action"] == "create"]
    assert created["diff"]["after"]["digest"] == "<redacted>"
    assert secret not in json.dumps(listing)
    public_id = created["entity"]["id"]
    # WHEN the token itself creates an alert and is renamed
    status, answer = api.json("POST", ALERT, {**_alert_body()}, token="", headers={"X-AUTH-TOKEN": secret})
    assert status == 200, answer
    assert api.json("PUT", f"/api/v2/apitoken/{public_id}", {"tokenID": public_id, "tokenName": "cd"})[0] == 200
    # THEN the alert's record names the API token as the credential
    (made,) = of(api, answer["response"]["id"])
    assert made["credential"] == f"apitoken:{public_id}"
    renamed = records(api, entityKind="apitoken", action="update")
    assert renamed[0]["diff"] == {"before": {"name": "ci"}, "after": {"name": "cd"}}


def _alert_body() -> dict[str, Any]:
    return {"name": "disk", "condition": "ts(disk.used) > 90", "minutes": 5, "severity": "WARN"}


def test_can_audit_a_login_session_by_its_address(api, from_address):
    # WHEN the admin logs in through Wazo from 203.0.113.9
    from_address("203.0.113.9")
    status, answer = login(api, "admin", "admin-secret-pw")
    assert status == 200, answer
    # THEN the session's creation is recorded with the address, the token nowhere
    found = records(api, entityKind="session")
    assert found[0]["action"] == "create" and found[0]["source"] == "203.0.113.9"
    assert answer["data"]["token"] not in json.dumps(found)


def test_can_record_a_write_outside_any_request_as_the_systems(api):
    # GIVEN a write made by a script (no request, no acting context)
    from chalicelib.domain.context import Context

    ctx = Context.service(api.root)
    ctx.repo("alert").create("script-1", {"name": "from a script"})
    # THEN it is recorded as the system's; and a worker's context names its service principal
    (record,) = of(api, "script-1")
    assert record["actor"] == {"id": None, "name": "system"}
    with ctx.acting():
        ctx.repo("alert").update("script-1", lambda e: e.doc.update(name="by a worker"))
    newest = of(api, "script-1")[0]
    assert newest["actor"] == {"id": "service:opsplane-worker", "name": "opsplane-worker"}
    assert newest["credential"] == "jwt" and newest["source"] is None


# ---- a refused write leaves no record ----------------------------------------------------------


def test_can_leave_neither_change_nor_record_when_the_transaction_is_cancelled(api):
    # GIVEN an alert, and a write that will fail its condition inside the same transaction
    from chalicelib.errors import Conflict, VersionMismatch
    from chalicelib.store import names
    from chalicelib.store.repository import Repository

    repo = Repository(api.root, "alert")
    repo.create("a-1", {"name": "one"})
    taken = names.reserve(api.root, "probe", "held", {"x": 1})
    repo.create("a-2", {"name": "two"}, extra=taken)
    before = records(api, entityKind="alert")
    # WHEN a create and an update each carry a write whose condition fails (the name is held)
    with pytest.raises(Conflict):
        repo.create("a-3", {"name": "three"}, extra=names.reserve(api.root, "probe", "held", {"x": 2}))
    with pytest.raises(VersionMismatch):
        repo.update("a-1", lambda e: e.doc.update(name="uno"), extra=names.reserve(api.root, "probe", "held", {}))
    # THEN neither change landed, and no record was written
    assert repo.find("a-3") is None and repo.get("a-1").doc["name"] == "one"
    assert records(api, entityKind="alert") == before


def test_can_leave_no_record_when_a_racing_write_wins(api):
    # GIVEN an alert changed by someone else between the read and the write of an update
    from chalicelib.errors import VersionMismatch
    from chalicelib.store.repository import Repository

    repo = Repository(api.root, "alert", history=True)
    repo.create("race", {"name": "start"})

    def meanwhile(entity: Any) -> None:
        if entity.doc["name"] == "start":
            repo.update("race", lambda e: e.doc.update(name="winner"))
        entity.doc["name"] = "loser"

    # WHEN the update is written
    with pytest.raises(VersionMismatch):
        repo.update("race", meanwhile)
    # THEN only the winner's change is recorded
    found = of(api, "race")
    assert [r["action"] for r in found] == ["update", "create"]
    assert found[0]["diff"]["after"] == {"name": "winner"}


def test_can_refuse_a_stale_version_with_no_record(api):
    # GIVEN an alert at version 1 changed once (now at 2)
    alert = new_alert(api)
    body = {k: alert[k] for k in ("name", "condition", "minutes", "severity")}
    assert api.json("PUT", f"{ALERT}/{alert['id']}", {**body, "name": "n2"})[0] == 200
    # WHEN a write names version 1
    status, _ = api.json("PUT", f"{ALERT}/{alert['id']}", {**body, "name": "n3", "version": 1})
    # THEN it is refused and leaves no record
    assert status == 409
    assert [r["action"] for r in of(api, alert["id"])] == ["update", "create"]


# ---- secrets --------------------------------------------------------------------------------


def test_can_redact_secret_fields_at_any_depth():
    from chalicelib.store.audit import diff

    before = {"url": "https://x", "headers": {"Authorization": "Bearer abc"}, "apiKey": "k1"}
    after = {"url": "https://y", "headers": {"Authorization": "Bearer def"}, "apiKey": "k2", "password": "p"}
    found = diff(before, after)
    text = json.dumps(found)
    for secret in ("abc", "def", "k1", "k2", '"p"'):
        assert secret not in text
    assert found["after"]["url"] == "https://y" and found["after"]["password"] == "<redacted>"


def test_can_keep_only_names_of_a_diff_too_large_for_a_record():
    from chalicelib.store.audit import MAX_DIFF_CHARS, diff

    found = diff({"body": "a"}, {"body": "b" * (MAX_DIFF_CHARS + 1), "name": "x"})
    assert found == {"changed": ["body", "name"], "truncated": True}


# ---- reading ---------------------------------------------------------------------------------


def test_can_filter_by_kind_actor_action_and_time(api, make_user):
    # GIVEN alerts by the admin and by another user
    other = make_user(["alert.#"])
    first = new_alert(api)
    mine = new_alert(api, token=other.token)
    found = records(api)
    cut = min(r["at"] for r in found if r["entity"]["id"] == mine["id"])
    # THEN each filter keeps only its records
    assert {r["entity"]["id"] for r in records(api, entityKind="alert", actor=other.username)} == {mine["id"]}
    assert {r["entity"]["id"] for r in records(api, entityKind="alert", actor=other.uuid)} == {mine["id"]}
    assert all(r["action"] == "create" for r in records(api, action="create"))
    assert records(api, entityKind="nothing") == []
    early = records(api, entityKind="alert", to=cut - 1)
    assert first["id"] in {r["entity"]["id"] for r in early} and mine["id"] not in {r["entity"]["id"] for r in early}
    assert all(r["at"] >= cut for r in records(api, **{"from": cut}))


def test_can_page_newest_first_by_signed_cursor(api):
    # GIVEN seven alerts
    made = [new_alert(api)["id"] for _ in range(7)]
    # WHEN their records are read three at a time
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        path = f"{AUDIT}?entityKind=alert&limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, body = api.json("GET", path)
        assert status == 200, body
        seen += body["response"]["items"]
        cursor = body["response"].get("cursor")
        if not body["response"]["moreItems"]:
            break
    # THEN every record comes once, newest first
    assert [r["entity"]["id"] for r in seen] == list(reversed(made))
    ats = [r["at"] for r in seen]
    assert ats == sorted(ats, reverse=True)
    # AND a cursor edited, or used with other filters, is refused
    status, body = api.json("GET", f"{AUDIT}?entityKind=alert&limit=3")
    good = body["response"]["cursor"]
    assert api.json("GET", f"{AUDIT}?entityKind=event&limit=3&cursor={good}")[0] == 400
    assert api.json("GET", f"{AUDIT}?entityKind=alert&limit=3&cursor={good[:-2]}xx")[0] == 400


def test_can_read_records_with_the_real_client_shape(api):
    new_alert(api)
    status, body = api.json("GET", f"{AUDIT}?limit=2")
    assert status == 200
    page = body["response"]
    assert {"items", "offset", "limit", "totalItems", "moreItems"} <= set(page)


def test_can_keep_another_tenants_records_invisible(api, make_tenant, make_user):
    # GIVEN a change in a sub-tenant by its own admin
    other = make_tenant("acme")
    admin = make_user(["#"], tenant=other)
    theirs = new_alert(api, token=admin.token)
    # THEN the sub-tenant sees it, the root tenant does not
    assert theirs["id"] in {r["entity"]["id"] for r in records(api, token=admin.token)}
    assert theirs["id"] not in {r["entity"]["id"] for r in records(api)}
    # AND the root's admin entering the sub-tenant sees the sub-tenant's, not its own
    status, body = api.json("GET", AUDIT, headers={"X-Tenant-Id": other})
    assert status == 200
    ids = {r["entity"]["id"] for r in body["response"]["items"]}
    assert theirs["id"] in ids


def test_can_refuse_the_log_to_an_account_without_audit_log(api, make_user):
    # GIVEN an account with Browse and every management permission but the audit log
    from chalicelib.auth import permissions

    acl = permissions.patterns_of([n for n in permissions.names() if n != "audit_log"])
    user = make_user(acl)
    # THEN reading the log is refused; one granted audit_log reads it
    assert api.json("GET", AUDIT, token=user.token)[0] == 403
    reader = make_user(permissions.patterns("audit_log"))
    assert api.json("GET", AUDIT, token=reader.token)[0] == 200


def test_can_refuse_bad_query_parameters(api):
    assert api.json("GET", f"{AUDIT}?limit=0")[0] == 400
    assert api.json("GET", f"{AUDIT}?from=20&to=10")[0] == 400
    assert api.json("GET", f"{AUDIT}?actor={'x' * 600}")[0] == 400
    assert api.json("GET", f"{AUDIT}?cursor=garbage")[0] == 400


def test_can_expire_records_after_the_retention(api):
    # GIVEN a record THEN its TTL is the retention setting away
    from chalicelib.settings import get_settings
    from chalicelib.store.models import EntityItem

    new_alert(api)
    (item,) = list(EntityItem.query(f"{api.root}#audit", limit=1))
    days = (item.expires.timestamp() * 1000 - item.created) / 86_400_000
    assert round(days) == get_settings().audit_retention_days
