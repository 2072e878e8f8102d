"""Events (Wavefront's /api/v2/event), the rules that need no HTTP: ids, who made an event
(a user, an alert firing, the system), its running state from the clock, the time-windowed
listings served by the kind's timeline (store/timeline.py), and the functions later
issues call to record system events (alert firings, maintenance windows).

Stored document: the writable fields of the client's Event (name, startTime, endTime,
annotations, hosts, isEphemeral, dimensions), plus server-managed keys: `_creator`
("ALERT" or "SYSTEM"; absent for a user's event), for an alert firing `_firing` (the
alert's id, its queries and the series that fired), and `_number`, the event's numeric
id in Grafana's dialect (an annotation's `id`): drawn from a per-tenant counter at
creation, with a row `<tenant>#event-number / <n>` naming the event written in the same
transaction, so the Grafana dialect finds an event by its number with one GetItem.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from chalicelib.domain import entity_acl
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.store import counters, names
from chalicelib.store.repository import Entity, Page, Repository, Writes, chain
from chalicelib.store.timeline import MAX_TIME
from chalicelib.wire import wavefront

KIND = "event"
USER, ALERT, SYSTEM = "USER", "ALERT", "SYSTEM"
ONGOING, PENDING, ENDED = "ONGOING", "PENDING", "ENDED"
HOUR = 3600 * 1000
ID_ATTEMPTS = 3
SLUG_LENGTH = 64
RENDERING_METHODS = ("HOST", "DIMENSION", "BOTH")
NUMBER = "_number"  # the event's numeric id in Grafana's dialect
NUMBERS = "event-number"  # the rows naming the event of each number


def start_time(doc: dict[str, Any]) -> int:
    """The time an event is listed by (its timeline time)."""
    return int(doc["startTime"])


def repo(ctx: Context) -> Repository:
    """The tenant's events, with their timeline (as entities.repo makes it for the Kind)."""
    return ctx.repo(KIND, timeline=start_time)


# ---- who made it, and its state ---------------------------------------------------------


def creator_type(entity: Entity) -> str:
    """USER, ALERT (an alert firing) or SYSTEM (a maintenance window...)."""
    return str(entity.doc.get("_creator", USER))


def read_only(entity: Entity) -> str | None:
    """Why the API may not change or delete the event: only users' events may be."""
    creator = creator_type(entity)
    if creator == USER:
        return None
    return f"Event {entity.id} was created by the {creator.lower()}: it cannot be edited, closed or deleted"


def end_of(doc: dict[str, Any]) -> int | None:
    """When the event ends (None: ongoing until closed)."""
    end = doc.get("endTime")
    return None if end is None else int(end)


def running_state(doc: dict[str, Any], now: int) -> str:
    """PENDING before its start, ENDED from its end on, ONGOING in between."""
    if now < start_time(doc):
        return PENDING
    end = end_of(doc)
    return ENDED if end is not None and end <= now else ONGOING


# ---- creating -------------------------------------------------------------------------


