"""Grafana's contact points (/api/v1/provisioning/contact-points): a view over alert
targets (categories/notificant.py).

A contact point IS an alert target: the uid is the target's id, the name its title, the
type its method (webhook / email / pagerduty <-> WEBHOOK / EMAIL / PAGERDUTY) and the
settings its recipient (url, addresses, integrationKey). disableResolveMessage is the
absence of the ALERT_RESOLVED trigger. What Grafana keeps beside that (a webhook's HTTP
method, an email's Go-template subject, ...) is not kept: the target's own template,
description and headers stay as they were.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chalicelib.categories.notificant import NOTIFICANT
from chalicelib.categories.notificant import delete as delete_target
from chalicelib.categories.notificant_views import NotificantBody
from chalicelib.compat.grafana_alerting.views import ContactPoint, ContactPointBody, GrafanaMessage
from chalicelib.domain import entities
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request, validation_message
from chalicelib.http.router import Router
from chalicelib.store.repository import Entity

router = Router("grafana_alerting")

CONTACT_POINTS = "/api/v1/provisioning/contact-points"
BY_UID = f"{CONTACT_POINTS}/{{uid}}"
# Grafana's setting that holds each method's recipient.
RECIPIENT_SETTING = {"WEBHOOK": "url", "EMAIL": "addresses", "PAGERDUTY": "integrationKey"}
OPENED, RESOLVED = "ALERT_OPENED", "ALERT_RESOLVED"


def contact_point(entity: Entity) -> dict[str, Any]:
    """An alert target as Grafana's contact point."""
    doc = entity.doc
    method = doc["method"]
    recipient = doc["recipient"]
    if method == "EMAIL":
        recipient = ";".join(a.strip() for a in recipient.split(","))
    return {
        "uid": entity.id,
        "name": doc.get("title", ""),
        "type": method.lower(),
        "settings": {RECIPIENT_SETTING[method]: recipient},
        "disableResolveMessage": RESOLVED not in doc.get("triggers", []),
        "provenance": "",
    }


def _recipient(body: ContactPointBody) -> str:
    """The alert target's recipient from the contact point's settings (400 when missing)."""
    key = RECIPIENT_SETTING[body.type.upper()]
    value = body.settings.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"settings.{key}: a {body.type} contact point needs {key} (a string)")
    if body.type == "email":
        # Grafana separates addresses with ';', ',' or new lines; alert targets with ','.
        parts = value.replace(";", ",").replace("\n", ",").split(",")
        return ",".join(p.strip() for p in parts if p.strip())
    return value.strip()


def _triggers(body: ContactPointBody, kept: list[str]) -> list[str]:
    """The target's triggers: ALERT_RESOLVED present unless disableResolveMessage."""
    triggers = [t for t in kept if t != RESOLVED] or [OPENED]
    return triggers if body.disableResolveMessage else [*triggers, RESOLVED]


def target_body(body: ContactPointBody, doc: dict[str, Any]) -> NotificantBody:
    """The alert target body: the contact point's part over what the target keeps (doc)."""
    mapped = {
        "description": "",
        "template": "",
        **{k: v for k, v in doc.items() if not k.startswith("_")},
        "title": body.name,
        "method": body.type.upper(),
        "recipient": _recipient(body),
        "triggers": _triggers(body, list(doc.get("triggers", []))),
    }
    if mapped["method"] != "WEBHOOK":
        # Headers and content types belong to webhooks; a target changed to another
        # method leaves them.
        for key in ("customHttpHeaders", "contentType"):
            mapped.pop(key, None)
    try:
        return NotificantBody.model_validate(mapped)
    except ValidationError as exc:
        raise Invalid(validation_message(exc)) from exc


def create(ctx: Context, body: ContactPointBody) -> Entity:
    return entities.create(ctx, NOTIFICANT, target_body(body, {}))


def update(ctx: Context, uid: str, body: ContactPointBody) -> Entity:
    def edit(entity: Entity) -> None:
        managed = {k: v for k, v in entity.doc.items() if k.startswith("_")}
        doc, _ = NOTIFICANT.to_doc(target_body(body, entity.doc))
        entity.doc = {**doc, **managed}

    return entities.change(ctx, NOTIFICANT, uid, edit)


# ---- routes ---------------------------------------------------------------------------------

NAME_QUERY = (("name", "string", "Only the contact points of this name"),)


@router.get(CONTACT_POINTS, acl="notificant.read", query=NAME_QUERY, response=list[ContactPoint])
def get_contact_points(req: Request) -> Reply:
    """Every contact point (alert target), optionally only those of one name."""
    name = req.arg("name")
    found = entities.visible(req.ctx, NOTIFICANT)
    return bare([contact_point(e) for e in found if not name or e.doc.get("title") == name])


@router.post(CONTACT_POINTS, acl="notificant.create", body=ContactPointBody, response=ContactPoint, status=202)
def create_contact_point(req: Request) -> Reply:
    """Create a contact point (an alert target)."""
    return bare(contact_point(create(req.ctx, req.model(ContactPointBody))), status=202)


@router.put(BY_UID, acl="notificant.{uid}.update", body=ContactPointBody, response=GrafanaMessage, status=202)
def update_contact_point(req: Request) -> Reply:
    """Change a contact point's name, type, recipient and resolve messages."""
    update(req.ctx, req.params["uid"], req.model(ContactPointBody))
    return bare({"message": "contactpoint updated"}, status=202)


@router.delete(BY_UID, acl="notificant.{uid}.delete", response=GrafanaMessage, status=202)
def delete_contact_point(req: Request) -> Reply:
    """Delete a contact point (refused while alerts name its alert target)."""
    delete_target(req.ctx, req.params["uid"], unlink=False)
    return bare({"message": "contactpoint deleted"}, status=202)
