"""Wazo sessions and refresh tokens (access_type offline, a token by refresh token, list and
delete), status, backends, self-registration and GET /api's list of the dialects."""

from __future__ import annotations

import pytest

from tests.functional.conftest import ADMIN_PASSWORD
from tests.functional.test_wazo_tokens import W, basic, login

OFFLINE = {"access_type": "offline", "client_id": "my-app"}


def by_refresh(api, refresh_token: str, client_id: str = "my-app", **extra):
    return api.json("POST", f"{W}/token", {"refresh_token": refresh_token, "client_id": client_id, **extra}, token="")


def test_can_log_in_offline_and_get_tokens_by_refresh_token(api):
    # WHEN a user logs in with access_type offline THEN the answer carries a refresh token
    status, body = login(api, "admin", ADMIN_PASSWORD, OFFLINE)
    assert status == 200, body
    refresh = body["data"]["refresh_token"]
    assert refresh
    # AND that refresh token, with its client id, gets new session tokens without a password
    status, again = by_refresh(api, refresh)
    assert status == 200, again
    token = again["data"]["token"]
    assert again["data"]["auth_id"] == api.admin and "refresh_token" not in again["data"]
    assert api.call("HEAD", f"{W}/token/{token}", token="").status_code == 204
    # AND a wrong client id or an unknown refresh token is a 401
    assert by_refresh(api, refresh, "other-app")[0] == 401
    assert by_refresh(api, "nope")[0] == 401


def test_can_replace_a_clients_refresh_token_with_a_new_one(api):
    first = login(api, "admin", ADMIN_PASSWORD, OFFLINE)[1]["data"]["refresh_token"]
    second = login(api, "admin", ADMIN_PASSWORD, OFFLINE)[1]["data"]["refresh_token"]
    assert by_refresh(api, first)[0] == 401
    assert by_refresh(api, second)[0] == 200
    status, listed = api.json("GET", f"{W}/users/{api.admin}/tokens")
    assert status == 200 and listed["total"] == 1 and listed["items"][0]["client_id"] == "my-app"


@pytest.mark.parametrize(
    "body",
    [
        {"access_type": "offline"},
        {"refresh_token": "x"},
        {"access_type": "offline", "client_id": "a", "refresh_token": "x"},
        {"access_type": "sometimes", "client_id": "a"},
        {"backend": "ldap_user"},
        {"client_id": "x" * 1025, "access_type": "offline"},
    ],
)
def test_can_refuse_wazos_bad_token_requests(api, body):
    status, answer = login(api, "admin", ADMIN_PASSWORD, body)
    assert status == 400, answer
    assert api.json("GET", f"{W}/tokens")[1]["total"] == 0


def test_can_list_and_delete_a_users_refresh_tokens(api, make_user):
    user = make_user([])
    refresh = login(api, user.username, user.password, OFFLINE)[1]["data"]["refresh_token"]
    login(
        api,
        user.username,
        user.password,
        {"access_type": "offline", "client_id": "phone"},
        headers={"Wazo-Session-Type": "mobile"},
    )
    # A user lists its own without any ACL
    status, mine = api.json("GET", f"{W}/users/{user.uuid}/tokens", token=user.token)
    assert status == 200 and sorted(t["client_id"] for t in mine["items"]) == ["my-app", "phone"]
    assert {t["client_id"]: t["mobile"] for t in mine["items"]} == {"my-app": False, "phone": True}
    assert all(
        set(t) >= {"client_id", "created_at", "user_uuid", "tenant_uuid"} and "digest" not in t for t in mine["items"]
    )
    # The tenant-wide list needs session.read
    assert api.json("GET", f"{W}/tokens", token=user.token)[0] == 403
    assert api.json("GET", f"{W}/tokens")[1]["total"] == 2
    # Deleting one stops it; deleting it again is a 404
    assert api.call("DELETE", f"{W}/users/{user.uuid}/tokens/my-app", token=user.token).status_code == 204
    assert by_refresh(api, refresh)[0] == 401
    assert api.call("DELETE", f"{W}/users/{user.uuid}/tokens/my-app", token=user.token).status_code == 404
    # Someone else's need the ACL
    other = make_user([])
    assert api.json("GET", f"{W}/users/{user.uuid}/tokens", token=other.token)[0] == 403
    assert api.call("DELETE", f"{W}/users/{user.uuid}/tokens/phone", token=other.token).status_code == 403


def test_can_list_and_end_sessions(api, make_user):
    user = make_user([])
    status, first = login(api, user.username, user.password, headers={"User-Agent": "quickstart"})
    token, session = first["data"]["token"], first["data"]["session_uuid"]
    login(api, user.username, user.password)
    # WHEN the user lists its sessions THEN both are there, without their tokens
    status, mine = api.json("GET", f"{W}/users/{user.uuid}/sessions", token=token)
    assert status == 200 and mine["total"] == 2
    one = next(s for s in mine["items"] if s["uuid"] == session)
    assert one == {
        "uuid": session,
        "user_uuid": user.uuid,
        "tenant_uuid": api.root,
        "mobile": False,
        "user_agent": "quickstart",
        "created_at": one["created_at"],
        "expires_at": one["expires_at"],
        "refresh_token_client_id": None,
    }
    assert token not in str(mine)
    # AND the admin sees them in the tenant's list
    status, every = api.json("GET", f"{W}/sessions")
    assert status == 200 and {session} <= {s["uuid"] for s in every["items"]}
    assert api.json("GET", f"{W}/sessions", token=token)[0] == 403
    # WHEN the user ends a session THEN its token stops working at once
    assert api.call("DELETE", f"{W}/users/{user.uuid}/sessions/{session}", token=user.token).status_code == 204
    assert api.call("HEAD", f"{W}/token/{token}", token="").status_code == 404
    assert api.json("GET", f"{W}/users/{user.uuid}/sessions", token=user.token)[1]["total"] == 1
    assert api.call("DELETE", f"{W}/users/{user.uuid}/sessions/{session}", token=user.token).status_code == 404


