"""Stored dashboards and folders as Grafana's JSON.

A dashboard saved through this dialect renders as its document with id, uid, version and
tags set in place (keys it already has keep their position, so what was posted comes back
byte-for-byte). One saved through the Wavefront dialect (name, sections of rows of charts)
is converted: each section becomes a row panel, each chart a panel beneath it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.dashboards import folders, store
from chalicelib.store.repository import Entity

SCHEMA_VERSION = 39
GRID_WIDTH = 24
PANEL_HEIGHT = 8
ROW_HEIGHT = 1
# Wavefront chart types -> Grafana panel types (anything else is a time series).
PANEL_TYPES = {
    "line": "timeseries",
    "table": "table",
    "sparkline": "stat",
    "gauge": "gauge",
    "pie": "piechart",
    "heatmap": "heatmap",
    "histogram": "histogram",
    "markdown-widget": "text",
    "stacked-column": "barchart",
}
RESTORED_FROM = "Restored from version "  # the note store.restore gives a restored version
NEVER = "0001-01-01T00:00:00Z"  # Grafana's zero time (meta.expires of a dashboard that never expires)


def iso(ms: int) -> str:
    """Epoch milliseconds as Grafana's ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref_id(index: int) -> str:
    """Grafana's query reference ids: A..Z, then AA, AB, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def tags_of(entity: Entity) -> list[str]:
    """The dashboard's tags: the document's own list (its order) while it holds the entity's
    tags, else the entity's (tags changed through the Wavefront dialect)."""
    posted = entity.doc.get("tags")
    if isinstance(posted, list) and all(isinstance(t, str) for t in posted) and set(posted) == set(entity.tags):
        return posted
    return list(entity.tags)


def dashboard_json(entity: Entity) -> dict[str, Any]:
    """The Grafana dashboard JSON of a stored dashboard (either dialect's) or of one version."""
    if entity.doc.get(store.DIALECT) == store.WAVEFRONT:
        return from_wavefront(entity)
    dash = store.content(entity.doc)
    dash["id"] = store.number_of(entity)
    dash["uid"] = entity.id
    dash["version"] = entity.version
    dash["tags"] = tags_of(entity)
    return dash


