"""Grafana's dashboard routes: save, get, delete, versions, restore, tags and stars."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from chalicelib.compat.grafana import views
from chalicelib.dashboards import store
from chalicelib.domain import entity_acl, preferences
from chalicelib.errors import Forbidden, Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import accounts
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("grafana")

DASHBOARDS = "/api/dashboards"
BY_UID = f"{DASHBOARDS}/uid/{{uid}}"
FORM = "application/x-www-form-urlencoded"
DEFAULT_VERSIONS = 1000
VERSIONS_QUERY = (
    ("limit", "integer", "How many versions (default 1000); also read from a form body"),
    ("start", "integer", "How many of the newest versions to skip; also read from a form body"),
)


class SaveBody(Model):
    """POST /api/dashboards/db."""

    model_config = ConfigDict(extra="ignore")

    dashboard: dict[str, Any] = Field(description="The dashboard JSON (title required; uid and version optional)")
    folderUid: StrictStr | None = Field(default=None, description='The folder\'s uid ("" or absent: General)')
    folderId: Any = Field(default=None, description="Ignored (use folderUid)")
    message: StrictStr | None = Field(default=None, description="The version's message")
    overwrite: StrictBool = Field(default=False, description="Skip the version and title checks")
    meta: dict[str, Any] | None = Field(default=None, description="Accepted; its folderUid is used when absent above")


class GrafanaSaved(Model):
    """The answer to a save or a restore."""

    id: int
    uid: str
    url: str
    status: str = Field(examples=["success"])
    version: int
    slug: str


class GrafanaMeta(Model):
    """What Grafana says about a dashboard besides its JSON."""

    model_config = ConfigDict(extra="allow")

    type: str
    canSave: bool
    canEdit: bool
    canAdmin: bool
    canStar: bool
    canDelete: bool
    slug: str
    url: str
    expires: str
    created: str
    updated: str
    updatedBy: str
    createdBy: str
    version: int
    hasAcl: bool
    isFolder: bool
    folderId: int
    folderUid: str
    folderTitle: str
    folderUrl: str
    provisioned: bool
    provisionedExternalId: str
    isStarred: bool


class GrafanaDashboard(Model):
    """GET /api/dashboards/uid/{uid}."""

    dashboard: dict[str, Any]
    meta: GrafanaMeta


class GrafanaHomeRedirect(Model):
    """GET /api/dashboards/home when preferences name a home dashboard: where it is."""

    redirectUri: str


class GrafanaDeleted(Model):
    """The answer to a dashboard deletion."""

    title: str
    message: str
    id: int
    uid: str


class GrafanaVersion(Model):
    """One version of a dashboard (`data` only when one version is asked for)."""

    id: int
    dashboardId: int
    dashboardUid: str
    uid: str
    parentVersion: int
    restoredFrom: int
    version: int
    created: str
    createdBy: str
    message: str
    data: dict[str, Any] | None = None


class RestoreBody(Model):
    """POST .../restore."""

    model_config = ConfigDict(extra="ignore")

    version: StrictInt = Field(ge=1, description="The version to make the newest one")


class GrafanaTag(Model):
    """A tag and how many dashboards carry it."""

    term: str
    count: int


class GrafanaMessage(Model):
    """A plain Grafana answer."""

    message: str


@router.post(
    f"{DASHBOARDS}/db",
    acl="dashboard.read",
    body=SaveBody,
    response=GrafanaSaved,
    max_body=store.DOCUMENT_LIMIT,
    summary="Create or update a dashboard (needs dashboard.create or dashboard.{uid}.update)",
)
def save(req: Request) -> Reply:
    """Create or update a dashboard."""
    body = req.model(SaveBody)
    folder = body.folderUid
    if folder is None and body.meta is not None:
        folder = body.meta.get("folderUid")
        if folder is not None and not isinstance(folder, str):
            raise Invalid("meta.folderUid must be a string")
    entity = store.save_grafana(
        req.ctx,
        store.Save(
            dashboard=body.dashboard, folder_uid=folder or store.GENERAL, message=body.message, overwrite=body.overwrite
        ),
    )
    return bare(views.saved(entity))


@router.get(BY_UID, acl="dashboard.{uid}.read", response=GrafanaDashboard)
def get_dashboard(req: Request) -> Reply:
    """A dashboard and its meta."""
    entity = store.load(req.ctx, req.params["uid"])
    return bare({"dashboard": views.dashboard_json(entity), "meta": _meta(req, entity)})


def _meta(req: Request, entity: Entity) -> dict[str, Any]:
    principal = req.ctx.principal
    modify = entity_acl.may_modify(principal, entity)
    can_save = modify and principal.can(f"dashboard.{entity.id}.update")
    title = views.dashboard_title(entity)
    folder_uid = store.folder_of(entity)
    folder = store.folders(req.ctx).find(folder_uid) if folder_uid else None
    return {
        "type": "db",
        "canSave": can_save,
        "canEdit": can_save,
        "canAdmin": can_save,
        "canStar": True,
        "canDelete": modify and principal.can(f"dashboard.{entity.id}.delete"),
        "slug": store.slug(title),
        "url": store.url(entity.id, title),
        "expires": views.NEVER,
        "created": views.iso(entity.created),
        "updated": views.iso(entity.updated),
        "updatedBy": entity.updated_by or "Anonymous",
        "createdBy": entity.created_by or "Anonymous",
        "version": entity.version,
        "hasAcl": bool(entity_acl.principals(entity)),
        "isFolder": False,
        **views.folder_keys(folder),
        "provisioned": False,
        "provisionedExternalId": "",
        "isStarred": store.is_starred(req.ctx, entity),
    }


@router.get(
    f"{DASHBOARDS}/db/{{slug}}",
    acl="dashboard.read",
    response=GrafanaDashboard,
    summary="A dashboard by its title's slug (the oldest one the caller may view; deprecated by Grafana)",
)
def get_by_slug(req: Request) -> Reply:
    """A dashboard by its title's slug."""
    entity = store.by_slug(req.ctx, req.params["slug"])
    store.require_access(req.ctx.principal, f"dashboard.{entity.id}.read")
    return bare({"dashboard": views.dashboard_json(entity), "meta": _meta(req, entity)})


