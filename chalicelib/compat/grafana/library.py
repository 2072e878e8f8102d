"""Grafana's library elements (/api/library-elements): panels (kind 1) and variables
(kind 2) stored once and used by many dashboards.

An element is an entity of kind "libraryelement" whose id is its uid; each PATCH is a new
version (the repository's revisions: a stale version is Grafana's 412). Document: name,
kind, model (the panel or variable JSON as posted), and the server-managed `_folder` (a
folder uid, "" for General) and `_number` (Grafana's numeric id). Names are unique per
folder (a reservation row written with the element).

Connections are the Grafana dashboards whose panels name the element
(`"libraryPanel": {"uid": ...}`), found when asked by reading the tenant's dashboards: one
Query of the partition, no second copy kept in step. An element with connections is not
deleted (403, as Grafana).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictInt, StrictStr, model_validator

from chalicelib.compat.grafana import views
from chalicelib.dashboards import folders
from chalicelib.dashboards import store as dashboards
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound, VersionMismatch
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.store import counters, names
from chalicelib.store.repository import Entity, Repository, UniqueName
from chalicelib.wire import Model

router = Router("grafana")

KIND = "libraryelement"
BASE = "/api/library-elements"
BY_UID = f"{BASE}/{{uid}}"
PANEL, VARIABLE = 1, 2
FOLDER, NUMBER = "_folder", "_number"
HEAD_KEYS = (FOLDER, NUMBER, "name", "kind", "type")
MAX_NAME = 256
DEFAULT_PER_PAGE, MAX_PER_PAGE = 100, 1000
NAME_TAKEN = "library element with that name already exists"
CHANGED = "the library element has been changed by someone else"
NOT_FOUND = "library element could not be found"

Uid = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="1..40 of A-Z a-z 0-9 _ -")]
Name = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME, pattern=r"\S")]


class ElementBody(Model):
    """POST /api/library-elements."""

    model_config = ConfigDict(extra="ignore")

    name: Name = Field(description="Absent: the model's title (one of them is required)")
    model: dict[str, Any] = Field(description="The panel or variable JSON")
    kind: Literal[1, 2] = Field(description="1: panel, 2: variable")
    uid: Uid | None = Field(default=None, description="Chosen uid (generated when absent)")
    folderUid: StrictStr | None = Field(default=None, description='The folder ("" or absent: General)')
    folderId: StrictInt | None = Field(default=None, description="Ignored (use folderUid)")

    @model_validator(mode="before")
    @classmethod
    def _name_from_title(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("name") is None and isinstance(data.get("model"), dict):
            title = data["model"].get("title")
            if title is not None:
                return {**data, "name": title}
        return data


class ElementChange(Model):
    """PATCH /api/library-elements/{uid}: what is sent changes; version is required."""

    model_config = ConfigDict(extra="ignore")

    version: StrictInt = Field(ge=1, description="The version the change is based on (412 when stale)")
    name: Name | None = None
    model: dict[str, Any] | None = None
    kind: Literal[1, 2] | None = None
    uid: StrictStr | None = Field(default=None, description="Must be the element's own uid")
    folderUid: StrictStr | None = None
    folderId: StrictInt | None = Field(default=None, description="Ignored (use folderUid)")


class GrafanaElement(Model):
    """A library element as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    id: int
    orgId: int
    folderId: int
    folderUid: str
    uid: str
    name: str
    kind: int
    type: str
    description: str
    model: dict[str, Any]
    version: int
    meta: dict[str, Any]


class GrafanaElementResult(Model):
    """{"result": element}."""

    result: GrafanaElement


class GrafanaElementPage(Model):
    """One page of the element list."""

    totalCount: int
    elements: list[GrafanaElement]
    page: int
    perPage: int


class GrafanaElementSearch(Model):
    """{"result": page}."""

    result: GrafanaElementPage


class GrafanaElementsNamed(Model):
    """{"result": [element, ...]}."""

    result: list[GrafanaElement]


