"""Notifications: what the evaluator hands to delivery, one job per alert trigger.

The alert evaluation (chalicelib/categories/alert_evaluation.py, worker workers/alerteval.py)
sends a `NotifyJob` to the NOTIFY queue each time an alert changes state (a trigger): built
as a dict with `notification_id` and `wire_series`, kept in the state's outbox, and sent by
`send` (checked against the model first, so a malformed job fails where it is made); the notify worker resolves the alert's targets and
hands one `Delivery` per (notification, target) to the DELIVER queue, whose worker renders
and sends it (docs/notifications.md). `notificationId` is stable for one trigger of one
alert: a duplicated job, or a redelivered message, carries the same id, so receivers can
de-duplicate (delivery is at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from chalicelib.domain.context import Context
from chalicelib.store import queues
from chalicelib.wire import Model

NOTIFY_QUEUE = "notify"
QUEUE = NOTIFY_QUEUE  # the evaluation's name for it
DELIVER_QUEUE = "deliver"

Trigger = Literal[
    "ALERT_OPENED",
    "ALERT_UPDATED",
    "ALERT_RESOLVED",
    "ALERT_MAINTENANCE",
    "ALERT_SNOOZED",
    "ALERT_INVALID",
    "ALERT_NO_LONGER_INVALID",
    "ALERT_NO_DATA",
    "ALERT_NO_DATA_RESOLVED",
    "ALERT_SEVERITY_UPDATE",
    "ALERT_TESTING",
]


class AlertSeries(Model):
    """One series of an alert: its source, point tags, label (the metric) and observed value."""

    model_config = ConfigDict(extra="ignore")

    host: StrictStr = ""
    tags: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    label: StrictStr = ""
    observed: StrictFloat | StrictInt | None = None


class NotifyJob(Model):
    """One alert trigger to notify the alert's targets about (the `notify` queue's message)."""

    model_config = ConfigDict(extra="ignore")

    tenant: StrictStr = Field(min_length=1)
    notificationId: StrictStr = Field(min_length=1, max_length=256)
    trigger: Trigger
    alertId: StrictStr = Field(min_length=1)
    alert: dict[str, Any] = Field(description="The alert as the API answers it (its wire document)")
    severity: StrictStr = ""
    reason: StrictStr = ""
    startedTime: StrictInt | None = None
    endedTime: StrictInt | None = None
    evaluatedAt: StrictInt
    failingAlertSeries: list[AlertSeries] = Field(default_factory=list)
    newlyFailingAlertSeries: list[AlertSeries] = Field(default_factory=list)
    recoveredAlertSeries: list[AlertSeries] = Field(default_factory=list)
    inMaintenanceAlertSeries: list[AlertSeries] = Field(default_factory=list)

    def body(self) -> str:
        """The job as the queue carries it."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> NotifyJob:
        """A job read back from its message (pydantic's ValidationError when it is not one)."""
        return cls.model_validate_json(body)


def send_jobs(jobs: list[NotifyJob]) -> int:
    """Queue notify jobs (the evaluator's side); the number sent."""
    return queues.send(NOTIFY_QUEUE, [job.body() for job in jobs]) if jobs else 0


def send(jobs: Iterable[Mapping[str, Any]]) -> int:
    """Queue jobs kept as dicts (the evaluation's outbox), each validated as a NotifyJob."""
    return send_jobs([NotifyJob.model_validate(job) for job in jobs])


def notification_id(alert_id: str, trigger: str, at: int) -> str:
    """Stable per alert, trigger and evaluation: the receivers' de-duplication key."""
    return f"{alert_id}-{trigger}-{at}"


