"""Stored dashboards as Grafana JSON (chalicelib/compat/grafana/views.py), from hand-built entities."""

from __future__ import annotations

import json

from chalicelib.compat.grafana import views
from chalicelib.dashboards import store
from chalicelib.store.repository import Entity


def wavefront_entity(sections: list[dict], **doc: object) -> Entity:
    return Entity(
        id="wf",
        kind="dashboard",
        tenant="t",
        doc={
            "name": "WF board",
            "description": "d",
            "sections": sections,
            store.DIALECT: store.WAVEFRONT,
            store.NUMBER: 5,
            **doc,
        },
        version=3,
        tags=["a", "b"],
    )


def chart(kind: str | None, *queries: str) -> dict:
    settings = {"type": kind} if kind else {}
    return {"name": f"c-{kind}", "sources": [{"name": q, "query": q} for q in queries], "chartSettings": settings}


def test_can_keep_a_grafana_document_in_order_with_server_keys_in_place():
    entity = Entity(
        id="u1",
        kind="dashboard",
        tenant="t",
        doc={
            "version": 0,
            "title": "T",
            "tags": ["z", "a"],
            "uid": "old",
            store.DIALECT: store.GRAFANA,
            store.NUMBER: 9,
        },
        version=4,
        tags=["a", "z"],
    )
    dash = views.dashboard_json(entity)
    assert json.dumps(dash) == json.dumps({"version": 4, "title": "T", "tags": ["z", "a"], "uid": "u1", "id": 9})


def test_can_show_tags_changed_outside_the_document():
    entity = Entity(
        id="u",
        kind="dashboard",
        tenant="t",
        doc={"title": "T", "tags": ["a"], store.DIALECT: store.GRAFANA},
        tags=["a", "b"],
    )
    assert views.dashboard_json(entity)["tags"] == ["a", "b"]


def test_can_convert_every_chart_type_to_its_panel_type():
    types = [
        "line",
        "table",
        "sparkline",
        "gauge",
        "pie",
        "heatmap",
        "histogram",
        "markdown-widget",
        "stacked-column",
        "scatterplot",
        None,
    ]
    entity = wavefront_entity([{"name": "All", "rows": [{"charts": [chart(t, "q")]} for t in types]}])
    dash = views.dashboard_json(entity)
    assert dash["title"] == "WF board" and dash["description"] == "d" and dash["tags"] == ["a", "b"]
    assert dash["uid"] == "wf" and dash["id"] == 5 and dash["version"] == 3 and dash["schemaVersion"] == 39
    assert [p["type"] for p in dash["panels"]] == [
        "row",
        "timeseries",
        "table",
        "stat",
        "gauge",
        "piechart",
        "heatmap",
        "histogram",
        "text",
        "barchart",
        "timeseries",
        "timeseries",
    ]


def test_can_lay_panels_out_on_a_24_wide_grid():
    sections = [
        {"name": "One", "rows": [{"charts": [chart("line", "a"), chart("line", "b"), chart("line", "c")]}]},
        {"name": "Two", "rows": [{"charts": [chart("table", "d")]}, {"charts": []}]},
    ]
    panels = views.dashboard_json(wavefront_entity(sections))["panels"]
    grids = [(p["type"], p["title"], p["gridPos"]) for p in panels]
    assert grids == [
        ("row", "One", {"h": 1, "w": 24, "x": 0, "y": 0}),
        ("timeseries", "c-line", {"h": 8, "w": 8, "x": 0, "y": 1}),
        ("timeseries", "c-line", {"h": 8, "w": 8, "x": 8, "y": 1}),
        ("timeseries", "c-line", {"h": 8, "w": 8, "x": 16, "y": 1}),
        ("row", "Two", {"h": 1, "w": 24, "x": 0, "y": 9}),
        ("table", "c-table", {"h": 8, "w": 24, "x": 0, "y": 10}),
    ]
    assert [p["id"] for p in panels] == [1, 2, 3, 4, 5, 6]


def test_can_turn_sources_into_targets_with_ref_ids():
    entity = wavefront_entity([{"name": "S", "rows": [{"charts": [chart("line", *[f"q{i}" for i in range(28)])]}]}])
    targets = views.dashboard_json(entity)["panels"][1]["targets"]
    assert [t["refId"] for t in targets[:3]] == ["A", "B", "C"]
    assert [t["refId"] for t in targets[25:]] == ["Z", "AA", "AB"]
    assert targets[0]["expr"] == "q0"


def test_can_survive_malformed_wavefront_documents():
    entity = wavefront_entity("nope", name=None)  # type: ignore[arg-type]
    dash = views.dashboard_json(entity)
    assert dash["panels"] == [] and dash["title"] == ""
    entity = wavefront_entity([{"rows": [{"charts": ["x", {"chartSettings": "bad"}]}]}])
    assert [p["type"] for p in views.dashboard_json(entity)["panels"]] == ["row", "timeseries"]


def test_can_format_times_as_grafana_does():
    assert views.iso(0) == "1970-01-01T00:00:00Z"
    assert views.iso(1_700_000_000_123) == "2023-11-14T22:13:20Z"
