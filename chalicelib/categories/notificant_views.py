"""Alert target bodies and answers: the writable part of the client's Notificant (what POST
and PUT read, bounded, with the recipient checked against the method and the templates
parsed as Mustache) and the Notificant the routes answer. WebhookBody is the same body
through /api/v2/webhook, where the method can only be WEBHOOK.

pydantic only, like alert_views.py.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
)

from chalicelib.categories.crud_views import EntityFields, not_blank
from chalicelib.domain import templates
from chalicelib.errors import Invalid
from chalicelib.wire import Model

MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_RECIPIENT = 4096
MAX_URL = 2048
MAX_EMAILS = 50
MAX_EMAIL = 254  # RFC 5321's path limit
MAX_SUBJECT = 998  # RFC 5322's line limit
MAX_HEADERS = 50
MAX_HEADER_NAME = 256
MAX_HEADER_VALUE = 4096
MAX_ROUTES = 100
MAX_FILTER = 1024

Method = Literal["WEBHOOK", "EMAIL", "PAGERDUTY"]
Trigger = Literal[
    "ALERT_OPENED",
    "ALERT_UPDATED",
    "ALERT_RESOLVED",
    "ALERT_MAINTENANCE",
    "ALERT_SNOOZED",
    "ALERT_INVALID",
    "ALERT_NO_LONGER_INVALID",
    "ALERT_TESTING",
    "ALERT_RETRIGGERED",
    "ALERT_NO_DATA",
    "ALERT_NO_DATA_RESOLVED",
    "ALERT_NO_DATA_MAINTENANCE",
    "ALERT_SEVERITY_UPDATE",
    "ALERT_NOTIFICATION_PREVIEW",
]
# The client also lists "" (no content type): accepted and stored as no content type.
ContentType = Literal["application/json", "text/html", "text/plain", "application/x-www-form-urlencoded", ""]

EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+\Z")
PAGERDUTY_KEY = re.compile(r"[A-Za-z0-9]{32}\Z")  # a PagerDuty Events API v2 routing key
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # an RFC 9110 token


def recipient_problem(method: str, recipient: str) -> str | None:
    """Why recipient is not one of method's (a URL, email addresses, a routing key), or None."""
    if method == "WEBHOOK":
        parts = urlsplit(recipient)
        if len(recipient) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in recipient):
            return f"a WEBHOOK recipient is a URL of at most {MAX_URL} characters without spaces"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "a WEBHOOK recipient is an http:// or https:// URL with a host"
        return None
    if method == "EMAIL":
        addresses = [a.strip() for a in recipient.split(",")]
        if len(addresses) > MAX_EMAILS:
            return f"an EMAIL recipient lists at most {MAX_EMAILS} addresses"
        wrong = [a for a in addresses if len(a) > MAX_EMAIL or not EMAIL.match(a)]
        if wrong:
            return f"an EMAIL recipient is comma-separated email addresses; not one: {wrong[0][:80]!r}"
        return None
    if not PAGERDUTY_KEY.match(recipient):
        return "a PAGERDUTY recipient is a routing key of 32 letters and digits"
    return None


def of_the_method(recipient: str, info: ValidationInfo) -> str:
    """A recipient (or a route's target) that fits the method validated before it."""
    problem = recipient_problem(info.data["method"], recipient) if "method" in info.data else None
    if problem:
        raise ValueError(problem)
    return recipient


def _mustache(text: str | None, info: ValidationInfo) -> str | None:
    """A template that parses as Mustache (ValueError saying where otherwise)."""
    if text is not None:
        try:
            templates.check_template(text, field=str(info.field_name))
        except Invalid as exc:
            raise ValueError(exc.message) from None
    return text


class AlertRoute(Model):
    """The client's AlertRoute: alerts whose series match filter go to target instead."""

    model_config = ConfigDict(extra="ignore")

    method: Method
    target: StrictStr = Field(min_length=1, max_length=MAX_RECIPIENT)
    filter: StrictStr = Field(min_length=1, max_length=MAX_FILTER, description="One 'key value' pair, e.g. 'env prod*'")

    _target_of_method = field_validator("target")(of_the_method)

    @field_validator("filter")
    @classmethod
    def _one_pair(cls, text: str) -> str:
        if len(text.split()) != 2:
            raise ValueError("must be one key and one value separated by a space, e.g. 'env prod*'")
        return text