def wire_series(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Series records of an evaluation's state as a job lists them."""
    return [
        {
            "host": str(r.get("host", "")),
            "tags": dict(r.get("tags") or {}),
            "label": str(r.get("label", "")),
            "observed": None if r.get("observed") is None else float(r["observed"]),
        }
        for r in records
    ]


# ---- deliveries: one per (notification, target) ----------------------------------------------

TARGET_PREFIX = "target:"
EMAIL_PREFIX = "email:"
PAGERDUTY_PREFIX = "pd:"
# Triggers an e-mail address or PagerDuty key named directly in an alert is told about
# (an alert target says its own in `triggers`).
DIRECT_TRIGGERS = frozenset(
    {"ALERT_OPENED", "ALERT_UPDATED", "ALERT_RESOLVED", "ALERT_SEVERITY_UPDATE", "ALERT_TESTING"}
)
MAX_ATTEMPTS = 6


class Delivery(Model):
    """One notification for one target (the `deliver` queue's message): `target` is
    "target:<alert target id>", "email:<address>" or "pd:<routing key>"; `attempt` counts
    from 1."""

    model_config = ConfigDict(extra="ignore")

    target: StrictStr = Field(min_length=1)
    attempt: StrictInt = Field(default=1, ge=1)
    job: NotifyJob

    def body(self) -> str:
        """The delivery as the queue carries it."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> Delivery:
        """A delivery read back from its message."""
        return cls.model_validate_json(body)

    def log_key(self) -> str:
        """The delivery log the attempts are recorded under: the alert target's id, or the ref."""
        return self.target.removeprefix(TARGET_PREFIX)


def references(text: object) -> list[str]:
    """The entries of a comma-separated alert target list (emails, pd:<key>, target:<id>)."""
    return [part.strip() for part in str(text or "").split(",") if part.strip()]


def named_targets(job: NotifyJob) -> list[str]:
    """What the alert names for this job: its `target` list and, for the job's severity, its
    `targets` (THRESHOLD alerts; every severity's when the job names none), once each."""
    alert = job.alert
    named = references(alert.get("target"))
    per_severity = alert.get("targets") if isinstance(alert.get("targets"), dict) else {}
    for severity, text in (per_severity or {}).items():
        if not job.severity or severity == job.severity:
            named += references(text)
    return list(dict.fromkeys(named))


def plan(ctx: Context, job: NotifyJob) -> list[Delivery]:
    """The deliveries of a job: the alert's targets whose triggers include the job's (an
    alert target that no longer exists is skipped), e-mail addresses and PagerDuty keys
    named directly for DIRECT_TRIGGERS."""
    found: list[Delivery] = []
    store = ctx.repo("notificant")
    for ref in named_targets(job):
        if ref.startswith(TARGET_PREFIX):
            target = store.find(ref.removeprefix(TARGET_PREFIX))
            if target is None or target.deleted or job.trigger not in (target.doc.get("triggers") or []):
                continue
            found.append(Delivery(target=ref, job=job))
        elif job.trigger in DIRECT_TRIGGERS:
            direct = ref if ref.startswith(PAGERDUTY_PREFIX) else f"{EMAIL_PREFIX}{ref}"
            found.append(Delivery(target=direct, job=job))
    return found


def queue_deliveries(deliveries: list[Delivery], *, delay_seconds: int = 0) -> int:
    """Hand deliveries to the deliver queue; the number sent."""
    return queues.send(DELIVER_QUEUE, [d.body() for d in deliveries], delay_seconds=delay_seconds)


# ---- template variables (Wavefront's, docs/notifications.md lists them) ------------------------

SEVERITY_SHORT = {"SEVERE": "SEVR", "WARN": "WARN", "SMOKE": "SMOK", "INFO": "INFO"}
MAX_ITERATED = 500  # objects per iterator (Wavefront's default iteration limit)


def wavefront_time(ms: int | None) -> str:
    """A time as Wavefront's notifications write it ("2024-05-01 12:00:00.000 +0000"); "" for none."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " +0000"


def _json_escape(text: str, render: Callable[[str], str]) -> str:
    return json.dumps(render(text))[1:-1]


def _xml_escape(text: str, render: Callable[[str], str]) -> str:
    from xml.sax.saxutils import escape

    return escape(render(text), {'"': "&quot;", "'": "&apos;"})


def _trim_trailing_comma(text: str, render: Callable[[str], str]) -> str:
    return render(text).rstrip().removesuffix(",")


def _alert_series(series: AlertSeries) -> dict[str, Any]:
    tags = [{"key": k, "value": v} for k, v in sorted(series.tags.items())]
    stats = {"last": series.observed} if series.observed is not None else {}
    return {"host": series.host, "label": series.label, "tags": tags, "observed": series.observed, "stats": stats}


def _iterators(name: str, series: list[AlertSeries]) -> dict[str, Any]:
    """The four iterators of one category (failing, newlyFailing, ...): alert series, series, hosts."""
    shown = [_alert_series(s) for s in series[:MAX_ITERATED]]
    return {
        f"{name}AlertSeries": shown,
        f"{name}Series": [{k: s[k] for k in ("host", "label", "tags")} for s in shown],
        f"{name}Hosts": list(dict.fromkeys(s.host for s in series if s.host))[:MAX_ITERATED],
    }


def variables(job: NotifyJob, public_url: str) -> dict[str, Any]:
    """What a template renders with: Wavefront's variables, iterators and functions."""
    alert = job.alert
    name = str(alert.get("name") or "")
    conditions = alert.get("conditions") if isinstance(alert.get("conditions"), dict) else {}
    condition = str(alert.get("condition") or (conditions or {}).get(job.severity) or "")
    tags = alert.get("tags") if isinstance(alert.get("tags"), dict) else {}
    reason = job.trigger
    failing_hosts = list(dict.fromkeys(s.host for s in job.failingAlertSeries if s.host))
    created = alert.get("createdEpochMillis")
    problem = job.reason if job.trigger in ("ALERT_INVALID", "ALERT_NO_DATA") else ""
    return {
        "alertId": job.alertId,
        "notificationId": job.notificationId,
        "reason": reason,
        "reasonMessage": job.reason,
        "name": name,
        "severity": job.severity,
        "severityShort": SEVERITY_SHORT.get(job.severity, job.severity[:4]),
        "condition": condition,
        "displayExpression": str(alert.get("displayExpression") or ""),
        "additionalInformation": str(alert.get("additionalInformation") or ""),
        "subject": f"[{job.severity or 'ALERT'}] {reason.removeprefix('ALERT_')}: {name}",
        "alertTags": list((tags or {}).get("customerTags") or []),
        "url": f"{public_url.rstrip('/')}/api/v2/alert/{job.alertId}",
        "createdTime": wavefront_time(created if isinstance(created, int) else None),
        "startedTime": wavefront_time(job.startedTime),
        "sinceTime": wavefront_time(job.startedTime),
        "endedTime": wavefront_time(job.endedTime),
        "evaluatedTime": wavefront_time(job.evaluatedAt),
        "errorMessage": problem,
        "hostsFailingMessage": ", ".join(failing_hosts[:MAX_ITERATED]),
        **_iterators("failing", job.failingAlertSeries),
        **_iterators("newlyFailing", job.newlyFailingAlertSeries),
        **_iterators("recovered", job.recoveredAlertSeries),
        **_iterators("inMaintenance", job.inMaintenanceAlertSeries),
        "jsonEscape": _json_escape,
        "xmlEscape": _xml_escape,
        "trimTrailingComma": _trim_trailing_comma,
    }


def default_body(data: dict[str, Any]) -> str:
    """The body of a target with an empty template: the variables as JSON (no functions)."""
    return json.dumps({k: v for k, v in data.items() if not callable(v)}, separators=(",", ":"))


DEFAULT_SUBJECT = "{{{subject}}}"
DEFAULT_EMAIL = (
    "{{{name}}} is {{reason}} ({{severity}}).\n\nCondition: {{{condition}}}\nStarted: {{startedTime}}\n"
    "Failing: {{{hostsFailingMessage}}}\n{{{additionalInformation}}}\n\n{{{url}}}\nNotification {{notificationId}}\n"
)


# ---- signatures and retries ---------------------------------------------------------------------

SIGNATURE_HEADER = "X-Opsplane-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """Does the header sign body with secret, within tolerance seconds of now (receivers)?"""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def retry_after_seconds(value: str | None, *, now: float) -> int | None:
    """A Retry-After header's delay in seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int(when.timestamp() - now))


def backoff_seconds(
    attempt: int, *, base: int, retry_after: int | None = None, rand: Callable[[], float] = random.random
) -> int:
    """How long to wait after failed attempt `attempt` (1-based): base x 4^(attempt-1), capped
    at SQS's 900 s, jittered to between half and all of it; never less than Retry-After."""
    nominal = min(queues.MAX_DELAY_SECONDS, base * 4 ** (attempt - 1))
    delay = nominal / 2 + rand() * nominal / 2
    if retry_after is not None:
        delay = max(delay, retry_after)
    return int(min(queues.MAX_DELAY_SECONDS, round(delay)))
