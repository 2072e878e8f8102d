"""Alert targets (Wavefront /api/v2/notificant) and their webhook view (/api/v2/webhook):
the shared CRUD routes and search, a delete that unlinks the target from the alerts that
name it, and a test that renders the templates.

Webhooks are the alert targets whose method is WEBHOOK, stored once: /webhook lists and
searches only those, creates only those, and answers 404 for any other target. Both paths
share the alert target's ACLs (`notificant.*`).

Delivery does not exist yet: POST /notificant/test/{id} renders the target's templates with
a sample alert and answers them, without sending anything. Wavefront keeps no trash,
history, tags or entity ACLs for alert targets, and neither does this.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from chalicelib.categories import crud
from chalicelib.categories.notificant_views import Notificant, NotificantBody, TestedNotificant, WebhookBody
from chalicelib.domain import entities, templates
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind, Listing
from chalicelib.domain.searching import Fields
from chalicelib.errors import Forbidden, Invalid, NotFound, VersionMismatch
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store.repository import Entity, Writes, chain

router = Router("notificant")

BASE = "/api/v2/notificant"
WEBHOOK_BASE = "/api/v2/webhook"
# The delete is this module's own (it unlinks); Wavefront has no trash, history, clone,
# tags or entity ACLs for alert targets.
FEATURES = frozenset({"list", "create", "get", "update", "search"})
WEBHOOK = "WEBHOOK"

# An unlink is one DynamoDB transaction: the target's delete and counter (2 writes) and,
# per alert, the alert and its history version (2 writes), each up to ~100 KB. DynamoDB
# takes at most 100 writes and 4 MB per transaction; 20 alerts stay inside both.
MAX_UNLINKED_ALERTS = 20
# How many of the alerts that name a target a refusal lists.
NAMED_IN_REFUSALS = 10


def to_doc(body: NotificantBody) -> tuple[dict[str, Any], list[str] | None]:
    """Body -> stored document: triggers once each, no empty content type, no tags."""
    doc = body.model_dump(exclude_none=True, exclude={"version"})
    doc["triggers"] = list(dict.fromkeys(body.triggers))
    if doc.get("contentType") == "":
        del doc["contentType"]
    return doc, None


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's Notificant: the stored body and bookkeeping."""
    doc = {k: v for k, v in entity.doc.items() if not k.startswith("_")}
    return {**doc, **entities.standard_fields(entity)}


def is_webhook(entity: Entity) -> bool:
    """Does the webhook view hold this alert target?"""
    return entity.doc.get("method") == WEBHOOK


SEARCH_FIELDS = Fields.of(
    "id",
    "title",
    "description",
    "method",
    "recipient",
    "triggers",
    "contentType",
    "emailSubject",
    "isHtmlContent",
    "creatorId",
    "updaterId",
    "createdEpochMillis",
    "updatedEpochMillis",
    facets=("method", "triggers", "contentType", "recipient", "creatorId", "updaterId"),
    freetext=("title", "description", "recipient", "id"),
    default_sort="title",
)

NOTIFICANT = Kind(
    name="notificant",
    label="Alert target",
    schema=NotificantBody,
    to_doc=to_doc,
    to_wire=to_wire,
    wire=Notificant,
    history=False,
    entity_acl=False,
    name_key="title",
    search=SEARCH_FIELDS,
)

crud.declare(router, NOTIFICANT, BASE, features=FEATURES)


# ---- alerts that name a target: `target:<id>` in `target` or in a severity's `targets` ----