def from_wavefront(entity: Entity) -> dict[str, Any]:
    """A Wavefront dashboard (name, sections, rows, charts) as a Grafana dashboard."""
    doc = entity.doc
    panels: list[dict[str, Any]] = []
    y = 0
    for section in _dicts(doc.get("sections")):
        panels.append(
            {
                "id": len(panels) + 1,
                "type": "row",
                "title": str(section.get("name") or ""),
                "collapsed": False,
                "gridPos": {"h": ROW_HEIGHT, "w": GRID_WIDTH, "x": 0, "y": y},
                "panels": [],
            }
        )
        y += ROW_HEIGHT
        for row in _dicts(section.get("rows")):
            charts = _dicts(row.get("charts"))
            if not charts:
                continue
            width = max(1, GRID_WIDTH // len(charts))
            for column, chart in enumerate(charts):
                grid = {"h": PANEL_HEIGHT, "w": width, "x": min(column * width, GRID_WIDTH - 1), "y": y}
                panels.append(_panel(chart, len(panels) + 1, grid))
            y += PANEL_HEIGHT
    dash: dict[str, Any] = {
        "id": store.number_of(entity),
        "uid": entity.id,
        "title": str(doc.get("name") or ""),
        "description": str(doc.get("description") or ""),
        "tags": list(entity.tags),
        "schemaVersion": SCHEMA_VERSION,
        "version": entity.version,
        "editable": True,
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }
    return dash


def _panel(chart: dict[str, Any], panel_id: int, grid: dict[str, int]) -> dict[str, Any]:
    settings = chart.get("chartSettings") if isinstance(chart.get("chartSettings"), dict) else {}
    kind = PANEL_TYPES.get(str((settings or {}).get("type") or "line"), "timeseries")
    sources = _dicts(chart.get("sources"))
    panel: dict[str, Any] = {
        "id": panel_id,
        "type": kind,
        "title": str(chart.get("name") or ""),
        "description": str(chart.get("description") or ""),
        "gridPos": grid,
        "targets": [
            {"refId": ref_id(i), "expr": str(source.get("query") or ""), "legendFormat": str(source.get("name") or "")}
            for i, source in enumerate(sources)
        ],
    }
    if kind == "text":
        panel["options"] = {"mode": "markdown", "content": str((settings or {}).get("markdownContent") or "")}
    return panel


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# ---- answers -----------------------------------------------------------------------------


def saved(entity: Entity) -> dict[str, Any]:
    """The answer to a save or a restore."""
    title = dashboard_title(entity)
    return {
        "id": store.number_of(entity),
        "uid": entity.id,
        "url": store.url(entity.id, title),
        "status": "success",
        "version": entity.version,
        "slug": store.slug(title),
    }


def dashboard_title(entity: Entity) -> str:
    """The title of a dashboard of either dialect."""
    return store.title_of(entity.doc)


def folder_keys(folder: Entity | None) -> dict[str, Any]:
    """meta's folder keys (General when folder is None)."""
    if folder is None:
        return {"folderId": 0, "folderUid": "", "folderTitle": "General", "folderUrl": ""}
    title = folders.title_of(folder)
    return {
        "folderId": store.number_of(folder),
        "folderUid": folder.id,
        "folderTitle": title,
        "folderUrl": folders.url(folder.id, title),
    }


def version_item(entity: Entity, dashboard: Entity) -> dict[str, Any]:
    """One entry of a dashboard's version list (Grafana 10's shape)."""
    note = entity.note or ""
    restored = 0
    if note.startswith(RESTORED_FROM):
        tail = note[len(RESTORED_FROM) :]
        restored = int(tail) if tail.isdigit() else 0
    return {
        "id": entity.version,
        "dashboardId": store.number_of(dashboard),
        "dashboardUid": dashboard.id,
        "uid": dashboard.id,
        "parentVersion": entity.version - 1,
        "restoredFrom": restored,
        "version": entity.version,
        "created": iso(entity.updated),
        "createdBy": entity.updated_by or "Anonymous",
        "message": note,
    }


def dashboard_hit(entity: Entity, folder: Entity | None, starred: bool) -> dict[str, Any]:
    """A dash-db search hit (folder keys only when the dashboard is in a folder)."""
    title = dashboard_title(entity)
    hit: dict[str, Any] = {
        "id": store.number_of(entity),
        "uid": entity.id,
        "title": title,
        "uri": f"db/{store.slug(title)}",
        "url": store.url(entity.id, title),
        "slug": "",
        "type": "dash-db",
        "tags": list(entity.tags),
        "isStarred": starred,
        "sortMeta": 0,
    }
    if folder is not None:
        hit.update(
            {
                "folderId": store.number_of(folder),
                "folderUid": folder.id,
                "folderTitle": folders.title_of(folder),
                "folderUrl": folders.url(folder.id, folders.title_of(folder)),
            }
        )
    return hit


def folder_hit(folder: Entity) -> dict[str, Any]:
    """A dash-folder search hit."""
    title = folders.title_of(folder)
    return {
        "id": store.number_of(folder),
        "uid": folder.id,
        "title": title,
        "uri": f"db/{store.slug(title)}",
        "url": folders.url(folder.id, title),
        "slug": "",
        "type": "dash-folder",
        "tags": [],
        "isStarred": False,
        "sortMeta": 0,
    }


def folder_item(folder: Entity) -> dict[str, Any]:
    """An entry of GET /api/folders (parentUid only for nested folders)."""
    item: dict[str, Any] = {"id": store.number_of(folder), "uid": folder.id, "title": folders.title_of(folder)}
    if folders.parent_of(folder):
        item["parentUid"] = folders.parent_of(folder)
    return item
