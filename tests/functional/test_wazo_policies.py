"""Wazo policies: CRUD, single ACL entries, validation, slugs, the grant rule (nobody
hands out ACL it does not hold, nor lifts a negation it could not grant) and isolation."""

from __future__ import annotations

import base64

import pytest

W = "/api/auth/0.1"


def count_policies(api, **kw) -> int:
    return api.json("GET", f"{W}/policies", **kw)[1]["total"]


def new_policy(api, acl: list[str], name: str = "p", **kw) -> dict:
    status, policy = api.json("POST", f"{W}/policies", {"name": name, "acl": acl}, **kw)
    assert status == 200, policy
    return policy


def acl_after_login(api, username: str, password: str) -> list[str]:
    auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    return api.json("POST", f"{W}/token", {}, token="", headers={"Authorization": auth})[1]["data"]["acl"]


def test_can_create_read_update_and_delete_a_policy(api):
    # WHEN a policy is created
    status, policy = api.json(
        "POST",
        f"{W}/policies",
        {"name": "Alert Readers", "description": "read alerts", "acl": ["alert.read", "dashboard.*.read"]},
    )

    # THEN Wazo's policy answer, with a slug derived from the name
    assert status == 200
    assert policy == {
        "uuid": policy["uuid"],
        "tenant_uuid": api.root,
        "name": "Alert Readers",
        "slug": "alert-readers",
        "description": "read alerts",
        "acl": ["alert.read", "dashboard.*.read"],
    }
    pid = policy["uuid"]
    assert api.json("GET", f"{W}/policies/{pid}")[1] == policy
    listed = api.json("GET", f"{W}/policies?search=readers")[1]
    assert [p["uuid"] for p in listed["items"]] == [pid]
    assert listed["total"] == 3  # with the bootstrap admin policy and Everyone's

    # WHEN it is updated (older clients send acl_templates)
    status, changed = api.json(
        "PUT", f"{W}/policies/{pid}", {"description": "changed", "acl_templates": ["alert.read"]}
    )

    # THEN the given fields change, the slug stays
    assert status == 200
    assert changed["description"] == "changed" and changed["acl"] == ["alert.read"]
    assert changed["name"] == "Alert Readers" and changed["slug"] == "alert-readers"

    # WHEN it is deleted THEN it is gone
    assert api.json("DELETE", f"{W}/policies/{pid}")[0] == 204
    assert api.json("GET", f"{W}/policies/{pid}")[0] == 404
    assert api.json("DELETE", f"{W}/policies/{pid}")[0] == 404


def test_can_add_and_remove_single_acl_entries(api):
    pid = new_policy(api, ["alert.read"])["uuid"]

    # WHEN "#" entries travel percent-encoded, twice (idempotent), and one is removed
    assert api.call("PUT", f"{W}/policies/{pid}/acl/event.%23").status_code == 204
    assert api.call("PUT", f"{W}/policies/{pid}/acl/event.%23").status_code == 204
    assert api.call("PUT", f"{W}/policies/{pid}/acl/%21event.secret").status_code == 204
    assert api.json("GET", f"{W}/policies/{pid}")[1]["acl"] == ["alert.read", "event.#", "!event.secret"]
    assert api.call("DELETE", f"{W}/policies/{pid}/acl/alert.read").status_code == 204

    # THEN the ACL holds what was added and not what was removed
    assert api.json("GET", f"{W}/policies/{pid}")[1]["acl"] == ["event.#", "!event.secret"]
    # ... an invalid entry is refused, and an unknown policy is 404
    assert api.json("PUT", f"{W}/policies/{pid}/acl/has%20space")[0] == 400
    assert api.json("PUT", f"{W}/policies/nope/acl/alert.read")[0] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"acl": ["alert.read"]},
        {"name": "", "acl": []},
        {"name": "x", "acl": ["has space"]},
        {"name": "x", "acl": [""]},
        {"name": "x", "acl": ["!"]},
        {"name": "x", "acl": [42]},
        {"name": "x", "acl": "alert.read"},
        {"name": "x", "slug": "no spaces allowed"},
        {"name": "x", "description": 5},
        [],
    ],
)
def test_can_refuse_a_bad_policy_with_400_and_write_nothing(api, body):
    before = count_policies(api)

    status, error = api.json("POST", f"{W}/policies", body)

    assert status == 400, error
    assert error["status_code"] == 400
    assert count_policies(api) == before


def test_can_keep_policy_slugs_unique_in_a_tenant(api, make_tenant):
    assert api.json("POST", f"{W}/policies", {"name": "first", "slug": "ops", "acl": []})[0] == 200
    before = count_policies(api)

    assert api.json("POST", f"{W}/policies", {"name": "second", "slug": "Ops", "acl": []})[0] == 409
    assert count_policies(api) == before
    # ... another tenant may use it; a derived slug that clashes gets a suffix
    other = make_tenant("other")
    assert api.json("POST", f"{W}/policies", {"name": "x", "slug": "ops"}, headers={"Wazo-Tenant": other})[0] == 200
    assert api.json("POST", f"{W}/policies", {"name": "OPS"})[1]["slug"].startswith("ops-")