class NotificantBody(Model):
    """The writable part of the client's Notificant; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    title: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TITLE), AfterValidator(not_blank)]
    description: StrictStr = Field(max_length=MAX_DESCRIPTION)
    method: Method
    recipient: StrictStr = Field(min_length=1, max_length=MAX_RECIPIENT)
    template: StrictStr = Field(max_length=templates.MAX_TEMPLATE_CHARS, description="Mustache")
    triggers: list[Trigger] = Field(min_length=1, max_length=len(get_args(Trigger)))
    contentType: ContentType | None = None
    customHttpHeaders: (
        dict[
            Annotated[StrictStr, Field(min_length=1, max_length=MAX_HEADER_NAME)],
            Annotated[StrictStr, Field(max_length=MAX_HEADER_VALUE)],
        ]
        | None
    ) = Field(default=None, max_length=MAX_HEADERS)
    emailSubject: StrictStr | None = Field(default=None, max_length=MAX_SUBJECT, description="Mustache, one line")
    isHtmlContent: StrictBool | None = None
    routes: list[AlertRoute] | None = Field(default=None, max_length=MAX_ROUTES)
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    _recipient_of_method = field_validator("recipient")(of_the_method)

    @field_validator("template", "emailSubject")
    @classmethod
    def _templates(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is not None and info.field_name == "emailSubject" and ("\n" in text or "\r" in text):
            raise ValueError("must be one line")
        return _mustache(text, info)

    @field_validator("customHttpHeaders")
    @classmethod
    def _headers(cls, headers: dict[str, str] | None) -> dict[str, str] | None:
        for name, value in (headers or {}).items():
            if not HEADER_NAME.match(name):
                raise ValueError(f"{name[:80]!r} is not an HTTP header name")
            if any(c in value for c in "\r\n\0"):
                raise ValueError(f"the value of {name} must not hold line breaks or NUL")
        return headers


class WebhookBody(NotificantBody):
    """A Notificant through /api/v2/webhook: the method is WEBHOOK (the default there)."""

    method: Literal["WEBHOOK"] = "WEBHOOK"


# ---- answers ---------------------------------------------------------------------------


class Notificant(NotificantBody, EntityFields):
    """The client's Notificant as answered: the stored body and bookkeeping."""

    version: int
    contentType: Literal["application/json", "text/html", "text/plain", "application/x-www-form-urlencoded"] | None = (
        None
    )


class TestedNotificant(Notificant):
    """POST /notificant/test/{id}: the target with its templates rendered as the
    ALERT_TESTING notification queued for it renders them."""

    template: str = Field(description="The body of the test notification sent")
    emailSubject: str | None = Field(default=None, description="The subject of the test notification sent")
    notificationId: str = Field(description="The test notification's id (X-Opsplane-Notification-Id)")


MIN_SECRET, MAX_SECRET = 16, 256


class SecretBody(Model):
    """POST /notificant/{id}/secret: the signing secret to use (absent: one is generated)."""

    model_config = ConfigDict(extra="forbid")

    secret: StrictStr | None = Field(
        default=None, min_length=MIN_SECRET, max_length=MAX_SECRET, pattern=r"^[\x21-\x7e]+$"
    )


class TargetSecret(Model):
    """The signing secret as set (answered only by the route that sets it)."""

    id: str
    secret: str
    header: str = Field(description="The request header that carries the signature")


class DeliveryAttempt(Model):
    """One attempt to deliver a notification to a target (the delivery log, kept 14 days)."""

    notificationId: str
    alertId: str
    trigger: str
    method: str
    attempt: int = Field(description="1 for the first attempt")
    result: Literal["delivered", "retrying", "failed"]
    status: int | None = Field(default=None, description="The HTTP status answered, if any")
    latencyMs: int
    response: str = Field(description="The first 512 characters of the answer")
    error: str = Field(description="Why the attempt failed ('' when delivered)")
    time: int = Field(description="When the attempt was made, epoch ms")
