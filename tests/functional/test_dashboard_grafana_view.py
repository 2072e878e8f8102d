"""A dashboard saved through the Grafana dialect, seen through the Wavefront one: its panels
become sections / rows / charts the real client's model accepts."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.categories.dashboard import grafana_sections, to_wire
from chalicelib.dashboards import store
from chalicelib.store.repository import Entity
from tests.functional.test_dashboard import DASH, SEARCH, body, reads


def grafana_entity(dashboard: dict[str, Any], uid: str = "graf", tags: list[str] | None = None) -> Entity:
    """A stored Grafana-dialect dashboard, as the repository hands it over."""
    doc = {**dashboard, store.DIALECT: store.GRAFANA, store.FOLDER: "", store.NUMBER: 3}
    return Entity(id=uid, kind=store.KIND, tenant="t", doc=doc, tags=tags or [], created=1, updated=2)


def envelope(payload: Any) -> dict[str, Any]:
    return {"status": {"result": "OK", "code": 200}, "response": payload}


PANELS = [
    {"id": 1, "type": "timeseries", "title": "CPU", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
     "targets": [{"refId": "A", "expr": "rate(cpu[5m])"}, {"refId": "B", "query": "SELECT 1"}]},
    {"id": 2, "type": "stat", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8}, "targets": [{"refId": "A", "target": "a.b"}]},
    {"id": 3, "type": "text", "title": "Readme", "gridPos": {"x": 0, "y": 8}, "options": {"content": "# hello"}},
    {"id": 4, "type": "row", "title": "Details", "gridPos": {"x": 0, "y": 16}, "collapsed": False, "panels": []},
    {"id": 5, "type": "table", "title": "Top", "gridPos": {"x": 0, "y": 17}, "targets": [{"refId": "A"}]},
    {"id": 6, "type": "row", "title": "Hidden", "gridPos": {"x": 0, "y": 30}, "collapsed": True,
     "panels": [{"id": 7, "type": "piechart", "title": "Share", "gridPos": {"x": 0, "y": 31}}]},
]  # fmt: skip


def test_can_show_grafana_panels_as_wavefront_sections():
    # GIVEN a Grafana dashboard with loose panels, an open row and a collapsed row
    entity = grafana_entity(
        {"uid": "graf", "title": "Service", "description": "about it", "panels": PANELS}, tags=["team-a"]
    )
    # WHEN it is rendered in the Wavefront dialect
    wire = {**to_wire(entity), "favorite": False}
    # THEN the real client reads it as a Dashboard
    model = reads(envelope(wire)).response
    assert (model.id, model.name, model.url, model.description) == ("graf", "Service", "graf", "about it")
    assert model.tags.customer_tags == ["team-a"] and model.num_charts == 5
    # AND the sections follow the rows, the section rows follow gridPos.y
    assert [s.name for s in model.sections] == ["General", "Details", "Hidden"]
    general = model.sections[0]
    assert [[c.name for c in r.charts] for r in general.rows] == [["CPU", "Panel 2"], ["Readme"]]
    cpu, stat = general.rows[0].charts
    assert [(s.name, s.query) for s in cpu.sources] == [("A", "rate(cpu[5m])"), ("B", "SELECT 1")]
    assert cpu.chart_settings.type == "line" and stat.chart_settings.type == "sparkline"
    assert [(s.name, s.query) for s in stat.sources] == [("A", "a.b")]
    readme = general.rows[1].charts[0]
    assert readme.chart_settings.type == "markdown-widget" and readme.chart_settings.plain_markdown_content == "# hello"
    assert model.sections[1].rows[0].charts[0].sources[0].query == ""
    assert model.sections[2].rows[0].charts[0].chart_settings.type == "pie"


@pytest.mark.parametrize(
    ("panel_type", "chart_type"),
    [
        ("timeseries", "line"),
        ("graph", "line"),
        ("stat", "sparkline"),
        ("singlestat", "sparkline"),
        ("table", "table"),
        ("gauge", "gauge"),
        ("bargauge", "gauge"),
        ("piechart", "pie"),
        ("heatmap", "heatmap"),
        ("histogram", "histogram"),
        ("text", "markdown-widget"),
        ("barchart", "stacked-column"),
        ("news", "line"),
        (None, "line"),
    ],
)
def test_can_map_each_panel_type_to_a_chart_type(panel_type, chart_type):
    sections = grafana_sections({"panels": [{"id": 9, "type": panel_type, "title": "p"}]})
    assert sections[0]["rows"][0]["charts"][0]["chartSettings"]["type"] == chart_type


@pytest.mark.parametrize(
    "dashboard",
    [
        {"title": "Empty"},
        {"title": "No panels list", "panels": {"a": 1}},
        {"title": "Junk panels", "panels": [1, "x", None, {"type": "row"}, {"gridPos": "top", "targets": "A"}]},
        {"title": "Odd targets", "panels": [{"title": 5, "targets": [None, {"refId": 3, "expr": 7}]}]},
        {"title": "Odd text", "panels": [{"type": "text", "options": {"content": ["x"]}}]},
    ],
)
def test_can_render_odd_grafana_documents_as_valid_dashboards(dashboard):
    # GIVEN a Grafana document the Grafana dialect stored as posted, however loose
    wire = {**to_wire(grafana_entity(dashboard)), "favorite": False}
    # THEN the client's model still accepts the Wavefront view
    model = reads(envelope(wire)).response
    assert model.name == dashboard["title"] and model.url == "graf"


def test_can_serve_a_grafana_saved_dashboard_through_every_wavefront_read(api):
    from chalicelib.auth.keys import keyring
    from chalicelib.store.repository import Repository

    # GIVEN a dashboard stored as the Grafana dialect stores it
    repo = Repository(
        api.root,
        store.KIND,
        cursor_secret=keyring().cursor_secret,
        history=True,
        unique=store.DASHBOARD_NAME,
        head_keys=store.HEAD_KEYS,
    )
    repo.create("graf", grafana_entity({"uid": "graf", "title": "Service", "panels": PANELS}).doc, by="admin")
    # THEN get, list and search answer it as a Wavefront Dashboard
    got = api.json("GET", f"{DASH}/graf")[1]
    assert reads(got).response.sections[0].name == "General"
    assert reads(api.json("GET", DASH)[1], "ResponseContainerPagedDashboard").response.items[0].name == "Service"
    found = api.json("POST", SEARCH, {"query": [{"key": "name", "value": "serv"}]})[1]
    assert [d.id for d in reads(found, "ResponseContainerPagedDashboard").response.items] == ["graf"]
    # AND its title is taken in the General folder for Wavefront writes too
    assert api.json("POST", DASH, body("other", name="Service"))[0] == 409
    # AND a Wavefront PUT makes it a Wavefront document, keeping its number and folder
    status, put = api.json("PUT", f"{DASH}/graf", body("graf", name="Service"))
    assert status == 200 and put["response"]["sections"][0]["name"] == "Overview"
    stored = repo.get("graf").doc
    assert stored[store.DIALECT] == store.WAVEFRONT and stored[store.NUMBER] == 3 and stored[store.FOLDER] == ""
    # AND its Grafana version stays readable in the history
    assert reads(api.json("GET", f"{DASH}/graf/history/1")[1]).response.sections[1].name == "Details"
