"""Wazo's REST API quickstart over plain HTTP against the live server (seed 001): the list of
APIs at /api, a user and a policy, a token, the API used with it; then refresh tokens and
sessions, status and backends, as wazo-auth-client sends them."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.clients import TIMEOUT, WAZO, login, new_tenant_admin, ok, unique, wazo

pytestmark = pytest.mark.e2e


def test_can_follow_the_quickstart(server, admin_token):
    # The list of available APIs, with the Swagger UI to explore them
    apis = ok(requests.get(server.url + "/api", timeout=TIMEOUT))
    wazo_api = next(a for a in apis["apis"] if a["dialect"] == "wazo")
    assert wazo_api["prefix"] == WAZO
    assert requests.get(server.url + apis["swagger_ui"], timeout=TIMEOUT).status_code == 200
    assert "paths" in ok(requests.get(server.url + wazo_api["document"], timeout=TIMEOUT))
    # A REST API user and a policy that gives access to every REST API
    boss = new_tenant_admin(server.url, admin_token)
    username, password = unique("rest-api-test"), "rest-api-password-1"
    user = ok(
        wazo(
            server.url,
            "POST",
            "/users",
            token=boss.token,
            json={"purpose": "external_api", "username": username, "password": password},
        )
    )
    policy = ok(wazo(server.url, "POST", "/policies", token=boss.token, json={"name": unique("all"), "acl": ["#"]}))
    ok(wazo(server.url, "PUT", f"/users/{user['uuid']}/policies/{policy['uuid']}", token=boss.token), 204)
    # A token for an hour, then the API used with it
    data = login(server.url, username, password, expiration=3600)
    assert data["acl"] == ["#"]
    users = ok(wazo(server.url, "GET", "/users", token=data["token"]))
    assert user["uuid"] in {u["uuid"] for u in users["items"]}


def test_can_refresh_tokens_and_manage_sessions(server, admin_token):
    boss = new_tenant_admin(server.url, admin_token)
    # wazo-auth-client's token.new(access_type="offline", client_id=...), with its headers
    resp = requests.post(
        server.url + WAZO + "/token",
        auth=(boss.username, boss.password),
        headers={"User-Agent": "Wazo Python auth client", "Wazo-Session-Type": "mobile"},
        json={"access_type": "offline", "client_id": "e2e-app", "expiration": 600},
        timeout=TIMEOUT,
    )
    first = ok(resp)["data"]
    refresh = first["refresh_token"]
    # token.new(refresh_token=..., client_id=...): no password
    again = ok(
        requests.post(
            server.url + WAZO + "/token", json={"refresh_token": refresh, "client_id": "e2e-app"}, timeout=TIMEOUT
        )
    )["data"]
    assert again["auth_id"] == boss.uuid
    assert wazo(server.url, "HEAD", f"/token/{again['token']}").status_code == 204

    # token.list(user_uuid) and the tenant-wide refresh token list
    mine = ok(wazo(server.url, "GET", f"/users/{boss.uuid}/tokens", token=again["token"]))
    assert [(t["client_id"], t["mobile"]) for t in mine["items"]] == [("e2e-app", True)]
    assert ok(wazo(server.url, "GET", "/tokens", token=again["token"]))["total"] == 1

    # users.get_sessions(user_uuid) and sessions.list()
    sessions = ok(wazo(server.url, "GET", f"/users/{boss.uuid}/sessions", token=again["token"]))
    by_uuid = {s["uuid"]: s for s in sessions["items"]}
    assert {first["session_uuid"], again["session_uuid"]} <= set(by_uuid)
    assert by_uuid[first["session_uuid"]]["mobile"] is True
    assert by_uuid[again["session_uuid"]]["refresh_token_client_id"] == "e2e-app"
    assert first["session_uuid"] in {
        s["uuid"] for s in ok(wazo(server.url, "GET", "/sessions", token=again["token"]))["items"]
    }

    # users.remove_session and sessions.delete: 204, and the token is dead at once
    ok(wazo(server.url, "DELETE", f"/users/{boss.uuid}/sessions/{first['session_uuid']}", token=again["token"]), 204)
    assert wazo(server.url, "HEAD", f"/token/{first['token']}").status_code == 404
    # token.delete(user_uuid, client_id): the refresh token makes no more sessions
    ok(wazo(server.url, "DELETE", f"/users/{boss.uuid}/tokens/e2e-app", token=again["token"]), 204)
    refused = requests.post(
        server.url + WAZO + "/token", json={"refresh_token": refresh, "client_id": "e2e-app"}, timeout=TIMEOUT
    )
    assert refused.status_code == 401
    ok(wazo(server.url, "DELETE", f"/sessions/{again['session_uuid']}", token=boss.token), 204)
    assert wazo(server.url, "HEAD", f"/token/{again['token']}").status_code == 404


def test_can_answer_status_backends_and_refuse_registration_by_default(server):
    # status.check(): HEAD /status answers 200
    assert wazo(server.url, "HEAD", "/status").status_code == 200
    # backends.list()
    assert ok(wazo(server.url, "GET", "/backends"))["data"] == ["wazo_user"]
    # users.register() is no longer taken for a user id (405): it is refused, registration being off
    resp = wazo(
        server.url,
        "POST",
        "/users/register",
        json={"username": unique("me"), "password": "pw-12345678", "email_address": "me@example.com"},
    )
    assert resp.status_code == 404 and "registration" in resp.json()["message"]
