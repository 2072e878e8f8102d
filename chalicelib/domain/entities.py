"""The operations every Wavefront-style entity shares, over a Context (categories/crud.py
declares the HTTP routes over them): `Kind`, the description of one entity type, and the
operations on its entities: load / wire / list, create / change / replace, trash /
undelete / clone, history, tags and entity ACLs.

Stored documents: keys that start with "_" are managed by the server (`_acl`, and the
category's own such as `_snoozed`); a PUT body never sets them and never erases them.

Entity ACLs (see entity_acl.py) are enforced by every operation of a kind with
entity_acl: reads need view access, writes modify access; listings hide what a principal
may not view.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chalicelib.auth.principal import Principal
from chalicelib.domain import entity_acl
from chalicelib.domain.context import Context
from chalicelib.domain.searching import Fields
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.identity.accounts import ACCOUNT, GROUP
from chalicelib.store.repository import (
    Describe,
    Entity,
    Repository,
    UniqueName,
    Writes,
    add_tags,
    check_tag,
    remove_tags,
)

# Wavefront tags: alphanumerics, dash, underscore, colon; dots make tag paths (a.b.c).
TAG_PATTERN = re.compile(r"[A-Za-z0-9_\-:.]+\Z")
ID_ATTEMPTS = 3

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
    # The kind's name in search URLs when it differs from name (events need none: the
    # client's searchReportEvent* routes are /api/v2/search/event).
    search_name: str | None = None
    # Extra payload of a search answer computed over every match (PagedAlertWithStats).
    search_stats: Callable[[list[Doc]], Doc] | None = None
    # The model of a whole live search answer when search_stats adds to the page.
    search_page: type[BaseModel] | None = None
    # Search pages by cursor in id order (the client's SourceSearchRequestContainer), not by
    # offset (SortableSearchRequest).
    search_by_cursor: bool = False
    # History wording for document keys ("_snoozed": "Snoozed or unsnoozed").
    change_labels: dict[str, str] = field(default_factory=dict)
    # A name no two live entities may share (reserved with each write), and the document
    # keys listings read without the document (Repository.summaries).
    unique: UniqueName | None = None
    head_keys: tuple[str, ...] = ()
    # The part of the wire object that depends on the Context (a dashboard's `favorite` on
    # the caller, a maintenance window's runningState on the clock), added in place.
    personal: Callable[[Context, Entity, Doc], None] | None = None
    # Reads what `personal` needs for many entities at once (into ctx.memo), before a list
    # is wired: one batch read for a page instead of one read per entity.
    prefetch: Callable[[Context, list[Entity]], None] | None = None
    # The time a kind's objects are listed by in windows of time (an event's startTime):
    # the repository keeps a timeline copy of each (store/timeline.py).
    timeline: Callable[[Doc], int] | None = None
    # Why the API may not change an entity (a system event), or None: every write through
    # these operations is then a 400 saying so (the domain's own writes go around them).
    read_only: Callable[[Entity], str | None] | None = None
    # Each principal has its own entities (saved searches): they live in a partition of
    # the principal's, so listings hold only the caller's and another's id is a 404.
    per_principal: bool = False
    # A rule a body must pass that needs the tenant's data, not only the body (a cloud
    # integration's external id must be one issued to the tenant; a policy's accounts must
    # be the tenant's): run before a create, and on an update once the entity is known to
    # be there and writable (so another tenant's id is still a 404). Raises Invalid.
    check: Callable[[Context, Any], None] | None = None
    # A row elsewhere kept in step with each entity (the registry of the cloud integrations
    # a schedule pulls): (ctx, id, the document when live, None when trashed or deleted) ->
    # the writes that keep it, run in the transaction of every write of the entity.
    follow: Callable[[Context, str, Doc | None], Writes] | None = None

    def access(self, action: str, entity_id: str | None = None) -> str:
        """The ACL string of an action ("alert.create", "alert.<id>.update")."""
        return f"{self.name}.{entity_id}.{action}" if entity_id is not None else f"{self.name}.{action}"


@dataclass(frozen=True)
class Listing:
    """One offset/limit page of a listing (the dialect renders it)."""

    items: list[Any]
    offset: int
    limit: int
    total: int
    more: bool

    @classmethod
    def of(cls, found: Sequence[Any], offset: int, limit: int, render: Callable[[Any], Any]) -> Listing:
        """The offset/limit page of what was found (filtered in memory), each item rendered."""
        chosen = found[offset : offset + limit]
        return cls([render(x) for x in chosen], offset, limit, len(found), offset + len(chosen) < len(found))


def new_id(ctx: Context) -> str:
    """A unique numeric id, epoch-milliseconds first like Wavefront's (so ids sort by age)."""
    return f"{ctx.now()}{secrets.randbelow(10**6):06d}"


