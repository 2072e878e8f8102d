"""The routes every Wavefront-style entity shares, written once: list, create, get, update
(409 on a stale `version`), trash / undelete / permanent delete, clone, history, tags,
entity ACLs and search (`/api/v2/search/<kind>[/deleted][/facets | /{facet}]`, for kinds
with search fields).

A category describes its entity with a `Kind` (chalicelib/domain/entities.py: repository
kind, pydantic body schema, body -> document and entity -> wire functions, the wire model,
search fields) and calls `declare(router, kind, base)`; its module then holds only the
routes particular to it (snooze, install, ...). Each route here parses the request, calls
the domain operation with the request's Context and renders the answer: the rules live in
the domain, so workers and scripts get the same behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field, StrictStr, ValidationError

from chalicelib.categories.crud_views import (
    NO_PAYLOAD,
    AccessControlListReadDTO,
    FacetResponse,
    FacetsResponseContainer,
    HistoryEntry,
    TagsResponse,
)
from chalicelib.domain import entities, searching
from chalicelib.domain.entities import AclChange, Doc, Kind, Listing
from chalicelib.errors import Invalid
from chalicelib.http import dialects
from chalicelib.http.request import Request, validation_message
from chalicelib.http.router import Router
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

# What categories use from here besides declare (one surface for the routes they add).
__all__ = ["PAGING", "Doc", "Kind", "declare", "declare_view_search", "page"]

MAX_ACL_ENTRIES = 200
SEARCH_BASE = "/api/v2/search"


class AclWrite(Model):
    """The client's AccessControlListWriteDTO."""

    model_config = ConfigDict(extra="ignore")

    entityId: StrictStr = Field(min_length=1)
    viewAcl: list[StrictStr] = Field(default_factory=list, max_length=MAX_ACL_ENTRIES)
    modifyAcl: list[StrictStr] = Field(default_factory=list, max_length=MAX_ACL_ENTRIES)


def acl_changes(req: Request) -> list[AclChange]:
    """The body of the ACL routes: a non-empty JSON array of AccessControlListWriteDTO."""
    raw = req.json(default=None)
    if not isinstance(raw, list) or not raw:
        raise Invalid("The body must be a non-empty JSON array of {entityId, viewAcl, modifyAcl}")
    changes = []
    for item in raw:
        try:
            w = AclWrite.model_validate(item)
        except ValidationError as exc:
            raise Invalid(validation_message(exc)) from exc
        changes.append(AclChange(w.entityId, w.viewAcl, w.modifyAcl))
    return changes


def page(listing: Listing, **extra: Any) -> Doc:
    """A domain listing as the native paged payload."""
    return dialects.paged(
        listing.items, offset=listing.offset, limit=listing.limit, total=listing.total, more=listing.more, **extra
    )


def path_version(req: Request) -> int:
    """The `{version}` path parameter of a history route."""
    try:
        return int(req.params["version"])
    except ValueError as exc:
        raise Invalid("version must be an integer") from exc


# ---- route declarations -------------------------------------------------------------------

# "delete" alone deletes for good; with "trash" it moves to the trash first (and "undelete"
# brings back from it), as for Wavefront's alerts and dashboards.
FEATURES = frozenset(
    {"list", "create", "get", "update", "delete", "trash", "undelete", "clone", "history", "tags", "acl", "search"}
)
PAGING = (("offset", "integer", "first item, from 0"), ("limit", "integer", "page size, 1..1000"))


@dataclass(frozen=True)
class Declared:
    """One kind declared on the shared CRUD: where its routes live and which it has."""

    kind: Kind
    base: str
    features: frozenset[str]


# Every kind declared so far (in import order): the shared contract suite runs for each.
DECLARED: list[Declared] = []


