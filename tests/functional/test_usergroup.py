"""Wavefront user groups over the identity groups: CRUD, users and roles, the grant rule,
concurrent membership edits, tenancy, bad input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from wavefront_api_client import ApiClient

from chalicelib.auth import permissions
from chalicelib.identity import accounts, directory, groups

BOB = "bob@example.com"


def shape(data, klass):
    """Deserialize like the client does (ValueError on a missing required field or bad enum)."""
    return ApiClient()._ApiClient__deserialize(data, klass)


def create_role(api, name, perms):
    status, body = api.json("POST", "/api/v2/role", {"name": name, "permissions": perms})
    assert status == 200, body
    return body["response"]["id"]


def create_group(api, name, role_ids=(), **fields):
    status, body = api.json("POST", "/api/v2/usergroup", {"name": name, "roleIDs": list(role_ids), **fields})
    assert status == 200, body
    return shape(body, "ResponseContainerUserGroupModel").response


def group_count(api):
    """The tenant's groups, its Everyone group included (made with the tenant)."""
    return accounts.repo(api.root, accounts.GROUP).count()


def test_can_create_read_list_update_and_delete_a_user_group(api):
    # GIVEN a role
    role = create_role(api, "ops", ["alerts_management"])
    # WHEN a group is created with it
    group = create_group(api, "Team A", [role], description="first team")
    # THEN it reads back in every shape
    assert (group.name, group.description, group.role_count, group.user_count) == ("Team A", "first team", 1, 0)
    assert [r.permissions for r in group.roles] == [["alerts_management"]]
    status, body = api.json("GET", f"/api/v2/usergroup/{group.id}")
    assert status == 200 and shape(body, "ResponseContainerUserGroupModel").response.name == "Team A"
    status, body = api.json("GET", "/api/v2/usergroup?offset=0&limit=10")
    paged = shape(body, "ResponseContainerPagedUserGroupModel").response
    everyone = accounts.everyone_id(api.root)  # every tenant has it
    assert {g.id for g in paged.items} == {everyone, group.id} and paged.total_items == 2
    # AND an update replaces name and roles
    status, body = api.json("PUT", f"/api/v2/usergroup/{group.id}", {"id": group.id, "name": "Team B", "roleIDs": []})
    updated = shape(body, "ResponseContainerUserGroupModel").response
    assert status == 200 and (updated.name, updated.roles, updated.description) == ("Team B", [], "first team")
    # AND delete answers the group and removes it
    status, body = api.json("DELETE", f"/api/v2/usergroup/{group.id}")
    assert status == 200 and shape(body, "ResponseContainerUserGroupModel").response.name == "Team B"
    assert api.json("GET", f"/api/v2/usergroup/{group.id}")[0] == 404
    assert group_count(api) == 1  # Everyone


def test_can_add_and_remove_users_and_roles_with_effect(api):
    # GIVEN a user and an empty group
    api.json("POST", "/api/v2/account/user", {"emailAddress": BOB})
    group = create_group(api, "team")
    role = create_role(api, "dash", ["dashboard_management"])
    # WHEN the user and a role are added
    status, body = api.json("POST", f"/api/v2/usergroup/{group.id}/addUsers", [BOB])
    assert status == 200 and shape(body, "ResponseContainerUserGroupModel").response.users == [BOB]
    status, body = api.json("POST", f"/api/v2/usergroup/{group.id}/addRoles", [role])
    assert status == 200 and shape(body, "ResponseContainerUserGroupModel").response.role_count == 1
    # THEN the user holds the role's permission through the group (and is in Everyone, which
    # gives nothing in this tenant: conftest.empty_everyone)
    everyone = accounts.everyone_id(api.root)
    account = api.json("GET", f"/api/v2/account/{quote(BOB, safe='')}")[1]["response"]
    assert account["unitedPermissions"] == ["dashboard_management"]
    assert set(account["userGroups"]) == {everyone, group.id}
    # AND removing them takes it away
    status, body = api.json("POST", f"/api/v2/usergroup/{group.id}/removeRoles", [role])
    assert status == 200 and shape(body, "ResponseContainerUserGroupModel").response.roles == []
    status, body = api.json("POST", f"/api/v2/usergroup/{group.id}/removeUsers", [BOB])
    assert status == 200 and shape(body, "ResponseContainerUserGroupModel").response.users == []
    account = api.json("GET", f"/api/v2/account/{quote(BOB, safe='')}")[1]["response"]
    assert account["unitedPermissions"] == [] and account["userGroups"] == [everyone]


