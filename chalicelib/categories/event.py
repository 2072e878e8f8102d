"""Events (Wavefront /api/v2/event): get, update, delete and tags on the shared CRUD, and
the routes particular to events: create (ids `<startTime>:<name>`), close, the
time-windowed listing by cursor, alert firings and their details, and related events.

Events have no trash (a delete is permanent), no history and no entity ACLs, as in
Wavefront. Events made by the system (alert firings, maintenance windows:
domain/events.py record_system_event) are shown but never changed through the API.
runningState, canClose and whatever else depends on the time is derived from the
context's clock (ctx.now()), never stored.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chalicelib.categories import crud
from chalicelib.categories.event_views import Event, EventBody
from chalicelib.domain import entities, events
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields, path
from chalicelib.errors import Invalid
from chalicelib.http import dialects
from chalicelib.http.request import Request, parse_json, validation_message
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity, Page
from chalicelib.wire import wavefront

router = Router("event")

BASE = "/api/v2/event"
PAGE_LIMIT, MAX_LIMIT = 100, 1000

# ---- body and wire ------------------------------------------------------------------------


def to_doc(body: EventBody) -> tuple[dict[str, Any], list[str] | None]:
    """Body -> stored document (an ephemeral event ends 1 ms after its start), and the
    tags when the body names them."""
    doc = body.model_dump(exclude_none=True, exclude={"tags", "version"})
    if body.isEphemeral and body.endTime is None:
        doc["endTime"] = body.startTime + 1
    return doc, body.tags


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's Event model, but for what depends on the clock (with_state)."""
    doc = {k: v for k, v in entity.doc.items() if not k.startswith("_")}
    creator = events.creator_type(entity)
    out: dict[str, Any] = {**doc, **entities.standard_fields(entity)}
    out.update(
        tags=sorted(entity.tags),
        table=entity.tenant,
        createdAt=entity.created,
        updatedAt=entity.updated,
        creatorType=[creator],
        isUserEvent=creator == events.USER,
        canDelete=creator == events.USER,
    )
    fired = entity.doc.get("_firing")
    if isinstance(fired, dict):
        out["computedHlps"] = fired.get("sources", [])
    return out


def with_state(ctx: Context, entity: Entity, out: dict[str, Any]) -> None:
    """The fields the context's clock decides: runningState, and canClose while it runs."""
    state = events.running_state(entity.doc, ctx.now())
    out["runningState"] = state
    out["canClose"] = out["isUserEvent"] and state == events.ONGOING


SEARCH_FIELDS = Fields.of(
    "id",
    "name",
    "startTime",
    "endTime",
    "runningState",
    "creatorType",
    "creatorId",
    "updaterId",
    "isUserEvent",
    "isEphemeral",
    "hosts",
    "tags",
    "createdEpochMillis",
    "updatedEpochMillis",
    extra={
        "severity": path("annotations.severity"),
        "type": path("annotations.type"),
        "details": path("annotations.details"),
        "tagpaths": path("tags"),
    },
    facets=("tags", "hosts", "runningState", "creatorType", "severity", "type", "creatorId"),
    freetext=("name", "details", "hosts", "tags", "id"),
    default_sort="startTime",
)

EVENT = Kind(
    name=events.KIND,
    label="Event",
    schema=EventBody,
    to_doc=to_doc,
    to_wire=to_wire,
    wire=Event,
    history=False,
    entity_acl=False,
    search=SEARCH_FIELDS,
    personal=with_state,
    timeline=events.start_time,
    read_only=events.read_only,
)

crud.declare(router, EVENT, BASE, features=frozenset({"get", "update", "delete", "tags", "search"}))


# ---- rules particular to events ----------------------------------------------------------


def close(ctx: Context, event_id: str) -> Entity:
    """End a running user event now (400 when it has ended or not started)."""
    now = ctx.now()

    def end_now(e: Entity) -> None:
        state = events.running_state(e.doc, now)
        if state != events.ONGOING:
            raise Invalid(f"Event {event_id} is {state.lower()}: only an ongoing event can be closed")
        e.doc["endTime"] = now

    return entities.change(ctx, EVENT, event_id, end_now)


# ---- routes particular to events ---------------------------------------------------------


def _answer(req: Request, event: Entity) -> dict[str, Any]:
    return entities.wire(req.ctx, EVENT, event)


def _page(req: Request, page: Page) -> dict[str, Any]:
    items = [_answer(req, e) for e in page.items]
    return dialects.paged(
        items, offset=page.offset, limit=page.limit, total=page.total, more=page.more, cursor=page.cursor
    )


def _time(req: Request, name: str) -> int | None:
    return req.int_arg(name, 0) if req.arg(name) else None


def _limit(req: Request) -> int:
    return req.int_arg("limit", PAGE_LIMIT, low=1, high=MAX_LIMIT)


WINDOW = (
    ("earliestStartTimeEpochMillis", "integer", "events starting at or after (epoch ms; absent: all)"),
    ("latestStartTimeEpochMillis", "integer", "events starting at or before (epoch ms; absent: all)"),
)
LIMIT = (("limit", "integer", f"page size, 1..{MAX_LIMIT} (default {PAGE_LIMIT})"),)


