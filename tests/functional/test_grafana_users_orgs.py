"""Grafana's calling user, org writes, org users, preferences and admin routes over the one
identity model: written in Grafana, read in Wazo and Wavefront, and the other way round."""

from __future__ import annotations

import base64

from tests.functional.conftest import ADMIN_PASSWORD

W = "/api/auth/0.1"


def login(api, username: str, password: str) -> tuple[int, dict]:
    auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    return api.json("POST", f"{W}/token", {}, token="", headers={"Authorization": auth})


def wazo_user(api, username: str, password: str = "long-enough-1", **fields) -> dict:
    status, user = api.json("POST", f"{W}/users", {"username": username, "password": password, **fields})
    assert status == 200, user
    return user


def permissions_of(api, account: str) -> list[str]:
    return api.json("GET", f"/api/v2/account/{account}")[1]["response"]["groups"]


# ---- the calling user ------------------------------------------------------------------------


def test_can_read_and_change_the_calling_user_and_see_it_in_wazo(api, make_user):
    me = make_user(["user.self.#", "*.read", "*.*.read"], username="dora")
    got = api.json("GET", "/api/user", token=me.token)[1]
    assert (got["id"], got["login"], got["orgId"], got["theme"]) == (me.uuid, "dora", api.root, "")
    # WHEN Grafana changes its name, email and theme
    body = {"name": "Dora Explorer", "email": "dora@example.com", "theme": "dark"}
    assert api.json("PUT", "/api/user", body, token=me.token)[1] == {"message": "User updated"}
    # THEN Wazo reads the profile and Grafana the theme as a preference
    wazo = api.json("GET", f"{W}/users/{me.uuid}")[1]
    assert (wazo["firstname"], wazo["lastname"], wazo["emails"][0]["address"]) == ("Dora", "Explorer", body["email"])
    assert api.json("GET", "/api/user", token=me.token)[1]["theme"] == "dark"
    assert api.json("GET", "/api/user/preferences", token=me.token)[1]["theme"] == "dark"
    # AND a bad email or a taken login changes nothing
    assert api.json("PUT", "/api/user", {"email": "nope", "name": "X"}, token=me.token)[0] == 400
    assert api.json("PUT", "/api/user", {"login": "admin", "name": "X"}, token=me.token)[0] == 409
    assert api.json("GET", "/api/user", token=me.token)[1]["name"] == "Dora Explorer"


def test_can_change_the_own_password_only_with_the_old_one(api, make_user):
    me = make_user(["user.self.#"], username="eve", password="first-password-1")
    body = {"oldPassword": "wrong-password", "newPassword": "second-password-2", "confirmNew": "second-password-2"}
    assert api.json("PUT", "/api/user/password", body, token=me.token)[0] == 401
    body = {"oldPassword": "first-password-1", "newPassword": "second-password-2", "confirmNew": "other-one-3"}
    status, answer = api.json("PUT", "/api/user/password", body, token=me.token)
    assert status == 400 and "confirmNew" in answer["message"]
    assert api.json("PUT", "/api/user/password", {**body, "newPassword": "short"}, token=me.token)[0] == 400
    assert login(api, "eve", "first-password-1")[0] == 200  # nothing was written
    body["confirmNew"] = body["newPassword"]
    status, answer = api.json("PUT", "/api/user/password", body, token=me.token)
    assert (status, answer) == (200, {"message": "User password changed"})
    assert login(api, "eve", "second-password-2")[0] == 200
    assert login(api, "eve", "first-password-1")[0] == 401


