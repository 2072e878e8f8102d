"""Wazo users: profile, installation-wide unique usernames, passwords, attached policies,
the grant rule, tenant isolation and bad input."""

from __future__ import annotations

import base64

import pytest

from tests.functional.conftest import ADMIN_PASSWORD

W = "/api/auth/0.1"
USER_KEYS = {"uuid", "tenant_uuid", "username", "firstname", "lastname", "purpose", "enabled", "emails"}


def uuids(listing: dict) -> set[str]:
    return {item["uuid"] for item in listing["items"]}


def login(api, username: str, password: str) -> tuple[int, dict]:
    auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    return api.json("POST", f"{W}/token", {}, token="", headers={"Authorization": auth})


def count_users(api, **kw) -> int:
    return api.json("GET", f"{W}/users", **kw)[1]["total"]


def new_user(api, username: str, password: str = "long-enough-1", **fields) -> dict:
    status, user = api.json("POST", f"{W}/users", {"username": username, "password": password, **fields})
    assert status == 200, user
    return user


def new_policy(api, acl: list[str], name: str = "p", **kw) -> dict:
    status, policy = api.json("POST", f"{W}/policies", {"name": name, "acl": acl}, **kw)
    assert status == 200, policy
    return policy


def test_can_create_read_list_update_and_delete_a_user(api):
    # WHEN a user is created with Wazo's fields
    status, user = api.json(
        "POST",
        f"{W}/users",
        {
            "username": "alice",
            "password": "alice-secret-1",
            "email_address": "alice@example.com",
            "firstname": "Alice",
            "lastname": "Liddell",
            "purpose": "user",
        },
    )

    # THEN Wazo's user answer, without any secret
    assert status == 200
    assert set(user) == USER_KEYS
    assert user["tenant_uuid"] == api.root
    (email,) = user["emails"]
    assert email == {"uuid": email["uuid"], "address": "alice@example.com", "main": True, "confirmed": True}
    assert user["enabled"] is True
    assert api.json("GET", f"{W}/users/{user['uuid']}")[1] == user
    listed = api.json("GET", f"{W}/users?search=lidd")[1]
    assert uuids(listed) == {user["uuid"]}
    assert listed["total"] == 2 and listed["filtered"] == 1
    assert "password" not in str(api.json("GET", f"{W}/users")[1])

    # WHEN its profile changes
    status, changed = api.json("PUT", f"{W}/users/{user['uuid']}", {"firstname": "Al", "enabled": False})

    # THEN only the given fields change, and a disabled user cannot log in
    assert status == 200
    assert changed["firstname"] == "Al" and changed["lastname"] == "Liddell" and changed["enabled"] is False
    assert login(api, "alice", "alice-secret-1")[0] == 401

    # WHEN it is deleted THEN it is gone and its username is free again
    assert api.json("DELETE", f"{W}/users/{user['uuid']}")[0] == 204
    assert api.json("GET", f"{W}/users/{user['uuid']}")[0] == 404
    assert new_user(api, "ALICE")["username"] == "ALICE"


def test_can_order_and_page_users(api):
    for name in ("carol", "bob", "dave"):
        new_user(api, name)

    page = api.json("GET", f"{W}/users?order=username&direction=desc&limit=2")[1]
    assert [u["username"] for u in page["items"]] == ["dave", "carol"]
    assert page["total"] == 4
    assert [u["username"] for u in api.json("GET", f"{W}/users?username=bob")[1]["items"]] == ["bob"]


def test_can_refuse_a_username_taken_anywhere_in_any_case(api, make_tenant):
    # GIVEN "Bob" in the root tenant, and another tenant
    new_user(api, "Bob")
    other = make_tenant("other")
    before = count_users(api, headers={"Wazo-Tenant": other})

    # WHEN "bob" is created in the other tenant
    status, error = api.json(
        "POST", f"{W}/users", {"username": "bob", "password": "long-enough-1"}, headers={"Wazo-Tenant": other}
    )

    # THEN 409, nothing written
    assert status == 409
    assert error["status_code"] == 409
    assert count_users(api, headers={"Wazo-Tenant": other}) == before


def test_can_rename_a_user_and_move_its_username(api):
    # GIVEN two users
    first = new_user(api, "first", "first-password")
    new_user(api, "second")

    # WHEN the first is renamed onto the second's name THEN 409 and nothing changes
    assert api.json("PUT", f"{W}/users/{first['uuid']}", {"username": "SECOND"})[0] == 409
    assert api.json("GET", f"{W}/users/{first['uuid']}")[1]["username"] == "first"

    # WHEN it is renamed to a free name
    status, renamed = api.json("PUT", f"{W}/users/{first['uuid']}", {"username": "premier"})

    # THEN it logs in under the new name, and the old name is free
    assert status == 200 and renamed["username"] == "premier"
    assert login(api, "premier", "first-password")[0] == 200
    assert login(api, "first", "first-password")[0] == 401
    new_user(api, "first")


