"""Delivering one notification to one target (the deliver worker's work; docs/notifications.md).

One call is one attempt, in this order, so that a crash anywhere repeats the attempt
rather than losing it (the SQS message is deleted only after the call returns):

1. skip it when the target is gone, or has received this notification already (a
   duplicated job: the log's delivered mark);
2. render the target's template with the notification's variables and send it: WEBHOOK
   (POST, signed, SSRF-guarded), EMAIL (SES), PAGERDUTY (Events API v2);
3. record the attempt in the target's delivery log (after the send);
4. delivered: mark it. A failure worth a retry (5xx, 429, timeout, unreachable, SES
   unavailable) before MAX_ATTEMPTS: queue the next attempt, delayed by the backoff
   (Retry-After honoured). Any other failure, or the last attempt: the delivery goes to
   the dead-letter queue and the tenant's administrators get a message.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.domain import messages, templates
from chalicelib.domain.context import Context
from chalicelib.domain.notifications import (
    DEFAULT_EMAIL,
    DEFAULT_SUBJECT,
    DELIVER_QUEUE,
    EMAIL_PREFIX,
    MAX_ATTEMPTS,
    PAGERDUTY_PREFIX,
    SIGNATURE_HEADER,
    TARGET_PREFIX,
    Delivery,
    backoff_seconds,
    default_body,
    queue_deliveries,
    retry_after_seconds,
    signature,
    variables,
)
from chalicelib.errors import Invalid, Unavailable
from chalicelib.store import deliverylog, mail, outbound, queues
from chalicelib.store.repository import Entity

logger = Logger(service="opsplane", child=True)

SECRET = "_secret"  # the alert target's signing secret (server-managed: never answered)
MAX_BODY_BYTES = 1024 * 1024  # a rendered notification
MAX_EXCERPT = 512  # characters of an answer kept in the log
RESOLVING = frozenset({"ALERT_RESOLVED", "ALERT_NO_DATA_RESOLVED", "ALERT_NO_LONGER_INVALID"})
PAGERDUTY_SEVERITY = {"SEVERE": "critical", "WARN": "warning", "SMOKE": "info", "INFO": "info"}
USER_AGENT = "opsplane-notifier/1"


def new_secret() -> str:
    """A signing secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: delivered, or failed (retryable or not), and what to log."""

    delivered: bool
    retryable: bool = False
    status: int | None = None
    latency_ms: int = 0
    excerpt: str = ""
    error: str = ""
    retry_after: int | None = None

    def retried(self, delivery: Delivery) -> bool:
        """Does a next attempt follow this one?"""
        return not self.delivered and self.retryable and delivery.attempt < MAX_ATTEMPTS

    def doc(self, delivery: Delivery, method: str) -> dict[str, Any]:
        """The delivery log's row."""
        job = delivery.job
        return {
            "notificationId": job.notificationId,
            "alertId": job.alertId,
            "trigger": job.trigger,
            "method": method,
            "attempt": delivery.attempt,
            "result": "delivered" if self.delivered else ("retrying" if self.retried(delivery) else "failed"),
            "status": self.status,
            "latencyMs": self.latency_ms,
            "response": self.excerpt,
            "error": self.error,
        }


def _answered(response: outbound.Response, *, now: float) -> Outcome:
    excerpt = response.body.decode("utf-8", "replace")[:MAX_EXCERPT]
    if 200 <= response.status < 300:
        return Outcome(True, status=response.status, latency_ms=response.latency_ms, excerpt=excerpt)
    retryable = response.status == 429 or response.status >= 500
    return Outcome(
        False,
        retryable=retryable,
        status=response.status,
        latency_ms=response.latency_ms,
        excerpt=excerpt,
        error=f"HTTP {response.status}",
        retry_after=retry_after_seconds(response.headers.get("retry-after"), now=now) if retryable else None,
    )


