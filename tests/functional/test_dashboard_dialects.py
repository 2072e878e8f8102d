"""One stored dashboard, two dialects: what one writes the other reads, tags, stars and
favorites are one thing, titles stay unique across both, and the Wavefront trash hides a
dashboard from Grafana clients. Wavefront answers are read back by the client's own
deserializer."""

from __future__ import annotations

from typing import Any

from wavefront_api_client import ApiClient

_reader = ApiClient()

WAVEFRONT_BODY = {
    "id": "ops-overview",
    "name": "Ops overview",
    "url": "ops-overview",
    "description": "Made in Wavefront",
    "sections": [
        {
            "name": "Latency",
            "rows": [
                {
                    "charts": [
                        {
                            "name": "p99",
                            "sources": [{"name": "A", "query": "ts(http.latency.p99)"}],
                            "chartSettings": {"type": "line"},
                        },
                        {
                            "name": "errors",
                            "sources": [{"name": "B", "query": "ts(http.errors)"}],
                            "chartSettings": {"type": "table"},
                        },
                    ]
                }
            ],
        }
    ],
    "tags": {"customerTags": ["ops"]},
}

GRAFANA_DASHBOARD = {
    "uid": "graf-made",
    "title": "Made in Grafana",
    "tags": ["team-a"],
    "panels": [
        {"id": 1, "type": "row", "title": "Traffic", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}},
        {
            "id": 2,
            "type": "timeseries",
            "title": "Requests",
            "gridPos": {"x": 0, "y": 1, "w": 12, "h": 8},
            "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[5m]))"}],
        },
        {
            "id": 3,
            "type": "stat",
            "title": "Up",
            "gridPos": {"x": 12, "y": 1, "w": 12, "h": 8},
            "targets": [{"refId": "A", "expr": "up"}],
        },
    ],
    "schemaVersion": 39,
}


def wavefront_dashboard(payload: dict[str, Any]) -> Any:
    return _reader._ApiClient__deserialize(payload, "Dashboard")


def grafana_save(api: Any, dashboard: dict[str, Any], **fields: Any) -> tuple[int, Any]:
    return api.json("POST", "/api/dashboards/db", {"dashboard": dashboard, **fields})


def test_can_read_a_wavefront_dashboard_through_grafana(api):
    # GIVEN a dashboard created through the Wavefront dialect
    status, body = api.json("POST", "/api/v2/dashboard", WAVEFRONT_BODY)
    assert status == 200, body
    # WHEN a Grafana client loads it by uid
    status, got = api.json("GET", "/api/dashboards/uid/ops-overview")
    # THEN it is Grafana JSON with the same title, tags, queries and version
    assert status == 200, got
    dash, meta = got["dashboard"], got["meta"]
    assert (dash["uid"], dash["title"], dash["tags"]) == ("ops-overview", "Ops overview", ["ops"])
    assert isinstance(dash["id"], int) and dash["id"] > 0
    assert dash["version"] == body["response"]["version"] == meta["version"]
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert exprs == ["ts(http.latency.p99)", "ts(http.errors)"]
    assert meta["folderUid"] == "" and meta["slug"] == "ops-overview"


def test_can_read_a_grafana_dashboard_through_wavefront(api):
    status, saved = grafana_save(api, GRAFANA_DASHBOARD)
    assert status == 200, saved
    status, body = api.json("GET", "/api/v2/dashboard/graf-made")
    assert status == 200, body
    dash = wavefront_dashboard(body["response"])
    assert (dash.id, dash.name, dash.url) == ("graf-made", "Made in Grafana", "graf-made")
    assert dash.tags.customer_tags == ["team-a"]
    charts = [c for s in dash.sections for r in s.rows for c in r.charts]
    assert [c.name for c in charts] == ["Requests", "Up"]
    assert [c.sources[0].query for c in charts] == ["sum(rate(http_requests_total[5m]))", "up"]
    assert dash.sections[0].name == "Traffic"