def test_can_list_the_calling_users_teams_and_org_and_switch_only_to_where_it_acts(api, make_user, make_tenant):
    child = make_tenant("client-b")
    me = make_user(["user.self.#", "tenant.#"], username="finn")
    team = api.json("POST", "/api/teams", {"name": "Ops"})[1]["teamId"]
    api.json("POST", f"/api/teams/{team}/members", {"userId": me.uuid})
    # its teams: Ops, and Everyone (the group every user of the tenant is in)
    teams = api.json("GET", "/api/user/teams", token=me.token)[1]
    assert sorted((t["name"], t["id"] == team) for t in teams) == [("Everyone", False), ("Ops", True)]
    assert api.json("GET", "/api/user/orgs", token=me.token)[1] == [{"orgId": api.root, "name": "root", "role": "None"}]
    # the org it acts in: done; one below it: refused with the reason; unknown: 404
    assert api.json("POST", f"/api/user/using/{api.root}", token=me.token)[0] == 200
    status, body = api.json("POST", f"/api/user/using/{child}", token=me.token)
    assert status == 400 and "X-Tenant-Id" in body["message"]
    assert api.json("POST", f"/api/user/using/{child}", token=me.token, headers={"X-Tenant-Id": child})[0] == 200
    assert api.json("POST", "/api/user/using/no-such-org", token=me.token)[0] == 404
    # the same for another user, by id
    assert api.json("POST", f"/api/users/{me.uuid}/using/{api.root}")[0] == 200
    assert api.json("POST", f"/api/users/{me.uuid}/using/{child}")[0] == 400
    assert api.json("GET", f"/api/users/{me.uuid}/orgs")[1][0]["orgId"] == api.root


def test_can_update_a_user_in_grafana_and_read_it_in_wavefront(api):
    made = wazo_user(api, "gail", firstname="Gail")
    body = {"login": "gail@example.com", "email": "gail@example.com", "name": "Gail Force"}
    assert api.json("PUT", f"/api/users/{made['uuid']}", body)[1] == {"message": "User updated"}
    assert api.json("GET", f"/api/v2/account/{made['uuid']}")[1]["response"]["identifier"] == "gail@example.com"
    assert login(api, "gail@example.com", "long-enough-1")[0] == 200
    assert api.json("PUT", f"/api/users/{made['uuid']}", {"name": 5})[0] == 400
    assert api.json("PUT", "/api/users/no-such-user", {"name": "x"})[0] == 404


# ---- orgs -------------------------------------------------------------------------------------


def test_can_make_rename_and_delete_orgs_as_wazo_tenants(api):
    status, made = api.json("POST", "/api/orgs", {"name": "Acme"})
    assert status == 200 and made["message"] == "Organization created", made
    org = made["orgId"]
    wazo = api.json("GET", f"{W}/tenants/{org}")[1]
    assert (wazo["name"], wazo["parent_uuid"]) == ("Acme", api.root)
    assert api.json("PUT", f"/api/orgs/{org}", {"name": "Acme Corp"})[1] == {"message": "Organization updated"}
    assert api.json("GET", f"{W}/tenants/{org}")[1]["name"] == "Acme Corp"
    assert api.json("GET", f"/api/orgs/{org}")[1]["name"] == "Acme Corp"
    # renamed through Wazo, seen here
    api.json("PUT", f"{W}/tenants/{org}", {"name": "Acme Inc"})
    assert api.json("GET", "/api/orgs/name/Acme Inc")[1]["id"] == org
    # deleting an org deletes the orgs below it too (the tenant purge); both answer 410 from then on
    below = api.json("POST", "/api/orgs", {"name": "Sub"}, headers={"X-Tenant-Id": org})[1]["orgId"]
    assert api.json("DELETE", f"/api/orgs/{org}")[1] == {"message": "Organization deleted"}
    assert api.json("GET", f"{W}/tenants/{org}")[0] == 410
    assert api.json("GET", f"{W}/tenants/{below}")[0] == 410
    # the caller's own org is never deleted
    assert api.json("DELETE", f"/api/orgs/{api.root}")[0] == 403


