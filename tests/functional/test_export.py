"""Tenant export / import (/api/v2/export, /api/v2/import): one document of the tenant's
configuration, written into another tenant with ids kept or remapped; the round trip is
exact (export(import(export(A))) == export(A))."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional.conftest import mint

EXPORT, IMPORT = "/api/v2/export", "/api/v2/import"
TARGET = {
    "description": "on call",
    "method": "WEBHOOK",
    "recipient": "https://hooks.example.com/x",
    "template": "{{name}}",
    "triggers": ["ALERT_OPENED"],
}


# Every tenant's own Everyone group and role, as the document names them (export_identity).
EVERYONE = {"policy": "everyone-role", "group": "everyone"}


def own_ids(doc: dict[str, Any]) -> dict[str, list[str]]:
    """The ids of a document's entries per section, less Everyone's (every tenant has them)."""
    return {k: [e["id"] for e in v if e["id"] != EVERYONE.get(k)] for k, v in doc["kinds"].items()}


def ok(result: tuple[int, Any]) -> Any:
    status, body = result
    assert status == 200, body
    return body.get("response", body) if isinstance(body, dict) else body


def in_tenant(tenant: str) -> dict[str, str]:
    return {"X-Tenant-Id": tenant}


def export(api, tenant: str) -> dict[str, Any]:
    status, body = api.json("GET", EXPORT, headers=in_tenant(tenant))
    assert status == 200, body
    return body


def import_(api, tenant: str, doc: dict[str, Any], ids: str = "keep") -> tuple[int, Any]:
    return api.json("POST", f"{IMPORT}?ids={ids}", doc, headers=in_tenant(tenant))


def seed(api, tenant: str) -> dict[str, str]:
    """A small tenant: an alert target, an alert naming it (edited once, so two versions),
    a folder with a Grafana dashboard, a Wavefront dashboard, an event, a source."""
    h = in_tenant(tenant)
    target = ok(api.json("POST", "/api/v2/notificant", {**TARGET, "title": "pager"}, headers=h))
    alert_body = {"name": "cpu", "condition": "ts(cpu) > 1", "minutes": 5, "target": f"target:{target['id']}"}
    alert = ok(api.json("POST", "/api/v2/alert", {**alert_body, "tags": {"customerTags": ["a"]}}, headers=h))
    ok(api.json("PUT", f"/api/v2/alert/{alert['id']}", {**alert_body, "minutes": 7}, headers=h))
    folder = api.json("POST", "/api/folders", {"title": "Ops"}, headers=h)[1]
    dash = {"dashboard": {"title": "Grafana one", "tags": ["g"], "panels": []}, "folderUid": folder["uid"]}
    saved = api.json("POST", "/api/dashboards/db", dash, headers=h)[1]
    wf = {"id": "wf-dash", "name": "Wavefront one", "sections": [{"name": "S", "rows": [{"charts": []}]}]}
    ok(api.json("POST", "/api/v2/dashboard", wf, headers=h))
    event = {"name": "deploy", "startTime": 1_700_000_000_000, "annotations": {}, "tags": ["e"]}
    ok(api.json("POST", "/api/v2/event", event, headers=h))
    source = {"id": "web-1", "sourceName": "web-1", "description": "web", "tags": {"prod": True}}
    ok(api.json("POST", "/api/v2/source", source, headers=h))
    return {"target": target["id"], "alert": alert["id"], "folder": folder["uid"], "dashboard": saved["uid"]}


def test_can_export_a_tenant_as_one_document_in_a_fixed_order(api, make_tenant):
    # GIVEN a tenant with a few kinds
    tenant = make_tenant("source")
    made = seed(api, tenant)
    # WHEN it is exported
    doc = export(api, tenant)
    # THEN one versioned document, kinds in a fixed order, entities in id order
    assert doc["format"] == "opsplane-export" and doc["version"] == 2
    assert list(doc["kinds"]) == [
        "policy",
        "group",
        "accesspolicy",
        "notificant",
        "alert",
        "maintenancewindow",
        "event",
        "derivedmetric",
        "extlink",
        "source",
        "folder",
        "dashboard",
        "ingestionpolicy",
        "savedsearch",
        "cloudintegration",
    ]
    for section, entries in doc["kinds"].items():
        # saved searches come by owner, then id
        key = (lambda e: (e["doc"]["_owner"], e["id"])) if section == "savedsearch" else (lambda e: e["id"])
        assert entries == sorted(entries, key=key)
    alert = doc["kinds"]["alert"][0]
    assert alert["id"] == made["alert"] and [v["doc"]["minutes"] for v in alert["versions"]] == [5, 7]
    assert alert["doc"]["target"] == f"target:{made['target']}"
    # ... tenant-local bookkeeping is not in it
    text = json.dumps(doc)
    assert "created" not in text and "_number" not in text and "creatorId" not in text


def test_can_round_trip_exactly_with_ids_kept(api, make_tenant):
    # GIVEN a tenant and its export
    first, second = make_tenant("first"), make_tenant("second")
    seed(api, first)
    exported = export(api, first)
    # WHEN it is imported into an empty tenant, keeping ids
    written = ok(import_(api, second, exported))
    # THEN everything was written, and the second tenant exports the same document
    assert written["written"]["dashboard"] == 2 and written["written"]["alert"] == 1
    assert export(api, second) == exported
    # ... and the imported entities work through their own routes
    h = in_tenant(second)
    alert_id = exported["kinds"]["alert"][0]["id"]
    assert ok(api.json("GET", f"/api/v2/alert/{alert_id}/history", headers=h))["totalItems"] == 2
    grafana = next(d["id"] for d in exported["kinds"]["dashboard"] if d["doc"]["_dialect"] == "grafana")
    status, got = api.json("GET", f"/api/dashboards/uid/{grafana}", headers=h)
    assert status == 200 and got["meta"]["folderUid"] == exported["kinds"]["folder"][0]["id"]


def test_can_refuse_a_whole_import_when_an_id_or_a_name_is_taken(api, make_tenant):
    # GIVEN a tenant's export
    first = make_tenant("first")
    seed(api, first)
    exported = export(api, first)
    # WHEN it is imported into the same tenant: with ids kept, every id is taken
    status, error = import_(api, first, exported)
    # THEN 409 naming the first entity, and nothing written
    assert status == 409 and "notificant[" in error["status"]["message"]
    assert export(api, first) == exported
    # ... remapped, the source (named, not numbered) and then the folder's title are taken
    status, error = import_(api, first, exported, ids="remap")
    assert status == 409 and "source[web-1].id" in error["status"]["message"]
    del exported["kinds"]["source"]
    status, error = import_(api, first, exported, ids="remap")
    assert status == 409 and "folder[" in error["status"]["message"], error
    assert export(api, first)["kinds"]["alert"] == exported["kinds"]["alert"]


def test_can_remap_into_another_tenant_with_references_rewritten(api, make_tenant):
    first, second = make_tenant("first"), make_tenant("second")
    made = seed(api, first)
    exported = export(api, first)
    result = ok(import_(api, second, exported, ids="remap"))
    ids = result["ids"]
    h = in_tenant(second)
    new_target, new_alert = ids["notificant"][made["target"]], ids["alert"][made["alert"]]
    assert new_target != made["target"] and new_alert != made["alert"]
    # THEN the alert names the new target, the dashboard the new folder (and its own uid)
    alert = ok(api.json("GET", f"/api/v2/alert/{new_alert}", headers=h))
    assert alert["target"] == f"target:{new_target}"
    new_dash, new_folder = ids["dashboard"][made["dashboard"]], ids["folder"][made["folder"]]
    got = api.json("GET", f"/api/dashboards/uid/{new_dash}", headers=h)[1]
    assert got["meta"]["folderUid"] == new_folder and got["dashboard"]["uid"] == new_dash
    # ... and the source, named not numbered, kept its id
    assert ids["source"] == {"web-1": "web-1"}


def test_can_refuse_a_bad_document_naming_the_entity_and_field_and_write_nothing(api, make_tenant):
    # GIVEN a valid export whose last alert target is broken, and one whose alert names a
    # target that is neither in the document nor in the tenant
    first, second = make_tenant("first"), make_tenant("second")
    made = seed(api, first)
    exported = export(api, first)
    broken = json.loads(json.dumps(exported))
    broken["kinds"]["notificant"][0]["doc"]["method"] = "CARRIER_PIGEON"
    dangling = json.loads(json.dumps(exported))
    dangling["kinds"]["notificant"] = []
    # WHEN they are imported
    for doc, where in (
        (broken, f"notificant[{made['target']}].doc: method"),
        (dangling, f"alert[{made['alert']}].versions[0].doc: target: no alert target"),
    ):
        status, error = import_(api, second, doc)
        # THEN 400 naming the entity and the field, and nothing written
        assert status == 400 and error["status"]["message"].startswith(where), error
    assert all(not ids for ids in own_ids(export(api, second)).values())
    # ... and a document that is not an export is refused whole
    for bad in ({}, {"format": "opsplane-export", "version": 1, "kinds": {}}, {**exported, "kinds": {"x": []}}):
        assert import_(api, second, bad)[0] == 400
    assert import_(api, second, exported, ids="sideways")[0] == 400


def test_can_keep_secrets_and_other_tenants_out_of_the_export(api, make_tenant, make_user):
    # GIVEN a tenant with a user (password) holding an API token, and another tenant's alert
    tenant, other = make_tenant("mine"), make_tenant("other")
    seed(api, tenant)
    user = make_user(["#"], tenant=tenant, password="very-secret-password")
    status, token = api.json("POST", "/api/v2/apitoken", {}, token=user.token)
    assert status == 200, token
    ok(
        api.json(
            "POST", "/api/v2/alert", {"name": "theirs", "condition": "ts(x)", "minutes": 1}, headers=in_tenant(other)
        )
    )
    # WHEN the tenant is exported
    text = json.dumps(export(api, tenant))
    # THEN neither the password, nor its hash, nor the token, nor the other tenant's alert is in it
    assert "very-secret-password" not in text and "theirs" not in text
    secret = token["response"][-1]["tokenID"]
    assert secret not in text and "hash" not in text.lower()


def test_can_refuse_export_and_import_without_the_tenant_admin_permission(api, make_tenant, make_user):
    # GIVEN a user who manages alerts and dashboards but not accounts
    tenant = make_tenant("t")
    user = make_user(["alert.#", "dashboard.#", "*.read", "*.*.read"], tenant=tenant)
    # THEN neither route answers it
    assert api.json("GET", EXPORT, token=user.token)[0] == 403
    doc = {"format": "opsplane-export", "version": 2, "kinds": {}}
    assert api.json("POST", IMPORT, doc, token=user.token)[0] == 403
    # ... while an account administrator may
    admin = make_user(["export.#"], tenant=tenant)
    assert api.json("GET", EXPORT, token=admin.token)[0] == 200
    assert api.json("POST", IMPORT, doc, token=admin.token)[0] == 200


def test_can_answer_a_large_export_with_a_download(api, make_tenant, monkeypatch):
    # GIVEN a tenant whose export exceeds the answer bound
    from chalicelib.settings import reset_settings
    from chalicelib.store import blobs

    tenant = make_tenant("big")
    seed(api, tenant)
    whole = export(api, tenant)
    blobs.create_bucket()
    monkeypatch.setenv("OPSPLANE_MAX_DOCUMENT_BYTES", "1000")
    reset_settings()
    try:
        # WHEN it is exported
        resp = api.call("GET", EXPORT, headers=in_tenant(tenant))
    finally:
        monkeypatch.delenv("OPSPLANE_MAX_DOCUMENT_BYTES")
        reset_settings()
    # THEN 303 to a download of the same document, stored in the blobs bucket
    assert resp.status_code == 303
    answer = json.loads(resp.body)
    assert resp.headers["Location"] == answer["url"]
    key = "exports/" + answer["url"].split("?")[0].split("/exports/", 1)[1]
    assert json.loads(blobs.get(key)) == whole and answer["bytes"] == len(blobs.get(key))


# ---- the round trip over generated tenants ---------------------------------------------------

NAMES = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
TAGS = st.lists(st.sampled_from(["a", "b.c", "d-e", "f:g"]), max_size=3, unique=True)


PERMISSIONS = ["alerts_management", "dashboard_management", "events_management"]
HOLDERS = st.sets(st.integers(0, 1))  # which accounts (or roles) of the tenant


@st.composite
def tenants(draw: Any) -> dict[str, Any]:
    """A tenant's worth of writes: targets, alerts naming them (edited, trashed), folders
    with dashboards (saved again), events, windows, derived metrics, links, sources."""
    return {
        "targets": draw(st.integers(0, 2)),
        "alerts": draw(st.lists(st.tuples(NAMES, TAGS, st.integers(0, 2), st.booleans()), max_size=3)),
        "folders": draw(st.lists(NAMES, max_size=2, unique=True)),
        "dashboards": draw(st.lists(st.tuples(NAMES, TAGS, st.integers(1, 3)), max_size=3, unique_by=lambda d: d[0])),
        "events": draw(st.lists(st.tuples(NAMES, TAGS, st.integers(0, 10**9)), max_size=2)),
        "windows": draw(st.integers(0, 1)),
        "metrics": draw(st.integers(0, 1)),
        "links": draw(st.integers(0, 1)),
        "sources": draw(st.lists(st.tuples(NAMES, TAGS), max_size=2, unique_by=lambda s: s[0])),
        # identity and policies: accounts (referenced, moved to the copy), roles held by
        # some of them, groups of them with roles, the access policy, ingestion policies,
        # saved searches of the first account, cloud integrations (trashed or not)
        "accounts": draw(st.integers(0, 2)),
        "roles": draw(st.lists(st.tuples(NAMES, st.sets(st.sampled_from(PERMISSIONS)), HOLDERS), max_size=2)),
        "groups": draw(st.lists(st.tuples(NAMES, HOLDERS, HOLDERS), max_size=2)),
        "access": draw(st.booleans()),
        "ingestion": draw(st.lists(st.sampled_from(["ACCOUNT", "GROUP", "SOURCE"]), max_size=2)),
        "searches": draw(st.lists(st.sampled_from(["ALERT", "DASHBOARD"]), max_size=2)),
        "clouds": draw(st.lists(st.booleans(), max_size=1)),
    }


def build(api, tenant: str, spec: dict[str, Any]) -> list[Any]:
    """Write the generated tenant; answers its accounts."""
    h = in_tenant(tenant)
    targets = [
        ok(api.json("POST", "/api/v2/notificant", {**TARGET, "title": f"t{i}"}, headers=h))["id"]
        for i in range(spec["targets"])
    ]
    for i, (name, tags, edits, trashed) in enumerate(spec["alerts"]):
        body = {"name": name, "condition": "ts(cpu) > 1", "minutes": 1, "tags": {"customerTags": tags}}
        if targets:
            body["target"] = f"target:{targets[i % len(targets)]}"
        alert = ok(api.json("POST", "/api/v2/alert", body, headers=h))
        for n in range(edits):
            ok(api.json("PUT", f"/api/v2/alert/{alert['id']}", {**body, "minutes": n + 2}, headers=h))
        if trashed:
            ok(api.json("DELETE", f"/api/v2/alert/{alert['id']}", headers=h))
    folders = [api.json("POST", "/api/folders", {"title": t}, headers=h)[1]["uid"] for t in spec["folders"]]
    for i, (title, tags, saves) in enumerate(spec["dashboards"]):
        folder = folders[i % len(folders)] if folders else ""
        uid = None
        for n in range(saves):
            dash = {"title": title, "tags": tags, "panels": [], "n": n, **({"uid": uid} if uid else {})}
            saved = api.json(
                "POST", "/api/dashboards/db", {"dashboard": dash, "folderUid": folder, "overwrite": True}, headers=h
            )
            assert saved[0] == 200, saved
            uid = saved[1]["uid"]
    for name, tags, start in spec["events"]:
        event = {"name": name, "startTime": 1_600_000_000_000 + start, "annotations": {}, "tags": tags}
        ok(api.json("POST", "/api/v2/event", event, headers=h))
    for i in range(spec["windows"]):
        window = {
            "title": f"w{i}",
            "reason": "r",
            "startTimeInSeconds": 4_000_000_000,
            "endTimeInSeconds": 4_000_000_100,
        }
        ok(api.json("POST", "/api/v2/maintenancewindow", {**window, "relevantCustomerTags": ["x"]}, headers=h))
    for i in range(spec["metrics"]):
        ok(api.json("POST", "/api/v2/derivedmetric", {"name": f"m{i}", "query": "ts(x)", "minutes": 5}, headers=h))
    for i in range(spec["links"]):
        link = {"name": f"l{i}", "description": "d", "template": "https://x.example.com/{{source}}"}
        ok(api.json("POST", "/api/v2/extlink", link, headers=h))
    for name, tags in spec["sources"]:
        source = {"id": name, "sourceName": name, "tags": dict.fromkeys(tags, True)}
        ok(api.json("POST", "/api/v2/source", source, headers=h))
    return build_identity(api, tenant, spec)


def build_identity(api, tenant: str, spec: dict[str, Any]) -> list[Any]:
    from chalicelib.identity import accounts as identity

    h = in_tenant(tenant)
    users = []
    for _ in range(spec["accounts"]):
        name = f"u{uuid.uuid4().hex[:10]}"
        made = identity.create_account(tenant, username=name, password=None, fields={"acl": ["savedsearch.#"]})
        users.append((made.id, name, mint(made.id, tenant, name)))
    roles = []
    for name, perms, holders in spec["roles"]:
        role = ok(api.json("POST", "/api/v2/role", {"name": name, "permissions": sorted(perms)}, headers=h))
        assignees = [users[i][0] for i in holders if i < len(users)]
        if assignees:
            ok(api.json("POST", f"/api/v2/role/{role['id']}/addAssignees", assignees, headers=h))
        roles.append(role["id"])
    groups = []
    for name, members, held_roles in spec["groups"]:
        wanted = [roles[i] for i in held_roles if i < len(roles)]
        group = ok(api.json("POST", "/api/v2/usergroup", {"name": name, "roleIDs": wanted}, headers=h))
        member_ids = [users[i][0] for i in members if i < len(users)]
        if member_ids:
            ok(api.json("POST", f"/api/v2/usergroup/{group['id']}/addUsers", member_ids, headers=h))
        groups.append(group["id"])
    if spec["access"]:
        rules = [{"action": "ALLOW", "subnet": "0.0.0.0/0"}, {"action": "DENY", "subnet": "10.0.0.0/8", "name": "n"}]
        ok(api.json("PUT", "/api/v2/accesspolicy", {"policyRules": rules}, headers=h))
    for i, scope in enumerate(spec["ingestion"]):
        body: dict[str, Any] = {"name": f"p{i}", "scope": scope, "isLimited": True, "limitPPS": 10 + i}
        if scope == "ACCOUNT" and users:
            body["accounts"] = [users[0][0]]
        elif scope == "GROUP" and groups:
            body["groups"] = groups[-1:]
        else:
            body.update(scope="SOURCE", sources=["web-*"])
        ok(api.json("POST", "/api/v2/usage/ingestionpolicy", body, headers=h))
    for entity_type in spec["searches"] if users else []:
        search = {"entityType": entity_type, "query": {"name": entity_type.lower()}}
        ok(api.json("POST", "/api/v2/savedsearch", search, token=users[0][2]))
    for trashed in spec["clouds"]:
        external = ok(api.json("POST", "/api/v2/cloudintegration/awsExternalId", headers=h))
        creds = {"roleArn": "arn:aws:iam::123456789012:role/x", "externalId": external}
        body = {"name": "aws", "service": "EC2", "ec2": {"baseCredentials": creds, "hostNameTags": ["Name"]}}
        integration = ok(api.json("POST", "/api/v2/cloudintegration", body, headers=h))
        if trashed:
            ok(api.json("DELETE", f"/api/v2/cloudintegration/{integration['id']}", headers=h))
    return users


def move_accounts(users: list[Any], source: str, target: str) -> None:
    """The same people in another tenant (usernames are unique per installation): each
    account leaves the source and is made again, same id and username, in the target."""
    from chalicelib.identity import accounts as identity
    from chalicelib.identity import directory

    for account_id, name, _ in users:
        directory.delete_account(source, account_id)
        identity.create_account(target, username=name, password=None, account_uuid=account_id)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=tenants())
def test_can_round_trip_any_generated_tenant_exactly(api, make_tenant, spec):
    # GIVEN a generated tenant A and its export
    source, copy, again = make_tenant("a"), make_tenant("b"), make_tenant("c")
    users = build(api, source, spec)
    exported = export(api, source)
    from chalicelib.identity import accounts as identity

    # WHEN it is imported into a tenant with the same accounts (and nothing else) with ids
    # kept, and into an empty one with ids remapped (references to accounts dropped)
    move_accounts(users, source, copy)
    ok(import_(api, copy, exported))
    remapped = ok(import_(api, again, exported, ids="remap"))
    # THEN export(import(export(A))) == export(A)
    assert export(api, copy) == exported
    # ... and the remapped copy is the same tenant under other ids
    again_doc = export(api, again)
    for section, entries in exported["kinds"].items():
        mapping = remapped["ids"].get(section, {})
        kept = [e for e in entries if e["id"] in mapping]
        assert all(f"{section}[{e['id']}]" in remapped["dropped"] for e in entries if e["id"] not in mapping)
        # (Everyone's group and role map onto the tenant's own, which its document names alike)
        alias = EVERYONE.get(section)
        assert {alias if e["id"] == alias else mapping[e["id"]] for e in kept} == {
            e["id"] for e in again_doc["kinds"][section]
        }
    assert remapped["ids"]["group"][EVERYONE["group"]] == identity.everyone_id(again)
