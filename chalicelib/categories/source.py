"""Sources (Wavefront /api/v2/source): records of the hosts that report data, with tags
("host tags") and a description. The shared CRUD routes give get, permanent delete, tags
and search (by cursor, as Wavefront pages sources); create, update, the cursor listing and
the description routes are here.

A source's id is its name, chosen by the client (or by ingestion: `seen` is how the data
plane will record the sources it discovers, as the same records). Sources have no trash,
no history and no entity ACLs in Wavefront, so none here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.categories import crud
from chalicelib.categories.crud_views import NO_PAYLOAD
from chalicelib.categories.source_views import MAX_DESCRIPTION, SourceBody, check_name
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind, valid_tag
from chalicelib.domain.searching import Fields
from chalicelib.errors import Conflict, Invalid
from chalicelib.http import dialects
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity, Page, add_tags
from chalicelib.wire.wavefront import Source

router = Router("source")

BASE = "/api/v2/source"
MARKED_NEW = "_markedNew"  # when ingestion first saw the source (markedNewEpochMillis)
LAST_SEEN = "_lastSeen"  # the latest data time ingestion saw (lastSeenEpochMillis)


# ---- body and wire -------------------------------------------------------------------------


def to_doc(body: SourceBody) -> tuple[dict[str, Any], list[str] | None]:
    """Body -> stored document (the description), and the tags when the body names them."""
    doc = {"description": body.description} if body.description is not None else {}
    return doc, body.tag_list()


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's Source: name, description, tags as {tag: true}, bookkeeping."""
    out: dict[str, Any] = {**entities.standard_fields(entity), "sourceName": entity.id}
    out["tags"] = {t: True for t in sorted(entity.tags)}
    if "description" in entity.doc:
        out["description"] = entity.doc["description"]
    if MARKED_NEW in entity.doc:
        out["markedNewEpochMillis"] = entity.doc[MARKED_NEW]
    if LAST_SEEN in entity.doc:
        out["lastSeenEpochMillis"] = entity.doc[LAST_SEEN]
    return out


def tag_names(record: Mapping[str, Any]) -> list[str]:
    """The tags a Source wire object holds (those mapped to true)."""
    return [t for t, on in (record.get("tags") or {}).items() if on]


SEARCH_FIELDS = Fields.of(
    "id",
    "sourceName",
    "description",
    "creatorId",
    "updaterId",
    "createdEpochMillis",
    "updatedEpochMillis",
    "markedNewEpochMillis",
    extra={"tags": tag_names, "tagpaths": tag_names},
    facets=("tags", "creatorId", "updaterId"),
    freetext=("id", "description", "tags"),
    default_sort="id",
)

SOURCE = Kind(
    name="source",
    label="Source",
    schema=SourceBody,
    to_doc=to_doc,
    to_wire=to_wire,
    wire=Source,
    history=False,
    entity_acl=False,
    name_key="description",
    search=SEARCH_FIELDS,
    search_by_cursor=True,
)

crud.declare(router, SOURCE, BASE, features=frozenset({"get", "delete", "tags", "search"}))


# ---- rules particular to sources -------------------------------------------------------------


def create(ctx: Context, body: SourceBody) -> Entity:
    """A new source under its name (409 when the tenant has it already)."""
    doc, tags = to_doc(body)
    checked = sorted({valid_tag(t) for t in tags or []})
    return entities.repo(ctx, SOURCE).create(body.id, doc, by=ctx.actor, tags=checked)


def update(ctx: Context, source_id: str, body: SourceBody) -> Entity:
    """Replace description (and tags when the body names them); 409 on a stale version."""
    if body.id != source_id:
        raise Invalid(f"id: the body's id {body.id!r} is not the path's {source_id!r}")
    return entities.replace(ctx, SOURCE, source_id, body)


def set_description(ctx: Context, source_id: str, text: str | None) -> Entity:
    """Set (or, with None, remove) a source's description."""
    if text is not None and len(text) > MAX_DESCRIPTION:
        raise Invalid(f"description: at most {MAX_DESCRIPTION} characters")

    def edit(e: Entity) -> None:
        if text is None:
            e.doc.pop("description", None)
        else:
            e.doc["description"] = text

    return entities.change(ctx, SOURCE, source_id, edit)


