"""Tenant export / import (/api/v2/export, /api/v2/import): one document of the tenant's
configuration, written into another tenant with ids kept or remapped; the round trip is
exact (export(import(export(A))) == export(A))."""

from __future__ import annotations

import json
from typing import Any

EXPORT, IMPORT = "/api/v2/export", "/api/v2/import"
TARGET = {
    "description": "on call",
    "method": "WEBHOOK",
    "recipient": "https://hooks.example.com/x",
    "template": "{{name}}",
    "triggers": ["ALERT_OPENED"],
}


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
    assert doc["format"] == "opsplane-export" and doc["version"] == 1
    assert list(doc["kinds"]) == [
        "notificant",
        "alert",
        "maintenancewindow",
        "event",
        "derivedmetric",
        "extlink",
        "source",
        "folder",
        "dashboard",
    ]
    for entries in doc["kinds"].values():
        assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
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
    grafana = exported["kinds"]["dashboard"][0]["id"]
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
