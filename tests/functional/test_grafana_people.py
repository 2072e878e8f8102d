"""Grafana's users, teams and orgs are opsplane's user accounts, user groups and tenants:
written in one dialect, read and changed in the others."""

from __future__ import annotations

BOB = "bob@example.com"


def everyone(api) -> str:
    from chalicelib.identity import accounts

    return accounts.everyone_id(api.root)


def make_team(api, name: str = "Ops") -> str:
    status, body = api.json("POST", "/api/teams", {"name": name, "email": "ops@example.com"})
    assert status == 200 and body["message"] == "Team created", body
    return body["teamId"]


def test_can_make_a_team_in_grafana_and_see_it_as_a_wavefront_user_group_and_a_wazo_group(api):
    # GIVEN a user made through Wavefront
    assert api.json("POST", "/api/v2/account/user", {"emailAddress": BOB})[0] == 200
    bob = api.json("GET", f"/api/users/lookup?loginOrEmail={BOB}")[1]
    # WHEN Grafana makes a team and puts bob in it
    team = make_team(api)
    status, body = api.json("POST", f"/api/teams/{team}/members", {"userId": bob["id"]})
    assert status == 200, body
    # THEN Wavefront sees the user group with bob, and Wazo the group with bob
    wf = api.json("GET", f"/api/v2/usergroup/{team}")[1]["response"]
    assert wf["name"] == "Ops" and wf["users"] == [BOB]
    wazo = api.json("GET", f"/api/auth/0.1/groups/{team}/users")[1]
    assert [u["uuid"] for u in wazo["items"]] == [bob["id"]]
    # AND Grafana reads the members, the team and the user's teams
    members = api.json("GET", f"/api/teams/{team}/members")[1]
    assert [(m["userId"], m["login"], m["teamId"]) for m in members] == [(bob["id"], BOB, team)]
    got = api.json("GET", f"/api/teams/{team}")[1]
    assert (got["name"], got["memberCount"], got["orgId"]) == ("Ops", 1, api.root)
    # (bob is in his tenant's Everyone too, as every account)
    assert {t["id"] for t in api.json("GET", f"/api/users/{bob['id']}/teams")[1]} == {team, everyone(api)}


def test_can_count_and_list_every_account_as_a_member_of_everyone(api):
    # GIVEN two more accounts, in no group
    for email in (BOB, "carol@example.com"):
        assert api.json("POST", "/api/v2/account/user", {"emailAddress": email})[0] == 200
    # THEN Everyone's team counts and lists all three accounts of the tenant, as Wazo does
    found = api.json("GET", f"/api/teams/{everyone(api)}")[1]
    assert (found["name"], found["memberCount"]) == ("Everyone", 3)
    (listed,) = [t for t in api.json("GET", "/api/teams/search")[1]["teams"] if t["id"] == everyone(api)]
    assert listed["memberCount"] == 3
    logins = [m["login"] for m in api.json("GET", f"/api/teams/{everyone(api)}/members")[1]]
    assert logins == sorted(["admin", BOB, "carol@example.com"])
    wazo = api.json("GET", f"/api/auth/0.1/groups/{everyone(api)}/users")[1]
    assert sorted(u["username"] for u in wazo["items"]) == sorted(["admin", BOB, "carol@example.com"])


def test_can_rename_in_wavefront_and_remove_members_and_delete_in_grafana(api):
    api.json("POST", "/api/v2/account/user", {"emailAddress": BOB})
    team = make_team(api)
    assert api.json("POST", f"/api/teams/{team}/members", {"userId": BOB})[0] == 200
    # a rename through Wavefront shows in Grafana's search
    status, _ = api.json("PUT", f"/api/v2/usergroup/{team}", {"id": team, "name": "Platform", "roleIDs": []})
    assert status == 200
    page = api.json("GET", "/api/teams/search?query=plat&perpage=10&page=1")[1]
    assert page["totalCount"] == 1 and [t["name"] for t in page["teams"]] == ["Platform"]
    assert [t["id"] for t in api.json("GET", "/api/teams/search?name=Platform")[1]["teams"]] == [team]
    assert api.json("GET", "/api/teams/search?name=Plat")[1]["teams"] == []
    # Grafana renames it back, removes bob, deletes it
    assert api.json("PUT", f"/api/teams/{team}", {"name": "Ops"})[1] == {"message": "Team updated"}
    assert api.json("GET", f"/api/v2/usergroup/{team}")[1]["response"]["name"] == "Ops"
    assert api.json("DELETE", f"/api/teams/{team}/members/{BOB}")[1] == {"message": "Team Member removed"}
    assert api.json("GET", f"/api/teams/{team}/members")[1] == []
    assert api.json("DELETE", f"/api/teams/{team}")[1] == {"message": "Team deleted"}
    assert api.json("GET", f"/api/teams/{team}")[0] == 404
    assert api.json("GET", f"/api/v2/usergroup/{team}")[0] == 404