def _post(ctx: Context, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    started = time.monotonic()
    try:
        response = outbound.post(url, body, headers, allow_loopback=ctx.settings.webhook_allow_loopback)
    except outbound.Refused as exc:
        return Outcome(False, error=str(exc))
    except outbound.Unreachable as exc:
        return Outcome(False, retryable=True, latency_ms=int((time.monotonic() - started) * 1000), error=str(exc))
    return _answered(response, now=time.time())


# ---- the methods ---------------------------------------------------------------------------


def send_webhook(ctx: Context, target: Entity, delivery: Delivery, data: dict[str, Any]) -> Outcome:
    """POST the rendered template with the target's content type and headers, signed."""
    template = str(target.doc.get("template") or "")
    body = (templates.render(template, data) if template else default_body(data)).encode()
    if len(body) > MAX_BODY_BYTES:
        return Outcome(False, error=f"the rendered body is {len(body)} bytes, at most {MAX_BODY_BYTES} are sent")
    headers = dict(target.doc.get("customHttpHeaders") or {})
    headers.update(
        {
            "Content-Type": str(target.doc.get("contentType") or "application/json"),
            "User-Agent": USER_AGENT,
            "X-Opsplane-Notification-Id": delivery.job.notificationId,
            "X-Opsplane-Delivery-Attempt": str(delivery.attempt),
            SIGNATURE_HEADER: signature(str(target.doc[SECRET]), int(time.time()), body),
        }
    )
    return _post(ctx, str(target.doc["recipient"]), body, headers)


def send_email(ctx: Context, to: list[str], subject: str, body: str, *, html: bool) -> Outcome:
    """One message through SES to every address."""
    started = time.monotonic()
    try:
        message_id = mail.send(ctx.settings.email_sender, to, subject, body, html=html)
    except mail.MailRefused as exc:
        return Outcome(False, error=exc.message)
    except Unavailable as exc:
        return Outcome(False, retryable=True, error=f"SES unavailable: {exc.message}")
    return Outcome(True, latency_ms=int((time.monotonic() - started) * 1000), excerpt=f"SES message {message_id}")


def pagerduty_event(routing_key: str, delivery: Delivery, data: dict[str, Any], details: str) -> dict[str, Any]:
    """The Events API v2 event: trigger (or resolve) deduplicated by the alert's id."""
    job = delivery.job
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if job.trigger in RESOLVING else "trigger",
        "dedup_key": job.alertId,
    }
    if event["event_action"] == "trigger":
        try:
            custom: Any = json.loads(details)
        except ValueError:
            custom = {"details": details}
        event["payload"] = {
            "summary": str(data["subject"])[:1024],
            "source": "opsplane",
            "severity": PAGERDUTY_SEVERITY.get(job.severity, "error"),
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.evaluatedAt / 1000)),
            "custom_details": custom if isinstance(custom, dict) else {"details": custom},
        }
        event["links"] = [{"href": data["url"], "text": "Alert"}]
    return event


def send_pagerduty(ctx: Context, routing_key: str, delivery: Delivery, data: dict[str, Any], template: str) -> Outcome:
    """POST the event to the PagerDuty endpoint (OPSPLANE_PAGERDUTY_URL)."""
    details = templates.render(template, data) if template else default_body(data)
    event = pagerduty_event(routing_key, delivery, data, details)
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    return _post(ctx, ctx.settings.pagerduty_url, body, headers)


