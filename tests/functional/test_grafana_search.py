"""GET /api/search: every filter, Grafana's hit shapes, order, paging and limits; and the
frontend settings and health that clients probe for the version."""

from __future__ import annotations

import pytest

from tests.functional.test_grafana_dashboards import save

SEARCH = "/api/search"


@pytest.fixture
def world(api):
    """Two folders, four dashboards (one starred), as Grafana users lay them out."""
    ops = api.json("POST", "/api/folders", {"title": "Ops", "uid": "ops"})[1]
    api.json("POST", "/api/folders", {"title": "apps", "uid": "apps"})
    ids = {
        "web": save(api, {"uid": "web", "title": "Web Latency", "tags": ["prod", "web"]}, folderUid="ops"),
        "db": save(api, {"uid": "db", "title": "database load", "tags": ["prod", "db"]}, folderUid="ops"),
        "home": save(api, {"uid": "home", "title": "Home", "tags": []}),
        "stage": save(api, {"uid": "stage", "title": "Web staging", "tags": ["stage", "web"]}, folderUid="apps"),
    }
    api.json("POST", "/api/user/stars/dashboard/uid/home")
    return {"ops": ops, **ids}


def uids(api, query: str = "", **kw) -> list[str]:
    status, hits = api.json("GET", f"{SEARCH}?{query}", **kw)
    assert status == 200, hits
    return [h["uid"] for h in hits]


def test_can_list_folders_then_dashboards_by_title(api, world):
    assert uids(api) == ["apps", "ops", "db", "home", "web", "stage"]


def test_can_answer_hits_as_grafana_does(api, world):
    hits = {h["uid"]: h for h in api.json("GET", SEARCH)[1]}
    assert hits["web"] == {
        "id": world["web"]["id"],
        "uid": "web",
        "title": "Web Latency",
        "uri": "db/web-latency",
        "url": "/d/web/web-latency",
        "slug": "",
        "type": "dash-db",
        "tags": ["prod", "web"],
        "isStarred": False,
        "sortMeta": 0,
        "folderId": world["ops"]["id"],
        "folderUid": "ops",
        "folderTitle": "Ops",
        "folderUrl": "/dashboards/f/ops/ops",
    }
    assert "folderUid" not in hits["home"] and hits["home"]["isStarred"] is True
    assert hits["ops"] == {
        "id": world["ops"]["id"],
        "uid": "ops",
        "title": "Ops",
        "uri": "db/ops",
        "url": "/dashboards/f/ops/ops",
        "slug": "",
        "type": "dash-folder",
        "tags": [],
        "isStarred": False,
        "sortMeta": 0,
    }


def test_can_filter_by_query_case_insensitively(api, world):
    assert uids(api, "query=WEB") == ["web", "stage"]
    assert uids(api, "query=op") == ["ops"]


def test_can_filter_by_every_tag(api, world):
    assert uids(api, "tag=web") == ["web", "stage"]
    assert uids(api, "tag=web&tag=prod") == ["web"]
    assert uids(api, "tag=web&tag=db") == []


def test_can_filter_by_type(api, world):
    assert uids(api, "type=dash-folder") == ["apps", "ops"]
    assert uids(api, "type=dash-db") == ["db", "home", "web", "stage"]
    assert api.json("GET", f"{SEARCH}?type=dash-nothing")[0] == 400


def test_can_filter_by_dashboard_uids(api, world):
    assert uids(api, "dashboardUIDs=web&dashboardUIDs=home") == ["home", "web"]
    assert uids(api, "dashboardUIDs=web,db&type=dash-db") == ["db", "web"]


def test_can_filter_by_folder_uids(api, world):
    assert uids(api, "folderUIDs=ops&type=dash-db") == ["db", "web"]
    assert uids(api, "folderUIDs=general&type=dash-db") == ["home"]
    assert uids(api, "folderUIDs=apps,general&type=dash-db") == ["home", "stage"]
    assert uids(api, f"folderIds={world['ops']['id']}&type=dash-db") == ["db", "web"]


def test_can_filter_starred_dashboards(api, world):
    assert uids(api, "starred=true") == ["home"]


def test_can_page_hits(api, world):
    assert uids(api, "limit=2") == ["apps", "ops"]
    assert uids(api, "limit=2&page=2") == ["db", "home"]
    assert uids(api, "limit=2&page=9") == []
    assert api.json("GET", f"{SEARCH}?page=0")[0] == 400
    assert api.json("GET", f"{SEARCH}?limit=abc")[0] == 400
    status, body = api.json("GET", f"{SEARCH}?limit=5001")
    assert status == 422 and "5000" in body["message"]
    assert len(uids(api, "limit=5000")) == 6


def test_can_hide_folders_from_a_caller_without_folder_read(api, world, make_user):
    user = make_user(["dashboard.read", "dashboard.*.read"])
    assert uids(api, token=user.token) == ["db", "home", "web", "stage"]
    # stars are the caller's own
    assert uids(api, "starred=true", token=user.token) == []


def test_can_answer_frontend_settings_and_health_with_the_grafana_version(api, monkeypatch):
    from chalicelib.settings import reset_settings

    status, body = api.json("GET", "/api/frontend/settings", token="")
    assert status == 200
    assert body["buildInfo"]["version"] == "10.4.0" and body["buildInfo"]["edition"] == "Open Source"
    assert api.json("GET", "/api/health", token="")[1]["version"] == "10.4.0"
    monkeypatch.setenv("OPSPLANE_GRAFANA_VERSION", "11.2.1")
    monkeypatch.setenv("OPSPLANE_VERSION", "9.9.9")
    reset_settings()
    try:
        assert api.json("GET", "/api/frontend/settings", token="")[1]["buildInfo"]["version"] == "11.2.1"
        health = api.json("GET", "/api/health", token="")[1]
        assert health["version"] == "11.2.1" and health["opsplaneVersion"] == "9.9.9"
    finally:
        monkeypatch.undo()
        reset_settings()
