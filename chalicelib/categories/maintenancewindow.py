"""Maintenance windows (Wavefront /api/v2/maintenancewindow): the shared CRUD routes and
search, nothing else (Wavefront keeps no trash, history, tags or entity ACLs for them).

A window's runningState is derived from the clock of the request's Context, never stored:
PENDING before startTimeInSeconds, ONGOING from then until endTimeInSeconds, ENDED after.
Nothing acts on a window yet (alert evaluation does not exist, so no alert is silenced and
no maintenance event is created).
"""

from __future__ import annotations

from typing import Any

from chalicelib.categories import crud
from chalicelib.categories.maintenancewindow_views import MaintenanceWindow, MaintenanceWindowBody, RunningState
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity

router = Router("maintenancewindow")

BASE = "/api/v2/maintenancewindow"
FEATURES = frozenset({"list", "create", "get", "update", "delete", "search"})


def to_doc(body: MaintenanceWindowBody) -> tuple[dict[str, Any], list[str] | None]:
    """Body -> stored document (windows carry no tags of their own)."""
    return body.model_dump(exclude_none=True, exclude={"version"}), None


def running_state(doc: dict[str, Any], now_ms: int) -> RunningState:
    """Where the clock stands against the window: PENDING, ONGOING or ENDED."""
    if now_ms < doc["startTimeInSeconds"] * 1000:
        return "PENDING"
    if now_ms < doc["endTimeInSeconds"] * 1000:
        return "ONGOING"
    return "ENDED"


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's MaintenanceWindow without runningState (the clock's part, below)."""
    doc = {k: v for k, v in entity.doc.items() if not k.startswith("_")}
    return {**doc, **entities.standard_fields(entity)}


def with_state(ctx: Context, entity: Entity, out: dict[str, Any]) -> None:
    """Add runningState as of the Context's clock (a test injects the clock)."""
    out["runningState"] = running_state(entity.doc, ctx.now())


SEARCH_FIELDS = Fields.of(
    "id",
    "title",
    "reason",
    "runningState",
    "startTimeInSeconds",
    "endTimeInSeconds",
    "relevantCustomerTags",
    "relevantHostTags",
    "relevantHostNames",
    "eventName",
    "targets",
    "creatorId",
    "updaterId",
    "createdEpochMillis",
    "updatedEpochMillis",
    facets=(
        "runningState",
        "relevantCustomerTags",
        "relevantHostTags",
        "relevantHostNames",
        "creatorId",
        "updaterId",
    ),
    freetext=("title", "reason", "relevantCustomerTags", "relevantHostTags", "relevantHostNames", "id"),
    default_sort="startTimeInSeconds",
)

MAINTENANCE_WINDOW = Kind(
    name="maintenancewindow",
    label="Maintenance window",
    schema=MaintenanceWindowBody,
    to_doc=to_doc,
    to_wire=to_wire,
    wire=MaintenanceWindow,
    history=False,
    entity_acl=False,
    name_key="title",
    search=SEARCH_FIELDS,
    personal=with_state,
)

crud.declare(router, MAINTENANCE_WINDOW, BASE, features=FEATURES)

CATEGORY = Category(router, permission="alerts_management")