def declare(router: Router, kind: Kind, base: str, *, features: frozenset[str] = FEATURES) -> None:
    """Declare the shared routes of a kind under base (e.g. /api/v2/alert)."""
    unknown = set(features) - FEATURES
    if unknown:
        raise ValueError(f"Unknown CRUD features: {sorted(unknown)}")
    if "undelete" in features and "trash" not in features:
        raise ValueError("'undelete' needs 'trash'")
    DECLARED.append(Declared(kind, base, frozenset(features)))
    item = f"{base}/{{id}}"
    one = kind.access("read", "{id}")
    upd = kind.access("update", "{id}")
    label = kind.label.lower()

    def answer(req: Request, entity: Any) -> Doc:
        return entities.wire(req.ctx, kind, entity)

    def entity_route(method: str, path: str, **options: Any) -> Callable[[Callable], Callable]:
        """A route answering the kind's wire object (one page of them when paged)."""
        return router.route(method, path, response=kind.wire, **options)

    if "list" in features:

        def list_all(req: Request) -> Doc:
            offset, limit = req.paging()
            return page(entities.list_page(req.ctx, kind, offset=offset, limit=limit))

        entity_route("GET", base, acl=kind.access("read"), query=PAGING, paged=True, summary=f"List {label}s")(list_all)
    if "create" in features:

        def create_one(req: Request) -> Doc:
            return answer(req, entities.create(req.ctx, kind, req.model(kind.schema)))

        entity_route("POST", base, acl=kind.access("create"), body=kind.schema, summary=f"Create a {label}")(create_one)
    if "get" in features:

        def get_one(req: Request) -> Doc:
            return answer(req, entities.load(req.ctx, kind, req.params["id"], include_deleted=True))

        entity_route("GET", item, acl=one, summary=f"Get a {label}")(get_one)
    if "update" in features:

        def update_one(req: Request) -> Doc:
            return answer(req, entities.replace(req.ctx, kind, req.params["id"], req.model(kind.schema)))

        summary = f"Update a {label} (409 on a stale version)"
        entity_route("PUT", item, acl=upd, body=kind.schema, summary=summary)(update_one)
    if "delete" in features and "trash" in features:

        def trash_one(req: Request) -> Doc:
            return answer(req, entities.delete(req.ctx, kind, req.params["id"], skip_trash=req.flag("skipTrash")))

        entity_route(
            "DELETE",
            item,
            acl=kind.access("delete", "{id}"),
            query=(("skipTrash", "boolean", "delete permanently"),),
            summary=f"Move a {label} to the trash, or delete it permanently",
        )(trash_one)
    elif "delete" in features:

        def delete_one(req: Request) -> Doc:
            return answer(req, entities.delete(req.ctx, kind, req.params["id"], skip_trash=True))

        entity_route("DELETE", item, acl=kind.access("delete", "{id}"), summary=f"Delete a {label}")(delete_one)
    if "undelete" in features:

        def undelete_one(req: Request) -> Doc:
            return answer(req, entities.undelete(req.ctx, kind, req.params["id"]))

        entity_route("POST", f"{item}/undelete", acl=upd, summary=f"Restore a {label} from the trash")(undelete_one)
    if "clone" in features:

        def clone_one(req: Request) -> Doc:
            version = req.int_arg("v", 0, low=1) if req.arg("v") else None
            copy = entities.clone(req.ctx, kind, req.params["id"], name=req.arg("name"), version=version)
            return answer(req, copy)

        entity_route(
            "POST",
            f"{item}/clone",
            acl=one,
            query=(("name", "string", "name of the copy"), ("v", "integer", "version to copy")),
            summary=f"Clone a {label} (also needs {kind.access('create')})",
        )(clone_one)
    if "history" in features:

        def history_of(req: Request) -> Doc:
            offset, limit = req.paging()
            return page(entities.history(req.ctx, kind, req.params["id"], offset=offset, limit=limit))

        def version_one(req: Request) -> Doc:
            return answer(req, entities.version_of(req.ctx, kind, req.params["id"], path_version(req)))

        versions = f"Versions of a {label}"
        router.get(f"{item}/history", acl=one, query=PAGING, paged=True, response=HistoryEntry, summary=versions)(
            history_of
        )
        entity_route("GET", f"{item}/history/{{version}}", acl=one, summary=f"One version of a {label}")(version_one)
    if "tags" in features:
        _declare_tags(router, kind, item)
    if "acl" in features:
        _declare_acls(router, kind, base)
    if "search" in features and kind.search is not None:
        _declare_search(router, kind, features)