def page(ctx: Context, cursor: str | None, limit: int) -> tuple[Page, int]:
    """The sources after cursor (a source name; none: from the first) in name order, and how
    many the tenant has: one Query from the cursor on, and the kind's counter row."""
    if cursor is not None:
        check_name(cursor, "cursor")
    store = entities.repo(ctx, SOURCE)
    return store.after(cursor, limit=limit), store.count()


def seen(ctx: Context, name: str, tags: list[str] | None = None, *, at: int | None = None) -> Entity:
    """Record a source seen in data (the data plane's call): created on first sight, marked
    new then, with tags added to those it has and its last-seen time (at, epoch ms: the
    data's time) moved forward. Idempotent: a source that already holds every tag and a
    last-seen time at or after `at` is not written again."""
    check_name(name, "source")
    wanted = sorted({valid_tag(t) for t in tags or []})
    store = entities.repo(ctx, SOURCE)
    current = store.find(name)
    if current is None:
        doc: dict[str, Any] = {MARKED_NEW: ctx.now()}
        if at is not None:
            doc[LAST_SEEN] = at
        try:
            return store.create(name, doc, by=ctx.actor, tags=wanted)
        except Conflict:  # another writer saw it first: add the tags to theirs
            current = store.get(name)
    later = at is not None and at > int(current.doc.get(LAST_SEEN, -1))
    if set(wanted) <= set(current.tags) and not later:
        return current

    def edit(e: Entity) -> None:
        add_tags(e, wanted)
        if at is not None and at > int(e.doc.get(LAST_SEEN, -1)):
            e.doc[LAST_SEEN] = at

    return store.update(name, edit, by=ctx.actor, retries=10)


# ---- routes particular to sources -----------------------------------------------------------


def _answer(req: Request, source: Entity) -> dict[str, Any]:
    return entities.wire(req.ctx, SOURCE, source)


def description_of(req: Request) -> str:
    """The body of POST /{id}/description: the client sends a JSON string; a text/plain
    body is taken as it is."""
    if req.content_type == "text/plain":
        try:
            return req.raw_body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid(f"The body is not UTF-8 (byte {exc.start})") from exc
    text = req.json(default=None)
    if not isinstance(text, str):
        raise Invalid('description: the body must be a JSON string, e.g. "web tier"')
    return text


@router.get(
    BASE,
    acl="source.read",
    query=(("cursor", "string", "the last source name of the page before"), ("limit", "integer", "page size, 1..1000")),
    response=Source,
    paged=True,
    summary="List sources by name, a page after the cursor",
)
def list_sources(req: Request) -> dict[str, Any]:
    """One page of sources in name order, after the cursor."""
    found, total = page(req.ctx, req.arg("cursor") or None, req.int_arg("limit", 100, low=1, high=1000))
    items = [_answer(req, s) for s in found.items]
    return dialects.paged(items, offset=0, limit=found.limit, total=total, more=found.more, cursor=found.cursor)


@router.post(BASE, acl="source.create", body=SourceBody, response=Source, summary="Create a source")
def create_source(req: Request) -> dict[str, Any]:
    """Create a source under its name (409 when it exists)."""
    return _answer(req, create(req.ctx, req.model(SourceBody)))


@router.put(
    f"{BASE}/{{id}}",
    acl="source.{id}.update",
    body=SourceBody,
    response=Source,
    summary="Update a source (409 on a stale version)",
)
def update_source(req: Request) -> dict[str, Any]:
    """Replace a source's description, and its tags when the body names them."""
    return _answer(req, update(req.ctx, req.params["id"], req.model(SourceBody)))


@router.post(
    f"{BASE}/{{id}}/description",
    acl="source.{id}.update",
    body={"type": "string", "maxLength": MAX_DESCRIPTION},
    response=NO_PAYLOAD,
    summary="Set a source's description",
)
def set_source_description(req: Request) -> None:
    """Set a source's description (a JSON string body)."""
    set_description(req.ctx, req.params["id"], description_of(req))


@router.delete(
    f"{BASE}/{{id}}/description", acl="source.{id}.update", response=NO_PAYLOAD, summary="Remove a source's description"
)
def remove_source_description(req: Request) -> None:
    """Remove a source's description."""
    set_description(req.ctx, req.params["id"], None)


CATEGORY = Category(router, permission="host_tag_management")