def test_can_refuse_bad_bodies_and_unknown_ids_writing_nothing(api):
    team = make_team(api)
    status, body = api.json("POST", "/api/teams", {"name": ""})
    assert status == 400 and "name" in body["message"]
    status, body = api.json("POST", "/api/teams", {"name": "x" * 129})
    assert status == 400 and "name" in body["message"]
    status, body = api.json("PUT", f"/api/teams/{team}", {"name": 5})
    assert status == 400 and "name" in body["message"]
    status, body = api.json("POST", f"/api/teams/{team}/members", {"userId": "nobody"})
    assert status == 404 and body == {"message": "user not found"}
    assert api.json("GET", "/api/teams/no-such-team")[1] == {"message": "Team not found"}
    assert api.json("GET", "/api/users/no-such-user")[0] == 404
    assert api.json("GET", f"/api/teams/{team}")[1]["name"] == "Ops"
    assert api.json("GET", "/api/teams/search")[1]["totalCount"] == 2  # Ops and Everyone


def test_can_search_and_read_users_made_in_wazo(api):
    # GIVEN a user made through Wazo (service accounts are not Grafana users)
    status, made = api.json(
        "POST",
        "/api/auth/0.1/users",
        {"username": "carol", "password": "secret-pass-1", "firstname": "Carol", "lastname": "Ng", "email": "c@x.io"},
    )
    assert status == 200, made
    api.json("POST", "/api/serviceaccounts", {"name": "bot"})
    # THEN Grafana finds her by login, email, name and id
    found = api.json("GET", "/api/users?query=carol")[1]
    assert [(u["login"], u["name"], u["email"]) for u in found] == [("carol", "Carol Ng", "c@x.io")]
    assert api.json("GET", "/api/users?query=NG")[1][0]["id"] == made["uuid"]
    assert api.json("GET", "/api/users/lookup?loginOrEmail=c@x.io")[1]["login"] == "carol"
    got = api.json("GET", f"/api/users/{made['uuid']}")[1]
    assert got["orgId"] == api.root and got["isDisabled"] is False and "password_hash" not in got
    assert all(not u["login"].startswith("sa::") for u in api.json("GET", "/api/users")[1])
    # pages: a page past the end is empty (grafana-client stops there)
    assert len(api.json("GET", "/api/users?perpage=1&page=1")[1]) == 1
    assert api.json("GET", "/api/users?perpage=1000&page=2")[1] == []


def test_can_read_the_current_org_and_list_the_visible_ones(api, make_tenant):
    child = make_tenant("client-a")
    current = api.json("GET", "/api/org")[1]
    assert current["id"] == api.root
    listed = api.json("GET", "/api/orgs")[1]
    assert [o["id"] for o in listed] == [api.root, child]
    assert api.json("GET", "/api/orgs/name/client-a")[1]["id"] == child
    assert api.json("GET", "/api/orgs/name/nope")[0] == 404


def test_can_keep_other_tenants_and_unprivileged_callers_out(api, make_tenant, make_user):
    team = make_team(api)
    other = make_user(["#"], tenant=make_tenant("elsewhere"))
    # another tenant's team and user are not found
    assert api.json("GET", f"/api/teams/{team}", token=other.token)[0] == 404
    assert api.json("GET", f"/api/users/{api.admin}", token=other.token)[0] == 404
    assert api.json("GET", "/api/orgs", token=other.token)[1] == [{"id": other.tenant, "name": "elsewhere"}]
    # a caller without user_management is refused
    viewer = make_user(["dashboard.#"])
    for method, path in (("GET", "/api/teams/search"), ("GET", "/api/users"), ("GET", "/api/org")):
        assert api.json(method, path, token=viewer.token)[0] == 403
    assert api.json("DELETE", f"/api/teams/{team}", token=viewer.token)[0] == 403
    assert api.json("GET", f"/api/teams/{team}")[0] == 200
