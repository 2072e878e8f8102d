"""Grafana's dashboard and folder permissions over opsplane's entity ACLs.

A Grafana permission item names a user (an opsplane account, `userId`) or a team (a user
group, `teamId`) and a level: View (1) puts it on the entity's view list, Edit (2) and
Admin (4) on its modify list (opsplane has two levels: Admin reads back as Edit). An
entity without ACL is open to every holder of the category ACL, which is what Grafana's
role items (Viewer, Editor) express: they are not stored, and a list naming a role is
refused rather than silently narrowed. Saving the list replaces the entity ACL.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.compat.grafana import views
from chalicelib.dashboards import folders, store
from chalicelib.domain import entity_acl
from chalicelib.domain.context import Context
from chalicelib.domain.entities import principal_names
from chalicelib.errors import Forbidden, Invalid
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity.accounts import ACCOUNT
from chalicelib.store.repository import Entity, Repository
from chalicelib.wire import Model

router = Router("grafana")

VIEW, EDIT, ADMIN = 1, 2, 4
LEVEL_NAMES = {VIEW: "View", EDIT: "Edit", ADMIN: "Admin"}
MAX_ITEMS = 200
MAX_ID = 64


class PermissionItem(Model):
    """One entry of a permission list: a user or a team, and a level."""

    model_config = ConfigDict(extra="ignore")

    userId: StrictStr | None = Field(default=None, max_length=MAX_ID, description="An account id")
    teamId: StrictStr | None = Field(default=None, max_length=MAX_ID, description="A user group id (a team)")
    role: Literal["Viewer", "Editor", "Admin"] | None = Field(
        default=None, description="Refused: roles are the category ACLs, not stored per entity"
    )
    permission: Literal[1, 2, 4] = Field(description="1 View, 2 Edit, 4 Admin (stored as Edit)")


class PermissionsBody(Model):
    """POST .../permissions: the whole new list."""

    model_config = ConfigDict(extra="ignore")

    items: list[PermissionItem] = Field(max_length=MAX_ITEMS)


class GrafanaPermission(Model):
    """One entry of a permission list as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    userId: str
    userLogin: str
    teamId: str
    team: str
    role: str
    permission: int
    permissionName: str
    uid: str
    title: str
    isFolder: bool
    inherited: bool


class GrafanaMessage(Model):
    """A plain Grafana answer."""

    message: str


DASHBOARD_ACL = "dashboard.{uid}.read"
FOLDER_ACL = "folder.{uid}.read"


@router.get("/api/dashboards/uid/{uid}/permissions", acl=DASHBOARD_ACL, response=list[GrafanaPermission])
def dashboard_permissions(req: Request) -> Reply:
    """Who may view or edit a dashboard."""
    return bare(_items(req.ctx, store.load(req.ctx, req.params["uid"], head_only=True), folder=False))


@router.post(
    "/api/dashboards/uid/{uid}/permissions",
    acl="dashboard.{uid}.update",
    body=PermissionsBody,
    response=GrafanaMessage,
)
def set_dashboard_permissions(req: Request) -> Reply:
    """Replace who may view or edit a dashboard."""
    entity = store.load(req.ctx, req.params["uid"], modify=True, head_only=True)
    _replace(req.ctx, store.dashboards(req.ctx), entity.id, req.model(PermissionsBody))
    return bare({"message": "Dashboard permissions updated"})


@router.get("/api/dashboards/id/{id}/permissions", acl="dashboard.read", response=list[GrafanaPermission])
def dashboard_permissions_by_id(req: Request) -> Reply:
    """Who may view or edit a dashboard named by its numeric id."""
    entity = _dashboard_by_number(req, "read")
    return bare(_items(req.ctx, entity, folder=False))


