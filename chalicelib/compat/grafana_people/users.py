"""Grafana users: a user IS an opsplane user account (Wavefront's user accounts, Wazo's
users). Read here what was made there, and the other way round. Grafana's `id` is the
account's uuid; `login` its username.
"""

from __future__ import annotations

from chalicelib.compat.grafana_people.me import switch
from chalicelib.compat.grafana_people.views import (
    GrafanaMessage,
    GrafanaTeam,
    GrafanaUser,
    GrafanaUserOrg,
    ProfileBody,
    change_profile,
    team_view,
    user_account,
    user_orgs,
    user_view,
    users_of,
)
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import accounts

router = Router("grafana_people")

SEARCH_PERPAGE = 1000
BASE = "/api/users"
ITEM = f"{BASE}/{{id}}"

SEARCH_QUERY = (
    ("query", "string", "Case-insensitive part of the login, email or name"),
    ("page", "integer", "Page, from 1 (a page past the end is empty)"),
    ("perpage", "integer", f"Per page (default and max {SEARCH_PERPAGE})"),
)


def _matches(account_view: dict[str, object], query: str) -> bool:
    return any(query in str(account_view[k]).lower() for k in ("login", "email", "name"))


@router.get(BASE, acl="user.read", query=SEARCH_QUERY, response=list[GrafanaUser])
def search(req: Request) -> Reply:
    """The tenant's users whose login, email or name holds query, by login."""
    tenant = req.need_tenant()
    query = (req.arg("query") or "").lower()
    page = req.int_arg("page", 1, low=1, high=1_000_000)
    per = req.int_arg("perpage", SEARCH_PERPAGE, low=1, high=SEARCH_PERPAGE)
    found = sorted((user_view(a) for a in users_of(tenant)), key=lambda u: str(u["login"]).lower())
    found = [u for u in found if _matches(u, query)]
    return bare(found[(page - 1) * per : page * per])


@router.get(
    f"{BASE}/lookup",
    acl="user.read",
    query=(("loginOrEmail", "string", "The login (username) or email"),),
    response=GrafanaUser,
)
def lookup(req: Request) -> Reply:
    """The user whose login or email this is."""
    return bare(user_view(user_account(req.need_tenant(), req.arg("loginOrEmail") or "")))


@router.get(ITEM, acl="user.{id}.read", response=GrafanaUser)
def get(req: Request) -> Reply:
    """One user."""
    return bare(user_view(user_account(req.need_tenant(), req.params["id"])))


@router.get(f"{ITEM}/teams", acl="user.{id}.read", response=list[GrafanaTeam])
def teams(req: Request) -> Reply:
    """The teams (user groups) a user belongs to."""
    tenant = req.need_tenant()
    account = user_account(tenant, req.params["id"])
    return bare([team_view(g) for g in accounts.groups_of(tenant, account.id)])


@router.put(ITEM, acl="user.{id}.update", body=ProfileBody, response=GrafanaMessage)
def update(req: Request) -> Reply:
    """Change a user's login, email, name or theme (a login taken anywhere is 409)."""
    body = req.model(ProfileBody)
    change_profile(req.ctx, user_account(req.need_tenant(), req.params["id"]), body)
    return bare({"message": "User updated"})


@router.get(f"{ITEM}/orgs", acl="user.{id}.read", response=list[GrafanaUserOrg])
def orgs(req: Request) -> Reply:
    """A user's org: its tenant (an opsplane account belongs to exactly one)."""
    return bare(user_orgs(user_account(req.need_tenant(), req.params["id"])))


@router.post(f"{ITEM}/using/{{orgId}}", acl="user.{id}.update", response=GrafanaMessage)
def using(req: Request) -> Reply:
    """Switch a user's org: done when it is the user's own, refused (400) for another."""
    return switch(req, user_account(req.need_tenant(), req.params["id"]), req.params["orgId"])
