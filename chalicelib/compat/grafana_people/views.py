"""How opsplane's identity records look in Grafana: a user is a user account, a team a
user group, an org a tenant. Ids are opsplane's uuids (strings where Grafana has integers)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.compat.grafana.views import iso
from chalicelib.compat.grafana_access.serviceaccounts import grant_role, role_of
from chalicelib.domain import preferences
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, NotFound
from chalicelib.identity import accounts, directory, groups, tenants, users
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

MAX_NAME_PART = 128  # as Wazo's firstname and lastname
MAX_LOGIN = users.MAX_USERNAME
MAX_EMAIL = 320


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


class GrafanaUserOrg(Model):
    """An org a user belongs to."""

    orgId: str
    name: str
    role: str


class ProfileBody(Model):
    """PUT /api/user and PUT /api/users/{id}: the fields given change."""

    model_config = ConfigDict(extra="ignore")

    login: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_LOGIN, description="The username")
    email: StrictStr | None = Field(default=None, max_length=MAX_EMAIL, description='"" removes it')
    name: StrictStr | None = Field(
        default=None, max_length=2 * MAX_NAME_PART + 1, description="First name, a space, last name"
    )
    theme: Literal["", "light", "dark", "system"] | None = Field(default=None, description="Kept as a preference")


class RoleBody(Model):
    """PATCH /api/org/users/{id} and /api/orgs/{orgId}/users/{id}."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["None", "Viewer", "Editor", "Admin"] = Field(description="The org role: its Wavefront permissions")


def profile_changes(body: ProfileBody) -> dict[str, Any]:
    """The account fields a profile body changes: `name` splits at its first space into
    first and last name (read back joined)."""
    changes: dict[str, Any] = {}
    if body.login is not None:
        changes["username"] = body.login
    if body.email is not None:
        changes["email"] = body.email or None
    if body.name is not None:
        first, _, last = body.name.strip().partition(" ")
        if len(first) > MAX_NAME_PART or len(last.strip()) > MAX_NAME_PART:
            raise Invalid(f"name: first and last name have at most {MAX_NAME_PART} characters each")
        changes["firstname"], changes["lastname"] = first or None, last.strip() or None
    return changes


def change_profile(ctx: Context, account: Entity, body: ProfileBody) -> Entity:
    """Apply a profile body to a user account (its theme is kept as its preference)."""
    if account.doc.get("type") != accounts.USER:
        raise Invalid("Only users have a profile: service accounts are changed through /api/serviceaccounts")
    changes = profile_changes(body)
    changed = users.update_user(account.tenant, account.id, changes, by=ctx.actor) if changes else account
    if body.theme is not None:
        preferences.write(ctx, preferences.user_owner(account.id), {"theme": body.theme}, replace=False)
    return changed


def change_role(ctx: Context, account: Entity, role: str) -> Entity:
    """Give an account of the tenant an org role: its own permissions become the role's (the
    caller must hold what it hands out; the tenant keeps an administrator)."""
    acl = grant_role(ctx, role, account)

    def apply(entity: Entity) -> None:
        entity.doc["acl"] = acl

    return directory.update(account.tenant, accounts.ACCOUNT, account.id, apply, by=ctx.actor)


def user_orgs(account: Entity) -> list[dict[str, Any]]:
    """The orgs of an account: exactly its tenant (an opsplane account belongs to one)."""
    tenant = tenants.get_tenant(account.tenant)
    return [{"orgId": account.tenant, "name": str(tenant.get("name", "")), "role": role_of(account)}]


def display_name(account: Entity) -> str:
    """Grafana's `name`: first and last name, else the username."""
    doc = account.doc
    full = " ".join(str(p) for p in (doc.get("firstname"), doc.get("lastname")) if p)
    return full or str(doc.get("username", ""))


def person_fields(account: Entity) -> dict[str, Any]:
    """What every Grafana view of a user account says of the person (login, email, name)."""
    return {
        "login": str(account.doc.get("username", "")),
        "email": str(account.doc.get("email") or ""),
        "name": display_name(account),
        "avatarUrl": "",
    }


def user_view(account: Entity) -> dict[str, Any]:
    """A user account in Grafana's shape (listed field by field: secrets never leave)."""
    doc = account.doc
    role = role_of(account)
    return {
        "id": account.id,
        "uid": account.id,
        "orgId": account.tenant,
        **person_fields(account),
        "theme": "",
        "role": role,
        "isAdmin": role == "Admin",
        "isGrafanaAdmin": directory.administers(doc.get("acl", [])),
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
        **person_fields(account),
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
