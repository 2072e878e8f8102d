"""Wazo session tokens: Basic login, expiration, validation with scope, revocation,
expiry, login throttling, and the JWKS across a key rotation (CONTRACTS.md §3)."""

from __future__ import annotations

import base64
from datetime import datetime

import jwt
import pytest

from tests.functional.conftest import ADMIN_PASSWORD, mint

W = "/api/auth/0.1"
DATA_KEYS = {
    "token",
    "auth_id",
    "acl",
    "expires_at",
    "utc_expires_at",
    "issued_at",
    "utc_issued_at",
    "session_uuid",
    "metadata",
    "user_agent",
    "remote_addr",
}


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def login(api, username: str, password: str, body=None, headers=None):
    """POST /token with Basic credentials: (status, json)."""
    return api.json(
        "POST",
        f"{W}/token",
        {} if body is None else body,
        token="",
        headers={**basic(username, password), **(headers or {})},
    )


def lifetime(data: dict) -> float:
    issued = datetime.fromisoformat(data["utc_issued_at"])
    expires = datetime.fromisoformat(data["utc_expires_at"])
    return (expires - issued).total_seconds()


def test_can_issue_a_token_with_basic_login_and_an_empty_body(api):
    # WHEN the admin logs in with Basic and {}
    status, body = login(api, "admin", ADMIN_PASSWORD)

    # THEN wazo-auth's answer: the session, valid for the default 7200 s, carrying the ACL
    assert status == 200
    data = body["data"]
    assert DATA_KEYS <= set(data)
    assert data["auth_id"] == api.admin
    assert data["acl"] == ["#"]
    assert data["metadata"] == {
        "uuid": api.admin,
        "tenant_uuid": api.root,
        "auth_id": api.admin,
        "pbx_user_uuid": None,
        "purpose": "user",
    }
    assert lifetime(data) == 7200
    # ISO 8601 with microseconds, as wazo-auth writes them
    for key in ("issued_at", "expires_at", "utc_issued_at", "utc_expires_at"):
        assert datetime.strptime(data[key], "%Y-%m-%dT%H:%M:%S.%f")
    # ... and the token works as X-Auth-Token
    status, _ = api.json("GET", f"{W}/users", token="", headers={"X-Auth-Token": data["token"]})
    assert status == 200


def test_can_issue_a_token_for_the_asked_expiration(api):
    status, body = login(api, "admin", ADMIN_PASSWORD, {"expiration": 60})

    assert status == 200
    assert lifetime(body["data"]) == 60


@pytest.mark.parametrize("expiration", [0, -1, 315360001, "3600", True, 1.5, None])
def test_can_refuse_a_bad_expiration_with_400(api, expiration):
    body = {"expiration": expiration} if expiration is not None else None
    raw = "" if body is None else None

    # WHEN the expiration is out of range or not an integer (or the body is missing)
    resp = api.call("POST", f"{W}/token", body, token="", headers=basic("admin", ADMIN_PASSWORD), raw=raw)

    # THEN 400 in Wazo's error shape
    assert resp.status_code == 400
    error = resp.json_body
    assert {"error_id", "message", "reason", "status_code", "details", "timestamp"} <= set(error)
    assert error["status_code"] == 400


def test_can_refuse_wrong_credentials_with_401(api, make_user):
    user = make_user(["alert.read"])

    wrong = login(api, user.username, "not-the-password")
    unknown = login(api, "nobody-at-all", "whatever-password")
    bearer = api.json("POST", f"{W}/token", {}, token=user.token)

    assert wrong[0] == 401
    assert unknown[0] == 401
    assert bearer[0] == 401
    assert wrong[1]["status_code"] == 401


def test_can_throttle_a_user_after_repeated_login_failures(api, make_user):
    # GIVEN a user whose password was guessed wrong five times
    user = make_user(["alert.read"])
    for _ in range(5):
        assert login(api, user.username, "wrong-guess")[0] == 401

    # WHEN even the right password is tried
    resp = api.call("POST", f"{W}/token", {}, token="", headers=basic(user.username, user.password))

    # THEN 429 with Retry-After and the throttled body every client of a 429 reads (bare here:
    # no other dialect's fields)
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.json_body == {"error": "throttled", "error_description": "Too Many Requests"}
    # ... while other users log in normally
    assert login(api, "admin", ADMIN_PASSWORD)[0] == 200


def test_can_validate_a_token_and_check_a_scope(api, make_user):
    # GIVEN a user holding alert.read, logged in
    user = make_user(["alert.read"])
    token = login(api, user.username, user.password)[1]["data"]["token"]

    # WHEN its token is checked without a scope, with one it holds and with one it lacks
    status, body = api.json("GET", f"{W}/token/{token}", token="")
    granted = api.json("GET", f"{W}/token/{token}?scope=alert.read", token="")
    refused = api.json("GET", f"{W}/token/{token}?scope=dashboard.read", token="")
    head = api.call("HEAD", f"{W}/token/{token}", token="")
    head_refused = api.call("HEAD", f"{W}/token/{token}?scope=dashboard.read", token="")

    # THEN valid (same shape as the login answer), 403 for the missing scope, HEAD 204
    assert status == 200
    assert DATA_KEYS <= set(body["data"])
    assert body["data"]["token"] == token
    assert body["data"]["auth_id"] == user.uuid
    assert body["data"]["acl"] == ["alert.read"]
    assert granted[0] == 200
    assert refused[0] == 403
    assert head.status_code == 204
    assert head.body in (b"", "")
    assert head_refused.status_code == 403


