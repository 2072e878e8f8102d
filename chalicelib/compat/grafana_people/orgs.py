"""Grafana orgs: an org IS a tenant. The current org is the acting tenant; the orgs listed
are the tenants the caller may act in (the acting one and those below it), as Wazo's
/tenants lists them. Orgs are made, renamed and deleted under the acting tenant with the
tenant rules (identity/tenants.py: tiers given from above, never one's own home tenant
deleted, a tenant with sub-tenants kept, its accounts removed with it).

Org users: an opsplane account belongs to exactly one tenant, so an org's users are its
tenant's user accounts. An org role is the account's own permissions (Viewer, Editor,
Admin: compat/grafana_access); removing a user from its org deletes the account (it has
no other), never the tenant's last administrator; adding an account of another org is
refused (400) for that reason: make the user in the org instead (POST /api/admin/users).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.compat.grafana_access.serviceaccounts import role_of
from chalicelib.compat.grafana_people.views import (
    GrafanaMessage,
    GrafanaOrg,
    RoleBody,
    change_role,
    org_view,
    person_fields,
    user_account,
    users_of,
)
from chalicelib.compat.wazo.common import acting
from chalicelib.domain import preferences
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import directory, tenants
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("grafana_people")

MAX_NAME = 128  # as Wazo's tenants
MAX_REF = 320
Role = Literal["None", "Viewer", "Editor", "Admin"]
ORG = "/api/org"
ORGS = "/api/orgs"
ORG_ITEM = f"{ORGS}/{{id}}"
ORG_USERS = f"{ORG_ITEM}/users"


class OrgBody(Model):
    """POST /api/orgs, PUT /api/org and PUT /api/orgs/{id} (an address is accepted, not kept)."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME, description="The org's (tenant's) name")


class OrgUserBody(Model):
    """POST /api/org/users and /api/orgs/{orgId}/users."""

    model_config = ConfigDict(extra="ignore")

    loginOrEmail: StrictStr = Field(min_length=1, max_length=MAX_REF, description="The user's login or email")
    role: Role | None = Field(default=None, description="Its org role")


class GrafanaNewOrg(Model):
    """POST /api/orgs."""

    message: str
    orgId: str


class GrafanaOrgUser(Model):
    """A user of an org."""

    model_config = ConfigDict(extra="allow")

    orgId: str
    userId: str
    login: str
    email: str
    role: str


def _name(raw: str) -> str:
    if any(ord(c) < 32 for c in raw) or not raw.strip():
        raise Invalid("name must be printable and not blank")
    return raw


def _org(req: Request, ref: str) -> dict[str, Any]:
    """A visible org (the acting tenant or one below it); 404 in Grafana's words."""
    try:
        return tenants.visible_tenant(req.need_tenant(), ref)
    except NotFound as exc:
        raise NotFound("Organization not found") from exc


def _rename(req: Request, target: str) -> Reply:
    body = req.model(OrgBody)
    tenants.change_tenant(req.need_tenant(), acting(req).tenant, target, {"name": _name(body.name)}, by=req.actor)
    return bare({"message": "Organization updated"})


def org_user_view(account: Entity) -> dict[str, Any]:
    """A user account as a user of its org."""
    return {
        "orgId": account.tenant,
        "userId": account.id,
        **person_fields(account),
        "role": role_of(account),
        "lastSeenAt": None,
        "lastSeenAtAge": "",
        "isDisabled": not account.doc.get("enabled", True),
        "authLabels": [],
    }


def _users(org: str) -> Reply:
    found = sorted(users_of(org), key=lambda a: str(a.doc.get("username", "")).lower())
    return bare([org_user_view(a) for a in found])


def _add(req: Request, org: str) -> Reply:
    """Adding a user to an org: already there is 409; any other account cannot join (it
    belongs to its own org), which is said without telling whether it exists."""
    body = req.model(OrgUserBody)
    try:
        user_account(org, body.loginOrEmail)
    except NotFound:
        raise Invalid(
            "loginOrEmail: an opsplane account belongs to exactly one org (tenant) and cannot be added to "
            "another; make the user in this org instead (POST /api/admin/users)"
        ) from None
    raise Conflict("User is already member of this organization")


def _set_role(req: Request, org: str, user: str) -> Reply:
    body = req.model(RoleBody)
    change_role(req.ctx, user_account(org, user), body.role)
    return bare({"message": "Organization user updated"})


def remove_user(account: Entity) -> None:
    """Delete a user account (its one org): never the tenant's last administrator."""
    directory.delete_account(account.tenant, account.id, guard=True)
    preferences.forget(account.tenant, preferences.user_owner(account.id))


def _remove(org: str, user: str) -> Reply:
    remove_user(user_account(org, user))
    return bare({"message": "User removed from organization"})


# ---- orgs ---------------------------------------------------------------------------------