def test_can_share_tags_and_versions_between_dialects(api):
    grafana_save(api, GRAFANA_DASHBOARD)
    status, _ = api.json("PUT", "/api/v2/dashboard/graf-made/tag/wf-tag", {})
    assert status == 200
    status, got = api.json("GET", "/api/dashboards/uid/graf-made")
    assert got["dashboard"]["tags"] == ["team-a", "wf-tag"]
    assert got["meta"]["version"] == 2
    # A Grafana save of the version it read succeeds and the Wavefront side sees it.
    changed = {**got["dashboard"], "title": "Renamed in Grafana"}
    status, saved = grafana_save(api, changed)
    assert status == 200 and saved["version"] == 3, saved
    status, body = api.json("GET", "/api/v2/dashboard/graf-made")
    assert body["response"]["name"] == "Renamed in Grafana"
    assert body["response"]["version"] == 3


def test_can_see_a_star_as_a_favorite_and_back(api):
    grafana_save(api, GRAFANA_DASHBOARD)
    status, _ = api.json("POST", "/api/user/stars/dashboard/uid/graf-made")
    assert status == 200
    status, body = api.json("GET", "/api/v2/dashboard/graf-made")
    assert body["response"]["favorite"] is True
    status, _ = api.json("POST", "/api/v2/dashboard/graf-made/unfavorite", {})
    assert status == 200
    status, got = api.json("GET", "/api/dashboards/uid/graf-made")
    assert got["meta"]["isStarred"] is False


def test_can_keep_titles_unique_across_dialects(api):
    api.json("POST", "/api/v2/dashboard", WAVEFRONT_BODY)
    status, body = grafana_save(api, {"title": "Ops overview", "panels": []})
    assert status == 412, body
    assert body == {"message": "A dashboard with the same name in the folder already exists", "status": "name-exists"}
    status, body = api.json("POST", "/api/v2/dashboard", {**WAVEFRONT_BODY, "id": "other-id"})
    assert status == 409, body
    assert body["status"]["result"] == "ERROR"


def test_can_hide_a_trashed_dashboard_from_grafana_and_free_its_title(api):
    api.json("POST", "/api/v2/dashboard", WAVEFRONT_BODY)
    status, _ = api.json("DELETE", "/api/v2/dashboard/ops-overview", {})
    assert status == 200
    status, body = api.json("GET", "/api/dashboards/uid/ops-overview")
    assert (status, body) == (404, {"message": "Dashboard not found"})
    status, hits = api.json("GET", "/api/search?query=Ops")
    assert status == 200 and hits == []
    status, saved = grafana_save(api, {"uid": "new-ops", "title": "Ops overview", "panels": []})
    assert status == 200, saved
    # Undeleting now would take a title another dashboard holds.
    status, body = api.json("POST", "/api/v2/dashboard/ops-overview/undelete", {})
    assert status == 409, body


def test_can_delete_from_grafana_what_wavefront_made(api):
    api.json("POST", "/api/v2/dashboard", WAVEFRONT_BODY)
    status, body = api.json("DELETE", "/api/dashboards/uid/ops-overview")
    assert status == 200 and body["uid"] == "ops-overview", body
    status, body = api.json("GET", "/api/v2/dashboard/ops-overview")
    assert status == 404, body


def test_can_forget_a_star_when_the_uid_is_used_again(api):
    # GIVEN a starred dashboard that is deleted for good and made again under its uid
    grafana_save(api, GRAFANA_DASHBOARD)
    api.json("POST", "/api/user/stars/dashboard/uid/graf-made")
    status, _ = api.json("DELETE", "/api/dashboards/uid/graf-made")
    assert status == 200
    status, saved = grafana_save(api, GRAFANA_DASHBOARD)
    assert status == 200, saved
    # THEN the new dashboard is not starred in either dialect
    status, got = api.json("GET", "/api/dashboards/uid/graf-made")
    assert got["meta"]["isStarred"] is False
    status, body = api.json("GET", "/api/v2/dashboard/graf-made")
    assert body["response"]["favorite"] is False
    status, hits = api.json("GET", "/api/search?starred=true")
    assert hits == []
    # AND starring it again works
    api.json("POST", "/api/user/stars/dashboard/uid/graf-made")
    status, hits = api.json("GET", "/api/search?starred=true")
    assert [h["uid"] for h in hits] == ["graf-made"]
