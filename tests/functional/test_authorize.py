"""authorize(): every header style, bad credentials, tenants, CSRF, the gateway authorizer."""

from __future__ import annotations

import base64

import pytest

from chalicelib.auth import apitokens, records, sessions
from chalicelib.errors import CsrfRefused, Forbidden, TenantGone, Throttled, TokenExpired, Unauthenticated
from chalicelib.http.gateway import authorizer_response
from chalicelib.identity import tenants
from chalicelib.identity.authorize import authorize
from tests.functional.conftest import ADMIN_PASSWORD


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_can_accept_every_header_style(api):
    secret, _ = apitokens.create(api.root, api.admin, "USER_ACCOUNT", name="t")
    for token in (api.token, secret):
        for headers in (
            {"Authorization": f"Bearer {token}"},
            {"X-AUTH-TOKEN": token},
            {"X-AUTH-TOKEN": f"Bearer {token}"},
            {"X-Auth-Token": token},
            {"x-auth-token": token, "Authorization": f"Bearer {token}"},
        ):
            principal = authorize(headers, "GET")
            assert principal.id == api.admin
            assert principal.tenant == api.root
    principal = authorize({"Authorization": basic("admin", ADMIN_PASSWORD)}, "GET")
    assert principal.method == "basic" and principal.can("anything.read")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Digest abc"},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
        {"X-AUTH-TOKEN": "00000000-0000-4000-8000-000000000000"},
    ],
)
def test_can_refuse_missing_or_garbage_credentials(api, headers):
    with pytest.raises(Unauthenticated):
        authorize(headers, "GET")


def test_can_refuse_revoked_and_expired_sessions(api):
    token, claims = sessions.issue(sub=api.admin, tenant=api.root, name="admin", kind="user", method="jwt", ttl=60)
    records.revoke_session(claims.jti, claims.expires_at)
    with pytest.raises(Unauthenticated):
        authorize({"Authorization": f"Bearer {token}"}, "GET")
    expired, _ = sessions.issue(sub=api.admin, tenant=api.root, name="admin", kind="user", method="jwt", ttl=-5)
    with pytest.raises(TokenExpired):
        authorize({"Authorization": f"Bearer {expired}"}, "GET")


def test_can_say_a_token_expired_on_the_wire(api):
    expired, _ = sessions.issue(sub=api.admin, tenant=api.root, name="admin", kind="user", method="jwt", ttl=-5)
    resp = api.call("GET", "/api/auth/0.1/users", token=expired)
    assert resp.status_code == 401
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert "expired" in resp.body.decode().lower()


def test_can_throttle_repeated_failed_logins_for_one_user_only(api, make_user):
    other = make_user([])
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            authorize({"Authorization": basic("admin", "wrong-password")}, "GET")
    with pytest.raises(Throttled) as caught:
        authorize({"Authorization": basic("admin", ADMIN_PASSWORD)}, "GET")
    assert caught.value.retry_after > 0
    # Another user of the same tenant still logs in.
    assert authorize({"Authorization": basic(other.username, other.password)}, "GET").id == other.uuid


def test_can_refuse_browser_basic_writes_without_x_requested_by(api):
    creds = {"Authorization": basic("admin", ADMIN_PASSWORD)}
    authorize(creds, "POST")  # a script: fine under the default setting
    with pytest.raises(CsrfRefused) as caught:
        authorize({**creds, "Origin": "https://evil.example"}, "POST")
    assert "X-Requested-By" in caught.value.message
    authorize({**creds, "Origin": "https://evil.example", "X-Requested-By": "x"}, "POST")
    authorize({**creds, "Origin": "https://evil.example"}, "GET")  # reads are not state-changing
    authorize({**creds, "Sec-Fetch-Site": "same-origin"}, "DELETE")


def test_can_apply_the_strict_csrf_setting_per_tenant(api):
    tenants.update_tenant(api.root, {"csrf_strict": True}, by="test")
    with pytest.raises(CsrfRefused):
        authorize({"Authorization": basic("admin", ADMIN_PASSWORD)}, "PUT")
    authorize({"Authorization": basic("admin", ADMIN_PASSWORD), "X-Requested-By": "cli"}, "PUT")


def test_can_act_in_descendants_but_not_siblings_or_ancestors(api, make_tenant):
    child = make_tenant("child")
    grandchild = make_tenant("grandchild", parent=child)
    sibling = make_tenant("sibling")
    assert tenants.resolve_acting_tenant(api.root, grandchild) == grandchild
    assert tenants.resolve_acting_tenant(child, grandchild) == grandchild
    for home, target in ((child, sibling), (grandchild, child), (child, api.root), (child, "nope")):
        with pytest.raises(Forbidden):
            tenants.resolve_acting_tenant(home, target)


def test_can_answer_410_for_a_deactivated_tenant(api, make_tenant, make_user):
    child = make_tenant("gone")
    user = make_user(["#"], tenant=child)
    tenants.update_tenant(child, {"active": False}, by="test")
    with pytest.raises(TenantGone):
        authorize({"Authorization": f"Bearer {user.token}"}, "GET")
    resp = api.call("GET", "/api/auth/0.1/users", token=user.token)
    assert resp.status_code == 410
    # The parent acting inside it is told too.
    resp = api.call("GET", "/api/auth/0.1/users", headers={"Wazo-Tenant": child})
    assert resp.status_code == 410


def test_can_answer_the_gateway_with_context_and_usage_key(api):
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123:abc/prod/GET/api/v2/alert",
        "httpMethod": "GET",
        "headers": {"X-AUTH-TOKEN": api.token},
    }
    answer = authorizer_response(event)
    assert answer["principalId"] == api.admin
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert answer["context"]["principal_tenant"] == api.root
    assert answer["usageIdentifierKey"]
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer_response({**event, "headers": {"X-AUTH-TOKEN": "garbage"}})


def test_can_trust_the_gateway_context_when_present(api):
    from app import edge

    context = authorizer_response(
        {"methodArn": "arn:x/prod/GET/a", "httpMethod": "GET", "headers": {"X-AUTH-TOKEN": api.token}}
    )["context"]
    from chalicelib.http.edge import _authorizer_principal

    principal = _authorizer_principal({"authorizer": context})
    assert principal is not None and principal.id == api.admin and principal.can("x.read")
    assert edge.routes


def test_can_take_down_the_clients_of_a_deactivated_partner(api, make_tenant, make_user):
    partner = make_tenant("partner")
    client = make_tenant("client", parent=partner)
    user = make_user(["#"], tenant=client)
    assert api.call("GET", "/api/auth/0.1/users", token=user.token).status_code == 200
    tenants.update_tenant(partner, {"active": False}, by="test")
    assert api.call("GET", "/api/auth/0.1/users", token=user.token).status_code == 410