def attempt(ctx: Context, delivery: Delivery, target: Entity | None) -> tuple[str, Outcome]:
    """Render and send one attempt: (method, outcome)."""
    data = variables(delivery.job, ctx.settings.public_url)
    if target is None:  # an address or routing key the alert names itself
        if delivery.target.startswith(PAGERDUTY_PREFIX):
            return "PAGERDUTY", send_pagerduty(ctx, delivery.target.removeprefix(PAGERDUTY_PREFIX), delivery, data, "")
        subject, body = templates.render(DEFAULT_SUBJECT, data), templates.render(DEFAULT_EMAIL, data)
        return "EMAIL", send_email(ctx, [delivery.target.removeprefix(EMAIL_PREFIX)], subject, body, html=False)
    method = str(target.doc.get("method"))
    template = str(target.doc.get("template") or "")
    if method == "WEBHOOK":
        return method, send_webhook(ctx, target, delivery, data)
    if method == "PAGERDUTY":
        return method, send_pagerduty(ctx, str(target.doc["recipient"]), delivery, data, template)
    subject = templates.render(str(target.doc.get("emailSubject") or DEFAULT_SUBJECT), data)
    body = templates.render(template or DEFAULT_EMAIL, data)
    to = [a.strip() for a in str(target.doc["recipient"]).split(",") if a.strip()]
    return method, send_email(
        ctx, to, subject.replace("\r", " ").replace("\n", " "), body, html=bool(target.doc.get("isHtmlContent"))
    )


# ---- one delivery ------------------------------------------------------------------------------


def signing_target(ctx: Context, target_id: str) -> Entity | None:
    """The alert target (None when gone), given a signing secret if it has none yet."""
    store = ctx.repo("notificant")
    target = store.find(target_id)
    if target is None or target.deleted:
        return None
    if target.doc.get("method") == "WEBHOOK" and not target.doc.get(SECRET):

        def keyed(entity: Entity) -> None:
            entity.doc.setdefault(SECRET, new_secret())

        target = store.update(target_id, keyed, by=ctx.actor, retries=3)
    return target


def deliver(delivery: Delivery) -> Outcome | None:
    """One attempt of one delivery (see the module); None when there was nothing to send."""
    job = delivery.job
    ctx = Context.service(job.tenant, "notifier")
    target: Entity | None = None
    if delivery.target.startswith(TARGET_PREFIX):
        target = signing_target(ctx, delivery.target.removeprefix(TARGET_PREFIX))
        if target is None:
            logger.info("alert target gone: notification dropped", extra={"target": delivery.target})
            return None
    log = delivery.log_key()
    if deliverylog.delivered(job.tenant, log, job.notificationId):
        return None
    try:
        method, outcome = attempt(ctx, delivery, target)
    except Invalid as exc:  # a template that renders to nothing sendable
        method, outcome = str((target.doc if target else {}).get("method", "")), Outcome(False, error=exc.message)
    deliverylog.record_attempt(job.tenant, log, outcome.doc(delivery, method), at=ctx.now())
    if outcome.delivered:
        deliverylog.mark_delivered(job.tenant, log, job.notificationId, at=ctx.now())
    elif outcome.retried(delivery):
        delay = backoff_seconds(
            delivery.attempt, base=ctx.settings.delivery_backoff_seconds, retry_after=outcome.retry_after
        )
        queue_deliveries([delivery.model_copy(update={"attempt": delivery.attempt + 1})], delay_seconds=delay)
    else:
        give_up(ctx, delivery, target, outcome)
    return outcome


def give_up(ctx: Context, delivery: Delivery, target: Entity | None, outcome: Outcome) -> None:
    """The delivery failed for good: to the dead-letter queue, and tell the administrators."""
    queues.send(f"{DELIVER_QUEUE}-dlq", [delivery.body()])
    job = delivery.job
    name = str(target.doc.get("title")) if target is not None else delivery.target
    why = outcome.error or (f"HTTP {outcome.status}" if outcome.status else "failed")
    notice = messages.Notice(
        key=f"notification:{job.notificationId}:{delivery.target}",
        at=ctx.now(),
        title=f"Alert notification to {name} failed",
        content=(
            f"The {job.trigger} notification of alert {job.alert.get('name') or job.alertId} could not be delivered "
            f"to {name} after {delivery.attempt} attempt(s): {why}. Its delivery log "
            f"(GET /api/v2/notificant/{{id}}/deliveries) has every attempt; the notification is in the "
            "dead-letter queue."
        ),
        severity=messages.SEVERE,
        scope=messages.CUSTOMER,
        attributes={"notificationId": job.notificationId, "target": delivery.target, "alertId": job.alertId},
    )
    messages.notify_administrators(job.tenant, notice)