def repo(ctx: Context, kind: Kind) -> Repository:
    """The tenant-scoped repository of the kind (each version is described as it is
    written), scoped to the acting principal for a kind whose entities are per principal."""
    return ctx.repo(
        kind.name,
        history=kind.history,
        unique=kind.unique,
        head_keys=kind.head_keys,
        describe=describer(kind.label, kind.change_labels) if kind.history else None,
        timeline=kind.timeline,
        scope=ctx.principal.id if kind.per_principal else None,
    )


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
    """Forbidden unless the entity's ACL lets the principal view (and modify); Invalid when
    the entity may not be changed through the API at all (Kind.read_only)."""
    if not may_view(principal, kind, entity):
        raise Forbidden(f"{kind.label} {entity.id}: you are not allowed to view it")
    if modify and not may_modify(principal, kind, entity):
        raise Forbidden(f"{kind.label} {entity.id}: you are not allowed to modify it")
    reason = kind.read_only(entity) if modify and kind.read_only is not None else None
    if reason:
        raise Invalid(reason)


# ---- reading ----------------------------------------------------------------------------


def load(ctx: Context, kind: Kind, entity_id: str, *, include_deleted: bool = False, modify: bool = False) -> Entity:
    """An entity the principal may view (and modify); 404 when absent."""
    entity = repo(ctx, kind).get(entity_id, include_deleted=include_deleted)
    require(ctx.principal, kind, entity, modify=modify)
    return entity


def peek(ctx: Context, kind: Kind, entity_id: str, *, include_deleted: bool = False) -> Entity:
    """An entity the principal may view, read as cheaply as the check allows: its head row
    (no document) when the kind keeps heads that hold the entity ACL, else the entity."""
    if kind.head_keys and (not kind.entity_acl or entity_acl.ACL_KEY in kind.head_keys):
        entity = repo(ctx, kind).summary(entity_id, include_deleted=include_deleted)
        require(ctx.principal, kind, entity)
        return entity
    return load(ctx, kind, entity_id, include_deleted=include_deleted)


def wire_many(ctx: Context, kind: Kind, found: list[Entity]) -> list[Doc]:
    """The wire objects of several entities (their personal fields read in one batch)."""
    if kind.prefetch is not None and found:
        kind.prefetch(ctx, found)
    return [wire(ctx, kind, e) for e in found]


def wire(ctx: Context, kind: Kind, entity: Entity) -> Doc:
    """The wire object, with the principal-dependent fields (entity ACL, the kind's own)."""
    out = kind.to_wire(entity)
    if kind.entity_acl:
        view, modify = entity_acl.lists(entity)
        out["acl"] = {"canView": view, "canModify": modify}
        out["modifyAclAccess"] = may_modify(ctx.principal, kind, entity)
    if kind.personal is not None:
        kind.personal(ctx, entity, out)
    return out


# The keys standard_fields gives every wire object, searchable for every kind.
STANDARD_KEYS = (
    "id",
    "created",
    "updated",
    "createdEpochMillis",
    "updatedEpochMillis",
    "inTrash",
    "creatorId",
    "updaterId",
)


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


def visible(ctx: Context, kind: Kind, *, deleted: bool = False) -> Iterator[Entity]:
    """Every entity of the kind in the tenant that the principal may view (Query only)."""
    for entity in repo(ctx, kind).iterate(deleted=deleted):
        if may_view(ctx.principal, kind, entity):
            yield entity


