"""Grafana's folder routes (/api/folders), nested through parentUid."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from chalicelib.compat.grafana import views
from chalicelib.dashboards import folders, store
from chalicelib.domain import entity_acl
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("grafana")

FOLDERS = "/api/folders"
BY_UID = f"{FOLDERS}/{{uid}}"
LIST_QUERY = (
    ("parentUid", "string", "List the folders inside this one (absent: the top level)"),
    ("limit", "integer", "Folders per page (default 1000)"),
    ("page", "integer", "Page, from 1"),
)
DEFAULT_LIMIT = 1000


class FolderBody(Model):
    """POST /api/folders."""

    model_config = ConfigDict(extra="ignore")

    title: Any = Field(description="The folder's title (required, unique among its siblings)")
    uid: StrictStr | None = Field(default=None, description="Chosen uid (generated when absent)")
    parentUid: StrictStr | None = Field(default=None, description="The parent folder (absent: top level)")


class FolderChange(Model):
    """PUT /api/folders/{uid}."""

    model_config = ConfigDict(extra="ignore")

    title: Any = None
    version: StrictInt | None = Field(default=None, description="The version the change is based on")
    overwrite: StrictBool = Field(default=False, description="Skip the version check")
    uid: StrictStr | None = Field(default=None, description="Must be the folder's own uid (uids do not change)")


class FolderMove(Model):
    """POST /api/folders/{uid}/move."""

    model_config = ConfigDict(extra="ignore")

    parentUid: StrictStr | None = Field(default=None, description='The new parent ("" or absent: top level)')


class GrafanaFolderItem(Model):
    """An entry of the folder list."""

    id: int
    uid: str
    title: str
    parentUid: str | None = None


class GrafanaFolder(Model):
    """One folder."""

    model_config = ConfigDict(extra="allow")

    id: int
    uid: str
    title: str
    url: str
    hasAcl: bool
    canSave: bool
    canEdit: bool
    canAdmin: bool
    canDelete: bool
    createdBy: str
    created: str
    updatedBy: str
    updated: str
    version: int
    parentUid: str
    parents: list[dict[str, Any]]


class GrafanaFolderDeleted(Model):
    """The answer to a folder deletion."""

    message: str
    id: int
    uid: str
    title: str


@router.get(FOLDERS, acl="folder.read", query=LIST_QUERY, response=list[GrafanaFolderItem])
def list_folders(req: Request) -> Reply:
    """The folders inside parentUid (the top level when absent), by title."""
    limit = req.int_arg("limit", DEFAULT_LIMIT, low=1, high=5000)
    page = req.int_arg("page", 1, low=1, high=1_000_000)
    found = folders.children(req.ctx, req.arg("parentUid") or store.GENERAL)
    return bare([views.folder_item(f) for f in found[(page - 1) * limit : page * limit]])


@router.get(BY_UID, acl="folder.read", response=GrafanaFolder)
def get_folder(req: Request) -> Reply:
    """One folder, with its ancestors."""
    return bare(_folder_view(req, folders.get(req.ctx, req.params["uid"])))


@router.get(f"{FOLDERS}/id/{{id}}", acl="folder.read", response=GrafanaFolder)
def get_folder_by_id(req: Request) -> Reply:
    """One folder named by its numeric id (deprecated by Grafana, kept for older clients)."""
    raw = req.params["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid("id must be a folder's numeric id")
    return bare(_folder_view(req, folders.by_number(req.ctx, int(raw))))


@router.post(FOLDERS, acl="folder.create", body=FolderBody, response=GrafanaFolder)
def create_folder(req: Request) -> Reply:
    """Create a folder (409 when a sibling has the title)."""
    body = req.model(FolderBody, default={})
    return bare(_folder_view(req, folders.create(req.ctx, body.title, body.uid, body.parentUid)))


@router.put(BY_UID, acl="folder.{uid}.update", body=FolderChange, response=GrafanaFolder)
def update_folder(req: Request) -> Reply:
    """Rename a folder (412 version-mismatch when version is stale and overwrite is false)."""
    uid = req.params["uid"]
    body = req.model(FolderChange, default={})
    if body.uid not in (None, "", uid):
        raise Invalid("A folder's uid cannot be changed")
    entity = folders.rename(req.ctx, uid, body.title, version=body.version, overwrite=body.overwrite)
    return bare(_folder_view(req, entity))


@router.post(f"{BY_UID}/move", acl="folder.{uid}.update", body=FolderMove, response=GrafanaFolder)
def move_folder(req: Request) -> Reply:
    """Move a folder under another one (or to the top level)."""
    body = req.model(FolderMove, default={})
    return bare(_folder_view(req, folders.move(req.ctx, req.params["uid"], body.parentUid)))


@router.delete(
    BY_UID,
    acl="folder.{uid}.delete",
    query=(("forceDeleteRules", "boolean", "Also delete the dashboards and folders inside (recursively)"),),
    response=GrafanaFolderDeleted,
)
def delete_folder(req: Request) -> Reply:
    """Delete a folder; one with contents only with forceDeleteRules=true, which deletes them too."""
    folder = folders.remove(req.ctx, req.params["uid"], cascade=req.flag("forceDeleteRules"))
    return bare(
        {
            "message": "Folder deleted",
            "id": store.number_of(folder),
            "uid": folder.id,
            "title": folders.title_of(folder),
        }
    )


def _folder_view(req: Request, folder: Entity) -> dict[str, Any]:
    principal = req.ctx.principal
    can_save = principal.can(f"folder.{folder.id}.update")
    title = folders.title_of(folder)
    parents = folders.chain(folder.id, folders.every(req.ctx)) if folders.parent_of(folder) else []
    return {
        "id": store.number_of(folder),
        "uid": folder.id,
        "title": title,
        "url": folders.url(folder.id, title),
        "hasAcl": bool(entity_acl.principals(folder)),
        "canSave": can_save,
        "canEdit": can_save,
        "canAdmin": can_save,
        "canDelete": principal.can(f"folder.{folder.id}.delete"),
        "createdBy": folder.created_by or "Anonymous",
        "created": views.iso(folder.created),
        "updatedBy": folder.updated_by or "Anonymous",
        "updated": views.iso(folder.updated),
        "version": folder.version,
        "parentUid": folders.parent_of(folder),
        "parents": [{**views.folder_item(p), "url": folders.url(p.id, folders.title_of(p))} for p in parents],
    }
