"""Dashboards in the Wavefront dialect (/api/v2/dashboard): the shared CRUD routes (list,
get, trash / undelete / skipTrash, history, tags, entity ACLs) plus create and update with
a client-chosen id, and favorite / unfavorite.

The store (chalicelib/dashboards/store.py) is shared with the Grafana dialect: a dashboard
saved through /api/v2/dashboard keeps its body as posted, minus the bookkeeping the client
echoes back, with `_dialect: "wavefront"`; one saved through /api/dashboards/db is shown
here as a Wavefront Dashboard whose sections are derived from its panels (`grafana_view`).
Names are unique per folder (409 here, Grafana's 412 name-exists there).
"""

from __future__ import annotations

from typing import Any

from chalicelib.categories import crud
from chalicelib.categories.crud_views import NO_PAYLOAD
from chalicelib.categories.dashboard_views import MAX_ID, Dashboard, DashboardBody, DashboardUpdate
from chalicelib.dashboards import store
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind, valid_tag
from chalicelib.domain.searching import Fields, path
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity

router = Router("dashboard")

BASE = "/api/v2/dashboard"

# Fields the server answers and a client echoes back on PUT: never stored from a body.
BOOKKEEPING = frozenset(
    {
        "id",
        "tags",
        "created",
        "updated",
        "creatorId",
        "updaterId",
        "createUserId",
        "updateUserId",
        "createdEpochMillis",
        "updatedEpochMillis",
        "inTrash",
        "deleted",
        "acl",
        "modifyAclAccess",
        "favorite",
        "version",
        "numCharts",
        "numFavorites",
        "viewsLastDay",
        "viewsLastWeek",
        "viewsLastMonth",
        "customer",
        "orphan",
        "systemOwned",
    }
)


# ---- body -> document --------------------------------------------------------------------


def parse(req: Request, schema: type[DashboardUpdate]) -> tuple[DashboardUpdate, dict[str, Any], list[str] | None]:
    """The validated body, the document to store (the body as posted, bookkeeping and
    server-managed keys left out) and the customer tags when the body names them."""
    raw = req.json(default=None)
    if not isinstance(raw, dict):
        raise Invalid("The body must be a JSON object (the client's Dashboard)")
    body = req.model(schema)
    doc = {k: v for k, v in raw.items() if k not in BOOKKEEPING and not k.startswith("_")}
    named = body.tags.customerTags if body.tags is not None else None
    tags = None if named is None else sorted({valid_tag(t) for t in named})
    return body, doc, tags


# ---- wire ------------------------------------------------------------------------------------

# Grafana panel type -> Wavefront chartSettings.type
CHART_TYPES = {
    "timeseries": "line",
    "graph": "line",
    "stat": "sparkline",
    "singlestat": "sparkline",
    "table": "table",
    "gauge": "gauge",
    "bargauge": "gauge",
    "piechart": "pie",
    "heatmap": "heatmap",
    "histogram": "histogram",
    "text": "markdown-widget",
    "barchart": "stacked-column",
}
GENERAL_SECTION = "General"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _position(panel: dict[str, Any]) -> tuple[int, int]:
    grid = _dict(panel.get("gridPos"))
    y, x = grid.get("y"), grid.get("x")
    return (y if isinstance(y, int) else 0, x if isinstance(x, int) else 0)


def grafana_chart(panel: dict[str, Any]) -> dict[str, Any]:
    """A Grafana panel as a Wavefront Chart."""
    name = _text(panel.get("title")) or f"Panel {panel.get('id', '')}".strip()
    sources = []
    for i, target in enumerate(_dicts(panel.get("targets"))):
        query = next((q for q in (target.get(k) for k in ("expr", "query", "target")) if isinstance(q, str)), "")
        sources.append({"name": _text(target.get("refId")) or chr(ord("A") + i % 26), "query": query})
    kind = CHART_TYPES.get(str(panel.get("type")), "line")
    settings: dict[str, Any] = {"type": kind}
    if kind == "markdown-widget":
        content = _text(_dict(panel.get("options")).get("content")) or ""
        settings["markdownContent"] = content  # Wavefront's key (the client's model omits it)
        settings["plainMarkdownContent"] = content
    chart: dict[str, Any] = {"name": name, "sources": sources, "chartSettings": settings}
    description = _text(panel.get("description"))
    if description:
        chart["description"] = description
    return chart


