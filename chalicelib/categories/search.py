"""POST /api/v2/search/{entity}[/deleted][/facets | /{facet}] for searchable kinds.

Registering a kind is one line in SEARCHABLE: its path segment, where its crud.Kind lives
(imported when a search runs, so this category's function does not load every category at
cold start), whether the client has /deleted routes for it, and the wire models the
document shows (from the kind's pydantic-only views module). Routes exist only for
registered kinds, each guarded by `<entity>.read`; results hide what the principal may not
view (entity ACLs).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from chalicelib.categories import alert_views, crud, dashboard_views, searching
from chalicelib.categories.crud_views import FacetResponse, FacetsResponseContainer
from chalicelib.http import dialects
from chalicelib.http.request import Request
from chalicelib.http.router import Router

router = Router("search")

BASE = "/api/v2/search"


@dataclass(frozen=True)
class Searchable:
    """One searchable kind."""

    entity: str  # path segment and ACL category
    kind_ref: str  # "module:attribute" of the crud.Kind
    wire: type[BaseModel]  # the kind's wire model (its crud.Kind.wire)
    deleted: bool = False  # has /deleted routes
    # The whole answer of a live search when the kind adds stats to the page (PagedAlertWithStats).
    with_stats: type[BaseModel] | None = None

    def resolve(self) -> tuple[crud.Kind, searching.Fields]:
        """The registered kind and its search fields."""
        module, attribute = self.kind_ref.split(":")
        kind: crud.Kind = getattr(importlib.import_module(module), attribute)
        if kind.search is None:
            raise TypeError(f"{self.kind_ref} has no search fields")
        return kind, kind.search


SEARCHABLE: tuple[Searchable, ...] = (
    Searchable(
        "alert",
        "chalicelib.categories.alert:ALERT",
        alert_views.Alert,
        deleted=True,
        with_stats=alert_views.PagedAlertWithStats,
    ),
    Searchable("dashboard", "chalicelib.categories.dashboard:DASHBOARD", dashboard_views.Dashboard, deleted=True),
)


def _records(req: Request, kind: crud.Kind, deleted: bool) -> list[dict[str, Any]]:
    return [crud.wire(req, kind, e) for e in crud.visible(req, kind, deleted=deleted)]


def run_search(req: Request, spec: Searchable, deleted: bool) -> dict[str, Any]:
    """The paged answer of a search (PagedAlertWithStats-style stats on live entities)."""
    kind, fields = spec.resolve()
    body = req.model(searching.SearchRequest, default={})
    result = searching.search(_records(req, kind, deleted), body, fields)
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


def run_facet(req: Request, spec: Searchable, deleted: bool, name: str) -> dict[str, Any]:
    """FacetResponse: values of one facet, most frequent first (counts alongside)."""
    kind, fields = spec.resolve()
    body = req.model(searching.FacetRequest, default={})
    found = searching.facet(
        _records(req, kind, deleted),
        name,
        fields,
        query=body.query,
        facet_query=body.facetQuery,
        method=body.facetQueryMatchingMethod,
    )
    page = found.counts[body.offset : body.offset + body.limit]
    payload = dialects.paged(
        [v for v, _ in page],
        offset=body.offset,
        limit=body.limit,
        total=len(found.counts),
        more=body.offset + len(page) < len(found.counts),
    )
    payload["counts"] = dict(page)
    return payload


def run_facets(req: Request, spec: Searchable, deleted: bool) -> dict[str, Any]:
    """FacetsResponseContainer: values of several facets (counts alongside)."""
    kind, fields = spec.resolve()
    body = req.model(searching.FacetsRequest)
    found = searching.facets(
        _records(req, kind, deleted),
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


def _declare(spec: Searchable) -> None:
    """The search routes of one registered kind."""
    acl = f"{spec.entity}.read"
    variants = [(f"{BASE}/{spec.entity}", False)]
    if spec.deleted:
        variants.append((f"{BASE}/{spec.entity}/deleted", True))
    for base, deleted in variants:
        where = "in the trash" if deleted else ""

        def search_all(req: Request, deleted: bool = deleted) -> dict[str, Any]:
            return run_search(req, spec, deleted)

        def search_facets(req: Request, deleted: bool = deleted) -> dict[str, Any]:
            return run_facets(req, spec, deleted)

        def search_facet(req: Request, deleted: bool = deleted) -> dict[str, Any]:
            return run_facet(req, spec, deleted, req.params["facet"])

        body = searching.SearchRequest
        found = spec.with_stats if spec.with_stats is not None and not deleted else spec.wire
        router.post(
            base, acl=acl, body=body, response=found, paged=True, summary=f"Search {spec.entity}s {where}".strip()
        )(search_all)
        router.post(
            f"{base}/facets",
            acl=acl,
            body=searching.FacetsRequest,
            response=FacetsResponseContainer,
            summary=f"Facets of {spec.entity}s {where}".strip(),
        )(search_facets)
        router.post(
            f"{base}/{{facet}}",
            acl=acl,
            body=searching.FacetRequest,
            response=FacetResponse,
            paged=True,
            summary=f"Values of one facet of {spec.entity}s {where}".strip(),
        )(search_facet)


for _spec in SEARCHABLE:
    _declare(_spec)
