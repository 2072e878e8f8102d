"""wazo-auth-client, unmodified, against the live server: every command that does not need
LDAP, SAML or external OAuth providers (docs/auth.md, "wazo-auth-client"), exactly as the
client sends it and parsing what it parses.

wazo-auth-client is not published on PyPI (Wazo ships it from its source repository), so the
pinned requirements cannot install it: this module runs where it is installed (docs/auth.md says
how) and is skipped elsewhere. tests/functional/test_wazo_client_calls.py sends the same requests
in-process, so the routes are tested everywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.clients import Person, new_tenant_admin, unique
from tests.e2e.conftest import GENEROUS_LIMITS

wazo_auth_client = pytest.importorskip("wazo_auth_client", reason="wazo-auth-client is not installed (not on PyPI)")

pytestmark = pytest.mark.e2e


def client(url: str, **kwargs: Any) -> Any:
    """The client configured as Wazo's documentation shows, on plain HTTP."""
    parts = urlsplit(url)
    return wazo_auth_client.Client(parts.hostname, port=parts.port, https=False, prefix="/api/auth", **kwargs)


@pytest.fixture
def boss(server, admin_token) -> Person:
    return new_tenant_admin(server.url, admin_token)


@pytest.fixture
def auth(server, boss) -> Iterator[Any]:
    """A client holding the tenant administrator's token (the tenant is its home one)."""
    yield client(server.url, token=boss.token)


def http_status(call: Any) -> int:
    with pytest.raises(requests.HTTPError) as caught:
        call()
    return int(caught.value.response.status_code)


def test_status_and_backends(server):
    anonymous = client(server.url)
    anonymous.status.check()
    assert anonymous.backends.list() == ["wazo_user"]


def test_tokens(server, boss):
    auth = client(server.url, username=boss.username, password=boss.password)
    token = auth.token.new(expiration=600, session_type="mobile", user_agent="e2e-agent")
    assert token["metadata"]["tenant_uuid"] == boss.tenant
    assert auth.token.get(token["token"])["session_uuid"] == token["session_uuid"]
    assert auth.token.get(token["token"], required_acl="user.read")["token"] == token["token"]
    assert auth.token.check(token["token"]) is True
    assert auth.token.is_valid(token["token"], required_acl="user.read") is True
    assert auth.token.is_valid("not-a-token") is False
    with pytest.raises(wazo_auth_client.exceptions.InvalidTokenException):
        auth.token.check("not-a-token")
    # Refresh tokens: an offline login, a login by refresh token, listing and deleting
    offline = auth.token.new(access_type="offline", client_id="e2e-app", backend="wazo_user")
    again = auth.token.new(refresh_token=offline["refresh_token"], client_id="e2e-app", username="", password="")
    assert again["metadata"]["uuid"] == boss.uuid
    auth.set_token(token["token"])
    mine = auth.token.list(user_uuid=boss.uuid)
    assert [t["client_id"] for t in mine["items"]] == ["e2e-app"]
    listed = auth.refresh_tokens.list()
    assert "e2e-app" in {t["client_id"] for t in listed["items"]}
    auth.token.delete(boss.uuid, "e2e-app")
    assert auth.token.list(user_uuid=boss.uuid)["items"] == []
    # Revocation answers nothing; the token is gone afterwards
    auth.token.revoke(again["token"])
    assert auth.token.is_valid(again["token"]) is False


def test_sessions(server, boss, auth):
    session = client(server.url, username=boss.username, password=boss.password).token.new(expiration=600)
    listed = auth.sessions.list()
    assert session["session_uuid"] in {s["uuid"] for s in listed["items"]}
    mine = auth.users.get_sessions(boss.uuid, limit=100)
    assert session["session_uuid"] in {s["uuid"] for s in mine["items"]}
    auth.users.remove_session(boss.uuid, session["session_uuid"])
    other = client(server.url, username=boss.username, password=boss.password).token.new(expiration=600)
    auth.sessions.delete(other["session_uuid"], tenant_uuid=boss.tenant)
    left = {s["uuid"] for s in auth.sessions.list()["items"]}
    assert not {session["session_uuid"], other["session_uuid"]} & left


def test_tenants(server, boss, auth):
    child = auth.tenants.new(name=unique("child"), parent_uuid=boss.tenant)
    assert child["parent_uuid"] == boss.tenant
    assert auth.tenants.get(child["uuid"])["name"] == child["name"]
    edited = auth.tenants.edit(child["uuid"], name="renamed")
    assert edited["name"] == "renamed"
    assert child["uuid"] in {t["uuid"] for t in auth.tenants.list(tenant_uuid=boss.tenant)["items"]}
    auth.tenants.delete(child["uuid"])
    # a deleted tenant answers 410 (Gone) while, and after, its purge runs
    assert http_status(lambda: auth.tenants.get(child["uuid"])) == 410


def test_users(server, boss, auth):
    user = auth.users.new(username=unique("u"), password="first-password-1", firstname="Ada", tenant_uuid=boss.tenant)
    assert auth.users.get(user["uuid"], tenant_uuid=boss.tenant)["firstname"] == "Ada"
    edited = auth.users.edit(user["uuid"], username=user["username"], firstname="Grace", lastname="Hopper")
    assert edited["lastname"] == "Hopper"
    found = auth.users.list(search="grace")
    assert [u["uuid"] for u in found["items"]] == [user["uuid"]]
    # An administrator sets the password; the user changes it with the old one
    auth.users.change_password(user["uuid"], new_password="second-password-2")
    own = client(server.url, username=user["username"], password="second-password-2")
    own.set_token(own.token.new()["token"])
    own.users.change_password(user["uuid"], old_password="second-password-2", new_password="third-password-3")
    own.token.new(username=user["username"], password="third-password-3")
    auth.users.delete(user["uuid"], tenant_uuid=boss.tenant)
    assert http_status(lambda: auth.users.get(user["uuid"])) == 404


