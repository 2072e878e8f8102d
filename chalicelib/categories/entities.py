"""The building blocks of the routes every Wavefront-style entity shares (crud.py declares
the routes): `Kind`, the description of one entity type, and the operations on its
entities: load / wire / list, create / change / replace, trash / undelete / clone,
history and tags.

Stored documents: keys that start with "_" are managed by the server (`_acl`, and the
category's own such as `_snoozed`); a PUT body never sets them and never erases them.

Entity ACLs (see entity_acl.py) are enforced by every operation of a kind with
entity_acl: reads need view access, writes modify access; listings hide what a principal
may not view.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chalicelib.auth.principal import Principal
from chalicelib.categories import entity_acl
from chalicelib.categories.searching import Fields
from chalicelib.errors import Conflict, Forbidden, Invalid, Unauthenticated
from chalicelib.http import dialects
from chalicelib.http.request import Request
from chalicelib.store.repository import (
    Entity,
    Repository,
    UniqueName,
    add_tags,
    check_tag,
    now_ms,
    remove_tags,
)

# Wavefront tags: alphanumerics, dash, underscore, colon; dots make tag paths (a.b.c).
TAG_PATTERN = re.compile(r"[A-Za-z0-9_\-:.]+\Z")
ID_ATTEMPTS = 3
HISTORY_READ_ALL = 100_000

Doc = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    """What the shared routes need to know about one entity type."""

    name: str  # repository kind and ACL category ("alert")
    label: str  # for messages ("Alert")
    schema: type[BaseModel]  # create / update body
    to_doc: Callable[[Any], tuple[Doc, list[str] | None]]  # body -> (document, tags or None: keep)
    to_wire: Callable[[Entity], Doc]  # stored entity -> wire object (principal-independent part)
    wire: type[BaseModel]  # the wire object's model, for the OpenAPI document
    history: bool = True
    entity_acl: bool = True
    name_key: str = "name"
    search: Fields | None = None
    # Extra payload of a search answer computed over every match (PagedAlertWithStats).
    search_stats: Callable[[list[Doc]], Doc] | None = None
    # History wording for document keys ("_snoozed": "Snoozed or unsnoozed").
    change_labels: dict[str, str] = field(default_factory=dict)
    # A name no two live entities may share (reserved with each write), and the document
    # keys listings read without the document (Repository.summaries).
    unique: UniqueName | None = None
    head_keys: tuple[str, ...] = ()
    # The caller-dependent part of the wire object (a dashboard's `favorite`), added in place.
    personal: Callable[[Request, Entity, Doc], None] | None = None

    def access(self, action: str, entity_id: str | None = None) -> str:
        """The ACL string of an action ("alert.create", "alert.<id>.update")."""
        return f"{self.name}.{entity_id}.{action}" if entity_id is not None else f"{self.name}.{action}"


def new_id() -> str:
    """A unique numeric id, epoch-milliseconds first like Wavefront's (so ids sort by age)."""
    return f"{now_ms()}{secrets.randbelow(10**6):06d}"


def principal_of(req: Request) -> Principal:
    """The authenticated principal (every non-public route has one)."""
    if req.principal is None:
        raise Unauthenticated()
    return req.principal


def repo(req: Request, kind: Kind) -> Repository:
    """The tenant-scoped repository of the kind."""
    return req.repo(kind.name, history=kind.history, unique=kind.unique, head_keys=kind.head_keys)


def valid_tag(tag: Any) -> str:
    """A tag as Wavefront accepts it (400 otherwise)."""
    check_tag(tag)
    if not TAG_PATTERN.match(tag):
        raise Invalid(f"Invalid tag {tag!r}: use letters, digits, '-', '_', ':' and '.'")
    return str(tag)


# ---- entity ACLs ----------------------------------------------------------------------


def may_view(principal: Principal, kind: Kind, entity: Entity) -> bool:
    """Does the entity ACL (when the kind has one) let the principal view the entity?"""
    return not kind.entity_acl or entity_acl.may_view(principal, entity)


def may_modify(principal: Principal, kind: Kind, entity: Entity) -> bool:
    """Does the entity ACL (when the kind has one) let the principal modify the entity?"""
    return not kind.entity_acl or entity_acl.may_modify(principal, entity)


def require(principal: Principal, kind: Kind, entity: Entity, *, modify: bool = False) -> None:
    """Forbidden unless the entity's ACL lets the principal view (and modify)."""
    if not may_view(principal, kind, entity):
        raise Forbidden(f"{kind.label} {entity.id}: you are not allowed to view it")
    if modify and not may_modify(principal, kind, entity):
        raise Forbidden(f"{kind.label} {entity.id}: you are not allowed to modify it")


# ---- reading ----------------------------------------------------------------------------


def load(req: Request, kind: Kind, entity_id: str, *, include_deleted: bool = False, modify: bool = False) -> Entity:
    """An entity the principal may view (and modify); 404 when absent."""
    entity = repo(req, kind).get(entity_id, include_deleted=include_deleted)
    require(principal_of(req), kind, entity, modify=modify)
    return entity