def test_can_change_ones_own_password_only_with_the_old_one(api):
    # GIVEN a user without any ACL, logged in
    user = new_user(api, "carol", "carol-password")
    token = login(api, "carol", "carol-password")[1]["data"]["token"]
    path = f"{W}/users/{user['uuid']}/password"

    # WHEN it changes its password without, then with a wrong, then with the right old one
    missing = api.json("PUT", path, {"new_password": "carol-new-password"}, token=token)
    wrong = api.json("PUT", path, {"old_password": "nope-nope", "new_password": "carol-new-password"}, token=token)
    right = api.json("PUT", path, {"old_password": "carol-password", "new_password": "carol-new-password"}, token=token)

    # THEN 400, 401, then 204; the new password logs in, the old one no longer does
    assert missing[0] == 400
    assert wrong[0] == 401
    assert right[0] == 204
    assert login(api, "carol", "carol-new-password")[0] == 200
    assert login(api, "carol", "carol-password")[0] == 401
    # ... and a password too short is refused
    assert api.json("PUT", path, {"old_password": "carol-new-password", "new_password": "short"}, token=token)[0] == 400


def test_can_change_someone_elses_password_only_with_the_update_acl(api, make_user):
    # GIVEN a user, a bystander without ACL, and the admin
    target = new_user(api, "dave", "dave-password")
    bystander = make_user([])
    path = f"{W}/users/{target['uuid']}/password"
    body = {"old_password": "dave-password", "new_password": "dave-new-password"}

    # WHEN the bystander tries, even knowing the old password, THEN 403
    assert api.json("PUT", path, body, token=bystander.token)[0] == 403
    assert login(api, "dave", "dave-password")[0] == 200

    # WHEN the admin sets it without the old one THEN 204
    assert api.json("PUT", path, {"new_password": "set-by-admin-1"})[0] == 204
    assert login(api, "dave", "set-by-admin-1")[0] == 200


def test_can_attach_and_detach_policies_on_a_user(api):
    # GIVEN a user and a policy
    user = new_user(api, "erin", "erin-password")
    policy = new_policy(api, ["alert.read", "event.read"])

    # WHEN the policy is attached (twice: idempotent)
    first = api.call("PUT", f"{W}/users/{user['uuid']}/policies/{policy['uuid']}")
    again = api.call("PUT", f"{W}/users/{user['uuid']}/policies/{policy['uuid']}")

    # THEN 204 with an empty body, it is listed, and the next login carries its ACL
    assert first.status_code == again.status_code == 204
    assert first.body in (b"", "")
    listed = api.json("GET", f"{W}/users/{user['uuid']}/policies")[1]
    assert uuids(listed) == {policy["uuid"]}
    assert listed["items"][0]["acl"] == ["alert.read", "event.read"]
    assert login(api, "erin", "erin-password")[1]["data"]["acl"] == ["alert.read", "event.read"]

    # WHEN it is detached THEN the list is empty and so is the ACL
    assert api.json("DELETE", f"{W}/users/{user['uuid']}/policies/{policy['uuid']}")[0] == 204
    assert api.json("GET", f"{W}/users/{user['uuid']}/policies")[1]["items"] == []
    assert login(api, "erin", "erin-password")[1]["data"]["acl"] == []
    # ... and unknown users or policies are 404
    assert api.json("PUT", f"{W}/users/{user['uuid']}/policies/nope")[0] == 404
    assert api.json("PUT", f"{W}/users/nope/policies/{policy['uuid']}")[0] == 404


def test_can_refuse_to_attach_a_policy_wider_than_the_caller(api, make_user):
    # GIVEN a user manager holding only user.# and alert.read, a target user and two policies
    manager = make_user(["user.#", "alert.read"])
    target = new_user(api, "frank")
    wide = new_policy(api, ["alert.read", "dashboard.#"], name="wide")
    narrow = new_policy(api, ["alert.read"], name="narrow")

    # WHEN it attaches the wide one THEN 403 naming what it lacks, nothing attached
    status, error = api.json("PUT", f"{W}/users/{target['uuid']}/policies/{wide['uuid']}", token=manager.token)
    assert status == 403
    assert "dashboard.#" in error["message"]
    assert api.json("GET", f"{W}/users/{target['uuid']}/policies")[1]["items"] == []

    # WHEN it attaches the narrow one (even to itself) THEN fine
    assert api.json("PUT", f"{W}/users/{target['uuid']}/policies/{narrow['uuid']}", token=manager.token)[0] == 204
    assert api.json("PUT", f"{W}/users/{manager.uuid}/policies/{narrow['uuid']}", token=manager.token)[0] == 204
    # ... but never the wide one to itself
    assert api.json("PUT", f"{W}/users/{manager.uuid}/policies/{wide['uuid']}", token=manager.token)[0] == 403


