"""Grafana's annotations (/api/annotations): a view over events (domain/events.py).

An annotation IS an event: one created here is an event in the Wavefront dialect and the
other way round. The mapping:
- `id`: the event's number (events.NUMBER), `time` / `timeEnd`: startTime / endTime
  (a point annotation ends when it starts), `tags`: the event's tags;
- `text`: the event's `annotations.details` (the event's name is the text's first line);
- `dashboardUID`, `dashboardId`, `panelId`: kept as event annotations of those names;
- `type` alert / annotation: events made by an alert firing / every other event.
System events (alert firings, maintenance windows) are shown and never changed.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictInt, StrictStr

from chalicelib.categories.event import EVENT
from chalicelib.categories.event_views import MAX_ANNOTATION_VALUE, MAX_NAME
from chalicelib.domain import entities, events
from chalicelib.domain.context import Context
from chalicelib.errors import Forbidden, Invalid
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.store.repository import Entity
from chalicelib.store.timeline import MAX_TIME
from chalicelib.wire import Model

router = Router("grafana_annotations")

ANNOTATIONS = "/api/annotations"
BY_ID = f"{ANNOTATIONS}/{{id}}"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
MAX_TAGS = 32
UNTITLED = "annotation"  # the event name of an annotation without text
# The event annotations holding what Grafana knows and Wavefront does not.
TEXT, DASHBOARD_UID, DASHBOARD_ID, PANEL_ID = "details", "dashboardUID", "dashboardId", "panelId"
FIND_QUERY = (
    ("from", "integer", "Annotations at or after (epoch ms)"),
    ("to", "integer", "Annotations at or before (epoch ms)"),
    ("limit", "integer", f"How many, newest first (default {DEFAULT_LIMIT}, max {MAX_LIMIT})"),
    ("tags", "array", "Tags the annotations carry (all of them, or any with matchAny)"),
    ("matchAny", "boolean", "Any of the tags is enough"),
    ("type", "string", "alert (alert firings) or annotation (every other)"),
    ("dashboardUID", "string", "Only this dashboard's"),
    ("dashboardId", "integer", "Only this dashboard's, by numeric id"),
    ("panelId", "integer", "Only this panel's"),
    ("alertId", "string", "Only this alert's firings"),
)

Time = Annotated[StrictInt, Field(ge=0, le=MAX_TIME, description="Epoch milliseconds")]
Tags = Annotated[
    list[StrictStr], Field(max_length=MAX_TAGS, description="Event tags: letters, digits, '-', '_', ':' and '.'")
]


class AnnotationBody(Model):
    """POST /api/annotations."""

    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(min_length=1, max_length=MAX_ANNOTATION_VALUE, description="Required")
    time: Time | None = Field(default=None, description="Epoch ms (absent: now)")
    timeEnd: Time | None = Field(default=None, description="Epoch ms (absent or 0: time)")
    tags: Tags | None = None
    dashboardUID: StrictStr | None = Field(default=None, max_length=MAX_NAME)
    dashboardId: StrictInt | None = Field(default=None, ge=0)
    panelId: StrictInt | None = Field(default=None, ge=0)
    data: dict[str, Any] | None = Field(default=None, description="Accepted, not kept")


class AnnotationChange(Model):
    """PUT (absent time / timeEnd: kept) and PATCH (absent or null: kept) of an annotation."""

    model_config = ConfigDict(extra="ignore")

    time: Time | None = None
    timeEnd: Time | None = None
    text: StrictStr | None = Field(default=None, max_length=MAX_ANNOTATION_VALUE)
    tags: Tags | None = None
    data: dict[str, Any] | None = Field(default=None, description="Accepted, not kept")


class GraphiteBody(Model):
    """POST /api/annotations/graphite."""

    model_config = ConfigDict(extra="ignore")

    what: StrictStr = Field(min_length=1, max_length=MAX_ANNOTATION_VALUE, description="Required: the text")
    tags: list[StrictStr] | StrictStr | None = Field(default=None, description="A list, or one space-separated string")
    when: StrictInt | None = Field(default=None, ge=0, le=MAX_TIME // 1000, description="Epoch seconds (absent: now)")
    data: StrictStr | None = Field(default=None, max_length=MAX_ANNOTATION_VALUE, description="Appended to the text")


class GrafanaAnnotation(Model):
    """An annotation as Grafana answers it."""

    id: int
    alertId: int
    alertName: str
    dashboardId: int
    dashboardUID: str
    panelId: int
    userId: int
    newState: str
    prevState: str
    created: int
    updated: int
    time: int
    timeEnd: int
    text: str
    tags: list[str]
    login: str
    email: str
    avatarUrl: str
    data: dict[str, Any]


class GrafanaAdded(Model):
    """The answer to a create."""

    message: str
    id: int


class GrafanaMessage(Model):
    """A plain Grafana answer."""

    message: str


# ---- the mapping ----------------------------------------------------------------------------


def annotation(entity: Entity) -> dict[str, Any]:
    """An event as Grafana's annotation."""
    doc = entity.doc
    notes = doc.get("annotations") or {}
    fired = doc.get("_firing")
    firing: dict[str, Any] = fired if isinstance(fired, dict) else {}
    start = events.start_time(doc)
    end = events.end_of(doc)
    return {
        "id": events.number_of(entity),
        "alertId": _number(firing.get("alertId")),
        "alertName": str(doc.get("name", "")) if firing else "",
        "dashboardId": _number(notes.get(DASHBOARD_ID)),
        "dashboardUID": str(notes.get(DASHBOARD_UID, "")),
        "panelId": _number(notes.get(PANEL_ID)),
        "userId": 0,
        "newState": "",
        "prevState": "",
        "created": entity.created,
        "updated": entity.updated,
        "time": start,
        "timeEnd": start if end is None else end,
        "text": str(notes.get(TEXT) or doc.get("name", "")),
        "tags": sorted(entity.tags),
        "login": entity.created_by or "",
        "email": "",
        "avatarUrl": "",
        "data": {},
    }


