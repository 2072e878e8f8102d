"""Grafana teams: a team IS a user group (identity/groups.py), its members the group's
members. Made here, a team is a Wavefront user group and a Wazo group, and the other
way round. Grafana's `id` is the group's uuid; `email` is not kept (a group has none).
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.compat.grafana_people.views import (
    GrafanaMessage,
    GrafanaTeam,
    member_view,
    team,
    team_view,
    user_account,
)
from chalicelib.compat.wazo.common import acting
from chalicelib.domain import preferences
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import accounts, groups
from chalicelib.wire import Model

router = Router("grafana_people")

MAX_NAME = 128  # as Wazo's groups
MAX_EMAIL = 254
MAX_REF = 256
SEARCH_PERPAGE = 1000
BASE = "/api/teams"
ITEM = f"{BASE}/{{id}}"
MEMBERS = f"{ITEM}/members"


class TeamBody(Model):
    """POST /api/teams and PUT /api/teams/{id}."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME, description="The team's (user group's) name")
    email: StrictStr | None = Field(default=None, max_length=MAX_EMAIL, description="Accepted, not kept")


class MemberBody(Model):
    """POST /api/teams/{id}/members."""

    model_config = ConfigDict(extra="ignore")

    userId: StrictStr = Field(min_length=1, max_length=MAX_REF, description="The user's uuid or login")


class GrafanaTeamPage(Model):
    """GET /api/teams/search."""

    totalCount: int
    teams: list[GrafanaTeam]
    page: int
    perPage: int


class GrafanaNewTeam(Model):
    """POST /api/teams."""

    message: str
    teamId: str


class GrafanaMember(Model):
    """A team member."""

    model_config = ConfigDict(extra="allow")

    teamId: str
    userId: str
    login: str


def _name(raw: str) -> str:
    if any(ord(c) < 32 for c in raw) or not raw.strip():
        raise Invalid("name must be printable and not blank")
    return raw


SEARCH_QUERY = (
    ("query", "string", "Case-insensitive part of the name"),
    ("name", "string", "The exact name"),
    ("page", "integer", "Page, from 1"),
    ("perpage", "integer", f"Per page (default and max {SEARCH_PERPAGE})"),
)


@router.get(f"{BASE}/search", acl="group.read", query=SEARCH_QUERY, response=GrafanaTeamPage)
def search(req: Request) -> Reply:
    """The tenant's teams whose name holds query (or is name), by name."""
    tenant = req.need_tenant()
    query = (req.arg("query") or "").lower()
    exact = req.arg("name")
    page = req.int_arg("page", 1, low=1, high=1_000_000)
    per = req.int_arg("perpage", SEARCH_PERPAGE, low=1, high=SEARCH_PERPAGE)
    found = sorted(
        (
            g
            for g in accounts.repo(tenant, groups.GROUP).iterate()
            if query in str(g.doc.get("name", "")).lower() and (exact is None or g.doc.get("name") == exact)
        ),
        key=lambda g: str(g.doc.get("name", "")).lower(),
    )
    chosen = found[(page - 1) * per : page * per]
    return bare({"totalCount": len(found), "teams": [team_view(g) for g in chosen], "page": page, "perPage": per})


@router.post(BASE, acl="group.create", body=TeamBody, response=GrafanaNewTeam)
def create(req: Request) -> Reply:
    """Create a team (an empty user group)."""
    body = req.model(TeamBody)
    group = groups.create_group(req.need_tenant(), name=_name(body.name), slug=None, description=None, by=req.actor)
    return bare({"message": "Team created", "teamId": group.id})


@router.get(ITEM, acl="group.{id}.read", response=GrafanaTeam)
def get(req: Request) -> Reply:
    """One team."""
    return bare(team_view(team(req.need_tenant(), req.params["id"])))


@router.put(ITEM, acl="group.{id}.update", body=TeamBody, response=GrafanaMessage)
def update(req: Request) -> Reply:
    """Rename a team."""
    body = req.model(TeamBody)
    tenant = req.need_tenant()
    group = team(tenant, req.params["id"])
    groups.update_group(tenant, group.id, {"name": _name(body.name)}, by=req.actor)
    return bare({"message": "Team updated"})


@router.delete(ITEM, acl="group.{id}.delete", response=GrafanaMessage)
def delete(req: Request) -> Reply:
    """Delete a team (its members leave it; the tenant's last administrator group stays)."""
    tenant = req.need_tenant()
    group = team(tenant, req.params["id"])
    groups.delete_group(tenant, group.id, held=acting(req).acl)
    preferences.forget(tenant, preferences.team_owner(group.id))
    return bare({"message": "Team deleted"})


@router.get(MEMBERS, acl="group.{id}.read", response=list[GrafanaMember])
def members(req: Request) -> Reply:
    """A team's members, by login."""
    tenant = req.need_tenant()
    group = team(tenant, req.params["id"])
    found = sorted(groups.members(tenant, group), key=lambda a: str(a.doc.get("username", "")).lower())
    return bare([member_view(group, a) for a in found])


@router.post(MEMBERS, acl="group.{id}.update", body=MemberBody, response=GrafanaMessage)
def add_member(req: Request) -> Reply:
    """Put a user in a team; the caller must be able to grant what the team grants."""
    body = req.model(MemberBody)
    tenant = req.need_tenant()
    group = team(tenant, req.params["id"])
    account = user_account(tenant, body.userId)
    groups.add_member(tenant, group.id, account.id, held=acting(req).acl, by=req.actor)
    return bare({"message": "Member added to Team"})


@router.delete(f"{MEMBERS}/{{user}}", acl="group.{id}.update", response=GrafanaMessage)
def remove_member(req: Request) -> Reply:
    """Take a user out of a team."""
    tenant = req.need_tenant()
    group = team(tenant, req.params["id"])
    account = user_account(tenant, req.params["user"])
    groups.remove_member(tenant, group.id, account.id, held=acting(req).acl, by=req.actor)
    return bare({"message": "Team Member removed"})
