"""Alerts (Wavefront /api/v2/alert): the shared CRUD routes plus snooze, install,
summary and checkQuery.

An alert's state is derived, not stored: SNOOZED while a snooze runs, INVALID when a WQL
condition does not parse (with lastErrorMessage saying where), CHECKING otherwise. Alert
evaluation (firing, preview) does not exist yet, so /alert/preview has no route.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, StrictStr

from chalicelib import query
from chalicelib.categories import crud
from chalicelib.categories.alert_views import (
    SEVERITY_KEYS,
    Alert,
    AlertBody,
    AlertsSummary,
    PagedAlertWithStats,
    QueryType,
    QueryTypeDTO,
)
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields, path, tally
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity, now_ms
from chalicelib.wire import Model

router = Router("alert")

BASE = "/api/v2/alert"
FOREVER = -1
MAX_SNOOZE_SECONDS = 10 * 365 * 24 * 3600

CHECKING, SNOOZED, INVALID = "CHECKING", "SNOOZED", "INVALID"


# ---- derived state and wire ------------------------------------------------------------


def snoozed_until(entity: Entity) -> int | None:
    """-1 (forever) or the epoch ms the running snooze ends; None when not snoozed."""
    until = entity.doc.get("_snoozed")
    if until is None:
        return None
    if until == FOREVER or until > now_ms():
        return int(until)
    return None


def queries(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of the WQL queries that decide whether the alert is valid."""
    if doc.get("conditionQueryType", "WQL") != "WQL":
        return []  # PromQL / hybrid queries are not ours to parse
    if doc.get("alertType") == "THRESHOLD":
        return [(f"{k} condition", doc["conditions"][k]) for k in SEVERITY_KEYS if k in doc.get("conditions", {})]
    return [("condition", doc.get("condition", ""))]


def states(entity: Entity, inspection: query.Inspection) -> list[str]:
    """The alert's status list: SNOOZED and/or INVALID, else CHECKING."""
    found = []
    if snoozed_until(entity) is not None:
        found.append(SNOOZED)
    if inspection.invalid:
        found.append(INVALID)
    return found or [CHECKING]


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's Alert model: body fields, bookkeeping, tags, state."""
    doc = {k: v for k, v in entity.doc.items() if not k.startswith("_")}
    out: dict[str, Any] = {**doc, **entities.standard_fields(entity)}
    out["alertType"] = doc.get("alertType", "CLASSIC")
    out["tags"] = {"customerTags": sorted(entity.tags)}
    out["hidden"] = bool(entity.doc.get("_hidden", False))
    if "creatorId" in out:
        out["createUserId"] = out["creatorId"]
    if "updaterId" in out:
        out["updateUserId"] = out["updaterId"]
    until = snoozed_until(entity)
    if until is not None:
        out["snoozed"] = until
    inspection = query.inspect(queries(doc))
    out["status"] = states(entity, inspection)
    out.update(inspection.fields())
    if out["alertType"] == "THRESHOLD":
        out["severityList"] = [k.upper() for k in SEVERITY_KEYS if k in doc.get("conditions", {})]
    return out


def counts(wires: list[dict[str, Any]]) -> dict[str, int]:
    """Alerts per state (an alert may count in several)."""
    return tally(wires, "status", (CHECKING, SNOOZED, INVALID))


SEARCH_FIELDS = Fields.of(
    *entities.STANDARD_KEYS,
    "name",
    "condition",
    "displayExpression",
    "additionalInformation",
    "severity",
    "alertType",
    "status",
    "target",
    "minutes",
    "hidden",
    "snoozed",
    "metricsUsed",
    "hostsUsed",
    extra={"tags": path("tags.customerTags"), "tagpaths": path("tags.customerTags")},
    facets=("tags", "status", "severity", "alertType", "creatorId", "updaterId", "metricsUsed", "hostsUsed"),
    freetext=("name", "condition", "displayExpression", "additionalInformation", "tags", "id"),
    default_sort="name",
)

