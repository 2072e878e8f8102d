"""Dashboards and folders through the unmodified grafana-client against the live server:
the version probe, save with Grafana's conflict rules, get, versions (limit/start as the
client sends them: a form body on the GET), restore, folders, search, stars, tags, delete.

Each test works in a fresh sub-tenant as a user who may do anything there, so listings and
searches hold only what the test made."""

from __future__ import annotations

import json
import random
import string

import pytest
import requests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from tests.e2e.clients import new_tenant_admin, unique

pytestmark = pytest.mark.e2e


@pytest.fixture
def grafana(server, admin_token) -> GrafanaApi:
    """grafana-client as its users build it: a URL and a bearer token."""
    person = new_tenant_admin(server.url, admin_token)
    return GrafanaApi.from_url(server.url, credential=person.token, timeout=30)


def _create(grafana: GrafanaApi, title: str, **fields: object) -> dict:
    return grafana.dashboard.update_dashboard({"dashboard": {"title": title, "tags": [], "panels": []}, **fields})


def test_can_report_the_grafana_version(grafana):
    # WHEN the client probes the version THEN it reads the configured Grafana version
    assert grafana.version == "10.4.0"
    assert grafana.health.check()["edition"] == "Open Source"


def test_can_create_get_update_overwrite_and_delete(grafana):
    # GIVEN a dashboard created through the client
    created = _create(grafana, "E2E board", message="first")
    uid = created["uid"]
    assert created["status"] == "success" and created["version"] == 1 and created["slug"] == "e2e-board"
    # WHEN it is read back
    got = grafana.dashboard.get_dashboard(uid)
    assert got["dashboard"]["title"] == "E2E board" and got["meta"]["version"] == 1
    # WHEN the client saves what it read, with its meta (as update_dashboard users do)
    got["dashboard"]["panels"] = [{"type": "text", "title": "hello"}]
    saved = grafana.dashboard.update_dashboard({"dashboard": got["dashboard"], "meta": got["meta"], "message": "two"})
    assert saved["version"] == 2
    # WHEN a stale copy is saved THEN the client raises its 412 error with Grafana's status
    with pytest.raises(GrafanaClientError) as stale:
        grafana.dashboard.update_dashboard({"dashboard": {**got["dashboard"], "version": 1}})
    assert stale.value.status_code == 412 and stale.value.response["status"] == "version-mismatch"
    # WHEN the same title is created again THEN name-exists
    with pytest.raises(GrafanaClientError) as same:
        _create(grafana, "e2e BOARD")
    assert same.value.status_code == 412 and same.value.response["status"] == "name-exists"
    # WHEN the stale copy is saved with overwrite THEN it wins
    over = grafana.dashboard.update_dashboard({"dashboard": {**got["dashboard"], "version": 1}, "overwrite": True})
    assert over["version"] == 3
    # WHEN deleted THEN the client gets Grafana's answer and the dashboard is gone
    deleted = grafana.dashboard.delete_dashboard(uid)
    assert deleted["uid"] == uid and deleted["message"] == "Dashboard E2E board deleted"
    with pytest.raises(GrafanaClientError) as gone:
        grafana.dashboard.get_dashboard(uid)
    assert gone.value.status_code == 404


def test_can_list_versions_get_one_and_restore(grafana):
    uid = _create(grafana, "Versioned", message="v1")["uid"]
    for n in (2, 3):
        grafana.dashboard.update_dashboard({"dashboard": {"uid": uid, "title": f"Versioned {n}", "version": n - 1}})
    versions = grafana.dashboard_versions
    assert [v["version"] for v in versions.get_dashboard_versions_by_uid(uid)] == [3, 2, 1]
    # limit / start travel as a form body on the GET: both are honoured
    assert [v["version"] for v in versions.get_dashboard_versions_by_uid(uid, limit=1, start=1)] == [2]
    assert [v["version"] for v in versions.get_dashboard_versions_by_uid(uid, limit=2)] == [3, 2]
    one = versions.get_dashboard_version_by_uid(uid, 1)
    assert one["message"] == "v1" and one["data"]["title"] == "Versioned"
    restored = versions.restore_dashboard_by_uid(uid, 1)
    assert restored["version"] == 4
    assert grafana.dashboard.get_dashboard(uid)["dashboard"]["title"] == "Versioned"
    assert versions.get_dashboard_versions_by_uid(uid, limit=1)[0]["message"] == "Restored from version 1"


