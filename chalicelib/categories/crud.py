"""The routes every Wavefront-style entity shares, written once: list, create, get, update
(409 on a stale `version`), trash / undelete / permanent delete, clone, history, tags and
entity ACLs.

A category describes its entity with a `Kind` (repository kind, pydantic body schema,
body -> document and entity -> wire functions, the wire model the document shows) and
calls `declare(router, kind, base)`; its module then holds only the routes particular to
it (snooze, install, ...), which reuse `change()`, `load()` and `wire()` from here. Those
building blocks live in entities.py; this module declares the routes over them and holds
the entity-ACL routes.

Entity ACLs (see entity_acl.py) are enforced on every route of a kind with entity_acl:
reads need view access, writes modify access; listings and search hide what a principal
may not view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from chalicelib.categories import entity_acl
from chalicelib.categories.crud_views import NO_PAYLOAD, AccessControlListReadDTO, HistoryEntry, TagsResponse
from chalicelib.categories.entities import (
    Doc,
    Kind,
    add_tag,
    change,
    clone,
    create,
    delete,
    history,
    list_page,
    load,
    principal_of,
    remove_tag,
    replace,
    set_tags,
    standard_fields,
    tags_page,
    undelete,
    version_of,
    visible,
    wire,
)
from chalicelib.errors import Forbidden, Invalid
from chalicelib.http.request import Request, validation_message
from chalicelib.http.router import Router
from chalicelib.identity.accounts import ACCOUNT, GROUP
from chalicelib.store.repository import Entity

# What categories use from here besides declare (kept as one surface: see the docstring).
__all__ = ["Doc", "Kind", "change", "declare", "load", "standard_fields", "visible", "wire"]

MAX_ACL_ENTRIES = 200


# ---- entity ACL routes --------------------------------------------------------------------


class AclWrite(BaseModel):
    """The client's AccessControlListWriteDTO."""

    model_config = ConfigDict(extra="ignore")

    entityId: StrictStr = Field(min_length=1)
    viewAcl: list[StrictStr] = Field(default_factory=list, max_length=MAX_ACL_ENTRIES)
    modifyAcl: list[StrictStr] = Field(default_factory=list, max_length=MAX_ACL_ENTRIES)


def _principal_names(req: Request, ids: list[str]) -> dict[str, str]:
    """Account ids -> username and group ids -> group name, for ids of the acting tenant."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    names = {a.id: str(a.doc.get("username") or a.id) for a in req.repo(ACCOUNT).get_many(unique)}
    rest = [i for i in unique if i not in names]
    if rest:
        names.update({g.id: str(g.doc.get("name") or g.id) for g in req.repo(GROUP).get_many(rest)})
    return names


def acl_read(req: Request, kind: Kind, entity: Entity, names: dict[str, str] | None = None) -> Doc:
    """The AccessControlListReadDTO of one entity."""
    view, modify = entity_acl.lists(entity)
    names = names if names is not None else _principal_names(req, view + modify)

    def element(pid: str) -> Doc:
        return {"id": pid, "name": names.get(pid, pid)}

    return {"entityId": entity.id, "viewAcl": [element(i) for i in view], "modifyAcl": [element(i) for i in modify]}


def acl_get(req: Request, kind: Kind) -> list[Doc]:
    """ACLs of the entities named by ?id=..&id=.. (each must be viewable)."""
    ids = req.args("id")
    if not ids:
        raise Invalid("Name at least one entity with ?id=")
    entities = [load(req, kind, i) for i in dict.fromkeys(ids)]
    names = _principal_names(req, [p for e in entities for p in entity_acl.principals(e)])
    return [acl_read(req, kind, e, names) for e in entities]


def acl_write(req: Request, kind: Kind, mode: str) -> list[Doc]:
    """add / remove / set entity ACLs from a list of AccessControlListWriteDTO. Everything
    is checked (entities modifiable, principals known) before anything is written."""
    raw = req.json(default=None)
    if not isinstance(raw, list) or not raw:
        raise Invalid("The body must be a non-empty JSON array of {entityId, viewAcl, modifyAcl}")
    writes = [req_model(AclWrite, item) for item in raw]
    principal = principal_of(req)
    for w in writes:
        if not principal.can(kind.access("update", w.entityId)):
            raise Forbidden(f"Missing permission {kind.access('update', w.entityId)}")
        load(req, kind, w.entityId, modify=True)
    named = [p for w in writes for p in w.viewAcl + w.modifyAcl]
    known = _principal_names(req, named)
    unknown = sorted(set(named) - set(known))
    if unknown:
        raise Invalid(f"Unknown accounts or groups: {', '.join(unknown)}")
    results = []
    for w in writes:

        def edit(e: Entity, w: AclWrite = w) -> None:
            entity_acl.edit(e, mode, w.viewAcl, w.modifyAcl)

        results.append(change(req, kind, w.entityId, edit))
    names = _principal_names(req, [p for e in results for p in entity_acl.principals(e)])
    return [acl_read(req, kind, e, names) for e in results]


def req_model(schema: type[BaseModel], data: Any) -> Any:
    """Validate one item of a JSON body with a schema (400 with the reasons)."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise Invalid(validation_message(exc)) from exc