# wavefront-sdk-python's direct ingestion flushes its buffered events in one POST, one JSON
# object per line (`send_event`); each is an event. Bounded: every event is its own write.
MAX_EVENTS_PER_POST = 100


def _batch(req: Request) -> list[EventBody] | None:
    """The events of a body of JSON lines (two or more), all valid, or None for a body of one
    JSON value. Any bad line is a 400 naming it, before anything is written."""
    text = req.raw_body.decode("utf-8", "replace") if req.raw_body else ""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or not all(line.lstrip().startswith("{") and line.rstrip().endswith("}") for line in lines):
        return None
    if len(lines) > MAX_EVENTS_PER_POST:
        raise Invalid(f"{len(lines)} events in one request: at most {MAX_EVENTS_PER_POST}")
    bodies = []
    for number, line in enumerate(lines, start=1):
        try:
            bodies.append(EventBody.model_validate(parse_json(line, req.ctx.settings)))
        except Invalid as exc:
            raise Invalid(f"line {number}: {exc.message}") from exc
        except ValidationError as exc:
            raise Invalid(f"line {number}: {validation_message(exc)}") from exc
    return bodies


def _create(req: Request, body: EventBody) -> Entity:
    doc, tags = to_doc(body)
    return events.create(req.ctx, doc, sorted({entities.valid_tag(t) for t in tags or []}))


@router.post(BASE, acl="event.create", body=EventBody, response=Event)
def create_event(req: Request) -> dict[str, Any]:
    """Create an event (no endTime: ongoing until closed). A body of JSON lines (the SDK's
    batched `send_event`) creates one event per line and answers them as a list."""
    batch = _batch(req)
    if batch is None:
        return _answer(req, _create(req, req.model(EventBody)))
    made = [_answer(req, _create(req, body)) for body in batch]
    return dialects.paged(made, offset=0, limit=len(made), total=len(made), more=False)


@router.get(
    BASE,
    acl="event.read",
    query=(*WINDOW, ("cursor", "string", "from the previous page"), *LIMIT),
    response=Event,
    paged=True,
)
def list_events(req: Request) -> dict[str, Any]:
    """Events starting in a window of time, newest first, paged by cursor."""
    earliest, latest = _time(req, "earliestStartTimeEpochMillis"), _time(req, "latestStartTimeEpochMillis")
    return _page(req, events.window(req.ctx, earliest, latest, limit=_limit(req), cursor=req.arg("cursor")))


@router.post(f"{BASE}/{{id}}/close", acl="event.{id}.update", response=Event)
def close_event(req: Request) -> dict[str, Any]:
    """End an ongoing event now."""
    return _answer(req, close(req.ctx, req.params["id"]))


@router.get(
    f"{BASE}/alertFirings",
    acl="event.read",
    query=(("alertId", "string", "the alert"), *WINDOW, *LIMIT, ("asc", "boolean", "oldest first")),
    response=Event,
    paged=True,
)
def alert_firings(req: Request) -> dict[str, Any]:
    """The firing events of an alert in a window of time (none until alerts are evaluated)."""
    alert_id = req.arg("alertId")
    if not alert_id:
        raise Invalid("Query parameter alertId is required")
    earliest, latest = _time(req, "earliestStartTimeEpochMillis"), _time(req, "latestStartTimeEpochMillis")
    found = events.firings(req.ctx, alert_id, earliest, latest, limit=_limit(req), ascending=req.flag("asc"))
    return _page(req, found)


@router.get(
    f"{BASE}/{{id}}/alertFiringDetails",
    acl="event.{id}.read",
    response=list[wavefront.SourceLabelPair],
)
def alert_firing_details(req: Request) -> list[dict[str, Any]]:
    """The series that fired in an alert firing event (400 for other events)."""
    return events.firing_details(req.ctx, req.params["id"])


@router.get(f"{BASE}/{{id}}/alertQueriesSlug", acl="event.{id}.read", response={"type": "string"})
def alert_queries_slug(req: Request) -> str:
    """The queries of the alert that fired, as a slug (400 for other events)."""
    return events.queries_slug(req.ctx, req.params["id"])


@router.get(
    f"{BASE}/{{id}}/events",
    acl="event.{id}.read",
    query=(
        ("isOverlapped", "boolean", "only events whose span overlaps this one's"),
        ("renderingMethod", "string", "HOST, DIMENSION or BOTH: only events sharing a host / dimension"),
        *LIMIT,
    ),
    response=Event,
    paged=True,
)
def related_events(req: Request) -> dict[str, Any]:
    """Events from one hour before this event's start to its end, newest first."""
    found = events.related(
        req.ctx,
        req.params["id"],
        overlapped=req.flag("isOverlapped"),
        method=req.arg("renderingMethod") or None,
        limit=_limit(req),
    )
    return _page(req, found)


CATEGORY = Category(router, permission="events_management")
