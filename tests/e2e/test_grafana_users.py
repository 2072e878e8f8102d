"""grafana-client's `users` and `user` groups against the live server (docs/grafana.md): a
user is an opsplane user account, its org its tenant. The org groups are in
test_grafana_orgs.py."""

from __future__ import annotations

import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError
from grafana_client.model import PersonalPreferences

from tests.e2e.clients import login, new_person, new_tenant_admin, unique

pytestmark = pytest.mark.e2e


def test_can_search_get_and_look_up_users(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    person = new_person(server.url, admin_token, [], tenant=admin.tenant)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    users = grafana.users
    # search: every page (the client stops at an empty one), one page, by query
    assert {u["id"] for u in users.search_users()} == {admin.uuid, person.uuid}
    assert {u["id"] for u in users.search_users(perpage=1)} == {admin.uuid, person.uuid}
    assert [u["login"] for u in users.search_users(query=person.username, page=1, perpage=10)] == [person.username]
    # get and lookup
    assert users.get_user(person.uuid)["login"] == person.username
    assert users.find_user(person.username)["id"] == person.uuid
    assert [t["name"] for t in users.get_user_teams(person.uuid)] == ["Everyone"]  # every account is in it
    with pytest.raises(GrafanaClientError) as missing:
        users.get_user("no-such-user")
    assert missing.value.status_code == 404


def test_can_update_a_user_and_read_its_org(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    person = new_person(server.url, admin_token, [], tenant=admin.tenant)
    users = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30).users
    login = unique("login")
    answer = users.update_user(person.uuid, {"login": login, "email": f"{login}@example.com", "name": "Pat Doe"})
    assert answer == {"message": "User updated"}
    got = users.get_user(person.uuid)
    assert (got["login"], got["email"], got["name"]) == (login, f"{login}@example.com", "Pat Doe")
    assert [o["orgId"] for o in users.get_user_organisations(person.uuid)] == [admin.tenant]
    with pytest.raises(GrafanaClientError) as bad:
        users.update_user(person.uuid, {"email": "not-an-email"})
    assert bad.value.status_code == 400


def test_can_drive_the_calling_users_methods(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    user = grafana.user
    me = user.get_actual_user()
    assert (me["id"], me["login"], me["orgId"]) == (admin.uuid, admin.username, admin.tenant)
    assert [t["name"] for t in user.get_actual_user_teams()] == ["Everyone"]
    team = grafana.teams.add_team({"name": unique("ops")})["teamId"]
    grafana.teams.add_team_member(team, admin.uuid)
    assert [t["id"] for t in user.get_actual_user_teams() if t["name"] != "Everyone"] == [team]
    assert [o["orgId"] for o in user.get_actual_user_organisations()] == [admin.tenant]
    # switching: the org it acts in is answered as done, another one refused with the reason
    assert user.switch_actual_user_organisation(admin.tenant)["message"] == "Active organization changed"
    assert user.switch_user_organisation(admin.uuid, admin.tenant)["message"] == "Active organization changed"
    below = grafana.organization.create_organization(unique("org"))["orgId"]
    with pytest.raises(GrafanaClientError) as refused:
        user.switch_actual_user_organisation(below)
    assert refused.value.status_code == 400
    # preferences: replace, patch, read
    assert user.update_preferences(PersonalPreferences(theme="dark", timezone="utc"))["message"]
    assert user.patch_preferences({"weekStart": "monday"})["message"]
    prefs = user.get_preferences()
    assert (prefs["theme"], prefs["timezone"], prefs["weekStart"]) == ("dark", "utc", "monday")
    # password: the old one is needed, and the new one logs in
    with pytest.raises(GrafanaClientError) as wrong:
        user.change_actual_user_password("not-the-password", "new-password-123")
    assert wrong.value.status_code == 401
    assert user.change_actual_user_password(admin.password, "new-password-123")["message"]
    assert login(server.url, admin.username, "new-password-123")["token"]