def test_can_provision_an_api_user_as_the_quickstart_does(api):
    # GIVEN the quickstart's user, policy (older `acl_templates`) and attachment
    user = new_user(api, "rest-api-test", "password", purpose="external_api")
    status, policy = api.json("POST", f"{W}/policies", {"name": "rest-api", "acl_templates": ["#"]})
    assert status == 200 and policy["acl"] == ["#"]
    assert api.json("PUT", f"{W}/users/{user['uuid']}/policies/{policy['uuid']}")[0] == 204

    # WHEN it logs in with Basic
    status, body = login(api, "rest-api-test", "password")

    # THEN its token carries "#" and its purpose
    assert status == 200
    assert body["data"]["acl"] == ["#"]
    assert body["data"]["metadata"]["purpose"] == "external_api"


def test_can_hide_another_tenants_users(api, make_user, make_tenant):
    # GIVEN a user in one tenant and an all-powerful user of a sibling tenant
    first, second = make_tenant("first"), make_tenant("second")
    hidden = make_user([], tenant=first)
    outsider = make_user(["#"], tenant=second)

    # THEN every route about the hidden user answers 404 to the outsider
    for method, path, body in (
        ("GET", f"{W}/users/{hidden.uuid}", None),
        ("PUT", f"{W}/users/{hidden.uuid}", {"firstname": "x"}),
        ("DELETE", f"{W}/users/{hidden.uuid}", None),
        ("PUT", f"{W}/users/{hidden.uuid}/password", {"new_password": "long-enough-1"}),
        ("GET", f"{W}/users/{hidden.uuid}/policies", None),
    ):
        assert api.json(method, path, body, token=outsider.token)[0] == 404, (method, path)
    assert hidden.uuid not in uuids(api.json("GET", f"{W}/users", token=outsider.token)[1])
    # ... while its parent sees it with Wazo-Tenant, or with recurse
    assert api.json("GET", f"{W}/users/{hidden.uuid}", headers={"Wazo-Tenant": first})[0] == 200
    assert hidden.uuid in uuids(api.json("GET", f"{W}/users?recurse=true")[1])
    assert hidden.uuid not in uuids(api.json("GET", f"{W}/users")[1])


@pytest.mark.parametrize(
    "body",
    [
        {"password": "long-enough-1"},
        {"username": "", "password": "long-enough-1"},
        {"username": "has space", "password": "long-enough-1"},
        {"username": 7, "password": "long-enough-1"},
        {"username": "ok-user", "password": "short"},
        {"username": "ok-user", "password": 12345678},
        {"username": "ok-user", "purpose": "god"},
        {"username": "ok-user", "enabled": "yes"},
        {"username": "ok-user", "email_address": "not-an-email"},
        {"username": "ok-user", "firstname": ["x"]},
        {"username": "ok-user", "uuid": "nope"},
        "ok-user",
    ],
)
def test_can_refuse_a_bad_user_with_400_and_write_nothing(api, body):
    before = count_users(api)

    status, error = api.json("POST", f"{W}/users", body)

    assert status == 400, error
    assert error["status_code"] == 400
    assert count_users(api) == before
    # ... and the username was not reserved
    assert api.json("POST", f"{W}/users", {"username": "ok-user", "password": "long-enough-1"})[0] == 200


def test_can_refuse_bad_changes_and_keep_the_user(api):
    user = new_user(api, "gina")

    for body in ({"enabled": "no"}, {"purpose": "x"}, {"username": "a b"}, {"email": "@"}, [1]):
        assert api.json("PUT", f"{W}/users/{user['uuid']}", body)[0] == 400, body
    assert api.json("GET", f"{W}/users/{user['uuid']}")[1] == user


def test_can_require_the_user_acl(api, make_user):
    reader = make_user(["user.read"])
    target = new_user(api, "hank")

    assert api.json("GET", f"{W}/users", token=reader.token)[0] == 200
    assert api.json("POST", f"{W}/users", {"username": "x1"}, token=reader.token)[0] == 403
    assert api.json("GET", f"{W}/users/{target['uuid']}", token=reader.token)[0] == 403
    assert api.json("DELETE", f"{W}/users/{target['uuid']}", token=reader.token)[0] == 403
    assert login(api, "admin", ADMIN_PASSWORD)[0] == 200