def test_can_keep_every_concurrent_member_addition(api):
    # GIVEN one group and eight accounts
    group = groups.create_group(api.root, name="crowd", slug=None, description=None, by="test")
    people = [
        accounts.create_account(api.root, username=f"p{n}@example.com", password=None, by="test").id for n in range(8)
    ]
    # WHEN eight writers each add a different account at the same time
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda uuid: directory.edit_links(api.root, accounts.GROUP, group.id, "users", add=[uuid], by="t"),
                people,
            )
        )
    # THEN every one of them is a member
    status, body = api.json("GET", f"/api/v2/usergroup/{group.id}")
    assert status == 200
    assert sorted(body["response"]["users"]) == sorted(f"p{n}@example.com" for n in range(8))


def test_can_refuse_to_hand_out_a_group_the_caller_does_not_hold(api, make_user):
    # GIVEN a manager holding only the Accounts permission, and a group with an Alerts role
    manager = make_user(permissions.patterns("user_management"))
    api.json("POST", "/api/v2/account/user", {"emailAddress": BOB})
    role = create_role(api, "ops", ["alerts_management"])
    group = create_group(api, "ops", [role])
    empty = create_group(api, "empty")
    # WHEN it adds a user to that group, or the role to a group, or creates a group with it
    attempts = [
        ("POST", f"/api/v2/usergroup/{group.id}/addUsers", [BOB]),
        ("POST", f"/api/v2/usergroup/{empty.id}/addRoles", [role]),
        ("POST", "/api/v2/usergroup", {"name": "sneaky", "roleIDs": [role]}),
        ("PUT", f"/api/v2/usergroup/{empty.id}", {"name": "empty", "roleIDs": [role]}),
    ]
    for method, path, body in attempts:
        status, answer = api.json(method, path, body, token=manager.token)
        # THEN it is refused, and nothing changed
        assert status == 403, (path, answer)
    assert group_count(api) == 3  # ops, empty and Everyone
    assert api.json("GET", f"/api/v2/usergroup/{group.id}")[1]["response"]["users"] == []
    assert api.json("GET", f"/api/v2/usergroup/{empty.id}")[1]["response"]["roles"] == []
    # AND a group without roles is fine
    status, _ = api.json("POST", f"/api/v2/usergroup/{empty.id}/addUsers", [BOB], token=manager.token)
    assert status == 200


def test_can_refuse_bad_input_with_400_and_write_nothing(api):
    group = create_group(api, "team")
    cases = [
        ("POST", "/api/v2/usergroup", None, b"{oops"),
        ("POST", "/api/v2/usergroup", {"roleIDs": []}, None),
        ("POST", "/api/v2/usergroup", {"name": "   ", "roleIDs": []}, None),
        ("POST", "/api/v2/usergroup", {"name": "x", "roleIDs": ["no-such-role"]}, None),
        ("POST", "/api/v2/usergroup", {"name": "x", "roleIDs": "not-a-list"}, None),
        ("PUT", f"/api/v2/usergroup/{group.id}", {"id": "another", "name": "x"}, None),
        ("POST", f"/api/v2/usergroup/{group.id}/addUsers", ["ghost@example.com"], None),
        ("POST", f"/api/v2/usergroup/{group.id}/addUsers", [1, 2], None),
        ("POST", f"/api/v2/usergroup/{group.id}/addRoles", ["no-such-role"], None),
    ]
    for method, path, body, raw in cases:
        status, answer = api.json(method, path, body, raw=raw)
        assert status == 400, (method, path, body, answer)
        assert answer["status"]["code"] == 400
    assert group_count(api) == 2  # team and Everyone
    after = api.json("GET", f"/api/v2/usergroup/{group.id}")[1]["response"]
    assert (after["name"], after["users"], after["roles"]) == ("team", [], [])
    assert api.json("GET", "/api/v2/usergroup/no-such-group")[0] == 404


def test_can_hide_other_tenants_user_groups(api, make_tenant, make_user):
    # GIVEN a group in another tenant
    other = make_tenant("other")
    theirs = groups.create_group(other, name="theirs", slug=None, description=None, by="test")
    boss = make_user(["#"], tenant=other)
    mine = create_group(api, "mine")
    # THEN each side sees only its own
    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "", {"name": "stolen", "roleIDs": []}),
        ("DELETE", "", None),
        ("POST", "/addUsers", ["admin"]),
    ):
        assert api.json(method, f"/api/v2/usergroup/{theirs.id}{suffix}", body)[0] == 404
    # (each tenant has its own Everyone)
    assert {g["id"] for g in api.json("GET", "/api/v2/usergroup")[1]["response"]["items"]} == {
        mine.id,
        accounts.everyone_id(api.root),
    }
    assert {g["id"] for g in api.json("GET", "/api/v2/usergroup", token=boss.token)[1]["response"]["items"]} == {
        theirs.id,
        accounts.everyone_id(other),
    }
    # AND a foreign account cannot be added to one's group
    assert api.json("POST", f"/api/v2/usergroup/{mine.id}/addUsers", [boss.username])[0] == 400
    assert groups.get_group(other, theirs.id).doc["name"] == "theirs"
