"""Saved searches (Wavefront /api/v2/savedsearch): a user's own named search of one entity
type (its `query` is the map of search terms the UI restores). Each user sees and changes
only their own, even within a tenant: they live in a partition of the user's
(Kind.per_principal), so another user's id is a 404 like another tenant's.

The shared routes the client has: list, create, get, update (409 on a stale version) and
delete (for good: there is no trash), plus the listing of one entity type. Saved searches
have no tags, history, entity ACL or search in Wavefront.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictInt, StrictStr, StringConstraints, field_validator

from chalicelib.categories import crud
from chalicelib.categories.crud_views import EntityFields
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind, Listing
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity
from chalicelib.wire import Model, wavefront

router = Router("savedsearch")

BASE = "/api/v2/savedsearch"

# The client's SavedSearch.entityType enum, read from the generated model (one list).
ENTITY_TYPES: tuple[str, ...] = typing.get_args(
    typing.get_args(wavefront.SavedSearch.model_fields["entityType"].annotation)[0]
)
MAX_TERMS = 50
MAX_TERM_KEY = 256
MAX_TERM_VALUE = 8192

TermKey = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_TERM_KEY)]
TermValue = Annotated[StrictStr, StringConstraints(max_length=MAX_TERM_VALUE)]


def entity_type(value: str) -> str:
    """An entityType of the client's enum (400 listing them otherwise)."""
    if value not in ENTITY_TYPES:
        raise Invalid(f"entityType must be one of {', '.join(ENTITY_TYPES)}, not {value[:64]!r}")
    return value


class SavedSearchBody(Model):
    """The writable part of the client's SavedSearch; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    entityType: StrictStr = Field(json_schema_extra={"enum": list(ENTITY_TYPES)})
    query: dict[TermKey, TermValue] = Field(max_length=MAX_TERMS, description="The search terms, as the UI keeps them")
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    @field_validator("entityType")
    @classmethod
    def _known(cls, value: str) -> str:
        return entity_type(value)


class SavedSearch(SavedSearchBody, EntityFields):
    """The client's SavedSearch as answered: the stored body, its user and bookkeeping."""

    version: int
    userId: str | None = Field(default=None, description="The user whose saved search it is")


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's SavedSearch: body fields, bookkeeping and the user it belongs to."""
    out: dict[str, Any] = {**entity.doc, **entities.standard_fields(entity)}
    if entity.created_by:
        out["userId"] = entity.created_by
    return out


SAVED_SEARCH = Kind(
    name="savedsearch",
    label="Saved search",
    schema=SavedSearchBody,
    to_doc=entities.body_doc,
    to_wire=to_wire,
    wire=SavedSearch,
    history=False,
    entity_acl=False,
    name_key="entityType",
    per_principal=True,
)

crud.declare(router, SAVED_SEARCH, BASE, features=frozenset({"list", "create", "get", "update", "delete"}))


# ---- the listing of one entity type -----------------------------------------------------------


def of_type(ctx: Context, wanted: str, *, offset: int, limit: int) -> Listing:
    """One page of the caller's saved searches of one entity type (one Query of the
    caller's own partition)."""
    checked = entity_type(wanted)
    found = [e for e in entities.visible(ctx, SAVED_SEARCH) if e.doc.get("entityType") == checked]
    return Listing.of(found, offset, limit, lambda e: entities.wire(ctx, SAVED_SEARCH, e))


@router.get(
    f"{BASE}/type/{{entitytype}}",
    acl="savedsearch.read",
    query=crud.PAGING,
    paged=True,
    response=SavedSearch,
)
def saved_searches_of_type(req: Request) -> dict[str, Any]:
    """List the caller's saved searches of one entity type."""
    offset, limit = req.paging()
    return crud.page(of_type(req.ctx, req.params["entitytype"], offset=offset, limit=limit))


CATEGORY = Category(router, permission="saved_searches")