class GrafanaConnection(Model):
    """A dashboard using an element."""

    id: int
    kind: int
    elementId: int
    connectionId: int
    connectionUid: str
    created: str
    createdBy: dict[str, Any]


class GrafanaConnections(Model):
    """{"result": [connection, ...]}."""

    result: list[GrafanaConnection]


class GrafanaElementDeleted(Model):
    """The answer to a delete."""

    message: str
    id: int


def _name_key(entity: Entity) -> str | None:
    name = str(entity.doc.get("name") or "")
    return f"{entity.doc.get(FOLDER) or ''}/{name.strip().casefold()}" if name.strip() else None


def elements(ctx: Context) -> Repository:
    """The tenant's library elements (versioned; names unique per folder)."""
    return ctx.repo(KIND, history=True, unique=UniqueName(_name_key, NAME_TAKEN, error=Conflict), head_keys=HEAD_KEYS)


def load(ctx: Context, uid: str) -> Entity:
    """An element (404 "library element could not be found")."""
    try:
        return elements(ctx).get(uid)
    except (NotFound, Invalid) as exc:
        raise NotFound(NOT_FOUND) from exc


def _folder(ctx: Context, uid: str | None) -> tuple[str, Any]:
    """A folder uid ("" for General) that exists, and the check that it still does when
    the element is written."""
    folder = uid or dashboards.GENERAL
    dashboards.require_folder(ctx, folder)
    return folder, (names.still_live(ctx.tenant, dashboards.FOLDER_KIND, folder) if folder else None)


def _panel_type(kind: int, model: dict[str, Any]) -> str:
    value = model.get("type")
    return value if kind == PANEL and isinstance(value, str) else ""


def create(ctx: Context, body: ElementBody) -> Entity:
    """Store a new element in its folder."""
    folder, still_there = _folder(ctx, body.folderUid)
    doc = {
        "name": body.name,
        "kind": body.kind,
        "type": _panel_type(body.kind, body.model),
        "model": body.model,
        FOLDER: folder,
        NUMBER: counters.next_value(ctx.tenant, KIND),
    }
    uid = body.uid or dashboards.new_uid()
    try:
        return elements(ctx).create(uid, doc, by=ctx.actor, extra=still_there)
    except Conflict as exc:
        if exc.message == NAME_TAKEN:
            raise
        raise Conflict("library element with that uid already exists") from exc


def change(ctx: Context, uid: str, body: ElementChange) -> Entity:
    """Apply a PATCH on the version it names."""
    if body.uid not in (None, "", uid):
        raise Invalid("A library element's uid cannot be changed")
    current = load(ctx, uid)
    folder, still_there = _folder(ctx, body.folderUid if body.folderUid is not None else current.doc.get(FOLDER))

    def edit(entity: Entity) -> None:
        doc = entity.doc
        if body.name is not None:
            doc["name"] = body.name
        if body.kind is not None:
            doc["kind"] = body.kind
        if body.model is not None:
            doc["model"] = body.model
        doc["type"] = _panel_type(int(doc["kind"]), doc["model"])
        doc[FOLDER] = folder

    try:
        return elements(ctx).update(uid, edit, by=ctx.actor, expected_version=body.version, extra=still_there)
    except VersionMismatch as exc:
        raise VersionMismatch(CHANGED) from exc


def _using(ctx: Context) -> Iterator[tuple[Entity, set[str]]]:
    """Each Grafana dashboard of the tenant with the elements its panels name."""
    for dash in dashboards.dashboards(ctx).iterate():
        if dash.doc.get(dashboards.DIALECT) == dashboards.GRAFANA:
            yield dash, _library_uids(dash.doc.get("panels"))


def connections(ctx: Context, uid: str) -> Iterator[Entity]:
    """The Grafana dashboards whose panels (rows' panels included) name the element."""
    return (dash for dash, uids in _using(ctx) if uid in uids)


def uses(ctx: Context) -> Counter[str]:
    """How many dashboards use each element (one reading of the dashboards)."""
    counts: Counter[str] = Counter()
    for _dash, uids in _using(ctx):
        counts.update(uids)
    return counts