@router.get(ORG, acl="tenant.read", response=GrafanaOrg)
def current(req: Request) -> Reply:
    """The current org: the acting tenant."""
    return bare(org_view(tenants.get_tenant(req.need_tenant())))


@router.put(ORG, acl="tenant.update", body=OrgBody, response=GrafanaMessage)
def rename_current(req: Request) -> Reply:
    """Rename the current org (the acting tenant)."""
    return _rename(req, req.need_tenant())


@router.get(ORGS, acl="tenant.read", response=list[GrafanaOrg])
def listing(req: Request) -> Reply:
    """The orgs the caller may act in: the acting tenant and its descendants."""
    return bare([{"id": t["uuid"], "name": t.get("name", "")} for t in tenants.tenant_tree(req.need_tenant())])


@router.post(ORGS, acl="tenant.create", body=OrgBody, response=GrafanaNewOrg)
def create(req: Request) -> Reply:
    """Create an org: a tenant below the acting one (the default tier, at most its parent's)."""
    body = req.model(OrgBody)
    doc = tenants.create_tenant(name=_name(body.name), slug=None, parent_uuid=req.need_tenant(), by=req.actor)
    return bare({"message": "Organization created", "orgId": doc["uuid"]})


@router.get(f"{ORGS}/name/{{name}}", acl="tenant.read", response=GrafanaOrg)
def by_name(req: Request) -> Reply:
    """The visible org of that name (the first in tree order: names are not unique)."""
    for tenant in tenants.tenant_tree(req.need_tenant()):
        if tenant.get("name") == req.params["name"]:
            return bare(org_view(tenant))
    raise NotFound("Organization not found")


@router.get(ORG_ITEM, acl="tenant.{id}.read", response=GrafanaOrg)
def get(req: Request) -> Reply:
    """A visible org by id."""
    return bare(org_view(_org(req, req.params["id"])))


@router.put(ORG_ITEM, acl="tenant.{id}.update", body=OrgBody, response=GrafanaMessage)
def rename(req: Request) -> Reply:
    """Rename a visible org."""
    _org(req, req.params["id"])
    return _rename(req, req.params["id"])


@router.delete(ORG_ITEM, acl="tenant.{id}.delete", response=GrafanaMessage)
def delete(req: Request) -> Reply:
    """Delete an org below the acting tenant, with its accounts (never one's own home
    tenant, never one with sub-tenants)."""
    org = _org(req, req.params["id"])["uuid"]
    tenants.remove_tenant(req.need_tenant(), acting(req).tenant, org)
    return bare({"message": "Organization deleted"})


# ---- org users ---------------------------------------------------------------------------


@router.get(f"{ORG}/users", acl="user.read", response=list[GrafanaOrgUser])
def current_users(req: Request) -> Reply:
    """The current org's users (the acting tenant's user accounts), by login."""
    return _users(req.need_tenant())


@router.post(f"{ORG}/users", acl="user.create", body=OrgUserBody, response=GrafanaMessage)
def add_current_user(req: Request) -> Reply:
    """Add a user to the current org: refused (see the module's docstring)."""
    return _add(req, req.need_tenant())


@router.route("PATCH", f"{ORG}/users/{{id}}", acl="user.{id}.update", body=RoleBody, response=GrafanaMessage)
def set_current_role(req: Request) -> Reply:
    """Change a user's role in the current org."""
    return _set_role(req, req.need_tenant(), req.params["id"])


@router.delete(f"{ORG}/users/{{id}}", acl="user.{id}.delete", response=GrafanaMessage)
def remove_current_user(req: Request) -> Reply:
    """Remove a user from the current org: its account is deleted."""
    return _remove(req.need_tenant(), req.params["id"])


@router.get(ORG_USERS, acl="user.read", response=list[GrafanaOrgUser])
def users(req: Request) -> Reply:
    """A visible org's users, by login."""
    return _users(_org(req, req.params["id"])["uuid"])


@router.post(ORG_USERS, acl="user.create", body=OrgUserBody, response=GrafanaMessage)
def add_user(req: Request) -> Reply:
    """Add a user to a visible org: refused (see the module's docstring)."""
    return _add(req, _org(req, req.params["id"])["uuid"])


@router.route("PATCH", f"{ORG_USERS}/{{userId}}", acl="user.{userId}.update", body=RoleBody, response=GrafanaMessage)
def set_role(req: Request) -> Reply:
    """Change a user's role in a visible org."""
    return _set_role(req, _org(req, req.params["id"])["uuid"], req.params["userId"])


@router.delete(f"{ORG_USERS}/{{userId}}", acl="user.{userId}.delete", response=GrafanaMessage)
def remove_user_of(req: Request) -> Reply:
    """Remove a user from a visible org: its account is deleted."""
    return _remove(_org(req, req.params["id"])["uuid"], req.params["userId"])