def slug(name: str) -> str:
    """The name as an id part: letters, digits, '-', '_', '.', at most SLUG_LENGTH."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:SLUG_LENGTH] or "event"


def new_ids(doc: dict[str, Any]) -> Iterable[str]:
    """Ids as Wavefront makes them, `<startTime>:<name>`, then with a random suffix when
    the tenant already has that one."""
    base = f"{start_time(doc)}:{slug(str(doc.get('name', '')))}"
    yield base
    for _ in range(ID_ATTEMPTS - 1):
        yield f"{base}:{secrets.token_hex(3)}"


def create(
    ctx: Context, doc: dict[str, Any], tags: list[str], *, extra: Callable[[str], Writes] | None = None
) -> Entity:
    """Store a new event under a fresh id and a fresh number (with its timeline copy, the
    row naming it by number and extra(<event id>), the caller's writes, in one transaction)."""
    store = repo(ctx)
    number = counters.next_value(ctx.tenant, KIND)
    doc = {**doc, NUMBER: number}
    for event_id in new_ids(doc):
        try:
            writes = chain(_name_number(ctx, number, event_id), extra(event_id) if extra is not None else None)
            return store.create(event_id, doc, by=ctx.actor, tags=tags, extra=writes)
        except Conflict:
            continue
    raise Conflict(f"Could not allocate an id for the event {doc.get('name')!r}")


def _name_number(ctx: Context, number: int, event_id: str) -> Writes:
    return names.reserve(ctx.tenant, NUMBERS, str(number), {"id": event_id})


def number_of(entity: Entity) -> int:
    """The event's numeric id in Grafana's dialect (0 for events stored before numbers)."""
    return int(entity.doc.get(NUMBER, 0))


def by_number(ctx: Context, number: int) -> Entity:
    """The event numbered `number` (404 when none is, or it has been deleted: a delete
    through the Wavefront dialect leaves the row, and a later event may reuse the id)."""
    found = names.holder(ctx.tenant, NUMBERS, str(number)) if number > 0 else None
    event = repo(ctx).find(found["id"]) if found and isinstance(found.get("id"), str) else None
    if event is None or number_of(event) != number:
        raise NotFound(f"Event number {number} not found")
    return event


def delete(ctx: Context, entity: Entity) -> None:
    """Delete an event for good, with the row naming it by number."""
    number = number_of(entity)
    repo(ctx).purge(entity.id, extra=names.release(ctx.tenant, NUMBERS, str(number)) if number else None)


def record_system_event(
    ctx: Context,
    name: str,
    start: int,
    *,
    end: int | None = None,
    annotations: dict[str, str] | None = None,
    hosts: Iterable[str] = (),
    tags: Iterable[str] = (),
    alert_id: str | None = None,
    queries: dict[str, str] | None = None,
    sources: Iterable[dict[str, Any]] = (),
    extra: Callable[[str], Writes] | None = None,
) -> Entity:
    """Record an event the system makes: an alert firing when alert_id is given (with the
    alert's queries and the series that fired), else a SYSTEM event (a maintenance window).
    The API shows these and refuses to change or delete them. extra(<event id>): writes
    made in the same transaction (the alert's evaluation state naming the event)."""
    if not name or not 0 <= start <= MAX_TIME or (end is not None and end < start):
        raise Invalid(f"A system event needs a name and 0 <= start <= end, not {name!r} {start}..{end}")
    doc: dict[str, Any] = {"name": name, "startTime": start, "annotations": dict(annotations or {})}
    if end is not None:
        doc["endTime"] = end
    if hosts:
        doc["hosts"] = list(hosts)
    doc["_creator"] = ALERT if alert_id is not None else SYSTEM
    if alert_id is not None:
        pairs = [wavefront.SourceLabelPair.model_validate(s).model_dump(exclude_none=True) for s in sources]
        doc["_firing"] = {"alertId": alert_id, "queries": dict(queries or {}), "sources": pairs}
    return create(ctx, doc, sorted(set(tags)), extra=extra)


def end_system_event(ctx: Context, event_id: str, end: int) -> Entity:
    """End a system event (the firing resolved, the window closed): the one change made to them."""

    def finish(e: Entity) -> None:
        if end < start_time(e.doc):
            raise Invalid(f"Event {event_id} cannot end before it starts")
        e.doc["endTime"] = end

    return repo(ctx).update(event_id, finish, by=ctx.actor, retries=3)


# ---- listings ---------------------------------------------------------------------------


def check_window(earliest: int | None, latest: int | None) -> tuple[int, int]:
    """[earliest, latest] with the open ends filled (all of time); 400 when latest < earliest."""
    low = 0 if earliest is None else earliest
    high = MAX_TIME if latest is None else latest
    for label, value in (("earliestStartTimeEpochMillis", low), ("latestStartTimeEpochMillis", high)):
        if not 0 <= value <= MAX_TIME:
            raise Invalid(f"{label} must be between 0 and {MAX_TIME}")
    if high < low:
        raise Invalid("latestStartTimeEpochMillis must not be before earliestStartTimeEpochMillis")
    return low, high


def window(ctx: Context, earliest: int | None, latest: int | None, *, limit: int, cursor: str | None) -> Page:
    """The events starting in [earliest, latest], newest first, one cursor page."""
    low, high = check_window(earliest, latest)
    return repo(ctx).window(low, high, limit=limit, cursor=cursor)


def firing(entity: Entity) -> dict[str, Any]:
    """What an alert firing event recorded (400 for any other event)."""
    found = entity.doc.get("_firing")
    if not isinstance(found, dict):
        raise Invalid(f"Event {entity.id} is not an alert firing")
    return found


def firing_details(ctx: Context, event_id: str) -> list[dict[str, Any]]:
    """The series that fired in an alert firing event."""
    return list(firing(repo(ctx).get(event_id)).get("sources", []))


def queries_slug(ctx: Context, event_id: str) -> str:
    """The queries of the alert that fired, as one URL-encoded slug (`condition=...`, one key per query)."""
    return urlencode(sorted(firing(repo(ctx).get(event_id)).get("queries", {}).items()))


def firings(
    ctx: Context, alert_id: str, earliest: int | None, latest: int | None, *, limit: int, ascending: bool
) -> Page:
    """The firing events of an alert the principal may view, in the window (404: no alert)."""
    alert = ctx.repo("alert").get(alert_id)
    if not entity_acl.may_view(ctx.principal, alert):
        raise Forbidden(f"Alert {alert_id}: you are not allowed to view it")
    low, high = check_window(earliest, latest)

    def of_alert(e: Entity) -> bool:
        return isinstance(e.doc.get("_firing"), dict) and e.doc["_firing"].get("alertId") == alert_id

    return repo(ctx).window(low, high, limit=limit, newest_first=not ascending, keep=of_alert, query=alert_id)


def _shares(method: str | None, event: Entity) -> Callable[[Entity], bool]:
    """Whether another event shares what renderingMethod asks: a host (HOST), a dimension
    value (DIMENSION), either (BOTH); anything when no method is given."""
    if method is None:
        return lambda other: True
    if method not in RENDERING_METHODS:
        raise Invalid(f"renderingMethod must be one of {', '.join(RENDERING_METHODS)}")
    hosts = set(event.doc.get("hosts") or [])
    dims = {(k, v) for k, vs in (event.doc.get("dimensions") or {}).items() for v in vs}

    def shares(other: Entity) -> bool:
        by_host = bool(hosts & set(other.doc.get("hosts") or []))
        by_dim = bool(dims & {(k, v) for k, vs in (other.doc.get("dimensions") or {}).items() for v in vs})
        return {"HOST": by_host, "DIMENSION": by_dim, "BOTH": by_host or by_dim}[method]

    return shares


def related(ctx: Context, event_id: str, *, overlapped: bool, method: str | None, limit: int) -> Page:
    """Events around an event, newest first: those starting from one hour before its start
    to its end (now while it runs); with overlapped, only those whose span overlaps its
    span; with a renderingMethod, only those sharing a host and/or dimension with it."""
    event = repo(ctx).get(event_id)
    start, now = start_time(event.doc), ctx.now()
    end = end_of(event.doc)
    until = max(start, end if end is not None else now)
    shares = _shares(method, event)

    def keep(other: Entity) -> bool:
        if other.id == event_id or not shares(other):
            return False
        if not overlapped:
            return True
        other_end = end_of(other.doc)
        return start_time(other.doc) <= until and (other_end if other_end is not None else now) >= start

    query = {"related": event_id, "overlapped": overlapped, "method": method}
    return repo(ctx).window(max(start - HOUR, 0), until, limit=limit, keep=keep, query=query)