@router.delete(BY_UID, acl="dashboard.{uid}.delete", response=GrafanaDeleted)
def delete_dashboard(req: Request) -> Reply:
    """Delete a dashboard permanently, with its versions."""
    entity = store.load(req.ctx, req.params["uid"], modify=True, head_only=True)
    store.dashboards(req.ctx).purge(entity.id)
    title = views.dashboard_title(entity)
    return bare(
        {"title": title, "message": f"Dashboard {title} deleted", "id": store.number_of(entity), "uid": entity.id}
    )


@router.get(
    f"{BY_UID}/versions",
    acl="dashboard.{uid}.read",
    query=VERSIONS_QUERY,
    response=list[GrafanaVersion],
)
def list_versions(req: Request) -> Reply:
    """A dashboard's versions, newest first."""
    entity = store.load(req.ctx, req.params["uid"], head_only=True)
    limit = _paging(req, "limit", DEFAULT_VERSIONS) or DEFAULT_VERSIONS
    start = _paging(req, "start", 0)
    found, _total = store.dashboards(req.ctx).history(entity.id, offset=start, limit=limit, heads=True)
    return bare([views.version_item(v, entity) for v in found])


def _paging(req: Request, name: str, default: int) -> int:
    """A non-negative integer from the query string or, as grafana-client sends it, from a
    form-urlencoded body on the GET."""
    raw = req.arg(name)
    if raw is None and req.raw_body and req.content_type == FORM:
        values = req.form().get(name)
        raw = values[-1] if values else None
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise Invalid(f"{name} must be an integer") from exc
    if value < 0:
        raise Invalid(f"{name} must not be negative")
    return value


@router.get(f"{BY_UID}/versions/{{version}}", acl="dashboard.{uid}.read", response=GrafanaVersion)
def get_version(req: Request) -> Reply:
    """One version of a dashboard, with its JSON."""
    entity = store.load(req.ctx, req.params["uid"], head_only=True)
    raw = req.params["version"]
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid("version must be a positive integer")
    try:
        old = store.dashboards(req.ctx).version(entity.id, int(raw))
    except NotFound as exc:
        raise NotFound("Dashboard version not found") from exc
    return bare({**views.version_item(old, entity), "data": views.dashboard_json(old)})


@router.post(f"{BY_UID}/restore", acl="dashboard.{uid}.update", body=RestoreBody, response=GrafanaSaved)
def restore(req: Request) -> Reply:
    """Make an old version the newest one (a new version, "Restored from version N")."""
    body = req.model(RestoreBody)
    uid = req.params["uid"]
    store.load(req.ctx, uid, modify=True, head_only=True)
    try:
        store.dashboards(req.ctx).version(uid, body.version)
    except NotFound as exc:
        raise NotFound("Dashboard version not found") from exc
    return bare(views.saved(store.restore(req.ctx, uid, body.version)))


