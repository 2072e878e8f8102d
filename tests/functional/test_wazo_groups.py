"""Wazo groups: CRUD, members and policies (members hold the group's ACL), the grant
rule on joining, isolation and bad input."""

from __future__ import annotations

import base64

import pytest

W = "/api/auth/0.1"


def uuids(listing: dict) -> set[str]:
    return {item["uuid"] for item in listing["items"]}


def acl_after_login(api, username: str, password: str) -> list[str]:
    auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    return api.json("POST", f"{W}/token", {}, token="", headers={"Authorization": auth})[1]["data"]["acl"]


def count_groups(api) -> int:
    return api.json("GET", f"{W}/groups")[1]["total"]


def new_group(api, name: str = "ops", **kw) -> dict:
    status, group = api.json("POST", f"{W}/groups", {"name": name}, **kw)
    assert status == 200, group
    return group


def test_can_give_members_the_acl_of_the_groups_policies(api, make_user):
    # GIVEN a user, a policy and a group
    user = make_user([], username="june")
    status, policy = api.json("POST", f"{W}/policies", {"name": "mw", "acl": ["maintenancewindow.read"]})
    status, group = api.json("POST", f"{W}/groups", {"name": "On Call", "description": "pager"})
    assert status == 200
    assert group == {
        "uuid": group["uuid"],
        "tenant_uuid": api.root,
        "name": "On Call",
        "slug": "on-call",
        "description": "pager",
    }
    gid = group["uuid"]

    # WHEN the user and the policy join the group
    assert api.call("PUT", f"{W}/groups/{gid}/users/{user.uuid}").status_code == 204
    assert api.call("PUT", f"{W}/groups/{gid}/policies/{policy['uuid']}").status_code == 204

    # THEN the group lists them, and the user's login holds the policy's ACL
    assert uuids(api.json("GET", f"{W}/groups/{gid}/users")[1]) == {user.uuid}
    assert uuids(api.json("GET", f"{W}/groups/{gid}/policies")[1]) == {policy["uuid"]}
    assert acl_after_login(api, "june", user.password) == ["maintenancewindow.read"]

    # WHEN the user leaves THEN the ACL goes with it
    assert api.call("DELETE", f"{W}/groups/{gid}/users/{user.uuid}").status_code == 204
    assert api.json("GET", f"{W}/groups/{gid}/users")[1]["items"] == []
    assert acl_after_login(api, "june", user.password) == []

    # WHEN the user rejoins and the group loses the policy THEN the ACL goes too
    assert api.call("PUT", f"{W}/groups/{gid}/users/{user.uuid}").status_code == 204
    assert api.call("DELETE", f"{W}/groups/{gid}/policies/{policy['uuid']}").status_code == 204
    assert acl_after_login(api, "june", user.password) == []


def test_can_read_update_list_and_delete_a_group(api, make_user):
    user = make_user([], username="kim")
    policy = api.json("POST", f"{W}/policies", {"name": "ev", "acl": ["event.read"]})[1]
    group = new_group(api, "alpha")
    new_group(api, "beta")
    gid = group["uuid"]
    api.call("PUT", f"{W}/groups/{gid}/users/{user.uuid}")
    api.call("PUT", f"{W}/groups/{gid}/policies/{policy['uuid']}")

    assert api.json("GET", f"{W}/groups/{gid}")[1] == group
    assert [g["name"] for g in api.json("GET", f"{W}/groups?order=name&direction=desc")[1]["items"]] == [
        "Everyone",  # every tenant's (names order without case)
        "beta",
        "alpha",
    ]
    status, changed = api.json("PUT", f"{W}/groups/{gid}", {"name": "alpha2", "description": "d"})
    assert status == 200 and changed["name"] == "alpha2" and changed["slug"] == "alpha"
    assert acl_after_login(api, "kim", user.password) == ["event.read"]

    # WHEN the group is deleted THEN it is gone and its members lose its ACL
    assert api.json("DELETE", f"{W}/groups/{gid}")[0] == 204
    assert api.json("GET", f"{W}/groups/{gid}")[0] == 404
    assert acl_after_login(api, "kim", user.password) == []


