"""Grafana's data sources (/api/datasources).

opsplane's own metric store is every tenant's default data source: uid "opsplane", id 0,
built in (listed first, never stored, never changed or deleted). Other data sources are
stored configurations: opsplane does not connect to them. Queries (/api/ds/query) and
health checks are compat/grafana_query's: they read the time series.

A stored data source is an entity of kind "datasource" whose id is its uid. Document: the
configuration as posted (name, type, access, url, user, database, basicAuth,
basicAuthUser, withCredentials, jsonData), `secureJsonFields` (the NAMES of the secrets
sent: their values are not kept, since nothing here would use them) and `_number`
(Grafana's numeric id). Names are unique in a tenant (a reservation row).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from chalicelib.dashboards import store as dashboards
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Invalid, NotFound, VersionMismatch
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.store import counters
from chalicelib.store.repository import Entity, Repository, UniqueName
from chalicelib.wire import Model

router = Router("grafana")

KIND = "datasource"
BASE = "/api/datasources"
NUMBER = "_number"
HEAD_KEYS = (NUMBER, "name", "type")
BUILT_IN = "opsplane"  # the built-in data source's uid, name and type
MAX_TEXT = 256
MAX_URL = 2048
MAX_SECRETS = 32
NAME_TAKEN = "data source with the same name already exists"
UID_TAKEN = "data source with the same uid already exists"
NOT_FOUND = "Data source not found"
UNREACHABLE = "opsplane does not connect to other data sources: {url} is not reachable from here"

Text = Annotated[StrictStr, Field(max_length=MAX_TEXT)]
Secrets = Annotated[dict[Text, StrictStr], Field(max_length=MAX_SECRETS, description="Only the keys are kept")]


class DatasourceBody(Model):
    """POST /api/datasources and PUT (by id or uid): the whole configuration."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT, pattern=r"\S")]
    type: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TEXT, pattern=r"\S")]
    access: Literal["proxy", "direct"] = "proxy"
    url: Annotated[StrictStr, Field(max_length=MAX_URL)] = ""
    uid: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = None
    user: Text = ""
    database: Text = ""
    basicAuth: StrictBool = False
    basicAuthUser: Text = ""
    withCredentials: StrictBool = False
    isDefault: StrictBool = Field(default=False, description="Must be false: opsplane's store is the default")
    jsonData: dict[str, Any] = Field(default_factory=dict)
    secureJsonData: Secrets | None = None
    password: StrictStr | None = Field(default=None, description="Not kept")
    basicAuthPassword: StrictStr | None = Field(default=None, description="Not kept")
    version: StrictInt | None = Field(default=None, ge=1, description="On a PUT: the version it is based on")


class GrafanaDatasource(Model):
    """A data source as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    id: int
    uid: str
    orgId: int
    name: str
    type: str
    typeLogoUrl: str
    access: str
    url: str
    user: str
    database: str
    basicAuth: bool
    basicAuthUser: str
    withCredentials: bool
    isDefault: bool
    jsonData: dict[str, Any]
    secureJsonFields: dict[str, bool]
    version: int
    readOnly: bool


class GrafanaDatasourceSaved(Model):
    """The answer to a create or an update."""

    datasource: GrafanaDatasource
    id: int
    message: str
    name: str


class GrafanaDatasourceId(Model):
    """GET /api/datasources/id/{name}."""

    id: int


class GrafanaDatasourceDeleted(Model):
    """The answer to a delete."""

    message: str
    id: int | None = None


class GrafanaHealth(Model):
    """A health check's answer."""

    status: str
    message: str


def _name_key(entity: Entity) -> str | None:
    name = str(entity.doc.get("name") or "")
    return name.strip().casefold() or None


NAME = UniqueName(_name_key, NAME_TAKEN, error=Conflict)


def stored(ctx: Context) -> Repository:
    """The tenant's stored data sources."""
    return ctx.repo(KIND, unique=NAME, head_keys=HEAD_KEYS)


def built_in(ctx: Context) -> dict[str, Any]:
    """opsplane's own metric store, the default data source."""
    return {
        "id": 0,
        "uid": BUILT_IN,
        "orgId": 1,
        "name": BUILT_IN,
        "type": BUILT_IN,
        "typeName": "opsplane metrics",
        "typeLogoUrl": "",
        "access": "proxy",
        "url": "",
        "user": "",
        "database": ctx.tenant,
        "basicAuth": False,
        "basicAuthUser": "",
        "withCredentials": False,
        "isDefault": True,
        "jsonData": {},
        "secureJsonFields": {},
        "version": 1,
        "readOnly": True,
    }