@router.get(f"{DASHBOARDS}/tags", acl="dashboard.read", response=list[GrafanaTag])
def tags(req: Request) -> Reply:
    """Every tag of the dashboards the caller may view, with how many carry it."""
    principal = req.ctx.principal
    counts: Counter[str] = Counter()
    for entity in store.dashboards(req.ctx).summaries():
        if entity_acl.may_view(principal, entity):
            counts.update(set(entity.tags))
    return bare([{"term": term, "count": counts[term]} for term in sorted(counts)])


STARS = "/api/user/stars/dashboard/uid/{uid}"
STARS_BY_ID = "/api/user/stars/dashboard/{id}"


@router.post(STARS, acl="dashboard.{uid}.read", response=GrafanaMessage)
def star(req: Request) -> Reply:
    """Star a dashboard for the caller."""
    store.star(req.ctx, req.params["uid"])
    return bare({"message": "Dashboard starred!"})


@router.delete(STARS, acl="dashboard.{uid}.read", response=GrafanaMessage)
def unstar(req: Request) -> Reply:
    """Remove the caller's star from a dashboard."""
    store.unstar(req.ctx, req.params["uid"])
    return bare({"message": "Dashboard unstarred"})


@router.post(STARS_BY_ID, acl="dashboard.read", response=GrafanaMessage)
def star_by_id(req: Request) -> Reply:
    """Star a dashboard named by its numeric id (deprecated by Grafana)."""
    store.star(req.ctx, _readable_number(req).id)
    return bare({"message": "Dashboard starred!"})


@router.delete(STARS_BY_ID, acl="dashboard.read", response=GrafanaMessage)
def unstar_by_id(req: Request) -> Reply:
    """Remove the caller's star from a dashboard named by its numeric id."""
    store.unstar(req.ctx, _readable_number(req).id)
    return bare({"message": "Dashboard unstarred"})


def _readable_number(req: Request) -> Entity:
    raw = req.params["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid("id must be a dashboard's numeric id")
    entity = store.by_number(req.ctx, int(raw))
    store.require_access(req.ctx.principal, f"dashboard.{entity.id}.read")
    return entity


# Grafana's home dashboard when no preference names one (or the one named is gone).
HOME = {
    "title": "Home",
    "uid": "",
    "id": None,
    "tags": [],
    "editable": False,
    "schemaVersion": views.SCHEMA_VERSION,
    "time": {"from": "now-6h", "to": "now"},
    "panels": [
        {
            "id": 1,
            "type": "dashlist",
            "title": "Starred dashboards",
            "gridPos": {"h": 9, "w": 12, "x": 0, "y": 0},
            "options": {"showStarred": True, "showRecentlyViewed": False, "showSearch": False},
        },
        {
            "id": 2,
            "type": "dashlist",
            "title": "Dashboards",
            "gridPos": {"h": 9, "w": 12, "x": 12, "y": 0},
            "options": {"showStarred": False, "showRecentlyViewed": False, "showSearch": True},
        },
    ],
}


def _preferred_home(req: Request) -> Entity | None:
    """The home dashboard the caller's preferences name (its own, else its teams', else the
    org's), when it is still there and the caller may view it."""
    ctx, principal = req.ctx, req.ctx.principal
    # Teams are the caller's home tenant's: acting below it, only the org's and its own count.
    teams = [g.id for g in accounts.groups_of(principal.tenant, principal.id)] if ctx.tenant == principal.tenant else []
    uid = preferences.effective(ctx, principal.id, teams)["homeDashboardUID"]
    if not uid:
        return None
    try:
        return store.load(ctx, uid, head_only=True)
    except (NotFound, Forbidden):
        return None


@router.get(f"{DASHBOARDS}/home", acl="dashboard.read", response=GrafanaDashboard | GrafanaHomeRedirect)
def home(req: Request) -> Reply:
    """The home dashboard the preferences name (as Grafana, its `redirectUri`), else
    Grafana's default one (lists of the starred and of all dashboards)."""
    preferred = _preferred_home(req)
    if preferred is not None:
        return bare({"redirectUri": store.url(preferred.id, store.title_of(preferred.doc))})
    meta = {
        "type": "db",
        "isHome": True,
        "canSave": False,
        "canEdit": False,
        "canAdmin": False,
        "canStar": False,
        "canDelete": False,
        "slug": "",
        "url": "",
        "expires": views.NEVER,
        "created": views.NEVER,
        "updated": views.NEVER,
        "updatedBy": "",
        "createdBy": "",
        "version": 0,
        "hasAcl": False,
        "isFolder": False,
        **views.folder_keys(None),
        "provisioned": False,
        "provisionedExternalId": "",
        "isStarred": False,
    }
    return bare({"dashboard": HOME, "meta": meta})