def test_can_refuse_to_join_a_group_wider_than_the_caller(api, make_user):
    # GIVEN a group holding dashboard.#, and a group manager holding only group.#
    policy = api.json("POST", f"{W}/policies", {"name": "dash", "acl": ["dashboard.#"]})[1]
    group = new_group(api, "dash")
    assert api.call("PUT", f"{W}/groups/{group['uuid']}/policies/{policy['uuid']}").status_code == 204
    manager = make_user(["group.#", "user.read"])

    # WHEN the manager adds itself THEN 403, and it is not a member
    status, error = api.json("PUT", f"{W}/groups/{group['uuid']}/users/{manager.uuid}", token=manager.token)
    assert status == 403
    assert "dashboard.#" in error["message"]
    assert api.json("GET", f"{W}/groups/{group['uuid']}/users")[1]["items"] == []
    # ... nor may it give a group a policy wider than itself
    empty = new_group(api, "empty")
    status, _ = api.json("PUT", f"{W}/groups/{empty['uuid']}/policies/{policy['uuid']}", token=manager.token)
    assert status == 403
    assert api.json("GET", f"{W}/groups/{empty['uuid']}/policies")[1]["items"] == []
    # ... but joining a group with nothing to hand out is fine
    assert api.json("PUT", f"{W}/groups/{empty['uuid']}/users/{manager.uuid}", token=manager.token)[0] == 204


def test_can_refuse_unknown_members_and_policies(api, make_user, make_tenant):
    group = new_group(api)
    stranger = make_user([], tenant=make_tenant("other"))

    assert api.json("PUT", f"{W}/groups/{group['uuid']}/users/nope")[0] == 404
    assert api.json("PUT", f"{W}/groups/{group['uuid']}/users/{stranger.uuid}")[0] == 404
    assert api.json("PUT", f"{W}/groups/{group['uuid']}/policies/nope")[0] == 404
    assert api.json("PUT", f"{W}/groups/nope/users/{stranger.uuid}")[0] == 404
    assert api.json("GET", f"{W}/groups/{group['uuid']}/users")[1]["items"] == []


def test_can_hide_another_tenants_groups(api, make_user, make_tenant):
    first, second = make_tenant("first"), make_tenant("second")
    hidden = new_group(api, "hidden", headers={"Wazo-Tenant": first})
    outsider = make_user(["#"], tenant=second)
    gid = hidden["uuid"]

    for method, path, body in (
        ("GET", f"{W}/groups/{gid}", None),
        ("PUT", f"{W}/groups/{gid}", {"name": "x"}),
        ("DELETE", f"{W}/groups/{gid}", None),
        ("GET", f"{W}/groups/{gid}/users", None),
        ("GET", f"{W}/groups/{gid}/policies", None),
        ("PUT", f"{W}/groups/{gid}/users/{outsider.uuid}", None),
    ):
        assert api.json(method, path, body, token=outsider.token)[0] == 404, (method, path)
    assert api.json("GET", f"{W}/groups/{gid}", headers={"Wazo-Tenant": first})[1]["name"] == "hidden"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": None},
        {"name": 1},
        {"name": "x", "slug": "a b"},
        {"name": "x", "description": []},
        [1],
    ],
)
def test_can_refuse_a_bad_group_with_400_and_write_nothing(api, body):
    before = count_groups(api)

    status, error = api.json("POST", f"{W}/groups", body)

    assert status == 400, error
    assert error["status_code"] == 400
    assert count_groups(api) == before


def test_can_keep_group_slugs_unique_in_a_tenant(api):
    assert api.json("POST", f"{W}/groups", {"name": "a", "slug": "team"})[0] == 200
    before = count_groups(api)

    assert api.json("POST", f"{W}/groups", {"name": "b", "slug": "TEAM"})[0] == 409
    assert count_groups(api) == before


def test_can_require_the_group_acl(api, make_user):
    reader = make_user(["group.read"])
    group = new_group(api)

    assert api.json("GET", f"{W}/groups", token=reader.token)[0] == 200
    assert api.json("GET", f"{W}/groups/{group['uuid']}", token=reader.token)[0] == 403
    assert api.json("POST", f"{W}/groups", {"name": "x"}, token=reader.token)[0] == 403
    assert api.json("PUT", f"{W}/groups/{group['uuid']}/users/{reader.uuid}", token=reader.token)[0] == 403