def test_can_answer_404_for_unknown_and_tampered_tokens(api):
    tampered = api.token[:-6] + ("AAAAAA" if not api.token.endswith("AAAAAA") else "BBBBBB")

    for token in ("not-a-token", "00000000-0000-4000-8000-000000000000", tampered):
        assert api.json("GET", f"{W}/token/{token}", token="")[0] == 404
        assert api.call("HEAD", f"{W}/token/{token}", token="").status_code == 404


def test_can_refuse_a_tenant_the_token_cannot_reach(api, make_user, make_tenant):
    # GIVEN a user of one tenant and a sibling tenant
    first, second = make_tenant("first"), make_tenant("second")
    user = make_user(["#"], tenant=first)

    # WHEN its token is checked against its own tenant and against the sibling
    own = api.json("GET", f"{W}/token/{user.token}?tenant={first}", token="")
    sibling = api.json("GET", f"{W}/token/{user.token}?tenant={second}", token="")

    # THEN only the sibling is refused
    assert own[0] == 200
    assert sibling[0] == 403


def test_can_revoke_a_token(api, make_user):
    # GIVEN a logged-in user
    user = make_user(["user.read"])
    token = login(api, user.username, user.password)[1]["data"]["token"]
    assert api.json("GET", f"{W}/users", token=token)[0] == 200

    # WHEN its token is revoked
    status, body = api.json("DELETE", f"{W}/token/{token}", token="")

    # THEN it is unknown to the check and refused everywhere
    assert status == 200
    assert body == {"data": {"message": "success"}}
    assert api.json("GET", f"{W}/token/{token}", token="")[0] == 404
    assert api.json("GET", f"{W}/users", token=token)[0] == 401
    # ... and the other sessions of the user are untouched
    assert api.json("GET", f"{W}/users", token=user.token)[0] == 200


def test_can_treat_an_expired_token_as_unknown_and_say_it_expired(api):
    # GIVEN a token that expired ten seconds ago
    expired = mint(api.admin, api.root, ttl=-10)

    # WHEN it is checked, and used on a protected route
    checked = api.json("GET", f"{W}/token/{expired}", token="")
    used = api.call("GET", f"{W}/users", token=expired)

    # THEN 404 for the check, 401 saying it expired for the use
    assert checked[0] == 404
    assert used.status_code == 401
    assert 'error="invalid_token"' in used.headers["WWW-Authenticate"]
    assert "expired" in used.headers["WWW-Authenticate"]
    assert "expired" in used.json_body["message"].lower()
    # ... and revoking it is a harmless success
    assert api.json("DELETE", f"{W}/token/{expired}", token="")[0] == 200


def test_can_refuse_a_login_naming_a_tenant_out_of_reach(api, make_user, make_tenant):
    # GIVEN a user of one tenant, a sibling tenant and a child of its own tenant
    first, second = make_tenant("first"), make_tenant("second")
    child = make_tenant("child", parent=first)
    user = make_user(["#"], tenant=first)

    # WHEN it logs in naming the sibling, the root, and its child
    sibling = login(api, user.username, user.password, headers={"Wazo-Tenant": second})
    ancestor = login(api, user.username, user.password, headers={"Wazo-Tenant": api.root})
    below = login(api, user.username, user.password, headers={"Wazo-Tenant": child})

    # THEN the sibling and the ancestor are refused; the child is fine
    assert sibling[0] == 403
    assert ancestor[0] == 403
    assert below[0] == 200
    assert below[1]["data"]["metadata"]["tenant_uuid"] == first


def test_can_publish_the_jwks_and_keep_tokens_valid_across_a_rotation(api):
    from chalicelib.auth import keys

    # GIVEN the JWKS and a token signed before the rotation
    before = login(api, "admin", ADMIN_PASSWORD)[1]["data"]["token"]
    resp = api.call("GET", "/.well-known/jwks.json", token="")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    old_kid = jwt.get_unverified_header(before)["kid"]
    assert old_kid in {k["kid"] for k in resp.json_body["keys"]}
    assert all("d" not in k for k in resp.json_body["keys"])

    # WHEN the signing key rotates
    new_key = keys.rotate()
    after = login(api, "admin", ADMIN_PASSWORD)[1]["data"]["token"]

    # THEN new tokens carry the new kid, the old token still validates and works,
    # and the JWKS publishes both keys, each verifying its own token
    assert jwt.get_unverified_header(after)["kid"] == new_key.kid
    assert api.json("GET", f"{W}/token/{before}", token="")[0] == 200
    assert api.json("GET", f"{W}/users", token=before)[0] == 200
    published = {k["kid"]: k for k in api.call("GET", "/.well-known/jwks.json", token="").json_body["keys"]}
    assert {old_kid, new_key.kid} <= set(published)
    for token in (before, after):
        jwk = published[jwt.get_unverified_header(token)["kid"]]
        claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["ES256"], issuer="opsplane")
        assert claims["sub"] == api.admin
