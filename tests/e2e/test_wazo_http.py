"""The Wazo auth dialect over plain HTTP against the live server: tokens, tenants, users, policies,
groups, deactivated tenants, expired tokens and the JWKS (CONTRACTS.md §3, §4)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import jwt
import pytest
import requests

from tests.e2e.clients import TIMEOUT, WAZO, login, new_person, new_tenant, ok, unique, wazo

pytestmark = pytest.mark.e2e

SESSION_KEYS = {
    "token",
    "auth_id",
    "acl",
    "expires_at",
    "utc_expires_at",
    "issued_at",
    "utc_issued_at",
    "session_uuid",
    "metadata",
}


def _lifetime(data: dict) -> float:
    """Seconds between the token's issue and expiry, read from its UTC timestamps."""
    issued = datetime.fromisoformat(data["utc_issued_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(data["utc_expires_at"].replace("Z", "+00:00"))
    return (expires - issued).total_seconds()


def _uuids(listing: dict) -> set[str]:
    return {item["uuid"] for item in listing["items"]}


# ---- tokens -------------------------------------------------------------------------------------------


def test_can_issue_a_session_token_with_basic_login_and_an_empty_body(server):
    # GIVEN the admin's credentials
    # WHEN POST /token with Basic and {}
    data = login(server.url, "admin", server.admin_password)

    # THEN the Wazo token answer, valid for the default 7200 seconds
    assert SESSION_KEYS <= set(data)
    assert isinstance(data["acl"], list) and data["acl"]
    assert data["metadata"]["tenant_uuid"]
    assert data["auth_id"]
    assert _lifetime(data) == pytest.approx(7200, abs=1)


def test_can_issue_a_session_token_with_an_expiration(server):
    data = login(server.url, "admin", server.admin_password, expiration=60)

    assert _lifetime(data) == pytest.approx(60, abs=1)


def test_can_refuse_a_bad_login_and_a_bad_expiration(server):
    # GIVEN an unknown user, then the admin asking for an out-of-range expiration
    bad = requests.post(server.url + WAZO + "/token", auth=(unique("nobody"), "x"), json={}, timeout=TIMEOUT)
    too_long = requests.post(
        server.url + WAZO + "/token",
        auth=("admin", server.admin_password),
        json={"expiration": 315360001},
        timeout=TIMEOUT,
    )
    zero = requests.post(
        server.url + WAZO + "/token", auth=("admin", server.admin_password), json={"expiration": 0}, timeout=TIMEOUT
    )

    # THEN 401 for the login, 400 for the expirations, each in the Wazo error shape
    assert bad.status_code == 401
    assert bad.json()["status_code"] == 401
    assert too_long.status_code == 400
    assert zero.status_code == 400
    assert {"error_id", "message", "reason", "status_code"} <= set(too_long.json())


def test_can_validate_check_scope_of_and_revoke_a_token(server, admin_token):
    # GIVEN a user whose ACL is only alert.read
    person = new_person(server.url, admin_token, ["alert.read"])

    # WHEN its token is validated, with and without a scope
    got = wazo(server.url, "GET", f"/token/{person.token}", token=admin_token)
    head = wazo(server.url, "HEAD", f"/token/{person.token}", token=admin_token)
    granted = wazo(server.url, "GET", f"/token/{person.token}", token=admin_token, params={"scope": "alert.read"})
    refused = wazo(server.url, "GET", f"/token/{person.token}", token=admin_token, params={"scope": "dashboard.read"})
    head_refused = wazo(server.url, "HEAD", f"/token/{person.token}", params={"scope": "dashboard.read"})
    unknown = wazo(server.url, "GET", f"/token/{uuid.uuid4()}", token=admin_token)

    # THEN it is valid, a scope it holds passes, one it lacks is 403, an unknown token is 404
    assert ok(got)["data"]["token"] == person.token
    assert ok(got)["data"]["auth_id"] == person.uuid
    assert head.status_code == 204
    assert head.content == b""
    assert granted.status_code == 200
    assert refused.status_code == 403
    assert head_refused.status_code == 403
    assert unknown.status_code == 404

    # WHEN it is revoked
    ok(wazo(server.url, "DELETE", f"/token/{person.token}", token=admin_token), 200, 204)

    # THEN it no longer validates and no longer authenticates
    assert wazo(server.url, "GET", f"/token/{person.token}", token=admin_token).status_code == 404
    assert wazo(server.url, "HEAD", f"/token/{person.token}", token=admin_token).status_code == 404
    used = requests.get(server.url + "/api/v2/alert", headers={"X-AUTH-TOKEN": person.token}, timeout=TIMEOUT)
    assert used.status_code == 401


def test_can_answer_an_expired_token_with_401_and_invalid_token(server):
    # GIVEN a token that lives one second
    data = login(server.url, "admin", server.admin_password, expiration=1)

    # WHEN it is used after it expired (poll: the clock decides, not the test)
    deadline = time.monotonic() + 10
    while True:
        resp = requests.get(server.url + "/api/v2/alert", headers={"X-AUTH-TOKEN": data["token"]}, timeout=TIMEOUT)
        if resp.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.25)

    # THEN 401, with a body and a WWW-Authenticate header that say it expired
    assert resp.status_code == 401
    assert 'error="invalid_token"' in resp.headers.get("WWW-Authenticate", "")
    assert "expired" in resp.headers["WWW-Authenticate"].lower()
    assert "expired" in resp.text.lower()
    # ... and the Wazo token check calls it unknown (404)
    assert wazo(server.url, "GET", f"/token/{data['token']}", token=server.token()).status_code == 404


def test_can_publish_the_jwks_that_verifies_session_tokens(server, admin_token):
    # WHEN the JWKS is fetched without credentials
    resp = requests.get(server.url + "/.well-known/jwks.json", timeout=TIMEOUT)

    # THEN it holds public EC keys only, one of which verifies the admin's token (matched by kid)
    keys = ok(resp)["keys"]
    assert keys
    assert all("d" not in key and key.get("kid") for key in keys)
    kid = jwt.get_unverified_header(admin_token)["kid"]
    jwk = next(key for key in keys if key["kid"] == kid)
    claims = jwt.decode(
        admin_token, jwt.PyJWK(jwk).key, algorithms=[jwk.get("alg", "ES256")], options={"verify_aud": False}
    )
    assert claims["sub"]


# ---- tenants ------------------------------------------------------------------------------------------


def test_can_create_a_child_tenant_and_act_in_it_with_the_wazo_tenant_header(server, admin_token):
    root = login(server.url, "admin", server.admin_password)["metadata"]["tenant_uuid"]

    # GIVEN a child tenant of the admin's tenant
    child = new_tenant(server.url, admin_token)
    assert child["parent_uuid"] == root
    assert {"uuid", "name", "slug", "parent_uuid"} <= set(child)

    # WHEN a user is created with Wazo-Tenant naming the child
    created = ok(
        wazo(
            server.url,
            "POST",
            "/users",
            token=admin_token,
            tenant=child["uuid"],
            json={"username": unique("kid"), "password": "pw-" + uuid.uuid4().hex},
        )
    )

    # THEN the user lives in the child: listed there, not in the admin's own tenant
    assert created["tenant_uuid"] == child["uuid"]
    assert "password" not in created and "password_hash" not in created
    in_child = ok(wazo(server.url, "GET", "/users", token=admin_token, tenant=child["uuid"]))
    in_root = ok(wazo(server.url, "GET", "/users", token=admin_token))
    assert created["uuid"] in _uuids(in_child)
    assert created["uuid"] not in _uuids(in_root)
    assert {"total", "filtered"} <= set(in_child)
    # ... and the tenant is listed and readable by its parent
    assert child["uuid"] in _uuids(ok(wazo(server.url, "GET", "/tenants", token=admin_token)))
    assert ok(wazo(server.url, "GET", f"/tenants/{child['uuid']}", token=admin_token))["name"] == child["name"]


def test_can_refuse_a_sibling_or_an_ancestor_named_in_wazo_tenant(server, admin_token):
    # GIVEN two sibling tenants and a user of the first one who may do anything in it
    first, second = new_tenant(server.url, admin_token), new_tenant(server.url, admin_token)
    person = new_person(server.url, admin_token, ["#"], tenant=first["uuid"])
    root = login(server.url, "admin", server.admin_password)["metadata"]["tenant_uuid"]

    # WHEN it names its sibling, its parent, or its own tenant
    sibling = wazo(server.url, "GET", "/users", token=person.token, tenant=second["uuid"])
    parent = wazo(server.url, "GET", "/users", token=person.token, tenant=root)
    own = wazo(server.url, "GET", "/users", token=person.token, tenant=first["uuid"])

    # THEN the sibling and the ancestor are refused, its own tenant is fine
    assert sibling.status_code == 403
    assert parent.status_code == 403
    assert person.uuid in _uuids(ok(own))
    # ... and a sibling's tenant record is not readable either
    assert wazo(server.url, "GET", f"/tenants/{second['uuid']}", token=person.token).status_code in (403, 404)


def test_can_answer_410_once_a_tenant_is_deactivated(server, admin_token):
    # GIVEN a child tenant with a logged-in user
    child = new_tenant(server.url, admin_token)
    person = new_person(server.url, admin_token, ["#"], tenant=child["uuid"])
    assert requests.get(server.url + "/api/v2/alert", headers={"X-AUTH-TOKEN": person.token}, timeout=TIMEOUT).ok

    # WHEN its parent deactivates it
    ok(
        wazo(
            server.url,
            "PUT",
            f"/tenants/{child['uuid']}",
            token=admin_token,
            json={"name": child["name"], "active": False},
        )
    )

    # THEN the user's token, the user's login and the parent acting in it all answer 410
    used = requests.get(server.url + "/api/v2/alert", headers={"X-AUTH-TOKEN": person.token}, timeout=TIMEOUT)
    assert used.status_code == 410
    assert used.json()["status"]["code"] == 410
    relogin = requests.post(
        server.url + WAZO + "/token", auth=(person.username, person.password), json={}, timeout=TIMEOUT
    )
    assert relogin.status_code == 410
    assert wazo(server.url, "GET", "/users", token=admin_token, tenant=child["uuid"]).status_code == 410


# ---- users, policies, groups ------------------------------------------------------------------------


def test_can_manage_a_policy_and_its_acl_entries(server, admin_token):
    # GIVEN a new policy in a fresh tenant
    child = new_tenant(server.url, admin_token)["uuid"]
    name = unique("policy")
    policy = ok(
        wazo(
            server.url,
            "POST",
            "/policies",
            token=admin_token,
            tenant=child,
            json={"name": name, "description": "e2e", "acl": ["alert.read", "dashboard.*.read"]},
        )
    )
    assert {"uuid", "tenant_uuid", "name", "slug", "description", "acl"} <= set(policy)
    assert policy["acl"] == ["alert.read", "dashboard.*.read"]
    pid = policy["uuid"]

    # WHEN it is listed, read, updated, and ACL entries are added and removed
    assert pid in _uuids(ok(wazo(server.url, "GET", "/policies", token=admin_token, tenant=child)))
    assert ok(wazo(server.url, "GET", f"/policies/{pid}", token=admin_token, tenant=child))["name"] == name
    updated = ok(
        wazo(
            server.url,
            "PUT",
            f"/policies/{pid}",
            token=admin_token,
            tenant=child,
            json={"name": name, "description": "changed", "acl": ["alert.read"]},
        )
    )
    assert updated["description"] == "changed" and updated["acl"] == ["alert.read"]
    # "#" must travel percent-encoded in a path (it would start a fragment)
    ok(wazo(server.url, "PUT", f"/policies/{pid}/acl/event.%23", token=admin_token, tenant=child), 200, 204)
    assert set(ok(wazo(server.url, "GET", f"/policies/{pid}", token=admin_token, tenant=child))["acl"]) == {
        "alert.read",
        "event.#",
    }
    ok(wazo(server.url, "DELETE", f"/policies/{pid}/acl/alert.read", token=admin_token, tenant=child), 200, 204)
    assert ok(wazo(server.url, "GET", f"/policies/{pid}", token=admin_token, tenant=child))["acl"] == ["event.#"]

    # THEN deleting it makes it 404
    ok(wazo(server.url, "DELETE", f"/policies/{pid}", token=admin_token, tenant=child), 200, 204)
    assert wazo(server.url, "GET", f"/policies/{pid}", token=admin_token, tenant=child).status_code == 404


def test_can_refuse_to_grant_an_acl_the_caller_does_not_hold(server, admin_token):
    # GIVEN a user who may manage policies and read alerts, nothing else
    child = new_tenant(server.url, admin_token)["uuid"]
    person = new_person(server.url, admin_token, ["policy.#", "alert.read"], tenant=child)

    # WHEN it creates a policy wider than itself, then one within its own ACL
    wider_name, within_name = unique("wide"), unique("narrow")
    wider = wazo(server.url, "POST", "/policies", token=person.token, json={"name": wider_name, "acl": ["dashboard.#"]})
    within = wazo(
        server.url, "POST", "/policies", token=person.token, json={"name": within_name, "acl": ["alert.read"]}
    )

    # THEN the wider one is refused and nothing is written; the other is created
    assert wider.status_code == 403
    ok(within)
    names = {p["name"] for p in ok(wazo(server.url, "GET", "/policies", token=admin_token, tenant=child))["items"]}
    assert within_name in names
    assert wider_name not in names


def test_can_attach_and_detach_policies_on_a_user(server, admin_token):
    # GIVEN a user with one policy, and a second policy
    person = new_person(server.url, admin_token, ["alert.read"])
    extra = ok(
        wazo(server.url, "POST", "/policies", token=admin_token, json={"name": unique("p"), "acl": ["event.read"]})
    )

    # WHEN the second policy is attached
    ok(wazo(server.url, "PUT", f"/users/{person.uuid}/policies/{extra['uuid']}", token=admin_token), 200, 204)

    # THEN the user's policies list both and a new login carries both ACLs
    attached = _uuids(ok(wazo(server.url, "GET", f"/users/{person.uuid}/policies", token=admin_token)))
    assert attached == {person.policy, extra["uuid"]}
    assert {"alert.read", "event.read"} <= set(login(server.url, person.username, person.password)["acl"])

    # WHEN it is detached
    ok(wazo(server.url, "DELETE", f"/users/{person.uuid}/policies/{extra['uuid']}", token=admin_token), 200, 204)

    # THEN it is gone from the list and from the ACL of a new login
    assert _uuids(ok(wazo(server.url, "GET", f"/users/{person.uuid}/policies", token=admin_token))) == {person.policy}
    assert "event.read" not in login(server.url, person.username, person.password)["acl"]


def test_can_read_update_and_delete_a_user(server, admin_token):
    person = new_person(server.url, admin_token, ["alert.read"])

    got = ok(wazo(server.url, "GET", f"/users/{person.uuid}", token=admin_token))
    assert got["username"] == person.username and "password_hash" not in got
    changed = ok(
        wazo(
            server.url,
            "PUT",
            f"/users/{person.uuid}",
            token=admin_token,
            json={"username": person.username, "firstname": "Changed", "lastname": "Person"},
        )
    )
    assert changed["firstname"] == "Changed"

    ok(wazo(server.url, "DELETE", f"/users/{person.uuid}", token=admin_token), 200, 204)
    assert wazo(server.url, "GET", f"/users/{person.uuid}", token=admin_token).status_code == 404
    gone = requests.post(
        server.url + WAZO + "/token", auth=(person.username, person.password), json={}, timeout=TIMEOUT
    )
    assert gone.status_code == 401


def test_can_give_a_user_the_acl_of_its_groups_policies(server, admin_token):
    # GIVEN a user, a group and a policy
    child = new_tenant(server.url, admin_token)["uuid"]
    person = new_person(server.url, admin_token, ["alert.read"], tenant=child)
    policy = ok(
        wazo(
            server.url,
            "POST",
            "/policies",
            token=admin_token,
            tenant=child,
            json={"name": unique("p"), "acl": ["maintenancewindow.read"]},
        )
    )
    group = ok(wazo(server.url, "POST", "/groups", token=admin_token, tenant=child, json={"name": unique("group")}))
    assert {"uuid", "name", "tenant_uuid"} <= set(group)

    # WHEN the user and the policy join the group
    ok(
        wazo(server.url, "PUT", f"/groups/{group['uuid']}/users/{person.uuid}", token=admin_token, tenant=child),
        200,
        204,
    )
    ok(
        wazo(server.url, "PUT", f"/groups/{group['uuid']}/policies/{policy['uuid']}", token=admin_token, tenant=child),
        200,
        204,
    )

    # THEN the group lists them and the user's next login holds the policy's ACL
    assert person.uuid in _uuids(
        ok(wazo(server.url, "GET", f"/groups/{group['uuid']}/users", token=admin_token, tenant=child))
    )
    assert policy["uuid"] in _uuids(
        ok(wazo(server.url, "GET", f"/groups/{group['uuid']}/policies", token=admin_token, tenant=child))
    )
    assert group["uuid"] in _uuids(ok(wazo(server.url, "GET", "/groups", token=admin_token, tenant=child)))
    assert "maintenancewindow.read" in login(server.url, person.username, person.password)["acl"]

    # WHEN the group is deleted THEN the ACL goes with it
    ok(wazo(server.url, "DELETE", f"/groups/{group['uuid']}", token=admin_token, tenant=child), 200, 204)
    assert wazo(server.url, "GET", f"/groups/{group['uuid']}", token=admin_token, tenant=child).status_code == 404
    assert "maintenancewindow.read" not in login(server.url, person.username, person.password)["acl"]


def test_can_refuse_wazo_calls_without_a_token_in_the_wazo_error_shape(server):
    resp = wazo(server.url, "GET", "/users")

    assert resp.status_code == 401
    body = resp.json()
    assert body["status_code"] == 401
    assert {"error_id", "message", "reason", "details", "timestamp"} <= set(body)