def test_can_rename_the_current_org_and_refuse_bad_names(api):
    assert api.json("PUT", "/api/org", {"name": "Root Org"})[1] == {"message": "Organization updated"}
    assert api.json("GET", "/api/org")[1]["name"] == "Root Org"
    for bad in ({"name": ""}, {"name": "  "}, {"name": "x" * 129}, {"name": 3}, {}):
        status, body = api.json("PUT", "/api/org", bad)
        assert status == 400 and "name" in body["message"], bad
        assert api.json("POST", "/api/orgs", bad)[0] == 400
    assert api.json("GET", "/api/org")[1]["name"] == "Root Org"
    assert api.json("GET", "/api/orgs")[1] == [{"id": api.root, "name": "Root Org"}]


def test_can_list_org_users_change_roles_and_remove_users(api, make_user):
    hal = wazo_user(api, "hal")
    users = api.json("GET", "/api/org/users")[1]
    assert [u["login"] for u in users] == ["admin", "hal"]
    assert api.json("GET", f"/api/orgs/{api.root}/users")[1] == users
    # a role set in Grafana is the account's Wavefront permissions
    assert api.json("PATCH", f"/api/org/users/{hal['uuid']}", {"role": "Editor"})[0] == 200
    assert set(permissions_of(api, hal["uuid"])) == {
        "browse",
        "dashboard_management",
        "alerts_management",
        "events_management",
    }
    assert api.json("PATCH", f"/api/orgs/{api.root}/users/{hal['uuid']}", {"role": "Viewer"})[0] == 200
    assert permissions_of(api, hal["uuid"]) == ["browse"]
    assert api.json("GET", f"/api/users/{hal['uuid']}")[1]["role"] == "Viewer"
    # a bad role, an unknown user: nothing written
    assert api.json("PATCH", f"/api/org/users/{hal['uuid']}", {"role": "Owner"})[0] == 400
    assert api.json("PATCH", "/api/org/users/nobody", {"role": "Admin"})[0] == 404
    assert permissions_of(api, hal["uuid"]) == ["browse"]
    # the caller hands out only what it holds
    editor = make_user(["user.#", "browse.#", "*.read", "*.*.read"])
    assert api.json("PATCH", f"/api/org/users/{hal['uuid']}", {"role": "Admin"}, token=editor.token)[0] == 403
    # adding: already there is 409, anyone else 400 with the reason
    assert api.json("POST", "/api/org/users", {"loginOrEmail": "hal", "role": "Viewer"})[0] == 409
    status, body = api.json("POST", "/api/org/users", {"loginOrEmail": "someone-else", "role": "Viewer"})
    assert status == 400 and "exactly one org" in body["message"]
    # removing deletes the account (it has no other org)
    assert api.json("DELETE", f"/api/org/users/{hal['uuid']}")[1] == {"message": "User removed from organization"}
    assert api.json("GET", f"{W}/users/{hal['uuid']}")[0] == 404


def test_can_keep_an_administrator_when_roles_change_or_users_go(api, make_tenant):
    # GIVEN an org whose one administrator holds the Admin role
    org = make_tenant("client-e")
    boss = api.json("POST", "/api/admin/users", {"login": "boss", "password": "boss-password-1", "OrgId": org})[1]
    assert api.json("PATCH", f"/api/orgs/{org}/users/{boss['id']}", {"role": "Admin"})[0] == 200
    assert api.json("GET", f"/api/orgs/{org}/users")[1][0]["role"] == "Admin"
    # THEN it keeps it: no role change, removal, deletion, disabling or revocation takes it
    status, body = api.json("PATCH", f"/api/orgs/{org}/users/{boss['id']}", {"role": "Viewer"})
    assert status == 400 and "administrator" in body["message"]
    assert api.json("DELETE", f"/api/orgs/{org}/users/{boss['id']}")[0] == 400
    in_org = {"X-Tenant-Id": org}
    assert api.json("DELETE", f"/api/admin/users/{boss['id']}", headers=in_org)[0] == 400
    assert api.json("POST", f"/api/admin/users/{boss['id']}/disable", headers=in_org)[0] == 400
    grafana_admin = {"isGrafanaAdmin": False}
    assert api.json("PUT", f"/api/admin/users/{boss['id']}/permissions", grafana_admin, headers=in_org)[0] == 400
    assert api.json("GET", f"/api/orgs/{org}/users")[1][0]["role"] == "Admin"
    assert login(api, "boss", "boss-password-1")[0] == 200
    # the bootstrap admin's administration comes from its role (policy), which stays
    assert api.json("PUT", f"/api/admin/users/{api.admin}/permissions", grafana_admin)[0] == 200
    assert api.json("GET", "/api/admin/stats")[0] == 200
    assert login(api, "admin", ADMIN_PASSWORD)[0] == 200