@router.post(
    "/api/dashboards/id/{id}/permissions",
    acl="dashboard.read",
    body=PermissionsBody,
    response=GrafanaMessage,
    summary="Replace who may view or edit a dashboard named by its numeric id (needs dashboard.{uid}.update)",
)
def set_dashboard_permissions_by_id(req: Request) -> Reply:
    """Replace who may view or edit a dashboard named by its numeric id."""
    entity = _dashboard_by_number(req, "update")
    store.require_entity(req.ctx.principal, entity, modify=True)
    _replace(req.ctx, store.dashboards(req.ctx), entity.id, req.model(PermissionsBody))
    return bare({"message": "Dashboard permissions updated"})


def _dashboard_by_number(req: Request, access: str) -> Entity:
    raw = req.params["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid("id must be a dashboard's numeric id")
    entity = store.by_number(req.ctx, int(raw))
    store.require_access(req.ctx.principal, f"dashboard.{entity.id}.{access}")
    return entity


@router.get("/api/folders/{uid}/permissions", acl=FOLDER_ACL, response=list[GrafanaPermission])
def folder_permissions(req: Request) -> Reply:
    """Who may view or edit a folder."""
    return bare(_items(req.ctx, folders.get(req.ctx, req.params["uid"]), folder=True))


@router.post("/api/folders/{uid}/permissions", acl="folder.{uid}.update", body=PermissionsBody, response=GrafanaMessage)
def set_folder_permissions(req: Request) -> Reply:
    """Replace who may view or edit a folder."""
    folder = folders.get(req.ctx, req.params["uid"], modify=True)
    _replace(req.ctx, store.folders(req.ctx), folder.id, req.model(PermissionsBody))
    return bare({"message": "Folder permissions updated"})


def _replace(ctx: Context, repo: Repository, uid: str, body: PermissionsBody) -> None:
    """Check every item and principal, then write the new entity ACL in one conditional update."""
    view: list[str] = []
    modify: list[str] = []
    for i, item in enumerate(body.items):
        if item.role is not None:
            raise Invalid(
                f"items[{i}].role: role permissions are not stored per dashboard or folder "
                "(an entity without users or teams is open to every role the category ACL allows)"
            )
        named = [p for p in (item.userId, item.teamId) if p]
        if len(named) != 1:
            raise Invalid(f"items[{i}]: name exactly one of userId or teamId")
        (view if item.permission == VIEW else modify).append(named[0])
    unknown = sorted(set(view + modify) - set(principal_names(ctx, view + modify)))
    if unknown:
        raise Invalid(f"items: unknown users or teams: {', '.join(unknown)}")
    principal = ctx.principal

    def edit(entity: Entity) -> None:
        if not entity_acl.may_modify(principal, entity):
            raise Forbidden(f"{entity.id}: you are not allowed to modify it")
        entity_acl.edit(entity, "set", [p for p in view if p not in modify], modify)

    repo.update(uid, edit, by=ctx.actor, retries=10)


def _items(ctx: Context, entity: Entity, *, folder: bool) -> list[dict[str, Any]]:
    view, modify = entity_acl.lists(entity)
    names = principal_names(ctx, view + modify)
    users = {a.id for a in ctx.repo(ACCOUNT).get_many(view + modify)} if view or modify else set()
    title = folders.title_of(entity) if folder else views.dashboard_title(entity)
    path = folders.url(entity.id, title) if folder else store.url(entity.id, title)
    common = {"uid": entity.id, "title": title, "slug": store.slug(title), "isFolder": folder, "url": path}
    common["inherited"] = False
    common["dashboardId" if not folder else "folderId"] = store.number_of(entity)
    out = []
    for pid, level in [(p, VIEW) for p in view] + [(p, EDIT) for p in modify]:
        is_user = pid in users
        out.append(
            {
                "userId": pid if is_user else "",
                "userLogin": names.get(pid, pid) if is_user else "",
                "userEmail": "",
                "teamId": "" if is_user else pid,
                "team": "" if is_user else names.get(pid, pid),
                "role": "",
                "permission": level,
                "permissionName": LEVEL_NAMES[level],
                **common,
            }
        )
    return out