def test_can_manage_folders(grafana):
    made = grafana.folder.create_folder("Team", uid="team")
    assert made["uid"] == "team" and made["version"] == 1
    child = grafana.folder.create_folder("Child", parent_uid="team")
    assert grafana.folder.get_folder("team")["title"] == "Team"
    renamed = grafana.folder.update_folder("team", title="Team 2", version=1)
    assert renamed["title"] == "Team 2" and renamed["version"] == 2
    with pytest.raises(GrafanaClientError) as stale:
        grafana.folder.update_folder("team", title="Team 3", version=1)
    assert stale.value.status_code == 412
    assert [f["uid"] for f in grafana.folder.get_all_folders()] == ["team"]
    assert [f["uid"] for f in grafana.folder.get_all_folders(parent_uid="team")] == [child["uid"]]
    moved = grafana.folder.move_folder(child["uid"], "")
    assert moved["parentUid"] == ""
    _create(grafana, "In team", folderUid="team")
    # A folder with a dashboard is refused, unless forceDeleteRules cascades
    with pytest.raises(GrafanaClientError) as refused:
        grafana.folder.delete_folder("team")
    assert refused.value.status_code == 400
    assert grafana.folder.delete_folder("team", force_delete_rules=True)["message"] == "Folder deleted"
    assert [f["uid"] for f in grafana.folder.get_all_folders()] == [child["uid"]]
    assert grafana.search.search_dashboards(query="In team") == []


def test_can_search_star_and_count_tags(grafana):
    tag = unique("tag")
    uids: list[str] = []
    for i in range(3):
        body = {"dashboard": {"title": f"Search {i}", "tags": [tag, f"n{i}"]}}
        uids.append(grafana.dashboard.update_dashboard(body)["uid"])
    found = grafana.search.search_dashboards(tag=tag)
    assert [h["uid"] for h in found] == uids and all(h["type"] == "dash-db" for h in found)
    assert [h["uid"] for h in grafana.search.search_dashboards(tag=[tag, "n1"])] == [uids[1]]
    assert [h["uid"] for h in grafana.search.search_dashboards(tag=tag, limit=2, page=2)] == [uids[2]]
    grafana.user.star_dashboard(uids[0])
    starred = grafana.search.search_dashboards(starred=True)
    assert [h["uid"] for h in starred] == [uids[0]] and starred[0]["isStarred"] is True
    grafana.user.unstar_dashboard(uids[0])
    assert grafana.search.search_dashboards(starred=True) == []
    tags = {t["term"]: t["count"] for t in grafana.dashboard.get_dashboards_tags()}
    assert tags[tag] == 3 and tags["n0"] == 1


def test_can_round_trip_a_multi_megabyte_dashboard_in_both_dialects(server, admin_token):
    # GIVEN a 3 MB dashboard of incompressible text (it overflows to the embedded S3)
    person = new_tenant_admin(server.url, admin_token)
    grafana = GrafanaApi.from_url(server.url, credential=person.token, timeout=60)
    rng = random.Random(5)
    text = string.ascii_letters
    panels = [
        {"id": i, "type": "text", "title": f"p{i}", "options": {"content": "".join(rng.choices(text, k=60_000))}}
        for i in range(50)
    ]
    posted = {"uid": unique("big")[:40], "title": unique("Big board"), "tags": ["big"], "panels": panels}
    # WHEN grafana-client saves it and reads it back
    saved = grafana.dashboard.update_dashboard({"dashboard": posted, "message": "big"})
    got = grafana.dashboard.get_dashboard(saved["uid"])["dashboard"]
    # THEN it is the document posted, key order included, plus the server's id and version
    assert json.dumps(got) == json.dumps({**posted, "id": saved["id"], "version": 1})
    # AND the Wavefront dialect serves the same dashboard, its charts carrying the same text
    resp = requests.get(
        f"{server.url}/api/v2/dashboard/{saved['uid']}", headers={"X-AUTH-TOKEN": person.token}, timeout=60
    )
    assert resp.status_code == 200, resp.text[:300]
    charts = [c for s in resp.json()["response"]["sections"] for r in s["rows"] for c in r["charts"]]
    assert [c["chartSettings"]["plainMarkdownContent"] for c in charts] == [p["options"]["content"] for p in panels]