def references(text: str | None) -> list[str]:
    """The entries of a comma-separated alert target list (emails, pd:<key>, target:<id>)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def names_target(alert: dict[str, Any], target_id: str) -> bool:
    """Does the alert document name the alert target?"""
    ref = f"target:{target_id}"
    lists = [alert.get("target"), *(alert.get("targets") or {}).values()]
    return any(ref in references(text) for text in lists)


def drop_target(alert: dict[str, Any], target_id: str) -> None:
    """Remove the alert target from the alert document (lists left empty go)."""
    ref = f"target:{target_id}"
    kept = [r for r in references(alert.get("target")) if r != ref]
    if kept:
        alert["target"] = ",".join(kept)
    else:
        alert.pop("target", None)
    targets = {sev: ",".join(r for r in references(text) if r != ref) for sev, text in alert.get("targets", {}).items()}
    targets = {sev: text for sev, text in targets.items() if text}
    if targets:
        alert["targets"] = targets
    else:
        alert.pop("targets", None)


def alert_kind() -> Kind:
    """The alerts' Kind, loaded when a delete looks at alerts (not at this category's cold start)."""
    from chalicelib.categories.alert import ALERT

    return ALERT


def alerts_naming(ctx: Context, target_id: str) -> list[Entity]:
    """Every alert of the tenant, live or in the trash, that names the alert target (Query only)."""
    store = entities.repo(ctx, alert_kind())
    return [a for deleted in (False, True) for a in store.iterate(deleted=deleted) if names_target(a.doc, target_id)]


def described(ctx: Context, alerts: list[Entity]) -> str:
    """The alerts a refusal names (the names of those the principal may view)."""
    kind = alert_kind()
    shown = [
        f"{a.id} ({a.doc.get('name', '')})" if entities.may_view(ctx.principal, kind, a) else a.id
        for a in alerts[:NAMED_IN_REFUSALS]
    ]
    more = len(alerts) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def unlinking(ctx: Context, target_id: str, alerts: list[Entity]) -> Iterator[Writes]:
    """The writes that remove the target from each alert, each on the alert's version."""
    kind = alert_kind()
    for alert in alerts:
        if not ctx.can(kind.access("update", alert.id)):
            raise Forbidden(f"Unlinking needs {kind.access('update', alert.id)}")
        entities.require(ctx.principal, kind, alert, modify=True)
        _, writes = entities.repo(ctx, kind).staged_update(
            alert.id, lambda e: drop_target(e.doc, target_id), by=ctx.actor
        )
        yield writes


def delete(ctx: Context, target_id: str, *, unlink: bool, webhook_only: bool = False) -> Entity:
    """Delete an alert target for good. When alerts name it, refuse (400 naming them)
    unless unlink: then remove it from them in the same transaction as the delete (a
    concurrent change of any of them is a 409 and nothing is written)."""
    target = entities.load(ctx, NOTIFICANT, target_id, modify=True)
    if webhook_only and not is_webhook(target):
        raise NotFound(f"Webhook {target_id} not found")
    alerts = alerts_naming(ctx, target_id)
    if alerts and not unlink:
        raise Invalid(
            f"Alert target {target_id} is used by {len(alerts)} alert(s): {described(ctx, alerts)}; "
            "delete with unlink=true to remove it from them"
        )
    if len(alerts) > MAX_UNLINKED_ALERTS:
        raise Invalid(
            f"Alert target {target_id} is used by {len(alerts)} alerts; one delete unlinks at most "
            f"{MAX_UNLINKED_ALERTS} (one transaction): remove it from some of them first"
        )
    try:
        gone = entities.repo(ctx, NOTIFICANT).purge(target_id, extra=chain(*unlinking(ctx, target_id, alerts)))
    except VersionMismatch as exc:
        raise VersionMismatch(
            f"Alert target {target_id} or an alert naming it changed meanwhile; nothing was deleted"
        ) from exc
    gone.deleted = True
    return gone


# ---- test: the templates rendered with a sample alert -----------------------------------------


