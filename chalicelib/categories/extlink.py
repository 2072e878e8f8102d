"""External links (Wavefront /api/v2/extlink): a Mustache template that makes a URL from a
chart's series (its metric, source and point tags), shown for the series the filters match.
The shared routes the client has: list, create, get, update (409 on a stale version),
delete (for good: there is no trash), and search (/api/v2/search/extlink[/facets |
/{facet}]). External links have no tags, history or entity ACL in Wavefront.

The template and the filter regexes are checked when saved (chalicelib/domain/templates.py):
an unparsable template or regex is a 400 naming the field and, from the parser, where.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from chalicelib.categories import crud
from chalicelib.categories.crud_views import EntityFields, not_blank
from chalicelib.domain import entities, templates
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("extlink")

BASE = "/api/v2/extlink"

MAX_NAME = 256
MAX_DESCRIPTION = 2048
MAX_LINK_TEMPLATE = 8192  # a URL template; far below templates.MAX_TEMPLATE_CHARS
MAX_POINT_TAG_FILTERS = 50
MAX_TAG_KEY = 256

TagKey = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_TAG_KEY)]
Regex = Annotated[StrictStr, StringConstraints(max_length=templates.MAX_REGEX_CHARS)]


class ExternalLinkBody(Model):
    """The writable part of the client's ExternalLink; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    description: StrictStr = Field(max_length=MAX_DESCRIPTION)
    template: StrictStr = Field(min_length=1, max_length=MAX_LINK_TEMPLATE, description="Mustache")
    metricFilterRegex: Regex | None = None
    sourceFilterRegex: Regex | None = None
    pointTagFilterRegexes: dict[TagKey, Regex] | None = Field(
        default=None, max_length=MAX_POINT_TAG_FILTERS, description="Point tag key -> regex its value must match"
    )
    isLogIntegration: StrictBool | None = None
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    _named = field_validator("name")(not_blank)

    @model_validator(mode="after")
    def _checked(self) -> ExternalLinkBody:
        # Checked with the body, so a bad one is refused before anything is written (400
        # naming the field and where the parser stopped).
        templates.check_template(self.template, field="template", limit=MAX_LINK_TEMPLATE)
        for field in ("metricFilterRegex", "sourceFilterRegex"):
            pattern = getattr(self, field)
            if pattern is not None:
                templates.check_regex(pattern, field=field)
        for tag, pattern in (self.pointTagFilterRegexes or {}).items():
            templates.check_regex(pattern, field=f"pointTagFilterRegexes.{tag}")
        return self


class ExternalLink(ExternalLinkBody, EntityFields):
    """The client's ExternalLink as answered: the stored body and bookkeeping."""

    version: int


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's ExternalLink: body fields and bookkeeping."""
    return {**entity.doc, **entities.standard_fields(entity)}


SEARCH_FIELDS = Fields.of(
    *entities.STANDARD_KEYS,
    "name",
    "description",
    "template",
    "metricFilterRegex",
    "sourceFilterRegex",
    "isLogIntegration",
    facets=("name", "isLogIntegration", "creatorId", "updaterId"),
    freetext=("name", "description", "template", "id"),
    default_sort="name",
)

EXTERNAL_LINK = Kind(
    name="extlink",
    label="External link",
    schema=ExternalLinkBody,
    to_doc=entities.body_doc,
    to_wire=to_wire,
    wire=ExternalLink,
    history=False,
    entity_acl=False,
    search=SEARCH_FIELDS,
)

crud.declare(router, EXTERNAL_LINK, BASE, features=frozenset({"list", "create", "get", "update", "delete", "search"}))

CATEGORY = Category(router, permission="external_links_management")
