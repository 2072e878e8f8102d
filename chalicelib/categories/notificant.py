"""Alert targets (Wavefront /api/v2/notificant) and their webhook view (/api/v2/webhook):
the shared CRUD routes and search, a delete that unlinks the target from the alerts that
name it, and a test that renders the templates.

Webhooks are the alert targets whose method is WEBHOOK, stored once: /webhook lists and
searches only those, creates only those, and answers 404 for any other target. Both paths
share the alert target's ACLs (`notificant.*`).

Delivery (chalicelib/domain/delivery.py, docs/notifications.md): POST /notificant/test/{id}
sends a real ALERT_TESTING notification through the deliver queue; /notificant/{id}/secret
sets the webhook signing secret (write-only: answered there once); /notificant/{id}/deliveries
reads the target's delivery log. Wavefront keeps no trash,
history, tags or entity ACLs for alert targets, and neither does this.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from chalicelib.categories import crud
from chalicelib.categories.notificant_views import (
    DeliveryAttempt,
    Notificant,
    NotificantBody,
    SecretBody,
    TargetSecret,
    TestedNotificant,
    WebhookBody,
)
from chalicelib.domain import delivery, entities, notifications, templates
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind, Listing
from chalicelib.domain.notifications import AlertSeries, Delivery, NotifyJob
from chalicelib.domain.searching import Fields
from chalicelib.errors import Forbidden, Invalid, NotFound, VersionMismatch
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store import deliverylog
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
DELIVERIES_LIMIT = 50


def to_doc(body: NotificantBody) -> tuple[dict[str, Any], list[str] | None]:
    """Body -> stored document: triggers once each, no empty content type, no tags (the
    signing secret is server-managed: set by /secret or at the first delivery, kept by PUT)."""
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


# The entries of an alert's target list (emails, pd:<key>, target:<id>); others import it from here.
references = notifications.references


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


# ---- test: a real ALERT_TESTING notification, through the deliver queue ------------------------


def sample_job(ctx: Context, target: Entity) -> NotifyJob:
    """An ALERT_TESTING notification about a made-up alert firing on one series."""
    now = ctx.now()
    series = AlertSeries(host="web-1", label="cpu.load", tags={"env": "prod", "az": "us-west-2a"}, observed=3.4)
    alert = {
        "id": "test",
        "name": "Sample alert: cpu.load high",
        "condition": "ts(cpu.load, env=prod) > 2",
        "additionalInformation": "A test notification sent by POST /api/v2/notificant/test/{id}.",
        "severity": "WARN",
        "target": f"target:{target.id}",
        "tags": {"customerTags": ["env.prod", "team-compute"]},
        "createdEpochMillis": now - 86_400_000,
    }
    return NotifyJob(
        tenant=ctx.tenant,
        notificationId=f"test-{target.id}-{now}-{secrets.token_hex(4)}",
        trigger="ALERT_TESTING",
        alertId="test",
        alert=alert,
        severity="WARN",
        reason="ALERT_TESTING",
        startedTime=now - 5 * 60_000,
        evaluatedAt=now,
        failingAlertSeries=[series],
        newlyFailingAlertSeries=[series],
    )


def send_test(ctx: Context, target_id: str) -> dict[str, Any]:
    """Queue a real ALERT_TESTING notification to the target (whatever its triggers) and
    answer the target with its template (and subject) rendered as sent."""
    target = entities.load(ctx, NOTIFICANT, target_id)
    job = sample_job(ctx, target)
    notifications.queue_deliveries([Delivery(target=f"{notifications.TARGET_PREFIX}{target.id}", job=job)])
    data = notifications.variables(job, ctx.settings.public_url)
    out = entities.wire(ctx, NOTIFICANT, target)
    template = str(target.doc.get("template") or "")
    out["template"] = templates.render(template, data) if template else notifications.default_body(data)
    if "emailSubject" in target.doc:
        out["emailSubject"] = templates.render(target.doc["emailSubject"], data)
    out["notificationId"] = job.notificationId
    return out


# ---- the signing secret and the delivery log ------------------------------------------------------


def set_secret(ctx: Context, target_id: str, chosen: str | None) -> dict[str, Any]:
    """Set the target's signing secret (generated when none is chosen); answered once."""
    secret = chosen or delivery.new_secret()

    def edit(entity: Entity) -> None:
        entity.doc[delivery.SECRET] = secret

    target = entities.change(ctx, NOTIFICANT, target_id, edit)
    return {"id": target.id, "secret": secret, "header": notifications.SIGNATURE_HEADER}


def deliveries_of(ctx: Context, target_id: str, limit: int) -> list[dict[str, Any]]:
    """The target's latest delivery attempts, newest first."""
    target = entities.load(ctx, NOTIFICANT, target_id)
    return deliverylog.recent(ctx.tenant, target.id, limit=limit)


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
    """Send an ALERT_TESTING notification to an alert target (answers it as rendered)."""
    return send_test(req.ctx, req.params["id"])


@router.post(f"{BASE}/{{id}}/secret", acl="notificant.{id}.update", body=SecretBody, response=TargetSecret)
def rotate_secret(req: Request) -> dict[str, Any]:
    """Set or generate an alert target's signing secret (answered only here, once)."""
    return set_secret(req.ctx, req.params["id"], req.model(SecretBody).secret)


@router.get(
    f"{BASE}/{{id}}/deliveries",
    acl="notificant.{id}.read",
    query=(("limit", "integer", f"how many, 1..{deliverylog.MAX_LIMIT} (default {DELIVERIES_LIMIT})"),),
    response=list[DeliveryAttempt],
)
def target_deliveries(req: Request) -> list[dict[str, Any]]:
    """An alert target's latest delivery attempts (kept 14 days), newest first."""
    limit = req.int_arg("limit", DELIVERIES_LIMIT, low=1, high=deliverylog.MAX_LIMIT)
    return deliveries_of(req.ctx, req.params["id"], limit)


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

CATEGORY = Category(router, permission="alerts_management", queues=(notifications.DELIVER_QUEUE,))