def _number(value: Any) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def _name(text: str) -> str:
    """The event's name: the text's first non-blank line, bounded."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:MAX_NAME] or UNTITLED


def _tags(tags: list[str] | None) -> list[str]:
    return sorted({entities.valid_tag(t) for t in tags or []})


def _span(doc: dict[str, Any], time: int, end: int | None) -> None:
    """Set the event's span: a point annotation (no end, or end 0) ends when it starts."""
    end = time if not end else end
    if end < time:
        raise Invalid("timeEnd must not be before time")
    doc["startTime"], doc["endTime"] = time, end


def _texted(doc: dict[str, Any], text: str) -> None:
    doc["name"] = _name(text)
    doc["annotations"] = {**(doc.get("annotations") or {}), TEXT: text}


def new_event(ctx: Context, body: AnnotationBody) -> Entity:
    """An event from Grafana's annotation."""
    notes: dict[str, str] = {}
    if body.dashboardUID:
        notes[DASHBOARD_UID] = body.dashboardUID
    if body.dashboardId:
        notes[DASHBOARD_ID] = str(body.dashboardId)
    if body.panelId:
        notes[PANEL_ID] = str(body.panelId)
    doc: dict[str, Any] = {"annotations": notes}
    _texted(doc, body.text)
    _span(doc, ctx.now() if body.time is None else body.time, body.timeEnd)
    return events.create(ctx, doc, _tags(body.tags))


def _require(ctx: Context, access: str) -> None:
    if not ctx.can(access):
        raise Forbidden(f"Missing permission {access}")


def change(ctx: Context, number: int, body: AnnotationChange, *, patch: bool) -> Entity:
    """Change an annotation's event: PUT replaces text and tags, PATCH only what is sent;
    absent times are kept by both."""
    event = events.by_number(ctx, number)
    _require(ctx, EVENT.access("update", event.id))
    tags = None if body.tags is None and patch else _tags(body.tags)

    def edit(e: Entity) -> None:
        doc = e.doc
        if body.text is not None or not patch:
            _texted(doc, body.text or "")
        start = events.start_time(doc) if body.time is None else body.time
        end = body.timeEnd if body.timeEnd is not None else (events.end_of(doc) if body.time is None else None)
        _span(doc, start, end)
        if tags is not None:
            e.tags = tags

    return entities.change(ctx, EVENT, event.id, edit)