def _wavefront_time(ms: int) -> str:
    """A time as Wavefront's notifications write it ("2024-05-01 12:00:00.000 +0000")."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " +0000"


def sample_alert(target: Entity, now_ms: int) -> dict[str, Any]:
    """The variables Wavefront documents for alert target templates, for one made-up alert
    firing on one series (the properties of each iterator's objects included)."""
    reason = target.doc.get("triggers", ["ALERT_OPENED"])[0]
    started = now_ms - 5 * 60_000
    series = {"host": "web-1", "label": "cpu.load", "tags": {"env": "prod", "az": "us-west-2a"}}
    alert_series = {
        **series,
        "observed": 5,
        "firing": 5,
        "stats": {"first": 2.4, "last": 3.1, "min": 2.4, "max": 3.4, "mean": 2.9},
    }
    return {
        "alertId": "1700000000000000001",
        "notificationId": f"sample-{now_ms}",
        "name": "Sample alert: cpu.load high",
        "condition": "ts(cpu.load, env=prod) > 2",
        "additionalInformation": "A sample alert rendered by POST /api/v2/notificant/test/{id}; nothing was sent.",
        "reason": reason,
        "severity": "WARN",
        "severityShort": "WARN",
        "subject": f"[WARN] {reason.removeprefix('ALERT_')}: Sample alert: cpu.load high",
        "alertTags": ["env.prod", "team-compute"],
        "createdTime": _wavefront_time(started - 86_400_000),
        "startedTime": _wavefront_time(started),
        "sinceTime": _wavefront_time(started),
        "endedTime": _wavefront_time(now_ms) if reason == "ALERT_RESOLVED" else "",
        "errorMessage": "",
        "hostsFailingMessage": "web-1 (cpu.load)",
        "url": "https://opsplane.example/alerts/1700000000000000001",
        "failingAlertSeries": [alert_series],
        "newlyFailingAlertSeries": [alert_series],
        "recoveredAlertSeries": [],
        "inMaintenanceAlertSeries": [],
        "failingSeries": [series],
        "newlyFailingSeries": [series],
        "recoveredSeries": [],
        "inMaintenanceSeries": [],
        "failingHosts": ["web-1"],
        "newlyFailingHosts": ["web-1"],
        "recoveredHosts": [],
        "inMaintenanceHosts": [],
    }


def rendered(ctx: Context, target_id: str) -> dict[str, Any]:
    """The target as answered, its template (and email subject) rendered with a sample alert."""
    target = entities.load(ctx, NOTIFICANT, target_id)
    data = sample_alert(target, ctx.now())
    out = entities.wire(ctx, NOTIFICANT, target)
    out["template"] = templates.render(target.doc.get("template", ""), data)
    if "emailSubject" in target.doc:
        out["emailSubject"] = templates.render(target.doc["emailSubject"], data)
    return out


# ---- routes particular to alert targets ---------------------------------------------------------

UNLINK = (("unlink", "boolean", "also remove the target from the alerts that name it"),)


def _answer(req: Request, target: Entity) -> dict[str, Any]:
    return entities.wire(req.ctx, NOTIFICANT, target)


@router.delete(f"{BASE}/{{id}}", acl="notificant.{id}.delete", query=UNLINK, response=Notificant)
def delete_notificant(req: Request) -> dict[str, Any]:
    """Delete an alert target (refused while alerts name it, unless unlink=true)."""
    return _answer(req, delete(req.ctx, req.params["id"], unlink=req.flag("unlink")))


@router.post(f"{BASE}/test/{{id}}", acl="notificant.{id}.update", response=TestedNotificant)
def test_notificant(req: Request) -> dict[str, Any]:
    """Render an alert target's templates with a sample alert (nothing is sent yet)."""
    return rendered(req.ctx, req.params["id"])


# ---- the webhook view: the WEBHOOK alert targets ----------------------------------------------


def webhook(ctx: Context, target_id: str) -> Entity:
    """An alert target that is a webhook (404 for any other)."""
    target = entities.load(ctx, NOTIFICANT, target_id)
    if not is_webhook(target):
        raise NotFound(f"Webhook {target_id} not found")
    return target


def webhooks_page(ctx: Context, *, offset: int, limit: int) -> Listing:
    """One offset/limit page of the webhooks (the tenant's alert targets, filtered)."""
    every = [e for e in entities.visible(ctx, NOTIFICANT) if is_webhook(e)]
    return Listing.of(every, offset, limit, lambda e: entities.wire(ctx, NOTIFICANT, e))


WEBHOOK_ITEM = f"{WEBHOOK_BASE}/{{id}}"


@router.get(WEBHOOK_BASE, acl="notificant.read", query=crud.PAGING, paged=True, response=Notificant)
def list_webhooks(req: Request) -> dict[str, Any]:
    """List webhooks (the alert targets whose method is WEBHOOK)."""
    offset, limit = req.paging()
    return crud.page(webhooks_page(req.ctx, offset=offset, limit=limit))


@router.post(WEBHOOK_BASE, acl="notificant.create", body=WebhookBody, response=Notificant)
def create_webhook(req: Request) -> dict[str, Any]:
    """Create a webhook (an alert target whose method is WEBHOOK)."""
    return _answer(req, entities.create(req.ctx, NOTIFICANT, req.model(WebhookBody)))


@router.get(WEBHOOK_ITEM, acl="notificant.{id}.read", response=Notificant)
def get_webhook(req: Request) -> dict[str, Any]:
    """Get a webhook."""
    return _answer(req, webhook(req.ctx, req.params["id"]))


@router.put(WEBHOOK_ITEM, acl="notificant.{id}.update", body=WebhookBody, response=Notificant)
def update_webhook(req: Request) -> dict[str, Any]:
    """Update a webhook (409 on a stale version)."""
    body = req.model(WebhookBody)
    # The body is a webhook too: a target turned into another kind meanwhile is replaced by
    # a webhook again, as any PUT replaces (name `version` to be refused instead).
    webhook(req.ctx, req.params["id"])
    return _answer(req, entities.replace(req.ctx, NOTIFICANT, req.params["id"], body))


@router.delete(WEBHOOK_ITEM, acl="notificant.{id}.delete", query=UNLINK, response=Notificant)
def delete_webhook(req: Request) -> dict[str, Any]:
    """Delete a webhook (refused while alerts name it, unless unlink=true)."""
    return _answer(req, delete(req.ctx, req.params["id"], unlink=req.flag("unlink"), webhook_only=True))


crud.declare_view_search(router, NOTIFICANT, name="webhook", label="Webhook", only=is_webhook)

CATEGORY = Category(router, permission="alerts_management")
