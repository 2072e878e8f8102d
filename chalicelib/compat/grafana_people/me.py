"""Grafana's "actual user" (/api/user): the calling account itself, its profile, password,
teams and org, and switching org.

These routes need `user.self.read` (the browse permission's `*.*.read` holds it) or
`user.self.update` (`user_management` holds it); a principal without them reaches its own
account through Wazo's /api/auth/0.1/users/{uuid} routes, open to oneself.

Switching org: a token acts in its account's tenant, or in a tenant below it named per
request by the X-Tenant-Id (or Wazo-Tenant) header; nothing is kept between requests. So
"switching" to the org a request already acts in is answered as done, and switching to
another one is refused with the reason (400), never pretended.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.compat.grafana_people.views import (
    GrafanaMessage,
    GrafanaTeam,
    GrafanaUser,
    GrafanaUserOrg,
    ProfileBody,
    change_profile,
    team_view,
    user_orgs,
    user_view,
)
from chalicelib.compat.wazo.common import acting
from chalicelib.domain import preferences
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import accounts, tenants, users
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("grafana_people")

BASE = "/api/user"
MAX_PASSWORD = 1024


class UserPasswordBody(Model):
    """PUT /api/user/password."""

    model_config = ConfigDict(extra="ignore")

    oldPassword: StrictStr = Field(min_length=1, max_length=MAX_PASSWORD, description="The current password")
    newPassword: StrictStr = Field(min_length=1, max_length=MAX_PASSWORD, description="The new password")
    confirmNew: StrictStr | None = Field(default=None, max_length=MAX_PASSWORD, description="Must equal newPassword")


def own_account(req: Request) -> Entity:
    """The calling account (in its home tenant, wherever the request acts)."""
    principal = acting(req)
    return accounts.require_account(principal.tenant, principal.id)


def switch(req: Request, account: Entity, org: str) -> Reply:
    """Grafana's org switch, answered truthfully: done when the request already acts in org
    for that account, refused (400, with the reason) for another visible org, 404 otherwise."""
    acting_in = req.need_tenant() if account.id == acting(req).id else account.tenant
    if org == acting_in:
        return bare({"message": "Active organization changed"})
    if org != account.tenant:
        tenants.visible_tenant(req.need_tenant(), org)  # 404 for an org it cannot see
    raise Invalid(
        f"An account belongs to exactly one org (tenant {account.tenant}), and a token acts in it or in a "
        f"tenant below it named per request with the X-Tenant-Id header: org {org} is not switched to"
    )


@router.get(BASE, acl="user.self.read", response=GrafanaUser)
def get(req: Request) -> Reply:
    """The calling user (its theme is its preference in the acting tenant)."""
    account = own_account(req)
    theme = preferences.read(req.ctx, preferences.user_owner(account.id))["theme"]
    return bare({**user_view(account), "theme": theme})


@router.put(BASE, acl="user.self.update", body=ProfileBody, response=GrafanaMessage)
def update(req: Request) -> Reply:
    """Change the calling user's login, email, name or theme."""
    change_profile(req.ctx, own_account(req), req.model(ProfileBody))
    return bare({"message": "User updated"})


@router.put(f"{BASE}/password", acl="user.self.update", body=UserPasswordBody, response=GrafanaMessage)
def change_password(req: Request) -> Reply:
    """Change the calling user's password, proving the old one (a throttled login)."""
    body = req.model(UserPasswordBody)
    if body.confirmNew is not None and body.confirmNew != body.newPassword:
        raise Invalid("confirmNew: the new password and its confirmation differ")
    account = own_account(req)
    if account.doc.get("type") != accounts.USER:
        raise Invalid("A service account has no password")
    users.change_password(
        account.tenant,
        account.id,
        new_password=body.newPassword,
        old_password=body.oldPassword,
        self_service=True,
        by=req.actor,
    )
    return bare({"message": "User password changed"})


@router.get(f"{BASE}/teams", acl="user.self.read", response=list[GrafanaTeam])
def teams(req: Request) -> Reply:
    """The teams (user groups) the calling user belongs to."""
    account = own_account(req)
    return bare([team_view(g) for g in accounts.groups_of(account.tenant, account.id)])


@router.get(f"{BASE}/orgs", acl="user.self.read", response=list[GrafanaUserOrg])
def orgs(req: Request) -> Reply:
    """The calling user's org: its tenant."""
    return bare(user_orgs(own_account(req)))


@router.post(f"{BASE}/using/{{orgId}}", acl="user.self.read", response=GrafanaMessage)
def using(req: Request) -> Reply:
    """Switch the calling user's org (see the module's docstring)."""
    return switch(req, own_account(req), req.params["orgId"])