def find(ctx: Context, req: Request) -> list[Entity]:
    """The newest events matching Grafana's find filters."""
    low = _time(req, "from", 0)
    high = _time(req, "to", MAX_TIME)
    if high < low:
        raise Invalid("to must not be before from")
    limit = req.int_arg("limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    kind = req.arg("type") or ""
    if kind not in ("", "alert", "annotation"):
        raise Invalid("type must be alert or annotation")
    wanted = set(req.args("tags"))
    any_tag = req.flag("matchAny")
    filters = {k: req.arg(k) or "" for k in (DASHBOARD_UID, DASHBOARD_ID, PANEL_ID)}
    alert_id = req.arg("alertId") or ""

    def keep(e: Entity) -> bool:
        notes = e.doc.get("annotations") or {}
        firing = e.doc.get("_firing") if isinstance(e.doc.get("_firing"), dict) else None
        if kind and (firing is not None) != (kind == "alert"):
            return False
        if alert_id and (firing is None or firing.get("alertId") != alert_id):
            return False
        if any(value and notes.get(key) != value for key, value in filters.items()):
            return False
        tags = set(e.tags)
        return not wanted or (bool(wanted & tags) if any_tag else wanted <= tags)

    query = {"grafana": [kind, sorted(wanted), any_tag, filters, alert_id]}
    return events.repo(ctx).window(low, high, limit=limit, keep=keep, query=query).items


def _time(req: Request, name: str, default: int) -> int:
    return req.int_arg(name, default, low=0, high=MAX_TIME) if req.arg(name) else default


# ---- routes ---------------------------------------------------------------------------------


def _number_param(req: Request) -> int:
    raw = req.params["id"]
    if not raw.isdigit():
        raise Invalid("id must be a positive integer")
    return int(raw)


@router.get(ANNOTATIONS, acl="event.read", query=FIND_QUERY, response=list[GrafanaAnnotation])
def find_annotations(req: Request) -> Reply:
    """Annotations whose time is in [from, to], newest first."""
    return bare([annotation(e) for e in find(req.ctx, req)])


@router.post(ANNOTATIONS, acl="event.create", body=AnnotationBody, response=GrafanaAdded)
def add_annotation(req: Request) -> Reply:
    """Create an annotation (an event)."""
    event = new_event(req.ctx, req.model(AnnotationBody))
    return bare({"message": "Annotation added", "id": events.number_of(event)})


@router.post(f"{ANNOTATIONS}/graphite", acl="event.create", body=GraphiteBody, response=GrafanaAdded)
def add_graphite_annotation(req: Request) -> Reply:
    """Create an annotation in Graphite's format (what, when in seconds, tags, data)."""
    body = req.model(GraphiteBody)
    text = body.what if not body.data else f"{body.what}\n{body.data}"
    tags = body.tags.split() if isinstance(body.tags, str) else body.tags
    when = None if body.when is None else body.when * 1000
    made = new_event(
        req.ctx, AnnotationBody.model_validate({"text": text[:MAX_ANNOTATION_VALUE], "time": when, "tags": tags})
    )
    return bare({"message": "Graphite annotation added", "id": events.number_of(made)})


@router.put(BY_ID, acl="event.read", body=AnnotationChange, response=GrafanaMessage)
def update_annotation(req: Request) -> Reply:
    """Replace an annotation's text and tags (and its times when sent); needs event.{id}.update."""
    change(req.ctx, _number_param(req), req.model(AnnotationChange), patch=False)
    return bare({"message": "Annotation updated"})


@router.route("PATCH", BY_ID, acl="event.read", body=AnnotationChange, response=GrafanaMessage)
def patch_annotation(req: Request) -> Reply:
    """Change what is sent of an annotation; needs event.{id}.update."""
    change(req.ctx, _number_param(req), req.model(AnnotationChange), patch=True)
    return bare({"message": "Annotation patched"})


@router.delete(BY_ID, acl="event.read", response=GrafanaMessage)
def delete_annotation(req: Request) -> Reply:
    """Delete an annotation (its event, for good); needs event.{id}.delete."""
    ctx = req.ctx
    event = events.by_number(ctx, _number_param(req))
    _require(ctx, EVENT.access("delete", event.id))
    entities.require(ctx.principal, EVENT, event, modify=True)
    events.delete(ctx, event)
    return bare({"message": "Annotation deleted"})
