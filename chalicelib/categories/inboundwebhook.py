"""Inbound webhooks (/api/v2/inboundwebhook): endpoints that tools announcing deployments
and incidents (GitHub, CI systems) post to, each delivery becoming one event.

A hook has a kind (github | generic), a secret (write-only: stored in the hook as `_secret`,
never answered but once, when generated), an event filter and a mapping of Mustache
templates from the delivery's JSON payload to the event. Deliveries arrive on the public
route POST /hooks/{tenantId}/{hookId} and are verified with HMAC-SHA256 before anything
else is read:

- github: `X-Hub-Signature-256: sha256=<hex HMAC(secret, body)>`, event type
  `X-GitHub-Event`, delivery id `X-GitHub-Delivery`;
- generic: `X-Opsplane-Signature: t=<unix s>,v1=<hex HMAC(secret, "<t>." + body)>`, refused
  when t is more than 5 minutes from now; event type `X-Opsplane-Event` (default
  "generic"), delivery id `Idempotency-Key`.

Each delivery id makes at most one event, however often it is retried: Powertools'
idempotency utility (store/idempotency.py) answers a retry with the first answer, and the
delivery's record (store/deliveries.py), written in the event's own transaction and
conditional on its absence, is the second lock. The event is made through the event
domain (domain/events.py) as the hook's service principal. Any refusal writes nothing.

The shared CRUD gives list, get, delete and tags; create and update are this module's
(the secret is generated, answered once and kept across updates). No history (it would
keep old secrets), no trash, no entity ACLs, no search.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.categories import crud
from chalicelib.categories.event_views import MAX_ANNOTATION_VALUE, MAX_HOST, MAX_NAME, EventBody
from chalicelib.categories.inboundwebhook_views import (
    DeliveryAnswer,
    InboundWebhook,
    InboundWebhookBody,
    InboundWebhookDelivery,
)
from chalicelib.domain import entities, events, templates
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind
from chalicelib.errors import Conflict, Invalid, NotFound, OpsplaneError, Unauthenticated
from chalicelib.http.request import Request, parse_json, validation_message
from chalicelib.http.router import PUBLIC, Category, Router
from chalicelib.identity import tenants
from chalicelib.store import deliveries, idempotency
from chalicelib.store.repository import Entity, Writes

router = Router("inboundwebhook")

BASE = "/api/v2/inboundwebhook"
HOOKS = "/hooks"
SECRET = "_secret"  # the document key of the secret (server-managed: never answered)
GITHUB, GENERIC = "github", "generic"
TOLERANCE_SECONDS = 5 * 60
DELIVERY_ID = re.compile(r"[\x21-\x7e]{1,128}\Z")  # printable ASCII, no spaces
EVENT_TYPE = re.compile(r"[A-Za-z0-9_.:-]{1,64}\Z")
TAG_CHARS = re.compile(r"[^A-Za-z0-9_\-:.]+")
MAX_RENDERED_TAG = 128
DELIVERIES_LIMIT, MAX_DELIVERIES_LIMIT = 50, 100
IDEMPOTENCY_SCOPE = "inboundwebhook"
# Refusals that must not say which check failed: a forger learns nothing from them.
NOT_VERIFIED = "The delivery's signature does not verify"
NO_HOOK = "No such webhook"

# ---- the event mapping's defaults (docs/inbound-webhooks.md) ---------------------------------

GITHUB_EVENTS = ("deployment", "deployment_status", "push", "release", "workflow_run")
GITHUB_MAPPINGS: dict[str, dict[str, Any]] = {
    "deployment": {
        "name": "Deployment of {{{repository.full_name}}} to {{{deployment.environment}}}",
        "annotations": {
            "type": "deployment",
            "severity": "info",
            "details": "{{{deployment.description}}} ref {{{deployment.ref}}} ({{{deployment.sha}}})"
            " by {{{sender.login}}}",
        },
        "startTime": "{{{deployment.created_at}}}",
    },
    "deployment_status": {
        "name": "Deployment of {{{repository.full_name}}} to {{{deployment.environment}}}:"
        " {{{deployment_status.state}}}",
        "annotations": {
            "type": "deployment_status",
            "severity": "info",
            "details": "{{{deployment_status.description}}} {{{deployment_status.target_url}}}",
        },
        "startTime": "{{{deployment_status.created_at}}}",
    },
    "push": {
        "name": "Push to {{{repository.full_name}}} {{{ref}}}",
        "annotations": {
            "type": "push",
            "severity": "info",
            "details": "{{{head_commit.message}}} ({{{after}}}) by {{{pusher.name}}}",
        },
        "startTime": "{{{head_commit.timestamp}}}",
    },
    "release": {
        "name": "Release {{{release.tag_name}}} of {{{repository.full_name}}} {{{action}}}",
        "annotations": {"type": "release", "severity": "info", "details": "{{{release.name}}} {{{release.html_url}}}"},
        "startTime": "{{{release.published_at}}}",
    },
    "workflow_run": {
        "name": "Workflow {{{workflow_run.name}}} {{{action}}} on {{{repository.full_name}}}"
        "{{#workflow_run.conclusion}}: {{{workflow_run.conclusion}}}{{/workflow_run.conclusion}}",
        "annotations": {
            "type": "workflow_run",
            "severity": "info",
            "details": "{{{workflow_run.html_url}}} ({{{workflow_run.head_branch}}} {{{workflow_run.head_sha}}})",
        },
        "startTime": "{{{workflow_run.run_started_at}}}",
    },
}
# Any other GitHub event the filter lets through, and generic hooks' unnamed fields.
GITHUB_FALLBACK: dict[str, Any] = {
    "name": "GitHub {{{opsplane.event}}} on {{{repository.full_name}}}",
    "annotations": {"type": "{{{opsplane.event}}}", "severity": "info"},
}
GENERIC_FALLBACK: dict[str, Any] = {"annotations": {"type": "{{{opsplane.event}}}", "severity": "info"}}


def default_mapping(kind: str, event_type: str) -> dict[str, Any]:
    """The mapping a hook's own mapping overrides field by field."""
    if kind == GENERIC:
        return {**GENERIC_FALLBACK, "tags": ["webhook"]}
    found = GITHUB_MAPPINGS.get(event_type, GITHUB_FALLBACK)
    return {**found, "tags": ["github", f"github.{event_type}"]}