# ---- preferences -------------------------------------------------------------------------------


def make_dashboard(api, title: str) -> dict:
    status, body = api.json("POST", "/api/dashboards/db", {"dashboard": {"title": title}})
    assert status == 200, body
    return body


def test_can_keep_user_team_and_org_preferences_and_follow_the_home_dashboard(api, make_user):
    org_home, team_home, own_home = (make_dashboard(api, t) for t in ("Org home", "Team home", "Own home"))
    me = make_user(["user.self.#", "dashboard.#"], username="ivy")
    team = api.json("POST", "/api/teams", {"name": "Ops"})[1]["teamId"]
    api.json("POST", f"/api/teams/{team}/members", {"userId": me.uuid})
    # no preference: Grafana's default home
    assert api.json("GET", "/api/dashboards/home", token=me.token)[1]["meta"]["isHome"] is True
    # the org's, then the team's, then the user's own home (by numeric id) wins
    assert api.json("PUT", "/api/org/preferences", {"homeDashboardUID": org_home["uid"]})[0] == 200
    assert api.json("GET", "/api/dashboards/home", token=me.token)[1] == {"redirectUri": org_home["url"]}
    assert api.json("PUT", f"/api/teams/{team}/preferences", {"homeDashboardUID": team_home["uid"]})[0] == 200
    assert api.json("GET", "/api/dashboards/home", token=me.token)[1] == {"redirectUri": team_home["url"]}
    body = {"homeDashboardId": own_home["id"], "timezone": "Europe/Paris", "weekStart": "monday"}
    assert api.json("PUT", "/api/user/preferences", body, token=me.token)[1] == {"message": "Preferences updated"}
    assert api.json("GET", "/api/dashboards/home", token=me.token)[1] == {"redirectUri": own_home["url"]}
    got = api.json("GET", "/api/user/preferences", token=me.token)[1]
    assert got == {
        "theme": "",
        "homeDashboardId": own_home["id"],
        "homeDashboardUID": own_home["uid"],
        "timezone": "Europe/Paris",
        "weekStart": "monday",
        "locale": "",
    }
    # PATCH changes only what it names; PUT resets the rest
    assert api.json("PATCH", "/api/user/preferences", {"theme": "light"}, token=me.token)[0] == 200
    got = api.json("GET", "/api/user/preferences", token=me.token)[1]
    assert (got["theme"], got["timezone"]) == ("light", "Europe/Paris")
    assert api.json("PUT", "/api/user/preferences", {"locale": "fr-FR"}, token=me.token)[0] == 200
    got = api.json("GET", "/api/user/preferences", token=me.token)[1]
    assert (got["theme"], got["timezone"], got["locale"], got["homeDashboardUID"]) == ("", "", "fr-FR", "")
    # the team's home again; that dashboard deleted: Grafana's default home, as Grafana does
    assert api.json("GET", "/api/dashboards/home", token=me.token)[1] == {"redirectUri": team_home["url"]}
    assert api.json("GET", f"/api/teams/{team}/preferences")[1]["homeDashboardUID"] == team_home["uid"]
    api.json("DELETE", f"/api/dashboards/uid/{team_home['uid']}")
    assert api.json("GET", "/api/dashboards/home", token=me.token)[1]["meta"]["isHome"] is True
    assert api.json("GET", "/api/org/preferences")[1]["homeDashboardUID"] == org_home["uid"]


