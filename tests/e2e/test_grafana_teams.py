"""grafana-client's `teams` group against the live server: a team is an opsplane user
group, its members the group's members. External groups are not built (docs/grafana.md)."""

from __future__ import annotations

import warnings

import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError
from grafana_client.model import PersonalPreferences

from tests.e2e.clients import new_person, new_tenant_admin, unique

pytestmark = pytest.mark.e2e


def test_can_drive_the_teams_methods(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    member = new_person(server.url, admin_token, [], tenant=admin.tenant)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    teams = grafana.teams
    name = unique("ops")
    # add, get, search (one page and every page), by name
    made = teams.add_team({"name": name, "email": "ops@example.com"})
    team_id = made["teamId"]
    assert teams.get_team(team_id)["name"] == name
    other = teams.add_team({"name": unique("dev")})["teamId"]
    assert {t["id"] for t in teams.search_teams() if t["name"] != "Everyone"} == {team_id, other}
    assert [t["id"] for t in teams.search_teams(query=name, page=1, perpage=10)] == [team_id]
    assert [t["id"] for t in teams.search_teams(perpage=1) if t["name"] != "Everyone"] == sorted(
        [team_id, other], key=lambda i: teams.get_team(i)["name"]
    )
    assert [t["id"] for t in teams.get_team_by_name(name)] == [team_id]
    # update
    renamed = unique("platform")
    assert teams.update_team(team_id, {"name": renamed})["message"] == "Team updated"
    assert teams.get_team(team_id)["name"] == renamed
    # members: add, list, remove
    teams.add_team_member(team_id, member.uuid)
    assert [(m["userId"], m["login"]) for m in teams.get_team_members(team_id)] == [(member.uuid, member.username)]
    assert [t["id"] for t in grafana.users.get_user_teams(member.uuid) if t["name"] != "Everyone"] == [team_id]
    teams.remove_team_member(team_id, member.uuid)
    assert teams.get_team_members(team_id) == []
    # delete
    assert teams.delete_team(team_id)["message"] == "Team deleted"
    with pytest.raises(GrafanaClientError) as missing:
        teams.get_team(team_id)
    assert missing.value.status_code == 404


def test_can_keep_team_preferences_and_follow_the_home_dashboard(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    teams = grafana.teams
    team_id = teams.add_team({"name": unique("ops")})["teamId"]
    teams.add_team_member(team_id, admin.uuid)
    home = grafana.dashboard.update_dashboard({"dashboard": {"title": unique("home")}})
    prefs = PersonalPreferences(homeDashboardUID=home["uid"], theme="dark")
    assert teams.update_preferences(team_id, prefs)["message"] == "Preferences updated"
    got = teams.get_preferences(team_id)
    assert (got["homeDashboardUID"], got["homeDashboardId"], got["theme"]) == (home["uid"], home["id"], "dark")
    assert grafana.dashboard.get_home_dashboard() == {"redirectUri": home["url"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert teams.update_team_preferences(team_id, {"theme": "light"})["message"]
        assert teams.get_team_preferences(team_id)["theme"] == "light"
    assert teams.get_preferences(team_id)["homeDashboardUID"] == ""  # PUT replaces
    with pytest.raises(GrafanaClientError) as bad:
        teams.update_preferences(team_id, PersonalPreferences(timezone="Nowhere/Town"))
    assert bad.value.status_code == 400