# ---- the hook: body, document, wire -----------------------------------------------------


def new_secret() -> str:
    """A fresh secret: 256 random bits, url-safe."""
    return secrets.token_urlsafe(32)


def to_doc(body: InboundWebhookBody) -> tuple[dict[str, Any], list[str] | None]:
    """Body -> stored document (no secret: SECRET is set by create and update) and tags."""
    if body.kind == GENERIC and (body.mapping is None or not body.mapping.name):
        raise Invalid("mapping.name is required for a generic hook (GitHub hooks have defaults)")
    doc = body.model_dump(exclude_none=True, exclude={"tags", "version", "secret", "rotateSecret"})
    return doc, body.tags


def to_wire(entity: Entity) -> dict[str, Any]:
    """The InboundWebhook answer: never the secret."""
    doc = {k: v for k, v in entity.doc.items() if not k.startswith("_")}
    out: dict[str, Any] = {**doc, **entities.standard_fields(entity)}
    out["tags"] = sorted(entity.tags)
    out["deliveryPath"] = f"{HOOKS}/{entity.tenant}/{entity.id}"
    return out


INBOUND_WEBHOOK = Kind(
    name="inboundwebhook",
    label="Inbound webhook",
    schema=InboundWebhookBody,
    to_doc=to_doc,
    to_wire=to_wire,
    wire=InboundWebhook,
    history=False,  # a version kept would keep a rotated-out secret
    entity_acl=False,
)

crud.declare(router, INBOUND_WEBHOOK, BASE, features=frozenset({"list", "get", "delete", "tags"}))