def test_can_refuse_bad_preferences_writing_nothing(api):
    home = make_dashboard(api, "Home")
    assert api.json("PUT", "/api/org/preferences", {"theme": "dark", "homeDashboardUID": home["uid"]})[0] == 200
    for bad, field in (
        ({"theme": "blue"}, "theme"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"weekStart": "friday"}, "weekStart"),
        ({"locale": "not a locale"}, "locale"),
        ({"homeDashboardUID": "no-such-dashboard"}, "homeDashboardUID"),
        ({"homeDashboardId": 999999}, "homeDashboardId"),
        ({"homeDashboardId": -1}, "homeDashboardId"),
        ({"homeDashboardId": "1"}, "homeDashboardId"),
        ({"homeDashboardUID": home["uid"], "homeDashboardId": home["id"] + 1}, "homeDashboardId"),
    ):
        for method in ("PUT", "PATCH"):
            status, body = api.json(method, "/api/org/preferences", bad)
            assert status == 400 and field in body["message"], (bad, body)
    got = api.json("GET", "/api/org/preferences")[1]
    assert (got["theme"], got["homeDashboardUID"]) == ("dark", home["uid"])
    assert api.json("GET", "/api/teams/no-such-team/preferences")[0] == 404
    assert api.json("PUT", "/api/teams/no-such-team/preferences", {"theme": "dark"})[0] == 404


# ---- admin ---------------------------------------------------------------------------------------


def test_can_administer_users_through_grafana_and_see_it_in_wazo_and_wavefront(api):
    body = {"name": "Jo Admin", "email": "jo@example.com", "login": "jo", "password": "jo-password-1"}
    status, made = api.json("POST", "/api/admin/users", body)
    assert status == 200 and made["message"] == "User created", made
    jo = made["id"]
    wazo = api.json("GET", f"{W}/users/{jo}")[1]
    assert (wazo["username"], wazo["firstname"], wazo["lastname"]) == ("jo", "Jo", "Admin")
    assert login(api, "jo", "jo-password-1")[0] == 200
    assert api.json("POST", "/api/admin/users", body)[0] == 409  # the login is taken
    # password
    assert api.json("PUT", f"/api/admin/users/{jo}/password", {"password": "jo-password-2"})[0] == 200
    assert login(api, "jo", "jo-password-2")[0] == 200
    assert api.json("PUT", f"/api/admin/users/{jo}/password", {"password": "short"})[0] == 400
    # server admin = user_management
    assert api.json("PUT", f"/api/admin/users/{jo}/permissions", {"isGrafanaAdmin": True})[0] == 200
    assert "user_management" in permissions_of(api, jo)
    assert api.json("GET", f"/api/users/{jo}")[1]["isGrafanaAdmin"] is True
    assert api.json("PUT", f"/api/admin/users/{jo}/permissions", {"isGrafanaAdmin": False})[0] == 200
    assert "user_management" not in permissions_of(api, jo)
    assert api.json("PUT", f"/api/admin/users/{jo}/permissions", {"isGrafanaAdmin": "yes"})[0] == 400
    # disable / enable: Wazo's enabled, and the login
    assert api.json("POST", f"/api/admin/users/{jo}/disable")[1] == {"message": "User disabled"}
    assert api.json("GET", f"{W}/users/{jo}")[1]["enabled"] is False
    assert login(api, "jo", "jo-password-2")[0] == 401
    assert api.json("POST", f"/api/admin/users/{jo}/enable")[1] == {"message": "User enabled"}
    # logout: its sessions end and their tokens stop working
    session = login(api, "jo", "jo-password-2")[1]["data"]["token"]
    assert api.json("GET", "/api/user", token=session)[0] in (200, 403)
    assert api.json("POST", f"/api/admin/users/{jo}/logout")[1] == {"message": "User logged out"}
    assert api.json("GET", "/api/user", token=session)[0] == 401
    assert api.json("GET", f"{W}/users/{jo}/sessions")[1]["items"] == []
    # delete
    assert api.json("DELETE", f"/api/admin/users/{jo}")[1] == {"message": "User deleted"}
    assert api.json("GET", f"{W}/users/{jo}")[0] == 404


