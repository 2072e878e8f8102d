"""Derived metrics (Wavefront /api/v2/derivedmetric): a named query Wavefront runs every
`minutes` to write its result as new metrics. The shared CRUD routes as the client has them:
list, create, get, update (409 on a stale version), trash / undelete / permanent delete,
history, tags, and search (/api/v2/search/derivedmetric[/deleted][/facets | /{facet}], the
client's "registered query" operations). The client has no clone and no entity ACL routes
for derived metrics, so neither exists here.

A derived metric's state: INVALID when its query does not parse (lastErrorMessage says
where, from the same parser as alert conditions) or its last run failed (the run's error),
CHECKING otherwise. The derived-metric-evaluation worker runs the queries
(derivedmetric_evaluation.py); every write of a derived metric keeps its id in the
evaluation's registry in the same transaction (Kind.follow): live -> run, trashed -> not.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from chalicelib import query
from chalicelib.categories import crud, derivedmetric_evaluation
from chalicelib.categories.crud_views import EntityFields, Page, not_blank
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields, path, tally
from chalicelib.http.router import Category, Router
from chalicelib.query import MAX_QUERY_LENGTH
from chalicelib.store.repository import Entity, Writes
from chalicelib.wire import Model, wavefront

router = Router("derivedmetric")

BASE = "/api/v2/derivedmetric"
CHECKING, INVALID = "CHECKING", "INVALID"

MAX_NAME = 512
MAX_TEXT = 8192  # additionalInformation, queryQBSerialization
MAX_MINUTES = 7 * 24 * 60  # a week

# ---- body and answers --------------------------------------------------------------------


class _Part(Model):
    model_config = ConfigDict(extra="ignore")


class DerivedMetricTags(wavefront.WFTags, _Part):
    """The client's WFTags."""


class DerivedMetricBody(_Part):
    """The writable part of the client's DerivedMetricDefinition; other fields are ignored."""

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    query: StrictStr = Field(min_length=1, max_length=MAX_QUERY_LENGTH)
    minutes: StrictInt = Field(ge=1, le=MAX_MINUTES, description="How often the query runs")
    processRateMinutes: StrictInt | None = Field(default=None, ge=1, le=MAX_MINUTES)
    includeObsoleteMetrics: StrictBool | None = None
    additionalInformation: StrictStr | None = Field(default=None, max_length=MAX_TEXT)
    queryQBEnabled: StrictBool | None = None
    queryQBSerialization: StrictStr | None = Field(default=None, max_length=MAX_TEXT)
    tags: DerivedMetricTags | None = None
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    _named = field_validator("name", "query")(not_blank)


class DerivedMetricDefinition(DerivedMetricBody, EntityFields):
    """The client's DerivedMetricDefinition as answered: the stored body, bookkeeping and
    derived state."""

    tags: DerivedMetricTags
    version: int
    status: list[Literal["CHECKING", "INVALID"]] = Field(description="INVALID when the query does not parse")
    querySyntaxError: bool
    queryFailing: bool = Field(description="The query does not parse, or its last run failed")
    createUserId: str | None = None
    updateUserId: str | None = None
    lastErrorMessage: str | None = Field(default=None, description="Why the derived metric is INVALID")
    metricsUsed: list[str] | None = Field(default=None, description="Metrics its query reads")
    hostsUsed: list[str] | None = Field(default=None, description="Sources its query names")
    lastProcessedMillis: int | None = Field(default=None, description="The tick of its last run")
    lastQueryTime: int | None = Field(default=None, description="How long its last run took (ms)")
    pointsScannedAtLastQuery: int | None = Field(default=None, description="Points its last run read")
    lastFailedTime: int | None = Field(default=None, description="The tick of its last failed run")


class PagedDerivedMetricDefinitionWithStats(Page):
    """The client's PagedDerivedMetricDefinitionWithStats: one page of a search, and how
    many of every match are in each state."""

    items: list[DerivedMetricDefinition]
    counts: dict[str, int] = Field(description="Matches per state (checking, invalid)")


# ---- entity -> wire ------------------------------------------------------------------------


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's DerivedMetricDefinition: body fields, bookkeeping, tags, state."""
    out: dict[str, Any] = {**entity.doc, **entities.standard_fields(entity)}
    out["tags"] = {"customerTags": sorted(entity.tags)}
    if "creatorId" in out:
        out["createUserId"] = out["creatorId"]
    if "updaterId" in out:
        out["updateUserId"] = out["updaterId"]
    inspection = query.inspect([("query", entity.doc.get("query", ""))])
    out["status"] = [INVALID if inspection.invalid else CHECKING]
    out["queryFailing"] = inspection.invalid
    out.update(inspection.fields())
    if not inspection.invalid:
        run = derivedmetric_evaluation.load(entity.tenant, entity.id)
        out.update(derivedmetric_evaluation.fields(run))
        if run.get("status") == derivedmetric_evaluation.INVALID:
            out["status"] = [INVALID]
            out["queryFailing"] = True
    return out


def follow_evaluation(ctx: Context, metric_id: str, doc: dict[str, Any] | None) -> Writes:
    """Kind.follow: the derived metric's id in its tenant's registry row while it is live."""
    return derivedmetric_evaluation.follow(ctx.tenant, metric_id, live=doc is not None)


SEARCH_FIELDS = Fields.of(
    *entities.STANDARD_KEYS,
    "name",
    "query",
    "additionalInformation",
    "status",
    "minutes",
    "processRateMinutes",
    "includeObsoleteMetrics",
    "metricsUsed",
    "hostsUsed",
    extra={"tags": path("tags.customerTags"), "tagpaths": path("tags.customerTags")},
    facets=("tags", "status", "creatorId", "updaterId", "metricsUsed", "hostsUsed", "minutes"),
    freetext=("name", "query", "additionalInformation", "tags", "id"),
    default_sort="name",
)

DERIVED_METRIC = Kind(
    name="derivedmetric",
    label="Derived metric",
    schema=DerivedMetricBody,
    to_doc=entities.body_doc,
    to_wire=to_wire,
    wire=DerivedMetricDefinition,
    entity_acl=False,
    search=SEARCH_FIELDS,
    search_stats=lambda wires: {"counts": tally(wires, "status", (CHECKING, INVALID))},
    search_page=PagedDerivedMetricDefinitionWithStats,
    follow=follow_evaluation,
)

crud.declare(router, DERIVED_METRIC, BASE, features=crud.FEATURES - {"clone", "acl"})

CATEGORY = Category(router, permission="derived_metrics_management")