# ---- route declarations -------------------------------------------------------------------

FEATURES = frozenset({"list", "create", "get", "update", "delete", "undelete", "clone", "history", "tags", "acl"})
PAGING = (("offset", "integer", "first item, from 0"), ("limit", "integer", "page size, 1..1000"))


@dataclass(frozen=True)
class Declared:
    """One kind declared on the shared CRUD: where its routes live and which it has."""

    kind: Kind
    base: str
    features: frozenset[str]


# Every kind declared so far (in import order): the shared contract suite runs for each.
DECLARED: list[Declared] = []


def declare(router: Router, kind: Kind, base: str, *, features: frozenset[str] = FEATURES) -> dict[str, Callable]:
    """Declare the shared routes of a kind under base (e.g. /api/v2/alert); returns the
    handlers by name."""
    unknown = set(features) - FEATURES
    if unknown:
        raise ValueError(f"Unknown CRUD features: {sorted(unknown)}")
    DECLARED.append(Declared(kind, base, frozenset(features)))
    item = f"{base}/{{id}}"
    one = kind.access("read", "{id}")
    upd = kind.access("update", "{id}")
    label = kind.label.lower()
    handlers: dict[str, Callable] = {}

    def entity_answer(req: Request, entity: Entity) -> Doc:
        return wire(req, kind, entity)

    def entity_route(method: str, path: str, **options: Any) -> Callable[[Callable], Callable]:
        """A route answering the kind's wire object (one page of them when paged)."""
        return router.route(method, path, response=kind.wire, **options)

    if "list" in features:

        def list_all(req: Request) -> Doc:
            return list_page(req, kind)

        entity_route("GET", base, acl=kind.access("read"), query=PAGING, paged=True, summary=f"List {label}s")(list_all)
        handlers["list"] = list_all
    if "create" in features:

        def create_one(req: Request) -> Doc:
            return entity_answer(req, create(req, kind))

        entity_route("POST", base, acl=kind.access("create"), body=kind.schema, summary=f"Create a {label}")(create_one)
        handlers["create"] = create_one
    if "get" in features:

        def get_one(req: Request) -> Doc:
            return entity_answer(req, load(req, kind, req.params["id"], include_deleted=True))

        entity_route("GET", item, acl=one, summary=f"Get a {label}")(get_one)
        handlers["get"] = get_one
    if "update" in features:

        def update_one(req: Request) -> Doc:
            return entity_answer(req, replace(req, kind, req.params["id"]))

        summary = f"Update a {label} (409 on a stale version)"
        entity_route("PUT", item, acl=upd, body=kind.schema, summary=summary)(update_one)
        handlers["update"] = update_one
    if "delete" in features:

        def delete_one(req: Request) -> Doc:
            return entity_answer(req, delete(req, kind, req.params["id"]))

        entity_route(
            "DELETE",
            item,
            acl=kind.access("delete", "{id}"),
            query=(("skipTrash", "boolean", "delete permanently"),),
            summary=f"Move a {label} to the trash, or delete it permanently",
        )(delete_one)
        handlers["delete"] = delete_one
    if "undelete" in features:

        def undelete_one(req: Request) -> Doc:
            return entity_answer(req, undelete(req, kind, req.params["id"]))

        entity_route("POST", f"{item}/undelete", acl=upd, summary=f"Restore a {label} from the trash")(undelete_one)
        handlers["undelete"] = undelete_one
    if "clone" in features:

        def clone_one(req: Request) -> Doc:
            return entity_answer(req, clone(req, kind, req.params["id"]))

        entity_route(
            "POST",
            f"{item}/clone",
            acl=one,
            query=(("name", "string", "name of the copy"), ("v", "integer", "version to copy")),
            summary=f"Clone a {label} (also needs {kind.access('create')})",
        )(clone_one)
        handlers["clone"] = clone_one
    if "history" in features:

        def history_of(req: Request) -> Doc:
            return history(req, kind, req.params["id"])

        def version_one(req: Request) -> Doc:
            return entity_answer(req, version_of(req, kind, req.params["id"], req.params["version"]))

        versions = f"Versions of a {label}"
        router.get(f"{item}/history", acl=one, query=PAGING, paged=True, response=HistoryEntry, summary=versions)(
            history_of
        )
        entity_route("GET", f"{item}/history/{{version}}", acl=one, summary=f"One version of a {label}")(version_one)
        handlers["history"], handlers["version"] = history_of, version_one
    if "tags" in features:

        def tags_of(req: Request) -> Doc:
            return tags_page(load(req, kind, req.params["id"]).tags)

        def tags_set(req: Request) -> None:
            set_tags(req, kind, req.params["id"])

        def tag_add(req: Request) -> None:
            add_tag(req, kind, req.params["id"], req.params["tagValue"])

        def tag_remove(req: Request) -> None:
            remove_tag(req, kind, req.params["id"], req.params["tagValue"])

        tag = f"{item}/tag/{{tagValue}}"
        tags = {"type": "array", "items": {"type": "string"}}
        router.get(f"{item}/tag", acl=one, response=TagsResponse, summary=f"Tags of a {label}")(tags_of)
        router.post(f"{item}/tag", acl=upd, body=tags, response=NO_PAYLOAD, summary="Set tags")(tags_set)
        router.put(tag, acl=upd, response=NO_PAYLOAD, summary=f"Add a tag to a {label}")(tag_add)
        router.delete(tag, acl=upd, response=NO_PAYLOAD, summary=f"Remove a tag from a {label}")(tag_remove)
        handlers.update(tags=tags_of, set_tags=tags_set, add_tag=tag_add, remove_tag=tag_remove)
    if "acl" in features:

        def acl_of(req: Request) -> list[Doc]:
            return acl_get(req, kind)

        def acl_add(req: Request) -> list[Doc]:
            return acl_write(req, kind, "add")

        def acl_remove(req: Request) -> list[Doc]:
            return acl_write(req, kind, "remove")

        def acl_set(req: Request) -> list[Doc]:
            return acl_write(req, kind, "set")

        read = kind.access("read")
        ids = (("id", "string", "entity id (repeat the key for several)"),)
        acls = list[AccessControlListReadDTO]
        writes = {"type": "array", "items": AclWrite.model_json_schema()}
        needs = f"(each entity needs {upd})"
        router.get(f"{base}/acl", acl=read, query=ids, response=acls, summary=f"Access control lists of {label}s")(
            acl_of
        )
        router.post(f"{base}/acl/add", acl=read, body=writes, response=acls, summary=f"Add principals to ACLs {needs}")(
            acl_add
        )
        router.post(
            f"{base}/acl/remove", acl=read, body=writes, response=acls, summary=f"Remove principals from ACLs {needs}"
        )(acl_remove)
        router.put(f"{base}/acl/set", acl=read, body=writes, response=acls, summary=f"Set ACLs {needs}")(acl_set)
        handlers.update(acl=acl_of, acl_add=acl_add, acl_remove=acl_remove, acl_set=acl_set)
    return handlers