def create(ctx: Context, body: InboundWebhookBody) -> tuple[Entity, str | None]:
    """A new hook, and its secret when it was generated (to answer once)."""
    doc, tags = to_doc(body)
    generated = None if body.secret else new_secret()
    secret = body.secret or generated
    checked = sorted({entities.valid_tag(t) for t in tags or []})
    return entities.create_from(ctx, INBOUND_WEBHOOK, {**doc, SECRET: secret}, checked), generated


def update(ctx: Context, hook_id: str, body: InboundWebhookBody) -> tuple[Entity, str | None]:
    """PUT: the body replaces the hook; the secret stays unless the body sets one or asks
    for a new one (answered once)."""
    doc, tags = to_doc(body)
    generated = new_secret() if body.rotateSecret and not body.secret else None
    secret = body.secret or generated
    checked = None if tags is None else sorted({entities.valid_tag(t) for t in tags})

    def edit(entity: Entity) -> None:
        managed = {k: v for k, v in entity.doc.items() if k.startswith("_")}
        entity.doc = {**doc, **managed}
        if secret:
            entity.doc[SECRET] = secret
        if checked is not None:
            entity.tags = checked

    return entities.change(ctx, INBOUND_WEBHOOK, hook_id, edit, expected_version=body.version), generated


# ---- deliveries ---------------------------------------------------------------------------


def hmac_hex(secret: str, message: bytes) -> str:
    """hex HMAC-SHA256 of message under secret."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _same(sent: str, expected: str) -> bool:
    """Constant-time comparison (of bytes: a header may hold anything)."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), expected.encode("ascii"))


def verify_github(secret: str, headers: dict[str, str], body: bytes) -> None:
    """X-Hub-Signature-256 is sha256=<hex HMAC-SHA256(secret, body)> (401 otherwise)."""
    sent = headers.get("x-hub-signature-256", "").strip()
    if not _same(sent, "sha256=" + hmac_hex(secret, body)):
        raise Unauthenticated(NOT_VERIFIED)


