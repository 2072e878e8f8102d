"""Ingestion policies and usage (Wavefront /api/v2/usage): a policy names a slice of what
the tenant ingests (its scope: accounts, groups, sources, metric namespaces or point
tags), a points-per-second limit and the thresholds of its usage alert. The shared CRUD
routes as the client has them (list, create, get, update with 409 on a stale version,
delete for good, history, one version), revert to a version, search
(/api/v2/search/ingestionpolicy[/facets | /{facet}]), and /usage/exportcsv: usage per
policy per hour as CSV.

The ingest worker counts every message's points under each policy whose scope holds them,
per hour, exactly once (chalicelib/domain/ingestion.py): the CSV shows those counts. Past a
limited policy's hour budget (limitPPS x 3600) the accounts in its scope get 429 on /report
and the administrators a message (docs/ingestion-pipeline.md). The usage alert's
thresholds are kept with the policy and answered as its `alert`; nothing evaluates it
(alert evaluation does not exist yet), so it is not an entity of /api/v2/alert.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

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

from chalicelib import query
from chalicelib.categories import crud
from chalicelib.categories.alert_views import SEVERITY_KEYS, AlertTags, Severity
from chalicelib.categories.crud_views import AccessControlElement, EntityFields, not_blank
from chalicelib.domain import entities, ingestion
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.identity.accounts import ACCOUNT, GROUP
from chalicelib.query import MAX_QUERY_LENGTH
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("ingestionpolicy")

BASE = "/api/v2/usage/ingestionpolicy"
EXPORT = "/api/v2/usage/exportcsv"
# The client has no trash, clone, tags or entity ACL routes for ingestion policies.
FEATURES = frozenset({"list", "create", "get", "update", "delete", "history", "search"})

MAX_NAME = 256
MAX_DESCRIPTION = 2048
MAX_SCOPE_ITEMS = 1000  # accounts, groups, sources, namespaces
MAX_POINT_TAGS = 100
MAX_ITEM = 256  # one source, namespace, id, tag key or value
MAX_LIMIT_PPS = 10**9
MAX_ALERT_MINUTES = 7 * 24 * 60
MAX_THRESHOLD_PERCENT = 1000  # of limitPPS
MAX_TEXT = 8192  # the alert's additionalInformation and targets

HOUR = 3600
MAX_EXPORT_HOURS = 31 * 24  # a month of hours per export
MAX_EXPORT_ROWS = 200_000  # policies x hours

Scope = Literal["ACCOUNT", "GROUP", "NAMESPACE", "SOURCE", "TAGS"]
# The body list each scope reads (the others must be empty).
SCOPE_LIST: dict[str, str] = {
    "ACCOUNT": "accounts",
    "GROUP": "groups",
    "NAMESPACE": "namespaces",
    "SOURCE": "sources",
    "TAGS": "pointTags",
}
ThresholdOperator = Literal[">", ">=", "<", "<="]

Item = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_ITEM)]


# ---- body and answers --------------------------------------------------------------------


class _Part(Model):
    model_config = ConfigDict(extra="ignore")


class PointTag(_Part):
    """The client's Annotation: a point tag key and value."""

    key: Item
    value: Item


class IngestionPolicyAlert(_Part):
    """The writable part of the client's IngestionPolicyAlert: a THRESHOLD alert on the
    policy's usage, its thresholds percentages of limitPPS per severity."""

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    condition: StrictStr = Field(min_length=1, max_length=MAX_QUERY_LENGTH, description="WQL over the usage")
    minutes: StrictInt = Field(ge=1, le=MAX_ALERT_MINUTES)
    conditionsThresholdOperator: ThresholdOperator
    conditions: dict[Literal["info", "smoke", "warn", "severe"], StrictStr] = Field(
        min_length=1, description='Severity -> percentage of limitPPS, e.g. {"warn": "80", "severe": "100"}'
    )
    target: StrictStr | None = Field(default=None, max_length=MAX_TEXT)
    targets: (
        dict[Literal["info", "smoke", "warn", "severe"], Annotated[StrictStr, Field(max_length=MAX_TEXT)]] | None
    ) = None
    additionalInformation: StrictStr | None = Field(default=None, max_length=MAX_TEXT)
    resolveAfterMinutes: StrictInt | None = Field(default=None, ge=1, le=MAX_ALERT_MINUTES)
    notificationResendFrequencyMinutes: StrictInt | None = Field(default=None, ge=0, le=MAX_ALERT_MINUTES)
    tags: AlertTags | None = None

    _named = field_validator("name", "condition")(not_blank)

    @field_validator("condition")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            query.parse(value)
        except query.QuerySyntaxError as exc:  # a ValueError, so the 400 names the field
            raise ValueError(exc.message) from None
        return value

    @field_validator("conditions")
    @classmethod
    def _percentages(cls, value: dict[str, str]) -> dict[str, str]:
        for severity, threshold in value.items():
            try:
                number = float(threshold)
            except ValueError:
                raise ValueError(f"{severity}: {threshold!r} is not a number (a percentage of limitPPS)") from None
            if not 0 < number <= MAX_THRESHOLD_PERCENT:
                raise ValueError(f"{severity}: {threshold} must be above 0 and at most {MAX_THRESHOLD_PERCENT}")
        return value


