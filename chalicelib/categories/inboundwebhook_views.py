"""Inbound webhook bodies and answers: the hook (name, kind, write-only secret, event
filter, mapping from payload to event), what a delivery answers, and a delivery record.

Every string, list and template is bounded (docs/inbound-webhooks.md lists the bounds);
templates must parse as Mustache when the hook is saved, so a bad one is a 400 then, not
a failed delivery later.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationInfo, field_validator

from chalicelib.categories.crud_views import EntityFields, not_blank
from chalicelib.domain import templates
from chalicelib.errors import Invalid
from chalicelib.wire import Model

MAX_NAME = 256
MIN_SECRET, MAX_SECRET = 16, 256
MAX_EVENT_TYPES = 50
MAX_NAME_TEMPLATE = 1024
MAX_ANNOTATIONS = 32
MAX_ANNOTATION_KEY = 64
MAX_ANNOTATION_TEMPLATE = 4096
MAX_TAG_TEMPLATES = 20
MAX_TAG_TEMPLATE = 256
MAX_HOST_TEMPLATES = 20
MAX_HOST_TEMPLATE = 256
MAX_TIME_TEMPLATE = 256
MAX_TAGS = 50

HookKind = Literal["github", "generic"]
DeliveryStatus = Literal["created", "ignored"]
EventType = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
AnnotationKey = Annotated[StrictStr, Field(min_length=1, max_length=MAX_ANNOTATION_KEY)]


NameTemplate = Annotated[StrictStr, Field(max_length=MAX_NAME_TEMPLATE)]
AnnotationTemplate = Annotated[StrictStr, Field(max_length=MAX_ANNOTATION_TEMPLATE)]
TagTemplate = Annotated[StrictStr, Field(max_length=MAX_TAG_TEMPLATE)]
HostTemplate = Annotated[StrictStr, Field(max_length=MAX_HOST_TEMPLATE)]
TimeTemplate = Annotated[StrictStr, Field(max_length=MAX_TIME_TEMPLATE)]


def parses(text: str, field: str) -> str:
    """A template that parses as Mustache (ValueError saying where otherwise)."""
    try:
        templates.check_template(text, field=field)
    except Invalid as exc:
        raise ValueError(exc.message) from None
    return text


class EventMapping(Model):
    """Mustache templates rendered over the delivery's JSON payload (and `opsplane.event`,
    `opsplane.delivery`, `opsplane.hook`) into the event; an absent one takes the default
    of the GitHub event type (docs/inbound-webhooks.md)."""

    model_config = ConfigDict(extra="forbid")

    name: NameTemplate | None = Field(default=None, description="The event's name")
    annotations: dict[AnnotationKey, AnnotationTemplate] | None = Field(
        default=None, max_length=MAX_ANNOTATIONS, description="details, severity, type, ..."
    )
    tags: list[TagTemplate] | None = Field(default=None, max_length=MAX_TAG_TEMPLATES)
    hosts: list[HostTemplate] | None = Field(default=None, max_length=MAX_HOST_TEMPLATES)
    startTime: TimeTemplate | None = Field(
        default=None, description="Epoch s or ms, or ISO 8601; blank: when the delivery arrived"
    )
    endTime: TimeTemplate | None = Field(
        default=None, description="Epoch s or ms, or ISO 8601; blank: an instant (1 ms after the start)"
    )

    @field_validator("name", "startTime", "endTime")
    @classmethod
    def _one(cls, value: str | None, info: ValidationInfo) -> str | None:
        return parses(value, str(info.field_name)) if value is not None else None

    @field_validator("annotations")
    @classmethod
    def _annotations(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, text in (value or {}).items():
            parses(text, f"annotations.{key}")
        return value

    @field_validator("tags", "hosts")
    @classmethod
    def _each(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        for i, text in enumerate(value or []):
            parses(text, f"{info.field_name}[{i}]")
        return value


class InboundWebhookBody(Model):
    """What POST and PUT read; the server's fields of an answer sent back are ignored."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    kind: HookKind = Field(description="github: X-Hub-Signature-256; generic: X-Opsplane-Signature")
    secret: StrictStr | None = Field(
        default=None,
        min_length=MIN_SECRET,
        max_length=MAX_SECRET,
        description="Write-only. Absent on create: one is generated and answered once. On update: a new secret",
        json_schema_extra={"writeOnly": True},
    )
    rotateSecret: StrictBool | None = Field(
        default=None, description="On update: generate a new secret, answered once as `secret`"
    )
    events: list[EventType] | None = Field(
        default=None,
        max_length=MAX_EVENT_TYPES,
        description="Event types that make events (X-GitHub-Event / X-Opsplane-Event); absent: the defaults",
    )
    mapping: EventMapping | None = None
    tags: list[StrictStr] | None = Field(default=None, max_length=MAX_TAGS, description="The hook's own tags")
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    _named = field_validator("name")(not_blank)


class InboundWebhook(EntityFields):
    """An inbound webhook as answered: never its secret, but in the answer that made one."""

    name: str
    kind: HookKind
    events: list[str] | None = None
    mapping: EventMapping | None = None
    tags: list[str]
    deliveryPath: str = Field(description="Where the sender posts: /hooks/<tenant>/<id>")
    secret: str | None = Field(default=None, description="Only in the answer that generated it")


class DeliveryAnswer(Model):
    """What a delivery answers (the same for every retry of a delivery id)."""

    deliveryId: str
    status: DeliveryStatus
    eventId: str | None = None


class InboundWebhookDelivery(Model):
    """One delivery a hook received (kept 30 days)."""

    id: str = Field(description="X-GitHub-Delivery or Idempotency-Key")
    time: int = Field(description="When it arrived, epoch ms")
    status: DeliveryStatus
    event: str = Field(description="The delivery's event type")
    eventId: str | None = None
