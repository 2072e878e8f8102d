"""Alerts (Wavefront /api/v2/alert): the shared CRUD routes plus snooze, install,
summary, checkQuery and preview.

An alert's status comes from its evaluation (categories/alert_evaluation.py, run every
minute by chalicelib/workers/alerteval.py): CHECKING, FIRING, NO_DATA or INVALID, plus
IN_MAINTENANCE while a maintenance window covers it and SNOOZED while a snooze runs; before
its first evaluation, INVALID when a WQL condition does not parse (lastErrorMessage says
where), else CHECKING. Every write of an alert keeps its id in the registry of evaluated
alerts (store/alerting.py) in the same transaction (Kind.follow).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, StrictStr

from chalicelib import query
from chalicelib.categories import alert_evaluation, crud
from chalicelib.categories.alert_evaluation import queries
from chalicelib.categories.alert_views import (
    SEVERITY_KEYS,
    Alert,
    AlertBody,
    AlertsSummary,
    NotificationMessage,
    PagedAlertWithStats,
    QueryType,
    QueryTypeDTO,
)
from chalicelib.domain import alert_states, entities, templates
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.domain.searching import Fields, path, tally
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store import alerting
from chalicelib.store.repository import Entity, Writes, now_ms
from chalicelib.wire import Model

router = Router("alert")

BASE = "/api/v2/alert"
FOREVER = -1
MAX_SNOOZE_SECONDS = 10 * 365 * 24 * 3600

CHECKING, SNOOZED, INVALID = "CHECKING", "SNOOZED", "INVALID"


# ---- derived state and wire ------------------------------------------------------------


def snoozed_until(entity: Entity) -> int | None:
    """-1 (forever) or the epoch ms the running snooze ends; None when not snoozed."""
    return alert_evaluation.snoozed_until(entity.doc, now_ms())


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


def notificants(doc: dict[str, Any]) -> list[str]:
    """The ids of the alert targets the alert names (`target:<id>` in target or targets)."""
    lists = [doc.get("target"), *(doc.get("targets") or {}).values()]
    refs = [part.strip() for text in lists for part in (text or "").split(",")]
    return sorted({r[len("target:") :] for r in refs if r.startswith("target:")})


STATES = "alert.states"  # ctx.memo: evaluation states read for a list (prefetch_evaluations)


def prefetch_evaluations(ctx: Context, found: list[Entity]) -> None:
    """Kind.prefetch: the evaluation states of a list of alerts, in one batch read."""
    ctx.memo[STATES] = {**ctx.memo.get(STATES, {}), **alerting.load_many(ctx.tenant, [e.id for e in found])}


def with_evaluation(ctx: Context, entity: Entity, out: dict[str, Any]) -> None:
    """Add what the last evaluation found (status, failing series, event...): Kind.personal."""
    known = ctx.memo.get(STATES, {}).get(entity.id)
    state = (known or alerting.load(ctx.tenant, entity.id)).doc
    out["notificants"] = notificants(entity.doc)
    if not state:
        return
    out.update(alert_evaluation.fields(state))
    found = alert_states.statuses(state, snoozed=snoozed_until(entity) is not None)
    if out.get("querySyntaxError") and INVALID not in found:
        found = [INVALID, *found[1:]]
    out["status"] = found


def follow_evaluation(ctx: Context, alert_id: str, doc: dict[str, Any] | None) -> Writes:
    """Kind.follow: the alert's id in its tenant's registry row while it is live."""
    return alerting.follow(ctx.tenant, alert_id, enlisted=doc is not None)


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
    personal=with_evaluation,
    prefetch=prefetch_evaluations,
    follow=follow_evaluation,
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


def preview(ctx: Context, body: AlertBody) -> list[dict[str, Any]]:
    """The notifications an evaluation of the unsaved body would make now, one per trigger
    and alert target of the body whose triggers include it (an email address: EMAIL)."""
    doc, tags = entities.body_doc(body)
    doc = {**doc, "tags": {"customerTags": tags or []}}
    at = ctx.now()
    step = alert_evaluation.preview(ctx, doc, at)
    wired = {**doc, "id": "preview", **alert_evaluation.fields(step.state)}
    wired["status"] = alert_states.statuses(step.state, snoozed=False)
    targets = {t.id: t for t in entities.repo(ctx, _notificant_kind()).get_many(notificants(doc))}
    emails = [r.strip() for r in (doc.get("target") or "").split(",") if "@" in r and not r.startswith("target:")]
    out = []
    for trigger in step.notify:
        job = alert_evaluation.job(ctx, wired, trigger, step.state, at)
        variables = {**job, "name": doc["name"], "condition": doc.get("condition", "")}
        subject = f"[{job['reason']}] {doc['name']}"
        for target in targets.values():
            if trigger.trigger in (target.doc.get("triggers") or []):
                content = templates.render(str(target.doc.get("template", "")), variables)
                out.append(_message(job, str(target.doc["method"]), str(target.doc.get("title", "")), subject, content))
        for email in emails:
            out.append(_message(job, "EMAIL", email, subject, templates.render(EMAIL_PREVIEW, variables)))
    return out


# What an email to an address (not an alert target) says in a preview.
EMAIL_PREVIEW = "{{reason}}: {{name}} ({{severity}})\nCondition: {{condition}}"


def _notificant_kind() -> Kind:
    """The alert targets' Kind, loaded when a preview looks at targets."""
    from chalicelib.categories.notificant import NOTIFICANT

    return NOTIFICANT


def _message(job: dict[str, Any], method: str, name: str, subject: str, content: str) -> dict[str, Any]:
    return {
        "id": job["notificationId"],
        "method": method,
        "name": name,
        "subject": subject,
        "content": content,
        "additionalInfo": {"trigger": job["trigger"], "severity": job["severity"]},
        "createdEpochMillis": job["evaluatedAt"],
    }


@router.post(f"{BASE}/preview", acl="alert.read", body=AlertBody, response=list[NotificationMessage])
def preview_alert(req: Request) -> list[dict[str, Any]]:
    """Evaluate an alert body against the data now, without saving it: the notifications
    it would make."""
    return preview(req.ctx, req.model(AlertBody))


CATEGORY = Category(router, permission="alerts_management")