def test_policies(server, boss, auth):
    policy = auth.policies.new(unique("readers"), tenant_uuid=boss.tenant, acl=["alert.read"], description="d")
    assert auth.policies.get(policy["uuid"])["acl"] == ["alert.read"]
    auth.policies.add_access(policy["uuid"], "alert.*.read")
    auth.policies.remove_access(policy["uuid"], "alert.read")
    assert auth.policies.get(policy["uuid"])["acl"] == ["alert.*.read"]
    edited = auth.policies.edit(policy["uuid"], "renamed", acl=["alert.read"])
    assert edited["name"] == "renamed"
    assert policy["uuid"] in {p["uuid"] for p in auth.policies.list(tenant_uuid=boss.tenant)["items"]}
    user = auth.users.new(username=unique("u"), password="a-password-1")
    auth.users.add_policy(user["uuid"], policy["uuid"], tenant_uuid=boss.tenant)
    assert [p["uuid"] for p in auth.users.get_policies(user["uuid"])["items"]] == [policy["uuid"]]
    auth.users.remove_policy(user["uuid"], policy["uuid"])
    assert auth.users.get_policies(user["uuid"], tenant_uuid=boss.tenant)["items"] == []
    auth.policies.delete(policy["uuid"])
    assert http_status(lambda: auth.policies.get(policy["uuid"])) == 404


def test_groups(server, boss, auth):
    group = auth.groups.new(name=unique("team"))
    assert auth.groups.get(group["uuid"])["name"] == group["name"]
    assert auth.groups.edit(group["uuid"], name="renamed")["name"] == "renamed"
    assert group["uuid"] in {g["uuid"] for g in auth.groups.list(search="renamed")["items"]}
    user = auth.users.new(username=unique("u"), password="a-password-1")
    policy = auth.policies.new(unique("p"), acl=["alert.read"])
    auth.groups.add_user(group["uuid"], user["uuid"])
    auth.groups.add_policy(group["uuid"], policy["uuid"], tenant_uuid=boss.tenant)
    assert [u["uuid"] for u in auth.groups.get_users(group["uuid"])["items"]] == [user["uuid"]]
    assert [p["uuid"] for p in auth.groups.get_policies(group["uuid"])["items"]] == [policy["uuid"]]
    # every user is in its tenant's Everyone group too (Wazo's all-users group)
    assert sorted(g["name"] for g in auth.users.get_groups(user["uuid"])["items"]) == ["Everyone", "renamed"]
    auth.groups.remove_policy(group["uuid"], policy["uuid"])
    auth.groups.remove_user(group["uuid"], user["uuid"])
    assert auth.groups.get_users(group["uuid"])["items"] == []
    assert [g["name"] for g in auth.users.get_groups(user["uuid"], tenant_uuid=boss.tenant)["items"]] == ["Everyone"]
    auth.groups.delete(group["uuid"])
    assert http_status(lambda: auth.groups.get(group["uuid"])) == 404


def test_token_scopes_and_external_auths(server, boss, admin_token):
    reader = client(server.url, username=boss.username, password=boss.password)
    token = reader.token.new(expiration=600)["token"]
    checked = reader.token.check_scopes(token, ["alert.read", "alert.read", "anything.at.all"], tenant=boss.tenant)
    assert checked == {"scopes": {"alert.read": True, "anything.at.all": True}}
    # A tenant above the token's own is out of its reach
    root = client(server.url, token=admin_token).token.get(admin_token)["metadata"]["tenant_uuid"]
    assert http_status(lambda: reader.token.check_scopes(token, ["alert.read"], tenant=root)) == 403
    assert http_status(lambda: reader.token.check_scopes("not-a-token", ["alert.read"])) == 404
    # No external OAuth provider is configured: the list is empty
    reader.set_token(token)
    assert reader.external.list_(boss.uuid) == {"items": [], "total": 0, "filtered": 0}


def test_email_addresses(server, boss, auth):
    user = auth.users.new(username=unique("u"), password="a-password-1", email_address="first@example.com")
    assert [e["address"] for e in user["emails"]] == ["first@example.com"]
    own = client(server.url, username=user["username"], password="a-password-1")
    own.set_token(own.token.new()["token"])
    listed = own.users.update_emails(user["uuid"], [{"address": "second@example.com", "main": True}])
    assert [(e["address"], e["confirmed"]) for e in listed] == [("second@example.com", False)]
    confirmed = auth.admin.update_user_emails(
        user["uuid"], [{"address": "second@example.com", "main": True, "confirmed": True}]
    )
    assert confirmed[0]["confirmed"] is True and confirmed[0]["uuid"] == listed[0]["uuid"]
    assert auth.users.get(user["uuid"])["emails"] == confirmed


def test_registration(spawn_server):
    # An installation that names a registration tenant (created afterwards, with that uuid)
    signup = str(uuid.uuid4())
    srv = spawn_server(env={**GENEROUS_LIMITS, "OPSPLANE_REGISTRATION_TENANT": signup})
    admin = client(srv.url, token=srv.token())
    admin.tenants.new(uuid=signup, name=unique("signups"))
    anonymous = client(srv.url)
    user = anonymous.users.register(username=unique("me"), password="my-password-1", email_address="me@example.com")
    assert user["tenant_uuid"] == signup
    own = client(srv.url, username=user["username"], password="my-password-1")
    assert own.token.new()["metadata"]["uuid"] == user["uuid"]