def list_page(ctx: Context, kind: Kind, *, offset: int, limit: int) -> Listing:
    """One offset/limit page of the entities the principal may view, as wire objects.

    A principal who sees everything (no entity ACL on the kind, or a superadmin) gets a
    repository page: one Query, its total from the kind's counter row. Anyone else gets
    the entities filtered one by one (a counter cannot know what they may see): the whole
    partition is read, every page, and the total is what the filter let through."""
    principal = ctx.principal
    if kind.head_keys and (entity_acl.ACL_KEY in kind.head_keys or not kind.entity_acl):
        # Large documents: filter and page over the heads, load only the page's documents.
        heads = [e for e in repo(ctx, kind).summaries() if may_view(principal, kind, e)]
        items = repo(ctx, kind).get_many([e.id for e in heads[offset : offset + limit]])
        total, more = len(heads), offset + limit < len(heads)
    elif not kind.entity_acl or entity_acl.bypasses(principal):
        page = repo(ctx, kind).page(limit=limit, offset=offset)
        items, total, more = page.items, page.total, page.more
    else:
        return Listing.of(list(visible(ctx, kind)), offset, limit, lambda e: wire(ctx, kind, e))
    return Listing(wire_many(ctx, kind, list(items)), offset, limit, total, more)


# ---- writing ------------------------------------------------------------------------------


def _tags(tags: list[str] | None) -> list[str] | None:
    return None if tags is None else sorted({valid_tag(t) for t in tags})


def create_from(ctx: Context, kind: Kind, doc: Doc, tags: list[str] | None) -> Entity:
    """Store a new entity under a fresh id."""
    for attempt in range(ID_ATTEMPTS):
        entity_id = new_id(ctx)
        extra = kind.follow(ctx, entity_id, doc) if kind.follow is not None else None
        try:
            return repo(ctx, kind).create(entity_id, doc, by=ctx.actor, tags=_tags(tags) or [], extra=extra)
        except Conflict:  # two ids drawn in the same millisecond collided
            if attempt == ID_ATTEMPTS - 1:
                raise
    raise Conflict(f"Could not allocate an id for the {kind.label.lower()}")


def body_doc(body: BaseModel) -> tuple[Doc, list[str] | None]:
    """A Kind.to_doc: the document is the body without its `version` (the version the
    writer last read) and its WFTags `tags`; the customer tags when the body names them
    (else None: keep)."""
    doc = body.model_dump(exclude_none=True, exclude={"tags", "version"})
    tags = getattr(body, "tags", None)
    return doc, tags.customerTags if tags is not None and tags.customerTags is not None else None


def create(ctx: Context, kind: Kind, body: BaseModel) -> Entity:
    """A new entity from a validated body (the kind's schema)."""
    if kind.check is not None:
        kind.check(ctx, body)
    doc, tags = kind.to_doc(body)
    return create_from(ctx, kind, doc, tags)


