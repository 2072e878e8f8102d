"""Wire shapes of what the shared CRUD and search routes answer (the client's models), for
the OpenAPI document. Handlers build plain dicts (crud.py, search.py); these models only
describe them, so each entity kind declares its own wire model once (`Kind.wire`, chalicelib/domain/entities.py).

This module imports pydantic only: search.py declares its routes from it without loading
every category at cold start.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.domain.searching import Sorting
from chalicelib.wire import Model


def not_blank(text: str) -> str:
    """A body check: names and queries hold more than white space."""
    if not text.strip():
        raise ValueError("must not be blank")
    return text


# The payload of routes answering nothing (the client's ResponseContainerVoid): `response: null`.
NO_PAYLOAD: dict[str, Any] = {"type": "null", "description": "No payload"}


class AccessControlListSimple(Model):
    """The entity ACL embedded in an entity: ids of the accounts and groups listed."""

    canView: list[str]
    canModify: list[str]


class EntityFields(Model):
    """The bookkeeping fields every entity's wire object carries (times in epoch ms)."""

    id: str
    created: int
    updated: int
    createdEpochMillis: int
    updatedEpochMillis: int
    inTrash: bool
    deleted: bool
    version: int
    creatorId: str | None = None
    updaterId: str | None = None
    acl: AccessControlListSimple | None = Field(default=None, description="Kinds with entity ACLs")
    modifyAclAccess: bool | None = Field(default=None, description="May the caller change the entity ACL?")


class Page(Model):
    """The native paged payload's bookkeeping (items are per shape)."""

    offset: int
    limit: int
    totalItems: int
    moreItems: bool
    cursor: str | None = None
    sort: Sorting | None = None


class HistoryEntry(Model):
    """The client's HistoryEntry: one version of an entity, newest first."""

    id: str
    version: int
    updateTime: int
    inTrash: bool
    changeDescription: list[str]
    updateUser: str | None = None


class TagsResponse(Page):
    """The client's TagsResponse: every tag of an entity, sorted, in one page."""

    items: list[str]


class AccessControlElement(Model):
    """An account or group named by an entity ACL."""

    id: str
    name: str


class AccessControlListReadDTO(Model):
    """The client's AccessControlListReadDTO."""

    entityId: str
    viewAcl: list[AccessControlElement]
    modifyAcl: list[AccessControlElement]


class FacetResponse(Page):
    """The client's FacetResponse: one facet's values, most frequent first."""

    items: list[str]
    counts: dict[str, int] = Field(description="How many matches hold each value of the page")


class FacetsResponseContainer(Model):
    """The client's FacetsResponseContainer: several facets' values."""

    facets: dict[str, list[str]]
    limit: int
    counts: dict[str, dict[str, int]] = Field(description="Per facet, how many matches hold each value")