def wire(req: Request, kind: Kind, entity: Entity) -> Doc:
    """The wire object, with the principal-dependent fields (entity ACL, the kind's own)."""
    out = kind.to_wire(entity)
    if kind.entity_acl:
        view, modify = entity_acl.lists(entity)
        out["acl"] = {"canView": view, "canModify": modify}
        out["modifyAclAccess"] = may_modify(principal_of(req), kind, entity)
    if kind.personal is not None:
        kind.personal(req, entity, out)
    return out


def standard_fields(entity: Entity) -> Doc:
    """The bookkeeping fields Wavefront models share (timestamps in epoch ms)."""
    out: Doc = {
        "id": entity.id,
        "created": entity.created,
        "updated": entity.updated,
        "createdEpochMillis": entity.created,
        "updatedEpochMillis": entity.updated,
        "inTrash": entity.deleted,
        "deleted": entity.deleted,
        "version": entity.version,
    }
    if entity.created_by:
        out["creatorId"] = entity.created_by
    if entity.updated_by:
        out["updaterId"] = entity.updated_by
    return out


def visible(req: Request, kind: Kind, *, deleted: bool = False) -> Iterator[Entity]:
    """Every entity of the kind in the tenant that the principal may view (Query only)."""
    principal = principal_of(req)
    for entity in repo(req, kind).iterate(deleted=deleted):
        if may_view(principal, kind, entity):
            yield entity


def paging(req: Request) -> tuple[int, int]:
    """offset (>= 0) and limit (1..1000) from the query string."""
    return req.int_arg("offset", 0, low=0), req.int_arg("limit", 100, low=1, high=1000)


def list_page(req: Request, kind: Kind) -> Doc:
    """One offset/limit page of the entities the principal may view."""
    offset, limit = paging(req)
    principal = principal_of(req)
    if kind.head_keys and (entity_acl.ACL_KEY in kind.head_keys or not kind.entity_acl):
        # Large documents: filter and page over the heads, load only the page's documents.
        heads = [e for e in repo(req, kind).summaries() if may_view(principal, kind, e)]
        items = repo(req, kind).get_many([e.id for e in heads[offset : offset + limit]])
        total, more = len(heads), offset + limit < len(heads)
    elif not kind.entity_acl or entity_acl.bypasses(principal):
        page = repo(req, kind).page(limit=limit, offset=offset)
        items, total, more = page.items, page.total, page.more
    else:
        every = list(visible(req, kind))
        items, total = every[offset : offset + limit], len(every)
        more = offset + len(items) < total
    return dialects.paged([wire(req, kind, e) for e in items], offset=offset, limit=limit, total=total, more=more)


# ---- writing ------------------------------------------------------------------------------


def _tags(tags: list[str] | None) -> list[str] | None:
    return None if tags is None else sorted({valid_tag(t) for t in tags})


def create_from(req: Request, kind: Kind, doc: Doc, tags: list[str] | None) -> Entity:
    """Store a new entity under a fresh id."""
    for attempt in range(ID_ATTEMPTS):
        try:
            return repo(req, kind).create(new_id(), doc, by=req.actor, tags=_tags(tags) or [])
        except Conflict:  # two ids drawn in the same millisecond collided
            if attempt == ID_ATTEMPTS - 1:
                raise
    raise Conflict(f"Could not allocate an id for the {kind.label.lower()}")


def create(req: Request, kind: Kind) -> Entity:
    """A new entity from the request body."""
    doc, tags = kind.to_doc(req.model(kind.schema))
    return create_from(req, kind, doc, tags)


def change(
    req: Request,
    kind: Kind,
    entity_id: str,
    edit: Callable[[Entity], None],
    *,
    expected_version: int | None = None,
    include_deleted: bool = False,
    modify: bool = True,
) -> Entity:
    """Apply edit to the latest version, conditionally. The entity ACL is checked on the
    version being written, and a lost race is re-read and re-applied unless the caller
    named the version it expects (then it is a 409)."""
    principal = principal_of(req)

    def guarded(entity: Entity) -> None:
        require(principal, kind, entity, modify=modify)
        edit(entity)

    retries = 0 if expected_version is not None else 10
    return repo(req, kind).update(
        entity_id,
        guarded,
        by=req.actor,
        expected_version=expected_version,
        include_deleted=include_deleted,
        retries=retries,
    )


def replace(req: Request, kind: Kind, entity_id: str) -> Entity:
    """PUT: the body replaces the document (server-managed keys stay; tags only when sent)."""
    body = req.model(kind.schema)
    doc, tags = kind.to_doc(body)
    checked = _tags(tags)
    expected = getattr(body, "version", None)

    def edit(entity: Entity) -> None:
        managed = {k: v for k, v in entity.doc.items() if k.startswith("_")}
        entity.doc = {**doc, **managed}
        if checked is not None:
            entity.tags = checked

    return change(req, kind, entity_id, edit, expected_version=expected)