def change(
    ctx: Context,
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

    edited: list[Entity] = []

    def guarded(entity: Entity) -> None:
        require(ctx.principal, kind, entity, modify=modify)
        edit(entity)
        edited[:] = [entity]

    follow = kind.follow
    extra: Writes | None = None
    if follow is not None:

        def extra(tx: Any) -> None:
            # Run by the repository's transaction after the edit: follows the edited entity.
            entity = edited[-1]
            follow(ctx, entity.id, None if entity.deleted else entity.doc)(tx)

    retries = 0 if expected_version is not None else 10
    return repo(ctx, kind).update(
        entity_id,
        guarded,
        by=ctx.actor,
        expected_version=expected_version,
        include_deleted=include_deleted,
        retries=retries,
        extra=extra,
    )


def replace(ctx: Context, kind: Kind, entity_id: str, body: BaseModel) -> Entity:
    """PUT: the body replaces the document (server-managed keys stay; tags only when sent)."""
    doc, tags = kind.to_doc(body)
    checked = _tags(tags)
    expected = getattr(body, "version", None)

    def edit(entity: Entity) -> None:
        if kind.check is not None:
            kind.check(ctx, body)
        managed = {k: v for k, v in entity.doc.items() if k.startswith("_")}
        entity.doc = {**doc, **managed}
        if checked is not None:
            entity.tags = checked

    return change(ctx, kind, entity_id, edit, expected_version=expected)


def delete(ctx: Context, kind: Kind, entity_id: str, *, skip_trash: bool = False) -> Entity:
    """Move to trash; an entity already in the trash, or skip_trash, goes for good."""
    entity = load(ctx, kind, entity_id, include_deleted=True, modify=True)
    if entity.deleted or skip_trash:
        gone = repo(ctx, kind).purge(entity_id, extra=kind.follow(ctx, entity_id, None) if kind.follow else None)
        gone.deleted = True
        return gone

    def trash(e: Entity) -> None:
        e.deleted = True

    return change(ctx, kind, entity_id, trash)


def undelete(ctx: Context, kind: Kind, entity_id: str) -> Entity:
    """Bring back from the trash (400 when it is not there)."""

    def restore(e: Entity) -> None:
        if not e.deleted:
            raise Invalid(f"{kind.label} {entity_id} is not in the trash")
        e.deleted = False

    return change(ctx, kind, entity_id, restore, include_deleted=True)


def clone(ctx: Context, kind: Kind, entity_id: str, *, name: str | None = None, version: int | None = None) -> Entity:
    """A copy (of version when given) under a new id, named `name` or '<name> (clone)'."""
    if not ctx.can(kind.access("create")):
        raise Forbidden(f"Missing permission {kind.access('create')}")
    current = load(ctx, kind, entity_id)
    source = repo(ctx, kind).version(entity_id, version) if version else current
    doc = {k: v for k, v in source.doc.items() if not k.startswith("_")}
    if name is not None and not name.strip():
        raise Invalid("name must not be empty")
    doc[kind.name_key] = name or f"{doc.get(kind.name_key, '')} (clone)".strip()
    return create_from(ctx, kind, doc, source.tags)


# ---- history ------------------------------------------------------------------------------


def describer(label: str, change_labels: dict[str, str]) -> Describe:
    """What a write changed, in words, for a kind labelled label (its history wording)."""

    def describe_change(before: Entity | None, after: Entity) -> list[str]:
        if before is None:
            return [f"{label} created"]
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
                changes.append(change_labels.get(key, default))
        return changes or ["Saved without changes"]

    return describe_change


def describe(kind: Kind, before: Entity | None, after: Entity) -> list[str]:
    """What changed from one version to the next, in words."""
    return describer(kind.label, kind.change_labels)(before, after)


def history(ctx: Context, kind: Kind, entity_id: str, *, offset: int, limit: int) -> Listing:
    """The versions of an entity newest first (HistoryResponse items), offset/limit paged.

    Each version carries its description, written with it, so the page is listed without
    its documents (one Query of offset + limit small rows). Versions written before
    descriptions were stored are described against the version before them, read whole."""
    peek(ctx, kind, entity_id, include_deleted=True)
    store = repo(ctx, kind)
    versions, total = store.history(entity_id, offset=offset, limit=limit, heads=True)
    entries = []
    for v in versions:
        entry: Doc = {
            "id": v.id,
            "version": v.version,
            "updateTime": v.updated,
            "inTrash": v.deleted,
            "changeDescription": v.changes if v.changes is not None else _described_late(store, kind, v),
        }
        if v.updated_by:
            entry["updateUser"] = v.updated_by
        entries.append(entry)
    return Listing(entries, offset, limit, total, offset + len(entries) < total)


def _described_late(store: Repository, kind: Kind, summary: Entity) -> list[str]:
    """A version stored without its description, described from its document and the
    previous version's."""
    after = store.version(summary.id, summary.version)
    try:
        before = store.version(summary.id, summary.version - 1) if summary.version > 1 else None
    except NotFound:  # kept no history then
        before = None
    return describe(kind, before, after)


def version_of(ctx: Context, kind: Kind, entity_id: str, version: int) -> Entity:
    """One past version of an entity the principal may view."""
    if version < 1:
        raise Invalid("version must be positive")
    peek(ctx, kind, entity_id, include_deleted=True)
    return repo(ctx, kind).version(entity_id, version)


# ---- tags -------------------------------------------------------------------------------


def tags_of(ctx: Context, kind: Kind, entity_id: str) -> list[str]:
    """The tags of an entity the principal may view, sorted."""
    return sorted(load(ctx, kind, entity_id).tags)


def set_tags(ctx: Context, kind: Kind, entity_id: str, tags: list[str]) -> Entity:
    """Replace the tags."""
    checked = _tags(tags) or []

    def edit(e: Entity) -> None:
        e.tags = checked

    return change(ctx, kind, entity_id, edit)


def add_tag(ctx: Context, kind: Kind, entity_id: str, tag: str) -> Entity:
    """Add one tag (concurrent additions all survive)."""
    valid_tag(tag)
    return change(ctx, kind, entity_id, lambda e: add_tags(e, [tag]))


def remove_tag(ctx: Context, kind: Kind, entity_id: str, tag: str) -> Entity:
    """Remove one tag (absent tags are ignored)."""
    return change(ctx, kind, entity_id, lambda e: remove_tags(e, [tag]))


# ---- entity ACLs ------------------------------------------------------------------------


def principal_names(ctx: Context, ids: list[str]) -> dict[str, str]:
    """Account ids -> username and group ids -> group name, for ids of the acting tenant."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    names = {a.id: str(a.doc.get("username") or a.id) for a in ctx.repo(ACCOUNT).get_many(unique)}
    rest = [i for i in unique if i not in names]
    if rest:
        names.update({g.id: str(g.doc.get("name") or g.id) for g in ctx.repo(GROUP).get_many(rest)})
    return names


def acl_view(ctx: Context, entity: Entity, names: dict[str, str] | None = None) -> Doc:
    """The AccessControlListReadDTO of one entity."""
    view, modify = entity_acl.lists(entity)
    names = names if names is not None else principal_names(ctx, view + modify)

    def element(pid: str) -> Doc:
        return {"id": pid, "name": names.get(pid, pid)}

    return {"entityId": entity.id, "viewAcl": [element(i) for i in view], "modifyAcl": [element(i) for i in modify]}


def acls_of(ctx: Context, kind: Kind, ids: list[str]) -> list[Doc]:
    """The ACLs of the named entities (each must be viewable)."""
    if not ids:
        raise Invalid("Name at least one entity with ?id=")
    entities = [load(ctx, kind, i) for i in dict.fromkeys(ids)]
    names = principal_names(ctx, [p for e in entities for p in entity_acl.principals(e)])
    return [acl_view(ctx, e, names) for e in entities]


@dataclass(frozen=True)
class AclChange:
    """Principals to add to / remove from / set as one entity's view and modify lists."""

    entity_id: str
    view: list[str]
    modify: list[str]


def change_acls(ctx: Context, kind: Kind, mode: str, changes: list[AclChange]) -> list[Doc]:
    """add / remove / set entity ACLs. Everything is checked (entities modifiable,
    principals known) before anything is written."""
    for c in changes:
        if not ctx.can(kind.access("update", c.entity_id)):
            raise Forbidden(f"Missing permission {kind.access('update', c.entity_id)}")
        load(ctx, kind, c.entity_id, modify=True)
    named = [p for c in changes for p in c.view + c.modify]
    known = principal_names(ctx, named)
    unknown = sorted(set(named) - set(known))
    if unknown:
        raise Invalid(f"Unknown accounts or groups: {', '.join(unknown)}")
    results = []
    for c in changes:

        def edit(e: Entity, c: AclChange = c) -> None:
            entity_acl.edit(e, mode, c.view, c.modify)

        results.append(change(ctx, kind, c.entity_id, edit))
    names = principal_names(ctx, [p for e in results for p in entity_acl.principals(e)])
    return [acl_view(ctx, e, names) for e in results]