def test_can_refuse_to_grant_acl_the_caller_does_not_hold(api, make_user):
    # GIVEN a policy manager that may read alerts and nothing else
    manager = make_user(["policy.#", "alert.read"])
    before = count_policies(api)

    # WHEN it creates a policy wider than itself
    status, error = api.json(
        "POST", f"{W}/policies", {"name": "wide", "acl": ["alert.read", "dashboard.#"]}, token=manager.token
    )

    # THEN 403 naming the entry it lacks, and nothing written
    assert status == 403
    assert "dashboard.#" in error["message"] and "alert.read" not in error["message"]
    assert count_policies(api) == before

    # WHEN it stays within its own ACL (a negation only narrows) THEN fine
    status, narrow = api.json(
        "POST", f"{W}/policies", {"name": "ok", "acl": ["alert.read", "!x.y"]}, token=manager.token
    )
    assert status == 200
    pid = narrow["uuid"]
    # ... but it may not widen it later, by PUT or by one entry
    assert api.json("PUT", f"{W}/policies/{pid}", {"acl": ["alert.read", "event.read"]}, token=manager.token)[0] == 403
    assert api.json("PUT", f"{W}/policies/{pid}/acl/event.read", token=manager.token)[0] == 403
    assert api.json("GET", f"{W}/policies/{pid}")[1]["acl"] == ["alert.read", "!x.y"]
    # ... nor lift a negation it could not grant
    assert api.json("DELETE", f"{W}/policies/{pid}/acl/%21x.y", token=manager.token)[0] == 403
    assert api.json("PUT", f"{W}/policies/{pid}", {"acl": ["alert.read"]}, token=manager.token)[0] == 403
    # ... while narrowing is always fine
    assert api.json("DELETE", f"{W}/policies/{pid}/acl/alert.read", token=manager.token)[0] == 204


def test_can_take_a_deleted_policys_acl_away_from_its_holders(api, make_user):
    # GIVEN a user holding a policy
    status, user = api.json("POST", f"{W}/users", {"username": "ivy", "password": "ivy-password"})
    policy = new_policy(api, ["event.read"])
    assert api.json("PUT", f"{W}/users/{user['uuid']}/policies/{policy['uuid']}")[0] == 204
    assert acl_after_login(api, "ivy", "ivy-password") == ["event.read"]

    # WHEN the policy is deleted
    assert api.json("DELETE", f"{W}/policies/{policy['uuid']}")[0] == 204

    # THEN the user no longer has it, nor its ACL
    assert api.json("GET", f"{W}/users/{user['uuid']}/policies")[1]["items"] == []
    assert acl_after_login(api, "ivy", "ivy-password") == []


def test_can_hide_another_tenants_policies(api, make_user, make_tenant):
    first, second = make_tenant("first"), make_tenant("second")
    hidden = new_policy(api, ["alert.read"], headers={"Wazo-Tenant": first})
    outsider = make_user(["#"], tenant=second)
    pid = hidden["uuid"]

    for method, path, body in (
        ("GET", f"{W}/policies/{pid}", None),
        ("PUT", f"{W}/policies/{pid}", {"name": "x"}),
        ("DELETE", f"{W}/policies/{pid}", None),
        ("PUT", f"{W}/policies/{pid}/acl/x.y", None),
        ("DELETE", f"{W}/policies/{pid}/acl/alert.read", None),
    ):
        assert api.json(method, path, body, token=outsider.token)[0] == 404, (method, path)
    # (its own tenant's policies: only Everyone's)
    listed = api.json("GET", f"{W}/policies", token=outsider.token)[1]["items"]
    assert [p["tenant_uuid"] for p in listed] == [second] and [p["name"] for p in listed] == ["Everyone"]
    assert api.json("GET", f"{W}/policies/{pid}", headers={"Wazo-Tenant": first})[1]["acl"] == ["alert.read"]


def test_can_require_the_policy_acl(api, make_user):
    reader = make_user(["policy.read"])
    pid = new_policy(api, ["alert.read"])["uuid"]

    assert api.json("GET", f"{W}/policies/{pid}", token=reader.token)[0] == 403
    assert api.json("GET", f"{W}/policies", token=reader.token)[0] == 200
    assert api.json("POST", f"{W}/policies", {"name": "x"}, token=reader.token)[0] == 403
    assert api.json("PUT", f"{W}/policies/{pid}/acl/alert.read", token=reader.token)[0] == 403