def delete(req: Request, kind: Kind, entity_id: str) -> Entity:
    """Move to trash; an entity already in the trash, or skipTrash=true, goes for good."""
    skip = req.flag("skipTrash")
    entity = load(req, kind, entity_id, include_deleted=True, modify=True)
    if entity.deleted or skip:
        gone = repo(req, kind).purge(entity_id)
        gone.deleted = True
        return gone

    def trash(e: Entity) -> None:
        e.deleted = True

    return change(req, kind, entity_id, trash)


def undelete(req: Request, kind: Kind, entity_id: str) -> Entity:
    """Bring back from the trash (400 when it is not there)."""

    def restore(e: Entity) -> None:
        if not e.deleted:
            raise Invalid(f"{kind.label} {entity_id} is not in the trash")
        e.deleted = False

    return change(req, kind, entity_id, restore, include_deleted=True)


def clone(req: Request, kind: Kind, entity_id: str) -> Entity:
    """A copy (of version v when given) under a new id, named `name` or '<name> (clone)'."""
    if not principal_of(req).can(kind.access("create")):
        raise Forbidden(f"Missing permission {kind.access('create')}")
    current = load(req, kind, entity_id)
    version = req.int_arg("v", 0, low=1) if req.arg("v") else None
    source = repo(req, kind).version(entity_id, version) if version else current
    doc = {k: v for k, v in source.doc.items() if not k.startswith("_")}
    name = req.arg("name")
    if name is not None and not name.strip():
        raise Invalid("name must not be empty")
    doc[kind.name_key] = name or f"{doc.get(kind.name_key, '')} (clone)".strip()
    return create_from(req, kind, doc, source.tags)


# ---- history ------------------------------------------------------------------------------


def describe(kind: Kind, before: Entity | None, after: Entity) -> list[str]:
    """What changed from one version to the next, in words."""
    if before is None:
        return [f"{kind.label} created"]
    changes = []
    if before.deleted != after.deleted:
        changes.append("Moved to trash" if after.deleted else "Restored from trash")
    added, removed = sorted(set(after.tags) - set(before.tags)), sorted(set(before.tags) - set(after.tags))
    if added:
        changes.append("Added tags: " + ", ".join(added))
    if removed:
        changes.append("Removed tags: " + ", ".join(removed))
    for key in sorted(set(before.doc) | set(after.doc)):
        if before.doc.get(key) != after.doc.get(key):
            default = "Access control changed" if key == entity_acl.ACL_KEY else f"Changed {key.lstrip('_')}"
            changes.append(kind.change_labels.get(key, default))
    return changes or ["Saved without changes"]


def history(req: Request, kind: Kind, entity_id: str) -> Doc:
    """The HistoryResponse payload: versions newest first, offset/limit paged."""
    load(req, kind, entity_id, include_deleted=True)
    offset, limit = paging(req)
    # Read whole: each change is described against the version before it.
    versions, total = repo(req, kind).history(entity_id, offset=0, limit=HISTORY_READ_ALL)
    entries = []
    for i, v in enumerate(versions[offset : offset + limit], start=offset):
        before = versions[i + 1] if i + 1 < len(versions) else None
        entry: Doc = {
            "id": v.id,
            "version": v.version,
            "updateTime": v.updated,
            "inTrash": v.deleted,
            "changeDescription": describe(kind, before, v),
        }
        if v.updated_by:
            entry["updateUser"] = v.updated_by
        entries.append(entry)
    return dialects.paged(entries, offset=offset, limit=limit, total=total, more=offset + len(entries) < total)


def version_of(req: Request, kind: Kind, entity_id: str, raw_version: str) -> Entity:
    """One past version of an entity the principal may view."""
    try:
        version = int(raw_version)
    except ValueError as exc:
        raise Invalid("version must be an integer") from exc
    if version < 1:
        raise Invalid("version must be positive")
    load(req, kind, entity_id, include_deleted=True)
    return repo(req, kind).version(entity_id, version)


# ---- tags -------------------------------------------------------------------------------


def tags_page(tags: list[str]) -> Doc:
    """The TagsResponse payload."""
    ordered = sorted(tags)
    return dialects.paged(ordered, offset=0, limit=max(len(ordered), 1), total=len(ordered), more=False)


def set_tags(req: Request, kind: Kind, entity_id: str) -> Entity:
    """Replace the tags with the JSON array body."""
    tags = _tags(req.json_list(of=str)) or []

    def edit(e: Entity) -> None:
        e.tags = tags

    return change(req, kind, entity_id, edit)


def add_tag(req: Request, kind: Kind, entity_id: str, tag: str) -> Entity:
    """Add one tag (concurrent additions all survive)."""
    valid_tag(tag)
    return change(req, kind, entity_id, lambda e: add_tags(e, [tag]))


def remove_tag(req: Request, kind: Kind, entity_id: str, tag: str) -> Entity:
    """Remove one tag (absent tags are ignored)."""
    return change(req, kind, entity_id, lambda e: remove_tags(e, [tag]))