def _declare_tags(router: Router, kind: Kind, item: str) -> None:
    one, upd, label = kind.access("read", "{id}"), kind.access("update", "{id}"), kind.label.lower()

    def tags_of(req: Request) -> Doc:
        tags = entities.tags_of(req.ctx, kind, req.params["id"])
        return dialects.paged(tags, offset=0, limit=max(len(tags), 1), total=len(tags), more=False)

    def tags_set(req: Request) -> None:
        entities.set_tags(req.ctx, kind, req.params["id"], req.json_list(of=str))

    def tag_add(req: Request) -> None:
        entities.add_tag(req.ctx, kind, req.params["id"], req.params["tagValue"])

    def tag_remove(req: Request) -> None:
        entities.remove_tag(req.ctx, kind, req.params["id"], req.params["tagValue"])

    tag = f"{item}/tag/{{tagValue}}"
    tags = {"type": "array", "items": {"type": "string"}}
    router.get(f"{item}/tag", acl=one, response=TagsResponse, summary=f"Tags of a {label}")(tags_of)
    router.post(f"{item}/tag", acl=upd, body=tags, response=NO_PAYLOAD, summary="Set tags")(tags_set)
    router.put(tag, acl=upd, response=NO_PAYLOAD, summary=f"Add a tag to a {label}")(tag_add)
    router.delete(tag, acl=upd, response=NO_PAYLOAD, summary=f"Remove a tag from a {label}")(tag_remove)


def _declare_acls(router: Router, kind: Kind, base: str) -> None:
    upd, label = kind.access("update", "{id}"), kind.label.lower()

    def acl_of(req: Request) -> list[Doc]:
        return entities.acls_of(req.ctx, kind, req.args("id"))

    def acl_add(req: Request) -> list[Doc]:
        return entities.change_acls(req.ctx, kind, "add", acl_changes(req))

    def acl_remove(req: Request) -> list[Doc]:
        return entities.change_acls(req.ctx, kind, "remove", acl_changes(req))

    def acl_set(req: Request) -> list[Doc]:
        return entities.change_acls(req.ctx, kind, "set", acl_changes(req))

    read = kind.access("read")
    ids = (("id", "string", "entity id (repeat the key for several)"),)
    acls = list[AccessControlListReadDTO]
    writes = {"type": "array", "items": AclWrite.model_json_schema()}
    needs = f"(each entity needs {upd})"
    router.get(f"{base}/acl", acl=read, query=ids, response=acls, summary=f"Access control lists of {label}s")(acl_of)
    router.post(f"{base}/acl/add", acl=read, body=writes, response=acls, summary=f"Add principals to ACLs {needs}")(
        acl_add
    )
    router.post(
        f"{base}/acl/remove", acl=read, body=writes, response=acls, summary=f"Remove principals from ACLs {needs}"
    )(acl_remove)
    router.put(f"{base}/acl/set", acl=read, body=writes, response=acls, summary=f"Set ACLs {needs}")(acl_set)


# ---- search -------------------------------------------------------------------------------


# Which entities of a kind a view of it holds (the webhook view of alert targets).
View = Callable[[Entity], bool]


def _records(req: Request, kind: Kind, deleted: bool, only: View | None) -> list[Doc]:
    found = entities.visible(req.ctx, kind, deleted=deleted)
    return entities.wire_many(req.ctx, kind, [e for e in found if only is None or only(e)])


def _search_after(req: Request, kind: Kind, deleted: bool, only: View | None) -> Doc:
    """A search paged by cursor: the page after the body's cursor, in id order."""
    assert kind.search is not None
    body = req.model(searching.CursorSearchRequest, default={})
    result, cursor = searching.search_after(_records(req, kind, deleted, only), body, kind.search)
    return dialects.paged(
        list(result.items),
        offset=0,
        limit=result.limit,
        total=result.total,
        more=cursor is not None,
        cursor=cursor,
        sort={"field": result.sort.field, "ascending": result.sort.ascending},
    )


