"""Grafana's admin routes (/api/admin) over the acting tenant's accounts: a Grafana server
admin is an opsplane tenant administrator, one holding `user_management` (what the
lockout guard keeps at least one of, identity/directory.py). Every change goes through
identity/ with the grant rule, the lockout guard and the audit log of every write; the
stats count the acting tenant, not the installation.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, StrictBool, StrictStr

from chalicelib.auth import permissions, sessionlist
from chalicelib.categories.identity_views import require_grantable, require_liftable
from chalicelib.compat.grafana_access.serviceaccounts import role_of
from chalicelib.compat.grafana_people.orgs import remove_user
from chalicelib.compat.grafana_people.views import (
    MAX_EMAIL,
    MAX_LOGIN,
    MAX_NAME_PART,
    GrafanaMessage,
    ProfileBody,
    profile_changes,
    user_account,
    users_of,
)
from chalicelib.dashboards import store
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import accounts, directory, groups, tenants, users
from chalicelib.identity.directory import ADMINISTRATION
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("grafana_people")

BASE = "/api/admin/users"
ITEM = f"{BASE}/{{id}}"
MAX_PASSWORD = 1024
MAX_ORG = 64


class AdminUserBody(Model):
    """POST /api/admin/users (login defaults to the email)."""

    model_config = ConfigDict(extra="ignore")

    login: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_LOGIN, description="The username")
    email: StrictStr | None = Field(default=None, max_length=MAX_EMAIL, description="Its email")
    name: StrictStr | None = Field(default=None, max_length=2 * MAX_NAME_PART + 1, description="First and last name")
    password: StrictStr = Field(min_length=1, max_length=MAX_PASSWORD, description="Its password")
    OrgId: StrictStr | None = Field(default=None, max_length=MAX_ORG, description="The acting tenant or one below it")


class AdminPasswordBody(Model):
    """PUT /api/admin/users/{id}/password."""

    model_config = ConfigDict(extra="ignore")

    password: StrictStr = Field(min_length=1, max_length=MAX_PASSWORD, description="The new password")


class AdminPermissionsBody(Model):
    """PUT /api/admin/users/{id}/permissions."""

    model_config = ConfigDict(extra="ignore")

    isGrafanaAdmin: StrictBool = Field(description="Grant (true) or revoke (false) user_management")


class GrafanaNewUser(Model):
    """POST /api/admin/users."""

    id: str
    uid: str
    message: str


class GrafanaStats(Model):
    """GET /api/admin/stats: the acting tenant's counts."""

    model_config = ConfigDict(extra="allow")

    orgs: int
    users: int
    admins: int
    editors: int
    viewers: int
    teams: int
    dashboards: int
    activeSessions: int


def _administration(req: Request, account: Entity, grant: bool) -> list[str]:
    """The account's new own ACL with user_management given or taken (grant rule)."""
    acl = list(account.doc.get("acl", []))
    if grant:
        new = permissions.grant(acl, [ADMINISTRATION])
        require_grantable(req.ctx, [e for e in new if e not in acl])
    else:
        new = permissions.revoke(acl, [ADMINISTRATION])
        require_liftable(req.ctx, [e for e in acl if e not in new])
    return new


@router.post(BASE, acl="user.create", body=AdminUserBody, response=GrafanaNewUser)
def create(req: Request) -> Reply:
    """Create a user (no permissions) in the acting tenant or the visible org OrgId."""
    body = req.model(AdminUserBody)
    login = body.login or body.email
    if not login:
        raise Invalid("login: a login or an email is required")
    tenant = tenants.visible_tenant(req.need_tenant(), body.OrgId)["uuid"] if body.OrgId else req.need_tenant()
    fields = profile_changes(ProfileBody(login=login, email=body.email or None, name=body.name))
    fields["password"] = body.password
    user = users.create_user(tenant, fields, by=req.actor)
    return bare({"id": user.id, "uid": user.id, "message": "User created"})


@router.delete(ITEM, acl="user.{id}.delete", response=GrafanaMessage)
def delete(req: Request) -> Reply:
    """Delete a user: its credentials stop working (never the tenant's last administrator)."""
    remove_user(user_account(req.need_tenant(), req.params["id"]))
    return bare({"message": "User deleted"})


@router.put(f"{ITEM}/password", acl="user.{id}.update", body=AdminPasswordBody, response=GrafanaMessage)
def change_password(req: Request) -> Reply:
    """Set a user's password (no old password: the ACL authorized it)."""
    body = req.model(AdminPasswordBody)
    account = user_account(req.need_tenant(), req.params["id"])
    users.change_password(
        account.tenant, account.id, new_password=body.password, old_password=None, self_service=False, by=req.actor
    )
    return bare({"message": "User password updated"})


@router.put(f"{ITEM}/permissions", acl="user.{id}.update", body=AdminPermissionsBody, response=GrafanaMessage)
def change_permissions(req: Request) -> Reply:
    """Make a user a Grafana server admin (grant user_management) or not (revoke it)."""
    body = req.model(AdminPermissionsBody)
    account = user_account(req.need_tenant(), req.params["id"])
    acl = _administration(req, account, body.isGrafanaAdmin)

    def apply(entity: Entity) -> None:
        entity.doc["acl"] = acl

    directory.update(account.tenant, accounts.ACCOUNT, account.id, apply, by=req.actor)
    return bare({"message": "User permissions updated"})


@router.post(f"{ITEM}/enable", acl="user.{id}.update", response=GrafanaMessage)
def enable(req: Request) -> Reply:
    """Enable a user: its credentials work again."""
    account = user_account(req.need_tenant(), req.params["id"])
    directory.set_enabled(account.tenant, account.id, True, by=req.actor)
    return bare({"message": "User enabled"})


@router.post(f"{ITEM}/disable", acl="user.{id}.update", response=GrafanaMessage)
def disable(req: Request) -> Reply:
    """Disable a user: its credentials stop working (never the last administrator)."""
    account = user_account(req.need_tenant(), req.params["id"])
    directory.set_enabled(account.tenant, account.id, False, by=req.actor)
    return bare({"message": "User disabled"})


@router.post(f"{ITEM}/logout", acl="user.{id}.update", response=GrafanaMessage)
def logout(req: Request) -> Reply:
    """End every session of a user (its session tokens stop working; API tokens stay)."""
    account = user_account(req.need_tenant(), req.params["id"])
    for session in sessionlist.listed(account.tenant, account.id):
        sessionlist.end(session)
    return bare({"message": "User logged out"})


@router.get("/api/admin/stats", acl="tenant.read", response=GrafanaStats)
def stats(req: Request) -> Reply:
    """Counts of the acting tenant: orgs (it and those below), users by role, teams,
    dashboards and live sessions."""
    tenant = req.need_tenant()
    roles = [role_of(a) for a in users_of(tenant)]
    return bare(
        {
            "orgs": len(tenants.tenant_tree(tenant)),
            "users": len(roles),
            "admins": roles.count("Admin"),
            "editors": roles.count("Editor"),
            "viewers": roles.count("Viewer"),
            "teams": sum(1 for _ in accounts.repo(tenant, groups.GROUP).iterate()),
            "dashboards": store.dashboards(req.ctx).count(),
            "activeSessions": len(sessionlist.listed(tenant)),
        }
    )