def view(entity: Entity) -> dict[str, Any]:
    """A stored data source as Grafana answers it."""
    doc = entity.doc
    return {
        "id": int(doc.get(NUMBER, 0)),
        "uid": entity.id,
        "orgId": 1,
        **{k: v for k, v in doc.items() if not k.startswith("_")},
        "typeName": str(doc.get("type", "")),
        "typeLogoUrl": "",
        "isDefault": False,
        "version": entity.version,
        "readOnly": False,
    }


def to_doc(body: DatasourceBody, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """A body as stored: secrets reduced to their names (those already set stay set)."""
    if body.isDefault:
        raise Invalid("isDefault: opsplane's own metric store is the default data source")
    if body.name.strip().casefold() == BUILT_IN:
        raise Conflict(NAME_TAKEN)
    doc = body.model_dump(exclude={"uid", "isDefault", "secureJsonData", "password", "basicAuthPassword", "version"})
    fields = dict((current or {}).get("secureJsonFields") or {})
    fields.update({key: True for key in body.secureJsonData or {}})
    if body.password:
        fields["password"] = True
    if body.basicAuthPassword:
        fields["basicAuthPassword"] = True
    doc["secureJsonFields"] = fields
    return doc


# ---- finding --------------------------------------------------------------------------------


def by_uid(ctx: Context, uid: str) -> Entity:
    """A stored data source by uid (404)."""
    try:
        return stored(ctx).get(uid)
    except (NotFound, Invalid) as exc:
        raise NotFound(NOT_FOUND) from exc


def by_name(ctx: Context, name: str) -> Entity:
    """A stored data source by name (404)."""
    holder = stored(ctx).name_holder(name.strip().casefold()) if name.strip() else None
    if holder is None:
        raise NotFound(NOT_FOUND)
    return by_uid(ctx, holder)


def by_number(ctx: Context, raw: str) -> Entity:
    """A stored data source by numeric id (a Query of the heads: a tenant has few)."""
    if not raw.isdigit():
        raise Invalid("id must be a non-negative integer")
    for head in stored(ctx).summaries():
        if int(head.doc.get(NUMBER, 0)) == int(raw):
            return by_uid(ctx, head.id)
    raise NotFound(NOT_FOUND)


# ---- writing --------------------------------------------------------------------------------


def create(ctx: Context, body: DatasourceBody) -> Entity:
    """Store a new data source (409 when the name or uid is taken)."""
    uid = body.uid or dashboards.new_uid()
    if uid == BUILT_IN:
        raise Conflict(UID_TAKEN)
    doc = {**to_doc(body), NUMBER: counters.next_value(ctx.tenant, KIND)}
    try:
        return stored(ctx).create(uid, doc, by=ctx.actor)
    except Conflict as exc:
        if exc.message == NAME_TAKEN:
            raise
        raise Conflict(UID_TAKEN) from exc


def replace(ctx: Context, uid: str, body: DatasourceBody) -> Entity:
    """Replace a data source's configuration (409 when body.version is stale)."""
    if body.uid not in (None, uid):
        raise Invalid("A data source's uid cannot be changed")

    def edit(entity: Entity) -> None:
        entity.doc = {**to_doc(body, entity.doc), NUMBER: entity.doc.get(NUMBER, 0)}

    try:
        return stored(ctx).update(uid, edit, by=ctx.actor, expected_version=body.version)
    except VersionMismatch as exc:
        raise Conflict("Datasource has already been updated by someone else") from exc


def _saved(entity: Entity, message: str) -> Reply:
    out = view(entity)
    return bare({"datasource": out, "id": out["id"], "message": message, "name": out["name"]})


def _delete(ctx: Context, entity: Entity) -> Reply:
    stored(ctx).purge(entity.id)
    return bare({"message": "Data source deleted", "id": int(entity.doc.get(NUMBER, 0))})


# ---- routes ---------------------------------------------------------------------------------


@router.get(BASE, acl="datasource.read", response=list[GrafanaDatasource])
def list_datasources(req: Request) -> Reply:
    """The built-in data source, then the stored ones by name."""
    ctx = req.ctx
    heads = sorted(stored(ctx).summaries(), key=lambda e: (str(e.doc.get("name", "")).casefold(), e.id))
    return bare([built_in(ctx), *(view(e) for e in stored(ctx).get_many([h.id for h in heads]))])


@router.post(BASE, acl="datasource.create", body=DatasourceBody, response=GrafanaDatasourceSaved)
def create_datasource(req: Request) -> Reply:
    """Store a data source configuration."""
    return _saved(create(req.ctx, req.model(DatasourceBody)), "Datasource added")


@router.get(f"{BASE}/{{id}}", acl="datasource.read", response=GrafanaDatasource)
def get_by_id(req: Request) -> Reply:
    """A data source by numeric id (0: the built-in one)."""
    raw = req.params["id"]
    return bare(built_in(req.ctx) if raw == "0" else view(by_number(req.ctx, raw)))


@router.get(f"{BASE}/uid/{{uid}}", acl="datasource.{uid}.read", response=GrafanaDatasource)
def get_by_uid(req: Request) -> Reply:
    """A data source by uid."""
    uid = req.params["uid"]
    return bare(built_in(req.ctx) if uid == BUILT_IN else view(by_uid(req.ctx, uid)))


@router.get(f"{BASE}/name/{{name}}", acl="datasource.read", response=GrafanaDatasource)
def get_by_name(req: Request) -> Reply:
    """A data source by name."""
    name = req.params["name"]
    return bare(built_in(req.ctx) if name.strip().casefold() == BUILT_IN else view(by_name(req.ctx, name)))


@router.get(f"{BASE}/id/{{name}}", acl="datasource.read", response=GrafanaDatasourceId)
def get_id_by_name(req: Request) -> Reply:
    """A data source's numeric id, by name."""
    name = req.params["name"]
    if name.strip().casefold() == BUILT_IN:
        return bare({"id": 0})
    return bare({"id": int(by_name(req.ctx, name).doc.get(NUMBER, 0))})


def _is_built_in(param: str, value: str) -> bool:
    return value == {"id": "0", "uid": BUILT_IN}.get(param) or (
        param == "name" and value.strip().casefold() == BUILT_IN
    )


def _target(req: Request, param: str, action: str) -> Entity:
    """The stored data source a route names by id, uid or name, which the caller may
    update or delete (the built-in one never)."""
    value = req.params[param]
    if _is_built_in(param, value):
        raise Invalid(f"The {BUILT_IN} data source is built in: it cannot be {action}d")
    entity = {"id": by_number, "uid": by_uid, "name": by_name}[param](req.ctx, value)
    dashboards.require_access(req.ctx.principal, f"datasource.{entity.id}.{action}")
    return entity


@router.put(f"{BASE}/{{id}}", acl="datasource.read", body=DatasourceBody, response=GrafanaDatasourceSaved)
def update_by_id(req: Request) -> Reply:
    """Replace a data source's configuration, by numeric id; needs datasource.{uid}.update."""
    uid = _target(req, "id", "update").id
    return _saved(replace(req.ctx, uid, req.model(DatasourceBody)), "Datasource updated")


@router.put(f"{BASE}/uid/{{uid}}", acl="datasource.{uid}.update", body=DatasourceBody, response=GrafanaDatasourceSaved)
def update_by_uid(req: Request) -> Reply:
    """Replace a data source's configuration, by uid."""
    uid = _target(req, "uid", "update").id
    return _saved(replace(req.ctx, uid, req.model(DatasourceBody)), "Datasource updated")


@router.delete(f"{BASE}/{{id}}", acl="datasource.read", response=GrafanaDatasourceDeleted)
def delete_by_id(req: Request) -> Reply:
    """Delete a data source by numeric id; needs datasource.{uid}.delete."""
    return _delete(req.ctx, _target(req, "id", "delete"))


@router.delete(f"{BASE}/uid/{{uid}}", acl="datasource.{uid}.delete", response=GrafanaDatasourceDeleted)
def delete_by_uid(req: Request) -> Reply:
    """Delete a data source by uid."""
    return _delete(req.ctx, _target(req, "uid", "delete"))


@router.delete(f"{BASE}/name/{{name}}", acl="datasource.read", response=GrafanaDatasourceDeleted)
def delete_by_name(req: Request) -> Reply:
    """Delete a data source by name; needs datasource.{uid}.delete."""
    return _delete(req.ctx, _target(req, "name", "delete"))
