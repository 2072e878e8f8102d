"""Grafana's legacy notification channels (/api/alert-notifications): alert targets, as
contact points are (contactpoints.py), in the shape Grafana 8's API had.

A channel IS an alert target: its uid is the target's id and, the id being digits, its
numeric id is the same number, so both routes name the same target. Reminders and the
default channel do not exist in opsplane (an alert names its targets; resends are the
alert's notificationResendFrequencyMinutes): sendReminder or isDefault true is a 400.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictStr

from chalicelib.categories.notificant import NOTIFICANT
from chalicelib.categories.notificant import delete as delete_target
from chalicelib.compat.grafana_alerting.contactpoints import contact_point, create, update
from chalicelib.compat.grafana_alerting.rules import iso_time
from chalicelib.compat.grafana_alerting.views import ContactPointBody, GrafanaMessage
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("grafana_alerting")

CHANNELS = "/api/alert-notifications"
BY_ID = f"{CHANNELS}/{{id}}"
BY_UID = f"{CHANNELS}/uid/{{uid}}"


class ChannelBody(ContactPointBody):
    """POST / PUT of a notification channel."""

    isDefault: StrictBool = Field(default=False, description="Must be false: alerts name their targets")
    sendReminder: StrictBool = Field(default=False, description="Must be false: resends are the alert's")
    frequency: StrictStr | None = Field(default=None, max_length=32, description="Ignored without reminders")


class Channel(Model):
    """A notification channel as Grafana answers it."""

    id: int
    uid: str
    name: str
    type: str
    isDefault: bool
    sendReminder: bool
    disableResolveMessage: bool
    settings: dict[str, Any]
    secureFields: dict[str, bool]
    created: str
    updated: str


class ChannelLookup(Model):
    id: int
    uid: str
    name: str
    type: str
    isDefault: bool


def channel(entity: Entity) -> dict[str, Any]:
    """An alert target as a notification channel."""
    point = contact_point(entity)
    return {
        "id": int(entity.id) if entity.id.isdigit() else 0,
        "uid": entity.id,
        "name": point["name"],
        "type": point["type"],
        "isDefault": False,
        "sendReminder": False,
        "disableResolveMessage": point["disableResolveMessage"],
        "frequency": "",
        "settings": point["settings"],
        "secureFields": {},
        "created": iso_time(entity.created),
        "updated": iso_time(entity.updated),
    }


def _checked(body: ChannelBody) -> ChannelBody:
    if body.isDefault:
        raise Invalid("isDefault: opsplane has no default channel (an alert names its targets)")
    if body.sendReminder:
        raise Invalid("sendReminder: reminders are the alert's notificationResendFrequencyMinutes")
    return body


def _one(ctx: Context, uid: str) -> Entity:
    try:
        return entities.load(ctx, NOTIFICANT, uid)
    except (NotFound, Invalid) as exc:
        raise NotFound("Notification not found") from exc


@router.get(CHANNELS, acl="notificant.read", response=list[Channel])
def get_channels(req: Request) -> Reply:
    """Every notification channel (alert target)."""
    return bare([channel(e) for e in entities.visible(req.ctx, NOTIFICANT)])


@router.get(f"{CHANNELS}/lookup", acl="notificant.read", response=list[ChannelLookup])
def lookup_channels(req: Request) -> Reply:
    """Every notification channel, briefly."""
    keys = ("id", "uid", "name", "type", "isDefault")
    return bare([{k: channel(e)[k] for k in keys} for e in entities.visible(req.ctx, NOTIFICANT)])


@router.get(BY_ID, acl="notificant.{id}.read", response=Channel)
def get_channel_by_id(req: Request) -> Reply:
    """A notification channel by numeric id (the alert target's id)."""
    return bare(channel(_one(req.ctx, req.params["id"])))


@router.get(BY_UID, acl="notificant.{uid}.read", response=Channel)
def get_channel_by_uid(req: Request) -> Reply:
    """A notification channel by uid (the alert target's id)."""
    return bare(channel(_one(req.ctx, req.params["uid"])))


@router.post(CHANNELS, acl="notificant.create", body=ChannelBody, response=Channel)
def create_channel(req: Request) -> Reply:
    """Create a notification channel (an alert target)."""
    return bare(channel(create(req.ctx, _checked(req.model(ChannelBody)))))


@router.put(BY_ID, acl="notificant.{id}.update", body=ChannelBody, response=Channel)
def update_channel_by_id(req: Request) -> Reply:
    """Change a notification channel, by numeric id."""
    return bare(channel(update(req.ctx, req.params["id"], _checked(req.model(ChannelBody)))))


@router.put(BY_UID, acl="notificant.{uid}.update", body=ChannelBody, response=Channel)
def update_channel_by_uid(req: Request) -> Reply:
    """Change a notification channel, by uid."""
    return bare(channel(update(req.ctx, req.params["uid"], _checked(req.model(ChannelBody)))))


@router.delete(BY_ID, acl="notificant.{id}.delete", response=GrafanaMessage)
def delete_channel_by_id(req: Request) -> Reply:
    """Delete a notification channel, by numeric id (refused while alerts name it)."""
    delete_target(req.ctx, req.params["id"], unlink=False)
    return bare({"message": "Notification deleted"})


@router.delete(BY_UID, acl="notificant.{uid}.delete", response=GrafanaMessage)
def delete_channel_by_uid(req: Request) -> Reply:
    """Delete a notification channel, by uid (refused while alerts name it)."""
    delete_target(req.ctx, req.params["uid"], unlink=False)
    return bare({"message": "Notification deleted"})
