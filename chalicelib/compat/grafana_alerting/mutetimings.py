"""Grafana's mute timings (/api/v1/provisioning/mute-timings): a view over maintenance
windows (categories/maintenancewindow.py).

A mute timing IS a maintenance window, named by its title. A window is one span of time
(UTC); a mute timing is a list of time intervals that may recur (every Monday, the 1st of
each month, 09:00-17:00 on several days). The mapping is honest only where both say the
same thing, so:
- writing: every interval must name one year, one month and one day or a range of days
  (no weekdays, UTC only, at most one `times` range), and together the intervals must
  cover one continuous span; anything else is refused with a 400 saying so;
- reading: a window is shown as the intervals of its span, day by day: a partial first or
  last day with its `times`, the whole days of each month as one range of days; minutes,
  not seconds (a window made in Wavefront with seconds is shown to the minute it falls in).
The window's other fields (reason, tags, hosts, targets) are kept by a change here.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from chalicelib.categories.maintenancewindow import MAINTENANCE_WINDOW as WINDOW
from chalicelib.categories.maintenancewindow_views import MaintenanceWindowBody
from chalicelib.compat.grafana_alerting.views import MuteTiming, MuteTimingBody, TimeInterval
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request, validation_message
from chalicelib.http.router import Router
from chalicelib.store.repository import Entity

router = Router("grafana_alerting")

MUTE_TIMINGS = "/api/v1/provisioning/mute-timings"
BY_NAME = f"{MUTE_TIMINGS}/{{name}}"
DAY = 86_400
UTC_NAMES = ("", "UTC", "Etc/UTC")
MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
RECURRING = "a maintenance window is one span of time: "


# ---- a window's span as time intervals ------------------------------------------------------


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _interval(day: date, last: int, times: tuple[int, int] | None) -> dict[str, Any]:
    days = str(day.day) if last == day.day else f"{day.day}:{last}"
    out: dict[str, Any] = {"years": [str(day.year)], "months": [str(day.month)], "days_of_month": [days]}
    if times is not None:
        out["times"] = [{"start_time": _hhmm(times[0]), "end_time": _hhmm(times[1])}]
    return out


def intervals(start: int, end: int) -> list[dict[str, Any]]:
    """The time intervals of the span [start, end) (epoch seconds, to the minute)."""
    start, end = start - start % 60, end + (-end) % 60
    out: list[dict[str, Any]] = []
    day = datetime.fromtimestamp(start - start % DAY, UTC).date()
    at = start - start % DAY
    run: date | None = None  # the first of the current run of whole days
    while at < end:
        low, high = max(start, at) - at, min(end, at + DAY) - at
        whole = (low, high) == (0, DAY)
        if run is not None and (not whole or run.month != day.month):
            out.append(_interval(run, (day - timedelta(days=1)).day, None))
            run = None
        if whole and run is None:
            run = day
        elif not whole:
            out.append(_interval(day, day.day, (low, high)))
        day, at = day + timedelta(days=1), at + DAY
    if run is not None:
        out.append(_interval(run, (day - timedelta(days=1)).day, None))
    return out


def mute_timing(entity: Entity) -> dict[str, Any]:
    """A maintenance window as Grafana's mute timing."""
    doc = entity.doc
    return {
        "name": doc.get("title", ""),
        "time_intervals": intervals(doc["startTimeInSeconds"], doc["endTimeInSeconds"]),
        "provenance": "",
    }


# ---- time intervals as one span -------------------------------------------------------------


def _one(values: list[str] | None, what: str, where: str) -> str:
    if not values or len(values) != 1:
        raise Invalid(f"{where}.{what}: {RECURRING}name exactly one")
    return values[0]


def _number(text: str, where: str) -> int:
    if not text.isdigit():
        raise Invalid(f"{where}: {text!r} is not a number")
    return int(text)


def _year(text: str, where: str) -> int:
    low, _, high = text.partition(":")
    if high and high != low:
        raise Invalid(f"{where}: {RECURRING}one year, not {text!r}")
    return _number(low, where)


def _month(text: str, where: str) -> int:
    low, _, high = text.lower().partition(":")
    if high and high != low:
        raise Invalid(f"{where}: {RECURRING}one month, not {text!r}")
    month = MONTHS.get(low) or _number(low, where)
    if not 1 <= month <= 12:
        raise Invalid(f"{where}: {text!r} is not a month")
    return month


def _clock(text: str, where: str) -> int:
    hours, _, minutes = text.partition(":")
    seconds = _number(hours, where) * 3600 + _number(minutes, where) * 60
    if len(minutes) != 2 or int(minutes) > 59 or seconds > DAY:
        raise Invalid(f"{where}: {text!r} is not a time of day HH:MM")
    return seconds