def _library_uids(panels: Any) -> set[str]:
    found: set[str] = set()
    for panel in panels if isinstance(panels, list) else []:
        if not isinstance(panel, dict):
            continue
        library = panel.get("libraryPanel")
        if isinstance(library, dict) and isinstance(library.get("uid"), str):
            found.add(library["uid"])
        found |= _library_uids(panel.get("panels"))
    return found


def delete(ctx: Context, uid: str) -> Entity:
    """Delete an element for good (403 while a dashboard uses it)."""
    entity = load(ctx, uid)
    if next(connections(ctx, uid), None) is not None:
        raise Forbidden("the library element has connections")
    elements(ctx).purge(uid)
    return entity


# ---- answers --------------------------------------------------------------------------------


def _person(name: str | None) -> dict[str, Any]:
    return {"id": 0, "name": name or "Anonymous", "avatarUrl": ""}


def element(
    ctx: Context, entity: Entity, known: dict[str, Entity] | None = None, used: Counter[str] | None = None
) -> dict[str, Any]:
    """An element as Grafana answers it (known: the tenant's folders, used: the counts of
    uses(), when a listing has already read them)."""
    doc = entity.doc
    folder_uid = str(doc.get(FOLDER) or "")
    known = known if known is not None else ({folder_uid: f} if (f := _find_folder(ctx, folder_uid)) else {})
    folder = known.get(folder_uid)
    model = doc.get("model") if isinstance(doc.get("model"), dict) else {}
    return {
        "id": int(doc.get(NUMBER, 0)),
        "orgId": 1,
        "folderId": dashboards.number_of(folder) if folder else 0,
        "folderUid": folder_uid,
        "uid": entity.id,
        "name": str(doc.get("name", "")),
        "kind": int(doc.get("kind", PANEL)),
        "type": str(doc.get("type", "")),
        "description": str((model or {}).get("description") or ""),
        "model": model,
        "version": entity.version,
        "meta": {
            "folderName": folders.title_of(folder) if folder else "General",
            "folderUid": folder_uid,
            "connectedDashboards": (used if used is not None else uses(ctx))[entity.id],
            "created": views.iso(entity.created),
            "updated": views.iso(entity.updated),
            "createdBy": _person(entity.created_by),
            "updatedBy": _person(entity.updated_by),
        },
    }


def _find_folder(ctx: Context, uid: str) -> Entity | None:
    return dashboards.folders(ctx).find(uid) if uid else None


def _listed(req: Request, name: str) -> set[str]:
    return {part.strip() for value in req.args(name) for part in value.split(",") if part.strip()}