def _declare_search(router: Router, kind: Kind, features: frozenset[str]) -> None:
    """POST /api/v2/search/<kind>[/deleted][/facets | /{facet}], guarded by `<kind>.read`;
    results hide what the principal may not view (entity ACLs)."""
    root = f"{SEARCH_BASE}/{kind.search_name or kind.name}"
    bases = ((root, False), (f"{root}/deleted", True)) if "trash" in features else ((root, False),)
    _search_routes(router, kind, bases, label=kind.label, only=None)


def declare_view_search(router: Router, kind: Kind, *, name: str, label: str, only: View) -> None:
    """POST /api/v2/search/<name>[/facets | /{facet}]: the search routes of a view of a
    kind (its entities that `only` keeps), guarded by `<kind>.read` like the kind's own."""
    _search_routes(router, kind, ((f"{SEARCH_BASE}/{name}", False),), label=label, only=only)


def _search_routes(
    router: Router, kind: Kind, bases: tuple[tuple[str, bool], ...], *, label: str, only: View | None
) -> None:
    fields = kind.search
    assert fields is not None
    acl = kind.access("read")
    for base, deleted in bases:
        where = " in the trash" if deleted else ""

        def search_all(req: Request, deleted: bool = deleted) -> Doc:
            if kind.search_by_cursor:
                return _search_after(req, kind, deleted, only)
            body = req.model(searching.SearchRequest, default={})
            result = searching.search(_records(req, kind, deleted, only), body, fields)
            payload = dialects.paged(
                list(result.items),
                offset=result.offset,
                limit=result.limit,
                total=result.total,
                more=result.more,
                sort={"field": result.sort.field, "ascending": result.sort.ascending},
            )
            if kind.search_stats is not None and not deleted:
                payload.update(kind.search_stats([dict(r) for r in result.matched]))
            return payload

        def search_facets(req: Request, deleted: bool = deleted) -> Doc:
            body = req.model(searching.FacetsRequest)
            found = searching.facets(
                _records(req, kind, deleted, only),
                body.facets,
                fields,
                query=body.query,
                facet_query=body.facetQuery,
                method=body.facetQueryMatchingMethod,
            )
            return {
                "facets": {f.name: f.values[: body.limit] for f in found},
                "limit": body.limit,
                "counts": {f.name: dict(f.counts[: body.limit]) for f in found},
            }

        def search_facet(req: Request, deleted: bool = deleted) -> Doc:
            body = req.model(searching.FacetRequest, default={})
            found = searching.facet(
                _records(req, kind, deleted, only),
                req.params["facet"],
                fields,
                query=body.query,
                facet_query=body.facetQuery,
                method=body.facetQueryMatchingMethod,
            )
            chosen = found.counts[body.offset : body.offset + body.limit]
            payload = dialects.paged(
                [v for v, _ in chosen],
                offset=body.offset,
                limit=body.limit,
                total=len(found.counts),
                more=body.offset + len(chosen) < len(found.counts),
            )
            payload["counts"] = dict(chosen)
            return payload

        answer = kind.search_page if kind.search_page is not None and not deleted else kind.wire
        plural = f"{label.lower()}s{where}"
        request = searching.CursorSearchRequest if kind.search_by_cursor else searching.SearchRequest
        router.post(base, acl=acl, body=request, response=answer, paged=True, summary=f"Search {plural}")(search_all)
        router.post(
            f"{base}/facets",
            acl=acl,
            body=searching.FacetsRequest,
            response=FacetsResponseContainer,
            summary=f"Facets of {plural}",
        )(search_facets)
        router.post(
            f"{base}/{{facet}}",
            acl=acl,
            body=searching.FacetRequest,
            response=FacetResponse,
            paged=True,
            summary=f"Values of one facet of {plural}",
        )(search_facet)
