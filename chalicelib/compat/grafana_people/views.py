"""How opsplane's identity records look in Grafana: a user is a user account, a team a
user group, an org a tenant. Ids are opsplane's uuids (strings where Grafana has integers)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.compat.grafana.views import iso
from chalicelib.compat.grafana_access.serviceaccounts import role_of
from chalicelib.errors import Invalid, NotFound
from chalicelib.identity import accounts, directory, groups
from chalicelib.store.repository import Entity
from chalicelib.wire import Model


class GrafanaMessage(Model):
    """A plain Grafana answer."""

    message: str


class GrafanaUser(Model):
    """A user as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    id: str
    login: str
    email: str
    name: str
    isDisabled: bool


class GrafanaTeam(Model):
    """A team as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    id: str
    orgId: str
    name: str
    email: str
    memberCount: int


class GrafanaOrg(Model):
    """An org as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str


def display_name(account: Entity) -> str:
    """Grafana's `name`: first and last name, else the username."""
    doc = account.doc
    full = " ".join(str(p) for p in (doc.get("firstname"), doc.get("lastname")) if p)
    return full or str(doc.get("username", ""))


def user_view(account: Entity) -> dict[str, Any]:
    """A user account in Grafana's shape (listed field by field: secrets never leave)."""
    doc = account.doc
    role = role_of(account)
    return {
        "id": account.id,
        "uid": account.id,
        "orgId": account.tenant,
        "login": str(doc.get("username", "")),
        "email": str(doc.get("email") or ""),
        "name": display_name(account),
        "avatarUrl": "",
        "theme": "",
        "role": role,
        "isAdmin": role == "Admin",
        "isGrafanaAdmin": False,
        "isDisabled": not doc.get("enabled", True),
        "isExternal": False,
        "authLabels": [],
        "createdAt": iso(account.created),
        "updatedAt": iso(account.updated),
        "lastSeenAt": None,
    }


def team_view(group: Entity) -> dict[str, Any]:
    """A user group in Grafana's shape (a group has no email: it answers empty)."""
    return {
        "id": group.id,
        "uid": group.id,
        "orgId": group.tenant,
        "name": str(group.doc.get("name", "")),
        "email": "",
        "avatarUrl": "",
        "memberCount": groups.member_count(group.tenant, group),
        "permission": 0,
    }


def member_view(group: Entity, account: Entity) -> dict[str, Any]:
    """A team member in Grafana's shape."""
    return {
        "orgId": group.tenant,
        "teamId": group.id,
        "userId": account.id,
        "login": str(account.doc.get("username", "")),
        "email": str(account.doc.get("email") or ""),
        "name": display_name(account),
        "avatarUrl": "",
        "labels": [],
        "permission": 0,
    }


def org_view(tenant: dict[str, Any]) -> dict[str, Any]:
    """A tenant in Grafana's org shape (opsplane keeps no postal address)."""
    return {
        "id": tenant["uuid"],
        "name": str(tenant.get("name", "")),
        "address": {"address1": "", "address2": "", "city": "", "zipCode": "", "state": "", "country": ""},
    }


def user_account(tenant: str, ref: str) -> Entity:
    """A user account of the tenant by uuid, login or email; 404 in Grafana's words."""
    try:
        return directory.require_account(tenant, ref, kind=accounts.USER)
    except (NotFound, Invalid):
        pass
    wanted = ref.strip().lower()
    if wanted:
        for account in users_of(tenant):
            if str(account.doc.get("email") or "").lower() == wanted:
                return account
    raise NotFound("user not found")


def users_of(tenant: str) -> list[Entity]:
    """The tenant's user accounts (service accounts are Grafana's service accounts)."""
    return [a for a in accounts.repo(tenant, accounts.ACCOUNT).iterate() if a.doc.get("type") == accounts.USER]


def team(tenant: str, ref: str) -> Entity:
    """A user group of the tenant; 404 in Grafana's words."""
    try:
        return directory.require(tenant, groups.GROUP, ref, "team")
    except NotFound as exc:
        raise NotFound("Team not found") from exc