class IngestionPolicyBody(_Part):
    """The client's IngestionPolicyWriteModel; other fields (id, customer, the last
    update's time and account) are the server's and ignored."""

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    description: StrictStr | None = Field(default=None, max_length=MAX_DESCRIPTION)
    scope: Scope
    accounts: list[Item] | None = Field(default=None, max_length=MAX_SCOPE_ITEMS, description="Account ids")
    groups: list[Item] | None = Field(default=None, max_length=MAX_SCOPE_ITEMS, description="User group ids")
    sources: list[Item] | None = Field(default=None, max_length=MAX_SCOPE_ITEMS)
    namespaces: list[Item] | None = Field(default=None, max_length=MAX_SCOPE_ITEMS, description="Metric prefixes")
    pointTags: list[PointTag] | None = Field(default=None, max_length=MAX_POINT_TAGS)
    tagsAnded: StrictBool | None = Field(default=None, description="TAGS scope: every tag (true) or any (false)")
    isLimited: StrictBool | None = Field(default=None, description="Whether limitPPS is a limit")
    limitPPS: StrictInt | None = Field(default=None, ge=1, le=MAX_LIMIT_PPS)
    alert: IngestionPolicyAlert | None = None
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    _named = field_validator("name")(not_blank)

    @model_validator(mode="after")
    def _scoped(self) -> IngestionPolicyBody:
        wanted = SCOPE_LIST[self.scope]
        if not getattr(self, wanted):
            raise Invalid(f"{wanted}: a policy of scope {self.scope} names at least one")
        others = [f for f in SCOPE_LIST.values() if f != wanted and getattr(self, f)]
        if others:
            raise Invalid(f"{others[0]}: a policy of scope {self.scope} names {wanted} only")
        if self.isLimited and self.limitPPS is None:
            raise Invalid("limitPPS: a limited policy (isLimited) needs its limit")
        if self.alert is not None and self.limitPPS is None:
            raise Invalid("limitPPS: the alert's thresholds are percentages of limitPPS, which is missing")
        return self


class PolicyAlert(Model):
    """The client's Alert as a policy answers its usage alert."""

    model_config = ConfigDict(extra="allow")

    name: str
    condition: str
    minutes: int
    alertType: Literal["THRESHOLD"]
    conditions: dict[str, str]
    conditionsThresholdOperator: str
    severityList: list[Severity]
    ingestionPolicyId: str


class IngestionPolicyReadModel(EntityFields):
    """The client's IngestionPolicyReadModel (and the entity's bookkeeping)."""

    id: str
    customer: str = Field(description="The tenant")
    name: str
    description: str | None = None
    scope: Scope
    accounts: list[AccessControlElement] | None = None
    groups: list[AccessControlElement] | None = None
    sources: list[str] | None = None
    namespaces: list[str] | None = None
    pointTags: list[PointTag] | None = None
    tagsAnded: bool | None = None
    isLimited: bool
    limitPPS: int | None = None
    alert: PolicyAlert | None = None
    lastUpdatedMs: int
    lastUpdatedAccountId: str | None = None


# ---- rules ------------------------------------------------------------------------------


def check_scope(ctx: Context, body: IngestionPolicyBody) -> None:
    """Kind.check: the accounts and groups a policy names are the tenant's."""
    for field, kind in (("accounts", ACCOUNT), ("groups", GROUP)):
        wanted = list(dict.fromkeys(getattr(body, field) or []))
        if wanted:
            found = {e.id for e in ctx.repo(kind).get_many(wanted)}
            unknown = [i for i in wanted if i not in found]
            if unknown:
                raise Invalid(f"{field}: not in this tenant: {', '.join(unknown[:10])}")


def to_doc(body: IngestionPolicyBody) -> tuple[dict[str, Any], list[str] | None]:
    """Body -> stored document (the alert's tags stay inside it; the policy has none)."""
    doc = body.model_dump(exclude_none=True, exclude={"version"})
    doc["isLimited"] = bool(body.isLimited)
    return doc, None


def alert_wire(policy_id: str, alert: dict[str, Any]) -> dict[str, Any]:
    """The policy's usage alert as the client's Alert: a THRESHOLD alert on the policy."""
    severities = [k.upper() for k in SEVERITY_KEYS if k in alert["conditions"]]
    return {**alert, "alertType": "THRESHOLD", "severityList": severities, "ingestionPolicyId": policy_id}


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's IngestionPolicyReadModel, accounts and groups by id (named by `named`)."""
    doc = entity.doc
    out: dict[str, Any] = {k: v for k, v in doc.items() if not k.startswith("_") and k != "alert"}
    out.update(entities.standard_fields(entity), customer=entity.tenant, lastUpdatedMs=entity.updated)
    if entity.updated_by:
        out["lastUpdatedAccountId"] = entity.updated_by
    for field in ("accounts", "groups"):
        if field in doc:
            out[field] = [{"id": i, "name": i} for i in doc[field]]
    if "alert" in doc:
        out["alert"] = alert_wire(entity.id, doc["alert"])
    return out