def test_can_end_a_session_tenant_wide_and_by_revoking_its_token(api, make_user, make_tenant):
    user = make_user([])
    data = login(api, user.username, user.password)[1]["data"]
    assert api.call("DELETE", f"{W}/sessions/{data['session_uuid']}").status_code == 204
    assert api.call("HEAD", f"{W}/token/{data['token']}", token="").status_code == 404
    # Revoking a token takes its session off the list
    data = login(api, user.username, user.password)[1]["data"]
    assert api.json("DELETE", f"{W}/token/{data['token']}", token="")[0] == 200
    assert api.json("GET", f"{W}/users/{user.uuid}/sessions")[1]["total"] == 0
    # Another tenant's admin cannot see or end the root's sessions
    data = login(api, user.username, user.password)[1]["data"]
    elsewhere = make_user(["#"], tenant=make_tenant("elsewhere"))
    assert api.json("GET", f"{W}/sessions", token=elsewhere.token)[1]["total"] == 0
    assert api.call("DELETE", f"{W}/sessions/{data['session_uuid']}", token=elsewhere.token).status_code == 404


def test_can_mark_sessions_made_by_refresh_token(api):
    refresh = login(api, "admin", ADMIN_PASSWORD, OFFLINE)[1]["data"]["refresh_token"]
    session = by_refresh(api, refresh)[1]["data"]["session_uuid"]
    found = api.json("GET", f"{W}/sessions")[1]["items"]
    assert next(s for s in found if s["uuid"] == session)["refresh_token_client_id"] == "my-app"


def test_can_refuse_a_refresh_token_of_a_disabled_user(api, make_user):
    user = make_user([])
    refresh = login(api, user.username, user.password, OFFLINE)[1]["data"]["refresh_token"]
    assert api.json("PUT", f"{W}/users/{user.uuid}", {"enabled": False})[0] == 200
    assert by_refresh(api, refresh)[0] == 401


def test_can_answer_status_and_backends_without_credentials(api):
    status, body = api.json("GET", f"{W}/status", token="")
    assert status == 200 and body == {"rest_api": {"status": "ok"}, "store": {"status": "ok"}}
    assert api.call("HEAD", f"{W}/status", token="").status_code == 200
    assert api.json("GET", f"{W}/backends", token="") == (200, {"data": ["wazo_user"]})


@pytest.fixture
def registration(api, monkeypatch):
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("OPSPLANE_REGISTRATION_TENANT", api.root)
    reset_settings()
    yield
    monkeypatch.delenv("OPSPLANE_REGISTRATION_TENANT")
    reset_settings()


REGISTRATION = {"username": "newcomer", "password": "newcomer-password-1", "email_address": "new@example.com"}


def test_can_refuse_registration_unless_a_tenant_is_named_for_it(api):
    status, body = api.json("POST", f"{W}/users/register", REGISTRATION, token="")
    assert status == 404 and "registration" in body["message"]
    assert "newcomer" not in str(api.json("GET", f"{W}/users")[1])


def test_can_register_a_user_with_no_acl(api, registration):
    status, user = api.json("POST", f"{W}/users/register", REGISTRATION, token="")
    assert status == 200, user
    assert user["username"] == "newcomer" and user["tenant_uuid"] == api.root
    assert user["emails"][0]["address"] == "new@example.com"
    status, data = login(api, "newcomer", REGISTRATION["password"])
    assert status == 200 and data["data"]["acl"] == []
    # The same username again is a 409, a bad e-mail a 400 naming it
    assert api.json("POST", f"{W}/users/register", REGISTRATION, token="")[0] == 409
    status, body = api.json(
        "POST", f"{W}/users/register", {**REGISTRATION, "username": "x2", "email_address": "nope"}, token=""
    )
    assert status == 400 and "mail" in body["message"]
    assert api.json("POST", f"{W}/users/register", {"username": "x3"}, token="")[0] == 400


def test_can_list_the_dialects_and_their_documents(api):
    status, body = api.json("GET", "/api", token="")
    assert status == 200
    by_dialect = {a["dialect"]: a for a in body["apis"]}
    assert {"native", "wazo", "grafana", "clover", "oauth"} <= set(by_dialect)
    assert by_dialect["wazo"]["prefix"] == "/api/auth/0.1" and "wazo" in by_dialect["wazo"]["tags"]
    assert "/api-docs/ui#/clover" in by_dialect["clover"]["swagger_ui"]
    assert body["swagger_ui"] == "/api-docs/ui" and body["document"] == "/api/v2/swagger.json"
    status, doc = api.json("GET", body["document"], token="")
    assert status == 200 and {"name": "wazo"} in doc["tags"]


def test_can_keep_basic_logins_working_with_sessions_listed(api):
    status, _ = api.json("GET", f"{W}/users", token="", headers=basic("admin", ADMIN_PASSWORD))
    assert status == 200