def search(ctx: Context, req: Request) -> dict[str, Any]:
    """One page of the elements matching Grafana's list filters, by name."""
    per_page = req.int_arg("perPage", DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
    page = req.int_arg("page", 1, low=1, high=1_000_000)
    text = (req.arg("searchString") or "").casefold()
    kind = req.int_arg("kind", 0, low=0, high=VARIABLE) if req.arg("kind") else 0
    direction = req.arg("sortDirection") or "alpha-asc"
    if direction not in ("alpha-asc", "alpha-desc"):
        raise Invalid("sortDirection must be alpha-asc or alpha-desc")
    types = _listed(req, "typeFilter")
    excluded = req.arg("excludeUid") or ""
    known = folders.every(ctx)
    wanted_folders = _listed(req, "folderFilterUIDs") | _listed(req, "folderFilter")
    numbers = {str(dashboards.number_of(f)): f.id for f in known.values()}
    wanted = {numbers.get(w, w) if w not in ("0", "general") else "" for w in wanted_folders}

    def keep(e: Entity) -> bool:
        doc = e.doc
        return (
            text in str(doc.get("name", "")).casefold()
            and (not kind or doc.get("kind") == kind)
            and (not types or doc.get("type") in types)
            and e.id != excluded
            and (not wanted or str(doc.get(FOLDER) or "") in wanted)
        )

    found = sorted(
        (e for e in elements(ctx).summaries() if keep(e)), key=lambda e: str(e.doc.get("name", "")).casefold()
    )
    if direction == "alpha-desc":
        found.reverse()
    chosen = elements(ctx).get_many([e.id for e in found[(page - 1) * per_page : page * per_page]])
    used = uses(ctx) if chosen else Counter[str]()
    return {
        "totalCount": len(found),
        "elements": [element(ctx, e, known, used) for e in chosen],
        "page": page,
        "perPage": per_page,
    }


# ---- routes ---------------------------------------------------------------------------------

LIST_QUERY = (
    ("searchString", "string", "Case-insensitive part of the name"),
    ("kind", "integer", "1: panels, 2: variables"),
    ("sortDirection", "string", "alpha-asc (default) or alpha-desc"),
    ("typeFilter", "string", "Panel types, comma-separated"),
    ("excludeUid", "string", "Leave this element out"),
    ("folderFilter", "string", "Folder ids or uids, comma-separated (0 or general: General)"),
    ("folderFilterUIDs", "string", "Folder uids, comma-separated"),
    ("perPage", "integer", f"Elements per page (default {DEFAULT_PER_PAGE}, max {MAX_PER_PAGE})"),
    ("page", "integer", "Page, from 1"),
)


@router.get(BASE, acl="libraryelement.read", query=LIST_QUERY, response=GrafanaElementSearch)
def list_elements(req: Request) -> Reply:
    """Library elements by name, filtered and paged."""
    return bare({"result": search(req.ctx, req)})


@router.post(BASE, acl="libraryelement.create", body=ElementBody, response=GrafanaElementResult)
def create_element(req: Request) -> Reply:
    """Create a library element (409 when its folder holds the name)."""
    return bare({"result": element(req.ctx, create(req.ctx, req.model(ElementBody)))})


@router.get(BY_UID, acl="libraryelement.{uid}.read", response=GrafanaElementResult)
def get_element(req: Request) -> Reply:
    """One library element."""
    return bare({"result": element(req.ctx, load(req.ctx, req.params["uid"]))})


@router.get(f"{BASE}/name/{{name}}", acl="libraryelement.read", response=GrafanaElementsNamed)
def get_by_name(req: Request) -> Reply:
    """The elements of that name (one per folder at most)."""
    name = req.params["name"].strip().casefold()
    found = [e for e in elements(req.ctx).summaries() if str(e.doc.get("name", "")).strip().casefold() == name]
    if not found:
        raise NotFound(NOT_FOUND)
    used = uses(req.ctx)
    return bare({"result": [element(req.ctx, e, used=used) for e in elements(req.ctx).get_many([e.id for e in found])]})


@router.get(f"{BY_UID}/connections", acl="libraryelement.{uid}.read", response=GrafanaConnections)
def get_connections(req: Request) -> Reply:
    """The dashboards using an element."""
    entity = load(req.ctx, req.params["uid"])
    number = int(entity.doc.get(NUMBER, 0))
    return bare(
        {
            "result": [
                {
                    "id": dashboards.number_of(d),
                    "kind": 1,
                    "elementId": number,
                    "connectionId": dashboards.number_of(d),
                    "connectionUid": d.id,
                    "created": views.iso(d.created),
                    "createdBy": _person(d.created_by),
                }
                for d in connections(req.ctx, entity.id)
            ]
        }
    )


@router.route("PATCH", BY_UID, acl="libraryelement.{uid}.update", body=ElementChange, response=GrafanaElementResult)
def update_element(req: Request) -> Reply:
    """Change a library element (a new version; 412 when version is stale)."""
    return bare({"result": element(req.ctx, change(req.ctx, req.params["uid"], req.model(ElementChange)))})


@router.delete(BY_UID, acl="libraryelement.{uid}.delete", response=GrafanaElementDeleted)
def delete_element(req: Request) -> Reply:
    """Delete a library element no dashboard uses."""
    gone = delete(req.ctx, req.params["uid"])
    return bare({"message": "Library element deleted", "id": int(gone.doc.get(NUMBER, 0))})