ALERT = Kind(
    name="alert",
    label="Alert",
    schema=AlertBody,
    to_doc=entities.body_doc,
    to_wire=to_wire,
    wire=Alert,
    search=SEARCH_FIELDS,
    search_stats=lambda wires: {"alertCounts": counts(wires)},
    search_page=PagedAlertWithStats,
    change_labels={"_snoozed": "Snooze changed", "_hidden": "Installed or uninstalled"},
)

crud.declare(router, ALERT, BASE)


# ---- rules particular to alerts ------------------------------------------------------------


def set_managed(ctx: Context, alert_id: str, key: str, value: Any) -> Entity:
    """Set (or, with None, clear) one server-managed key of an alert (`_snoozed`, `_hidden`)."""

    def edit(e: Entity) -> None:
        if value is None:
            e.doc.pop(key, None)
        else:
            e.doc[key] = value

    return entities.change(ctx, ALERT, alert_id, edit)


def snooze(ctx: Context, alert_id: str, seconds: int | None) -> Entity:
    """Snooze an alert for some seconds, or forever (None)."""
    return set_managed(ctx, alert_id, "_snoozed", FOREVER if seconds is None else ctx.now() + seconds * 1000)


def summary(ctx: Context) -> dict[str, int]:
    """How many alerts the principal may view are in each state (and in the trash)."""
    totals = counts([to_wire(e) for e in entities.visible(ctx, ALERT)])
    totals["trash"] = sum(1 for _ in entities.visible(ctx, ALERT, deleted=True))
    return totals


# ---- routes particular to alerts ------------------------------------------------------------


def _answer(req: Request, alert: Entity) -> dict[str, Any]:
    return entities.wire(req.ctx, ALERT, alert)


@router.post(
    f"{BASE}/{{id}}/snooze",
    acl="alert.{id}.update",
    query=(("seconds", "integer", "how long; absent: until unsnoozed"),),
    response=Alert,
)
def snooze_alert(req: Request) -> dict[str, Any]:
    """Snooze an alert for some seconds, or forever."""
    seconds = req.int_arg("seconds", 0, low=1, high=MAX_SNOOZE_SECONDS) if req.arg("seconds") else None
    return _answer(req, snooze(req.ctx, req.params["id"], seconds))


@router.post(f"{BASE}/{{id}}/unsnooze", acl="alert.{id}.update", response=Alert)
def unsnooze_alert(req: Request) -> dict[str, Any]:
    """End an alert's snooze."""
    return _answer(req, set_managed(req.ctx, req.params["id"], "_snoozed", None))


@router.post(f"{BASE}/{{id}}/install", acl="alert.{id}.update", response=Alert)
def install_alert(req: Request) -> dict[str, Any]:
    """Show a hidden alert again."""
    return _answer(req, set_managed(req.ctx, req.params["id"], "_hidden", None))


@router.post(f"{BASE}/{{id}}/uninstall", acl="alert.{id}.update", response=Alert)
def uninstall_alert(req: Request) -> dict[str, Any]:
    """Hide an alert."""
    return _answer(req, set_managed(req.ctx, req.params["id"], "_hidden", True))


@router.get(f"{BASE}/summary", acl="alert.read", response=AlertsSummary)
def alerts_summary(req: Request) -> dict[str, int]:
    """How many alerts are in each state (and in the trash)."""
    return summary(req.ctx)


class QueryCheck(Model):
    """The client's QueryTypeDTO."""

    model_config = ConfigDict(extra="ignore")

    inputQuery: StrictStr
    queryType: QueryType | None = None


@router.post(f"{BASE}/checkQuery", acl="alert.read", body=QueryCheck, response=QueryTypeDTO)
def check_query(req: Request) -> dict[str, Any]:
    """Check a WQL query's syntax (400 with the position of the first error)."""
    body = req.model(QueryCheck)
    if body.queryType not in (None, "WQL"):
        raise Invalid(f"Only WQL queries can be checked, not {body.queryType}")
    query.parse(body.inputQuery)
    return {"inputQuery": body.inputQuery, "queryType": "WQL"}


CATEGORY = Category(router, permission="alerts_management")