def _segments(interval: TimeInterval, where: str) -> list[tuple[int, int]]:
    """The spans (epoch seconds) one interval covers, one per day."""
    if interval.weekdays:
        raise Invalid(f"{where}.weekdays: {RECURRING}weekdays recur")
    if (interval.location or "") not in UTC_NAMES:
        raise Invalid(f"{where}.location: only UTC is kept")
    year = _year(_one(interval.years, "years", where), f"{where}.years")
    month = _month(_one(interval.months, "months", where), f"{where}.months")
    days = _one(interval.days_of_month, "days_of_month", where)
    low, _, high = days.partition(":")
    first, last = _number(low, f"{where}.days_of_month"), _number(high or low, f"{where}.days_of_month")
    if not 1 <= first <= last <= calendar.monthrange(year, month)[1] or not 1970 <= year <= 9999:
        raise Invalid(f"{where}.days_of_month: {days!r} are not days of {year}-{month:02d}")
    times = interval.times or []
    if len(times) > 1:
        raise Invalid(f"{where}.times: {RECURRING}at most one time range per interval")
    span = (0, DAY)
    if times:
        span = (_clock(times[0].start_time, f"{where}.times"), _clock(times[0].end_time, f"{where}.times"))
        if span[1] <= span[0]:
            raise Invalid(f"{where}.times: end_time must be after start_time")
    base = calendar.timegm((year, month, 1, 0, 0, 0))
    return [(base + (d - 1) * DAY + span[0], base + (d - 1) * DAY + span[1]) for d in range(first, last + 1)]


def span(body: MuteTimingBody) -> tuple[int, int]:
    """The one span of time the intervals cover together (400 when they do not)."""
    parts = sorted(s for i, x in enumerate(body.time_intervals) for s in _segments(x, f"time_intervals.{i}"))
    start, end = parts[0]
    for low, high in parts[1:]:
        if low > end:
            raise Invalid(f"time_intervals: {RECURRING}these intervals leave gaps (they recur)")
        end = max(end, high)
    return start, end


# ---- the windows ----------------------------------------------------------------------------


def find(ctx: Context, name: str) -> Entity | None:
    return next((e for e in entities.visible(ctx, WINDOW) if e.doc.get("title") == name), None)


def named(ctx: Context, name: str) -> Entity:
    found = find(ctx, name)
    if found is None:
        raise NotFound(f"Mute timing {name!r} not found")
    return found


def _window_body(body: MuteTimingBody, doc: dict[str, Any]) -> MaintenanceWindowBody:
    start, end = span(body)
    mapped = {
        "reason": "",
        "relevantCustomerTags": [],
        **{k: v for k, v in doc.items() if not k.startswith("_")},
        "title": body.name,
        "startTimeInSeconds": start,
        "endTimeInSeconds": end,
    }
    try:
        return MaintenanceWindowBody.model_validate(mapped)
    except ValidationError as exc:
        raise Invalid(validation_message(exc)) from exc


def _unused(ctx: Context, name: str) -> None:
    if find(ctx, name) is not None:
        raise Conflict(f"A mute timing named {name!r} exists")


def create(ctx: Context, body: MuteTimingBody) -> Entity:
    window = _window_body(body, {})
    _unused(ctx, body.name)
    return entities.create(ctx, WINDOW, window)


def _require(ctx: Context, access: str) -> None:
    if not ctx.can(access):
        raise Forbidden(f"Missing permission {access}")


def update(ctx: Context, name: str, body: MuteTimingBody) -> Entity:
    window = named(ctx, name)
    _require(ctx, WINDOW.access("update", window.id))
    if body.name != name:
        _unused(ctx, body.name)

    def edit(entity: Entity) -> None:
        managed = {k: v for k, v in entity.doc.items() if k.startswith("_")}
        doc, _ = WINDOW.to_doc(_window_body(body, entity.doc))
        entity.doc = {**doc, **managed}

    return entities.change(ctx, WINDOW, window.id, edit)


def delete(ctx: Context, name: str) -> None:
    window = named(ctx, name)
    _require(ctx, WINDOW.access("delete", window.id))
    entities.delete(ctx, WINDOW, window.id, skip_trash=True)


# ---- routes ---------------------------------------------------------------------------------


@router.get(MUTE_TIMINGS, acl="maintenancewindow.read", response=list[MuteTiming])
def get_mute_timings(req: Request) -> Reply:
    """Every mute timing (maintenance window)."""
    return bare([mute_timing(e) for e in entities.visible(req.ctx, WINDOW)])


@router.get(BY_NAME, acl="maintenancewindow.read", response=MuteTiming)
def get_mute_timing(req: Request) -> Reply:
    """One mute timing, by name (the window's title)."""
    return bare(mute_timing(named(req.ctx, req.params["name"])))


@router.post(MUTE_TIMINGS, acl="maintenancewindow.create", body=MuteTimingBody, response=MuteTiming, status=201)
def create_mute_timing(req: Request) -> Reply:
    """Create a mute timing (a maintenance window over the intervals' one span)."""
    return bare(mute_timing(create(req.ctx, req.model(MuteTimingBody))), 201)


@router.put(BY_NAME, acl="maintenancewindow.read", body=MuteTimingBody, response=MuteTiming, status=202)
def update_mute_timing(req: Request) -> Reply:
    """Change a mute timing's name and span; needs maintenancewindow.{id}.update."""
    return bare(mute_timing(update(req.ctx, req.params["name"], req.model(MuteTimingBody))), 202)


@router.delete(BY_NAME, acl="maintenancewindow.read", status=204)
def delete_mute_timing(req: Request) -> Reply:
    """Delete a mute timing (its window, for good); needs maintenancewindow.{id}.delete."""
    delete(req.ctx, req.params["name"])
    return Reply("", status=204, raw=True)
