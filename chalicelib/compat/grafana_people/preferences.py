"""Grafana preferences of a user, a team and the org (chalicelib/domain/preferences.py):
theme, home dashboard, timezone, week start, locale. The home dashboard is a dashboard
of the tenant, stored by both its uid and its numeric id; /api/dashboards/home follows it.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictInt, StrictStr, field_validator

from chalicelib.compat.grafana_people.views import GrafanaMessage, team
from chalicelib.dashboards import store
from chalicelib.domain import preferences
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.wire import Model

router = Router("grafana_people")

MAX_UID = 40  # Grafana's dashboard uid bound
MAX_TIMEZONE = 64
MAX_LOCALE = 35
MAX_DASHBOARD_ID = 2**53
LOCALE = re.compile(r"([A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3})?\Z")
PLAIN_ZONES = ("", "utc", "browser")

USER = "/api/user/preferences"
TEAM = "/api/teams/{id}/preferences"
ORG = "/api/org/preferences"


class PreferencesBody(Model):
    """PUT (the fields not given go back to their defaults) or PATCH (only those given change)."""

    model_config = ConfigDict(extra="ignore")

    theme: Literal["", "light", "dark", "system"] | None = Field(default=None, description='"" is the default')
    homeDashboardId: StrictInt | None = Field(default=None, ge=0, le=MAX_DASHBOARD_ID, description="0: none")
    homeDashboardUID: StrictStr | None = Field(default=None, max_length=MAX_UID, description='"": none')
    timezone: StrictStr | None = Field(
        default=None, max_length=MAX_TIMEZONE, description='"", "utc", "browser" or an IANA zone'
    )
    weekStart: Literal["", "sunday", "monday", "saturday"] | None = None
    locale: StrictStr | None = Field(default=None, max_length=MAX_LOCALE, description='"" or a BCP 47 tag')

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None or value in PLAIN_ZONES:
            return value
        try:
            zoneinfo.ZoneInfo(value)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
            raise ValueError(f'not a known time zone (use "", "utc", "browser" or an IANA name): {value!r}') from exc
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        if value is not None and not LOCALE.match(value):
            raise ValueError(f"not a language tag such as en-US: {value!r}")
        return value


class GrafanaPreferences(Model):
    """Preferences as Grafana answers them."""

    model_config = ConfigDict(extra="allow")

    theme: str
    homeDashboardId: int
    homeDashboardUID: str
    timezone: str
    weekStart: str
    locale: str


def _home(ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
    """The home dashboard named by uid or numeric id, stored as both (400 unless it is a
    dashboard of the tenant the caller may view; 0 or "" clears it)."""
    uid, number = values.get("homeDashboardUID"), values.get("homeDashboardId")
    if uid is None and number is None:
        return values
    try:
        if uid:
            found = store.load(ctx, uid, head_only=True)
            if number and number != store.number_of(found):
                raise Invalid(f"homeDashboardId {number} is not the dashboard {uid} (id {store.number_of(found)})")
        elif number:
            found = store.by_number(ctx, number)
        else:
            return {**values, "homeDashboardUID": "", "homeDashboardId": 0}
    except NotFound as exc:
        raise Invalid(f"homeDashboardUID / homeDashboardId: no such dashboard ({uid or number})") from exc
    return {**values, "homeDashboardUID": found.id, "homeDashboardId": store.number_of(found)}


def _write(req: Request, owner: str, *, replace: bool) -> Reply:
    body = req.model(PreferencesBody, default={})
    values = _home(req.ctx, body.model_dump(exclude_none=True))
    preferences.write(req.ctx, owner, values, replace=replace)
    return bare({"message": "Preferences updated"})


def _own(req: Request) -> str:
    return preferences.user_owner(req.ctx.principal.id)


def _team(req: Request) -> str:
    return preferences.team_owner(team(req.need_tenant(), req.params["id"]).id)


@router.get(USER, acl="user.self.read", response=GrafanaPreferences)
def own(req: Request) -> Reply:
    """The caller's own preferences (in the tenant it acts in)."""
    return bare(preferences.read(req.ctx, _own(req)))


@router.put(USER, acl="user.self.update", body=PreferencesBody, response=GrafanaMessage)
def replace_own(req: Request) -> Reply:
    """Replace the caller's preferences (fields not given go back to the defaults)."""
    return _write(req, _own(req), replace=True)


@router.route("PATCH", USER, acl="user.self.update", body=PreferencesBody, response=GrafanaMessage)
def patch_own(req: Request) -> Reply:
    """Change some of the caller's preferences."""
    return _write(req, _own(req), replace=False)


@router.get(TEAM, acl="group.{id}.read", response=GrafanaPreferences)
def of_team(req: Request) -> Reply:
    """A team's preferences."""
    return bare(preferences.read(req.ctx, _team(req)))


@router.put(TEAM, acl="group.{id}.update", body=PreferencesBody, response=GrafanaMessage)
def replace_team(req: Request) -> Reply:
    """Replace a team's preferences."""
    return _write(req, _team(req), replace=True)


@router.get(ORG, acl="tenant.read", response=GrafanaPreferences)
def of_org(req: Request) -> Reply:
    """The current org's (the acting tenant's) preferences."""
    return bare(preferences.read(req.ctx, preferences.ORG))


@router.put(ORG, acl="tenant.update", body=PreferencesBody, response=GrafanaMessage)
def replace_org(req: Request) -> Reply:
    """Replace the current org's preferences."""
    return _write(req, preferences.ORG, replace=True)


@router.route("PATCH", ORG, acl="tenant.update", body=PreferencesBody, response=GrafanaMessage)
def patch_org(req: Request) -> Reply:
    """Change some of the current org's preferences."""
    return _write(req, preferences.ORG, replace=False)