def test_can_refuse_bad_admin_bodies_writing_nothing(api, make_tenant):
    before = api.json("GET", f"{W}/users")[1]["total"]
    for bad in (
        {"password": "long-enough-1"},  # no login nor email
        {"login": "kim", "password": "short"},
        {"login": "kim", "email": "not-an-email", "password": "long-enough-1"},
        {"login": "kim", "password": 12345678},
        {"login": "kim", "password": "long-enough-1", "OrgId": "no-such-org"},
        {"login": "k i m", "password": "long-enough-1"},
    ):
        assert api.json("POST", "/api/admin/users", bad)[0] in (400, 404), bad
    assert api.json("GET", f"{W}/users")[1]["total"] == before
    # in an org below
    child = make_tenant("client-c")
    made = api.json("POST", "/api/admin/users", {"login": "kim", "password": "long-enough-1", "OrgId": child})[1]
    assert api.json("GET", f"{W}/users/{made['id']}", headers={"X-Tenant-Id": child})[1]["tenant_uuid"] == child


def test_can_count_the_acting_tenant_in_the_stats(api, make_tenant):
    make_tenant("client-d")
    wazo_user(api, "lee")
    make_dashboard(api, "One")
    stats = api.json("GET", "/api/admin/stats")[1]
    assert (stats["orgs"], stats["users"], stats["dashboards"]) == (2, 2, 1)


# ---- tenants and permissions ---------------------------------------------------------------------


def test_can_keep_other_tenants_and_unprivileged_callers_out(api, make_user, make_tenant):
    other = make_user(["#"], tenant=make_tenant("elsewhere"))
    hal = wazo_user(api, "hal")
    team = api.json("POST", "/api/teams", {"name": "Ops"})[1]["teamId"]
    for method, path, body in (
        ("PUT", f"/api/users/{hal['uuid']}", {"name": "x"}),
        ("GET", f"/api/users/{hal['uuid']}/orgs", None),
        ("PATCH", f"/api/org/users/{hal['uuid']}", {"role": "Admin"}),
        ("DELETE", f"/api/org/users/{hal['uuid']}", None),
        ("GET", f"/api/orgs/{api.root}/users", None),
        ("PUT", f"/api/orgs/{api.root}", {"name": "mine"}),
        ("DELETE", f"/api/orgs/{api.root}", None),
        ("PUT", f"/api/admin/users/{hal['uuid']}/password", {"password": "long-enough-2"}),
        ("POST", f"/api/admin/users/{hal['uuid']}/disable", None),
        ("DELETE", f"/api/admin/users/{hal['uuid']}", None),
        ("GET", f"/api/teams/{team}/preferences", None),
        ("PUT", f"/api/teams/{team}/preferences", {"theme": "dark"}),
    ):
        assert api.json(method, path, body, token=other.token)[0] == 404, (method, path)
    assert api.json("GET", f"{W}/users/{hal['uuid']}")[1]["enabled"] is True
    assert api.json("GET", "/api/org")[1]["name"] == "root"
    # without the ACL
    nobody = make_user([])
    for method, path in (("GET", "/api/user"), ("PUT", "/api/user/password"), ("GET", "/api/user/preferences")):
        assert api.json(method, path, {} if method != "GET" else None, token=nobody.token)[0] == 403
    viewer = make_user(["*.read", "*.*.read"])
    assert api.json("GET", "/api/user", token=viewer.token)[0] == 200
    assert api.json("PUT", "/api/user/preferences", {"theme": "dark"}, token=viewer.token)[0] == 403
    assert api.json("POST", "/api/orgs", {"name": "x"}, token=viewer.token)[0] == 403
    assert (
        api.json("POST", "/api/admin/users", {"login": "x", "password": "long-enough-1"}, token=viewer.token)[0] == 403
    )