def named(ctx: Context, entity: Entity, out: dict[str, Any]) -> None:
    """Kind.personal: accounts and groups answered with their current names."""
    elements = [e for field in ("accounts", "groups") for e in out.get(field, [])]
    if elements:
        names = entities.principal_names(ctx, [e["id"] for e in elements])
        for element in elements:
            element["name"] = names.get(element["id"], element["id"])


SEARCH_FIELDS = Fields.of(
    "id",
    "name",
    "description",
    "scope",
    "sources",
    "namespaces",
    "isLimited",
    "limitPPS",
    "lastUpdatedMs",
    "lastUpdatedAccountId",
    facets=("scope", "isLimited", "sources", "namespaces", "lastUpdatedAccountId"),
    freetext=("name", "description", "sources", "namespaces", "id"),
    default_sort="name",
)

INGESTION_POLICY = Kind(
    name="ingestionpolicy",
    label="Ingestion policy",
    schema=IngestionPolicyBody,
    to_doc=to_doc,
    to_wire=to_wire,
    wire=IngestionPolicyReadModel,
    entity_acl=False,
    search=SEARCH_FIELDS,
    personal=named,
    check=check_scope,
)

crud.declare(router, INGESTION_POLICY, BASE, features=FEATURES)


def revert(ctx: Context, policy_id: str, version: int) -> Entity:
    """Make an old version's content the newest version (checked as a save would be: the
    accounts and groups it names must still be the tenant's)."""
    old = entities.version_of(ctx, INGESTION_POLICY, policy_id, version)
    body = IngestionPolicyBody.model_validate(old.doc)
    check_scope(ctx, body)
    content, _ = to_doc(body)

    def edit(entity: Entity) -> None:
        managed = {k: v for k, v in entity.doc.items() if k.startswith("_")}
        entity.doc = {**content, **managed}

    return entities.change(ctx, INGESTION_POLICY, policy_id, edit)


# ---- usage ------------------------------------------------------------------------------

CSV_COLUMNS = ("ingestion_policy_id", "ingestion_policy_name", "hour_start_utc", "points", "average_pps")


def usage_hours(start_s: int, end_s: int) -> list[int]:
    """The hours (epoch seconds of their start) that meet the window [start, end)."""
    if end_s <= start_s:
        raise Invalid("endTime must be after startTime")
    first = start_s - start_s % HOUR
    hours = list(range(first, end_s, HOUR))
    if len(hours) > MAX_EXPORT_HOURS:
        raise Invalid(f"The window covers {len(hours)} hours; at most {MAX_EXPORT_HOURS} per export")
    return hours


def usage_csv(ctx: Context, start_s: int, end_s: int) -> str:
    """Usage per policy per hour of the window, as CSV: the points the ingest worker
    counted under each policy (one Query per policy), and their average per second."""
    hours = usage_hours(start_s, end_s)
    policies = sorted(entities.visible(ctx, INGESTION_POLICY), key=lambda e: (str(e.doc.get("name", "")), e.id))
    if len(policies) * len(hours) > MAX_EXPORT_ROWS:
        raise Invalid(f"{len(policies)} policies x {len(hours)} hours is too many rows: narrow the window")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    counted = ingestion.policy_usage(ctx.tenant, [p.id for p in policies], hours)
    for policy in policies:
        for hour in hours:
            stamp = datetime.fromtimestamp(hour, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            points = counted.get(policy.id, {}).get(hour, 0)
            writer.writerow(
                (policy.id, policy.doc.get("name", ""), stamp, points, round(points / HOUR, 3) if points else 0)
            )
    return out.getvalue()


# ---- routes particular to ingestion policies ---------------------------------------------------


@router.post(f"{BASE}/{{id}}/revert/{{version}}", acl="ingestionpolicy.{id}.update", response=IngestionPolicyReadModel)
def revert_policy(req: Request) -> dict[str, Any]:
    """Revert an ingestion policy to one of its versions (a new version)."""
    entity = revert(req.ctx, req.params["id"], crud.path_version(req))
    return entities.wire(req.ctx, INGESTION_POLICY, entity)


CSV_ANSWER = {"type": "string", "contentMediaType": "text/csv"}


@router.get(
    EXPORT,
    acl="ingestionpolicy.read",
    envelope=False,
    response=CSV_ANSWER,
    query=(
        ("startTime", "integer", "start of the window, epoch seconds (required)"),
        ("endTime", "integer", "end of the window, epoch seconds; absent: now"),
    ),
)
def export_csv(req: Request) -> Reply:
    """Usage per ingestion policy per hour of the window, as CSV."""
    if not req.arg("startTime"):
        raise Invalid("startTime is required (epoch seconds)")
    start = req.int_arg("startTime", 0, low=0)
    end = req.int_arg("endTime", req.ctx.now() // 1000, low=0)
    body = usage_csv(req.ctx, start, end)
    headers = {"Content-Disposition": 'attachment; filename="usage.csv"'}
    return Reply(body, raw=True, headers=headers, content_type="text/csv; charset=utf-8")


CATEGORY = Category(router, permission="ingestion")