def verify_generic(secret: str, headers: dict[str, str], body: bytes, now_ms: int) -> None:
    """X-Opsplane-Signature is t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>." + body)> (any of
    several v1 may match), with t within TOLERANCE_SECONDS of now (401 otherwise)."""
    stamp, signatures = None, []
    for part in headers.get("x-opsplane-signature", "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            stamp = value
        elif name == "v1":
            signatures.append(value)
    if stamp is None:
        raise Unauthenticated(NOT_VERIFIED)
    expected = hmac_hex(secret, stamp.encode("ascii") + b"." + body)
    matched = False
    for sent in signatures:
        matched |= _same(sent, expected)  # every one compared: the time says nothing
    if not matched:
        raise Unauthenticated(NOT_VERIFIED)
    if abs(now_ms // 1000 - int(stamp)) > TOLERANCE_SECONDS:
        raise Unauthenticated(f"The signature's timestamp is more than {TOLERANCE_SECONDS} seconds from now")


def _header(headers: dict[str, str], name: str, pattern: re.Pattern[str], default: str | None = None) -> str:
    value = headers.get(name.lower(), "").strip() or default
    if value is None:
        raise Invalid(f"Header {name} is required")
    if not pattern.match(value):
        raise Invalid(f"Header {name} must be 1 to {128 if pattern is DELIVERY_ID else 64} printable characters")
    return value


def delivery_headers(kind: str, headers: dict[str, str]) -> tuple[str, str]:
    """The delivery's id and event type, from the kind's headers (400 when missing)."""
    if kind == GITHUB:
        return _header(headers, "X-GitHub-Delivery", DELIVERY_ID), _header(headers, "X-GitHub-Event", EVENT_TYPE)
    return _header(headers, "Idempotency-Key", DELIVERY_ID), _header(headers, "X-Opsplane-Event", EVENT_TYPE, GENERIC)


def payload_of(headers: dict[str, str], body: bytes, ctx: Context) -> dict[str, Any]:
    """The delivery's JSON object (GitHub's form content type carries it in `payload`)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"The payload is not UTF-8 (byte {exc.start})") from exc
    if headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qs

        text = (parse_qs(text).get("payload") or [""])[-1]
    if not text.strip():
        raise Invalid("The payload is empty: a JSON object is expected")
    payload = parse_json(text, ctx.settings)
    if not isinstance(payload, dict):
        raise Invalid("The payload must be a JSON object")
    return payload


def parse_time(text: str, field: str) -> int | None:
    """A rendered time: epoch seconds or ms, or ISO 8601 (no zone: UTC); None when blank."""
    value = text.strip()
    if not value:
        return None
    if value.isdigit() and len(value) <= 16:
        number = int(value)
        return number * 1000 if number < 10**11 else number
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"mapping.{field} rendered {value[:64]!r}: not epoch seconds, ms or an ISO 8601 time") from None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)


def _tag(text: str) -> str:
    return TAG_CHARS.sub("-", text.strip()).strip("-")[:MAX_RENDERED_TAG]


def render_event(
    hook: Entity, event_type: str, delivery_id: str, payload: dict[str, Any], now: int
) -> tuple[dict[str, Any], list[str]]:
    """The event document and tags a delivery maps to (400 when they are not a valid event)."""
    mapping = {**default_mapping(hook.doc["kind"], event_type), **hook.doc.get("mapping", {})}
    data = {**payload, "opsplane": {"event": event_type, "delivery": delivery_id, "hook": hook.doc.get("name", "")}}

    def render(text: str) -> str:
        return templates.render(text, data)

    start = parse_time(render(mapping.get("startTime", "")), "startTime") or now
    end = parse_time(render(mapping.get("endTime", "")), "endTime") or start + 1
    fields: dict[str, Any] = {
        "name": " ".join(render(mapping.get("name", "")).split())[:MAX_NAME],
        "startTime": start,
        "endTime": end,
        "annotations": {k: render(v)[:MAX_ANNOTATION_VALUE] for k, v in mapping.get("annotations", {}).items()},
    }
    hosts = [h for h in (render(t).strip()[:MAX_HOST] for t in mapping.get("hosts", [])) if h]
    if hosts:
        fields["hosts"] = hosts
    if not fields["name"]:
        raise Invalid("mapping.name rendered blank for this payload")
    try:
        body = EventBody.model_validate(fields)
    except ValidationError as exc:
        raise Invalid(f"The mapped event is not valid: {validation_message(exc)}") from exc
    tags = sorted({t for t in (_tag(render(t)) for t in mapping.get("tags", [])) if t})
    return body.model_dump(exclude_none=True, exclude={"tags", "version"}), tags


def _hook(tenant: str, hook_id: str) -> tuple[Context, Entity]:
    """The hook and the context acting as its service principal; 404 for anything that
    is not a live hook of an active tenant (never which)."""
    try:
        tenants.require_active(tenant)
        ctx = Context.service(tenant, f"inboundwebhook-{hook_id}", acl=("event.create",))
        hook = ctx.repo(INBOUND_WEBHOOK.name).find(hook_id)
    except OpsplaneError as exc:
        if exc.status >= 500:
            raise
        raise NotFound(NO_HOOK) from exc
    if hook is None:
        raise NotFound(NO_HOOK)
    return ctx, hook


def wanted(hook: Entity, event_type: str) -> bool:
    """Does the hook's event filter let this event type make an event?"""
    if hook.doc["kind"] == GITHUB and event_type == "ping":  # GitHub's hello: never an event
        return False
    chosen = hook.doc.get("events")
    if chosen is None:
        return hook.doc["kind"] != GITHUB or event_type in GITHUB_EVENTS
    return event_type in chosen


def _record(
    ctx: Context, hook: Entity, delivery_id: str, event_type: str, event: tuple[dict[str, Any], list[str]] | None
) -> dict[str, Any]:
    """Write the delivery (and its event, in the same transaction); its answer. A delivery
    already recorded answers what it recorded."""
    at = ctx.now()
    try:
        if event is None:
            deliveries.write(ctx.tenant, hook.id, delivery_id, {"status": "ignored", "event": event_type}, at=at)
            return {"deliveryId": delivery_id, "status": "ignored"}
        doc, tags = event

        def record(event_id: str) -> Writes:
            found = {"status": "created", "event": event_type, "eventId": event_id}
            return deliveries.record(ctx.tenant, hook.id, delivery_id, found, at=at)

        created = events.create(ctx, doc, tags, extra=record)
        return {"deliveryId": delivery_id, "status": "created", "eventId": created.id}
    except Conflict:
        recorded = deliveries.find(ctx.tenant, hook.id, delivery_id)
        if recorded is None:
            raise
        return {"deliveryId": delivery_id, "status": recorded["status"], "eventId": recorded.get("eventId")}


def deliver(tenant: str, hook_id: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Verify a delivery, then make its event at most once (a retry answers the same)."""
    ctx, hook = _hook(tenant, hook_id)
    secret = str(hook.doc.get(SECRET, ""))
    if hook.doc["kind"] == GITHUB:
        verify_github(secret, headers, body)
    else:
        verify_generic(secret, headers, body, ctx.now())
    delivery_id, event_type = delivery_headers(hook.doc["kind"], headers)
    payload = payload_of(headers, body, ctx)
    event = render_event(hook, event_type, delivery_id, payload, ctx.now()) if wanted(hook, event_type) else None
    return idempotency.once(
        tenant,
        IDEMPOTENCY_SCOPE,
        [hook.id, delivery_id],
        hashlib.sha256(body).hexdigest(),
        lambda: _record(ctx, hook, delivery_id, event_type, event),
        expires_after_seconds=deliveries.RETENTION_SECONDS,
    )


# ---- routes -------------------------------------------------------------------------------


def _answer(req: Request, hook: Entity, secret: str | None) -> dict[str, Any]:
    out = entities.wire(req.ctx, INBOUND_WEBHOOK, hook)
    if secret is not None:
        out["secret"] = secret
    return out


@router.post(BASE, acl="inboundwebhook.create", body=InboundWebhookBody, response=InboundWebhook)
def create_hook(req: Request) -> dict[str, Any]:
    """Create an inbound webhook (a generated secret is answered this once)."""
    return _answer(req, *create(req.ctx, req.model(InboundWebhookBody)))


@router.put(f"{BASE}/{{id}}", acl="inboundwebhook.{id}.update", body=InboundWebhookBody, response=InboundWebhook)
def update_hook(req: Request) -> dict[str, Any]:
    """Update an inbound webhook (409 on a stale version; rotateSecret answers the new one once)."""
    return _answer(req, *update(req.ctx, req.params["id"], req.model(InboundWebhookBody)))


@router.get(
    f"{BASE}/{{id}}/deliveries",
    acl="inboundwebhook.{id}.read",
    query=(("limit", "integer", f"how many, 1..{MAX_DELIVERIES_LIMIT} (default {DELIVERIES_LIMIT})"),),
    response=list[InboundWebhookDelivery],
)
def hook_deliveries(req: Request) -> list[dict[str, Any]]:
    """The hook's latest deliveries (kept 30 days), newest first."""
    hook = entities.load(req.ctx, INBOUND_WEBHOOK, req.params["id"])
    limit = req.int_arg("limit", DELIVERIES_LIMIT, low=1, high=MAX_DELIVERIES_LIMIT)
    return deliveries.recent(req.ctx.tenant, hook.id, limit=limit)


@router.post(
    f"{HOOKS}/{{tenantId}}/{{hookId}}",
    acl=PUBLIC,
    body={"type": "object", "additionalProperties": True},
    response=DeliveryAnswer,
    summary="Deliver a signed webhook payload (public: verified by its HMAC signature)",
)
def receive_delivery(req: Request) -> dict[str, Any]:
    """Receive a delivery: verify its signature, make its event once, answer its id."""
    return deliver(req.params["tenantId"], req.params["hookId"], req.headers, req.raw_body)


CATEGORY = Category(router, tables=("entities", "usage"), permission="events_management")