def grafana_sections(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Wavefront sections from Grafana panels: each row panel opens a section (a collapsed
    row's own panels included); other panels become charts, one section row per gridPos.y."""
    panels = _dicts(doc.get("panels"))
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for panel in sorted(panels, key=_position):
        if panel.get("type") == "row":
            title = _text(panel.get("title")) or f"Row {panel.get('id', '')}".strip()
            groups.append((title, _dicts(panel.get("panels"))))
        else:
            if not groups:
                groups.append((GENERAL_SECTION, []))
            groups[-1][1].append(panel)
    sections = []
    for title, members in groups:
        rows: dict[int, list[dict[str, Any]]] = {}
        for panel in sorted(members, key=_position):
            rows.setdefault(_position(panel)[0], []).append(grafana_chart(panel))
        sections.append({"name": title, "rows": [{"charts": charts} for charts in rows.values()]})
    return sections


def grafana_view(entity: Entity) -> dict[str, Any]:
    """A dashboard saved through the Grafana dialect, as the Wavefront Dashboard fields."""
    doc = entity.doc
    out: dict[str, Any] = {"name": store.title_of(doc) or entity.id, "url": entity.id}
    description = _text(doc.get("description"))
    if description:
        out["description"] = description
    out["sections"] = grafana_sections(doc)
    return out


def chart_count(sections: Any) -> int:
    """How many charts the sections hold."""
    if not isinstance(sections, list):
        return 0
    return sum(
        len(row.get("charts") or [])
        for section in sections
        if isinstance(section, dict)
        for row in section.get("rows") or []
        if isinstance(row, dict)
    )


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's Dashboard: content, bookkeeping, tags (caller fields come from `personal`)."""
    if entity.doc.get(store.DIALECT) == store.GRAFANA:
        out = grafana_view(entity)
    else:
        out = {k: v for k, v in store.content(entity.doc).items() if k not in BOOKKEEPING}
        if not out.get("url"):  # a null or empty url sent by the client: Dashboard.url is required
            out["url"] = entity.id
    out.update(entities.standard_fields(entity))
    out["tags"] = {"customerTags": sorted(entity.tags)}
    out["numCharts"] = chart_count(out.get("sections"))
    return out


def favorite_flag(ctx: Context, entity: Entity, out: dict[str, Any]) -> None:
    """Has the caller made this dashboard a favorite (a Grafana star)?"""
    out["favorite"] = store.is_starred(ctx, entity)


SEARCH_FIELDS = Fields.of(
    "id",
    "name",
    "description",
    "url",
    "favorite",
    "numCharts",
    "inTrash",
    "creatorId",
    "updaterId",
    "created",
    "updated",
    "createdEpochMillis",
    "updatedEpochMillis",
    extra={
        "tags": path("tags.customerTags"),
        "tagpaths": path("tags.customerTags"),
        "sectionName": path("sections.name"),
    },
    facets=("tags", "creatorId", "updaterId", "favorite"),
    freetext=("name", "description", "id", "url", "tags"),
    default_sort="name",
)

DASHBOARD = Kind(
    name=store.KIND,
    label=store.LABEL,
    schema=DashboardBody,
    to_doc=lambda body: (body.model_dump(exclude_none=True), None),  # unused: create/update are ours
    to_wire=to_wire,
    wire=Dashboard,
    search=SEARCH_FIELDS,
    change_labels=store.CHANGE_LABELS,
    unique=store.DASHBOARD_NAME,
    head_keys=store.HEAD_KEYS,
    personal=favorite_flag,
)

crud.declare(router, DASHBOARD, BASE, features=crud.FEATURES - {"create", "update", "clone"})


# ---- create and update ------------------------------------------------------------------------


@router.post(BASE, acl="dashboard.create", body=DashboardBody, response=Dashboard, max_body=store.DOCUMENT_LIMIT)
def create_dashboard(req: Request) -> dict[str, Any]:
    """Create a dashboard under its client-chosen id (409 when the id or the name is taken)."""
    body, doc, tags = parse(req, DashboardBody)
    uid = store.check_uid(body.id, max_length=MAX_ID, label="id")
    return entities.wire(req.ctx, DASHBOARD, store.create_wavefront(req.ctx, uid, doc, tags))


@router.put(
    f"{BASE}/{{id}}",
    acl="dashboard.{id}.update",
    body=DashboardUpdate,
    response=Dashboard,
    max_body=store.DOCUMENT_LIMIT,
    summary="Update a dashboard (409 on a stale version)",
)
def update_dashboard(req: Request) -> dict[str, Any]:
    """Replace a dashboard's body (server-managed state and, unless sent, tags are kept)."""
    uid = req.params["id"]
    body, doc, tags = parse(req, DashboardUpdate)
    if body.id is not None and body.id != uid:
        raise Invalid(f"The body's id {body.id!r} is not the path's {uid!r}")
    entity = store.update_wavefront(req.ctx, uid, doc, tags, expected_version=body.version)
    return entities.wire(req.ctx, DASHBOARD, entity)


# ---- favorites (Grafana stars) -------------------------------------------------------------


@router.post(f"{BASE}/{{id}}/favorite", acl="dashboard.{id}.read", response=NO_PAYLOAD)
def favorite_dashboard(req: Request) -> None:
    """Make a dashboard one of the caller's favorites (idempotent)."""
    store.star(req.ctx, req.params["id"])


@router.post(f"{BASE}/{{id}}/unfavorite", acl="dashboard.{id}.read", response=NO_PAYLOAD)
def unfavorite_dashboard(req: Request) -> None:
    """Remove a dashboard from the caller's favorites (idempotent)."""
    store.unstar(req.ctx, req.params["id"])


CATEGORY = Category(router, permission="dashboard_management")
