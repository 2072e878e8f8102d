"""OAuth2 client credentials (RFC 6749 §4.4, CONTRACTS.md §4): a service account's clients
on the native API, and the token endpoint in the OAuth dialect."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

TOKEN = "/auth/oauth/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SA_ACL = ["apitoken.read"]


def make_service_account(tenant: str, name: str = "sa::robot", acl: list[str] | None = None) -> str:
    from chalicelib.identity import accounts

    return accounts.create_account(
        tenant, username=name, password=None, kind=accounts.SERVICE, fields={"acl": acl or SA_ACL}, by="test"
    ).id


def set_enabled(tenant: str, account_uuid: str, enabled: bool) -> None:
    from chalicelib.identity import accounts

    def change(entity: Any) -> None:
        entity.doc["enabled"] = enabled

    accounts.repo(tenant, accounts.ACCOUNT).update(account_uuid, change, by="test")


def basic(client_id: str, secret: str) -> str:
    """client_secret_basic: each part form-urlencoded, then base64 (RFC 6749 §2.3.1)."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


def credentials(api: Any, identifier: str = "sa::robot", token: str | None = None) -> dict[str, str]:
    status, body = api.json("POST", f"/api/v2/account/serviceaccount/{identifier}/credentials", {}, token=token)
    assert status == 200, body
    assert body["status"]["result"] == "OK"
    return body["response"]


def token_request(api: Any, form: Any = None, *, headers: dict[str, str] | None = None, raw: str | None = None) -> Any:
    """POST the token endpoint (no bearer token of ours); returns the raw response."""
    body = raw if raw is not None else urlencode(form or {})
    return api.call("POST", TOKEN, token="", headers={**FORM, **(headers or {})}, raw=body)


def grant(creds: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": creds["clientId"],
        "client_secret": creds["clientSecret"],
        **extra,
    }


def answer(resp: Any) -> dict[str, Any]:
    return json.loads(resp.body)


def access_token(api: Any, creds: dict[str, str]) -> str:
    resp = token_request(api, grant(creds))
    assert resp.status_code == 200, resp.body
    return answer(resp)["access_token"]


# ---- the service account's clients --------------------------------------------------------


def test_can_create_credentials_shown_once_and_list_them_without_secret(api):
    # GIVEN a service account
    make_service_account(api.root)
    # WHEN the admin creates credentials for it
    creds = credentials(api, "sa%3A%3Arobot")
    # THEN the answer holds the client id, the secret and the tenant
    assert set(creds) == {"clientId", "clientSecret", "tenantId"}
    assert creds["tenantId"] == api.root and creds["clientId"] != creds["clientSecret"]
    # AND the listing shows the client id, never the secret
    resp = api.call("GET", "/api/v2/account/serviceaccount/sa::robot/credentials")
    assert resp.status_code == 200
    assert [c["clientId"] for c in answer(resp)["response"]] == [creds["clientId"]]
    assert creds["clientSecret"] not in resp.body.decode()


def test_can_store_only_the_hash_of_the_client_secret(api):
    from chalicelib.store.models import TokenItem

    make_service_account(api.root)
    creds = credentials(api)
    rows = [*TokenItem.query(f"oauthclient#{creds['clientId']}"), *TokenItem.query(f"{api.root}#oauthclient")]
    assert rows
    assert all(creds["clientSecret"] not in (r.doc or "") for r in rows)


def test_can_answer_404_for_credentials_of_users_and_unknown_accounts(api):
    for ident in ("admin", api.admin, "sa::ghost"):
        assert api.json("POST", f"/api/v2/account/serviceaccount/{ident}/credentials", {})[0] == 404
        assert api.json("GET", f"/api/v2/account/serviceaccount/{ident}/credentials")[0] == 404


def test_can_refuse_credentials_without_account_permission(api, make_user):
    # GIVEN a service account and a user who may browse, but not manage accounts
    make_service_account(api.root)
    creds = credentials(api)
    browser = make_user(["*.read", "*.*.read"])
    manager = make_user(["account.#"])
    path = "/api/v2/account/serviceaccount/sa::robot/credentials"
    # WHEN each tries the credential routes
    # THEN the browser is refused everything, the account manager may do everything
    assert api.json("POST", path, {}, token=browser.token)[0] == 403
    assert api.json("GET", path, token=browser.token)[0] == 403
    assert api.json("DELETE", f"{path}/{creds['clientId']}", token=browser.token)[0] == 403
    assert api.json("GET", path, token=manager.token)[0] == 200
    assert api.json("DELETE", f"{path}/{creds['clientId']}", token=manager.token)[0] == 200


def test_can_refuse_the_eleventh_client_of_an_account(api):
    from chalicelib.auth import oauthclients

    sa = make_service_account(api.root)
    for _ in range(oauthclients.MAX_CLIENTS_PER_ACCOUNT):
        oauthclients.create(api.root, sa)
    status, body = api.json("POST", "/api/v2/account/serviceaccount/sa::robot/credentials", {})
    assert status == 400
    assert "at most 10" in body["status"]["message"]
    assert len(oauthclients.list_clients(api.root, sa)) == 10


# ---- the token endpoint -------------------------------------------------------------------


def test_can_issue_a_token_for_a_form_body_that_works_with_the_accounts_acl(api):
    # GIVEN credentials of a service account that may only read its API tokens
    sa = make_service_account(api.root)
    creds = credentials(api)
    # WHEN the client posts them in the form body
    resp = token_request(api, grant(creds))
    # THEN a bearer token that is never cached
    assert resp.status_code == 200, resp.body
    body = answer(resp)
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "apitoken.read"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Pragma"] == "no-cache"
    # AND the edge authorizes it as the service account, with its ACL
    token = body["access_token"]
    from chalicelib.auth import sessions

    claims = sessions.verify(token)
    assert (claims.sub, claims.tenant, claims.method, claims.kind) == (sa, api.root, "oauth", "service")
    assert api.json("GET", "/api/v2/apitoken", token=token) == (
        200,
        {"status": {"result": "OK", "code": 200, "message": ""}, "response": []},
    )
    assert api.json("GET", "/api/v2/apitoken", token="", headers={"X-AUTH-TOKEN": token})[0] == 200
    assert api.json("POST", "/api/v2/apitoken", {}, token=token)[0] == 403


def test_can_issue_a_token_for_client_secret_basic(api):
    make_service_account(api.root)
    creds = credentials(api)
    # WHEN the client authenticates with HTTP Basic
    resp = token_request(
        api,
        {"grant_type": "client_credentials"},
        headers={"Authorization": basic(creds["clientId"], creds["clientSecret"])},
    )
    # THEN it gets a working token
    assert resp.status_code == 200, resp.body
    assert resp.headers["Cache-Control"] == "no-store"
    assert api.json("GET", "/api/v2/apitoken", token=answer(resp)["access_token"])[0] == 200
    # AND the client id may be repeated in the body when it matches
    resp = token_request(
        api,
        {"grant_type": "client_credentials", "client_id": creds["clientId"]},
        headers={"Authorization": basic(creds["clientId"], creds["clientSecret"])},
    )
    assert resp.status_code == 200


def test_can_follow_the_accounts_acl_at_each_request(api):
    # GIVEN a token of a service account that may not create API tokens
    sa = make_service_account(api.root)
    token = access_token(api, credentials(api))
    assert api.json("POST", "/api/v2/apitoken", {}, token=token)[0] == 403
    # WHEN the account is granted the permission
    from chalicelib.identity import accounts

    def widen(entity: Any) -> None:
        entity.doc["acl"] = ["apitoken.read", "apitoken.create"]

    accounts.repo(api.root, accounts.ACCOUNT).update(sa, widen, by="test")
    # THEN the same token may now create one, for the service account
    status, body = api.json("POST", "/api/v2/apitoken", {}, token=token)
    assert status == 200
    assert body["response"][0]["accountType"] == "SERVICE_ACCOUNT"
    assert body["response"][0]["account"] == "sa::robot"


def test_can_use_two_clients_and_revoke_one(api):
    # GIVEN two clients of the same service account
    make_service_account(api.root)
    first, second = credentials(api), credentials(api)
    assert first["clientId"] != second["clientId"]
    assert access_token(api, first) and access_token(api, second)
    # WHEN the first is revoked
    status, body = api.json("DELETE", f"/api/v2/account/serviceaccount/sa::robot/credentials/{first['clientId']}")
    # THEN the answer lists the second only, the first's secret fails, the second's works
    assert status == 200
    assert [c["clientId"] for c in body["response"]] == [second["clientId"]]
    resp = token_request(api, grant(first))
    assert resp.status_code == 401
    assert answer(resp)["error"] == "invalid_client"
    assert access_token(api, second)
    # AND revoking it again is a 404
    path = f"/api/v2/account/serviceaccount/sa::robot/credentials/{first['clientId']}"
    assert api.json("DELETE", path)[0] == 404


def test_can_refuse_a_deactivated_service_account_with_invalid_client(api):
    # GIVEN credentials and a token of a service account
    sa = make_service_account(api.root)
    creds = credentials(api)
    token = access_token(api, creds)
    # WHEN the account is deactivated
    set_enabled(api.root, sa, False)
    # THEN the credentials get invalid_client and the token it had is refused
    resp = token_request(api, grant(creds))
    assert resp.status_code == 401
    assert answer(resp)["error"] == "invalid_client"
    assert "access_token" not in answer(resp)
    assert api.json("GET", "/api/v2/apitoken", token=token)[0] == 401


def test_can_answer_410_for_a_client_of_a_deactivated_tenant(api, make_tenant):
    # GIVEN a client of a service account in a child tenant, created by the partner admin
    from chalicelib.identity import tenants

    child = make_tenant("child")
    make_service_account(child, "sa::child-bot")
    path = "/api/v2/account/serviceaccount/sa::child-bot/credentials"
    status, body = api.json("POST", path, {}, headers={"X-Tenant-Id": child})
    assert status == 200 and body["response"]["tenantId"] == child
    creds = body["response"]
    assert access_token(api, creds)
    # WHEN the tenant is deactivated and the client asks for a token
    tenants.update_tenant(child, {"active": False}, by="test")
    resp = token_request(api, grant(creds))
    # THEN 410 in the OAuth error shape, and no token
    assert resp.status_code == 410
    assert set(answer(resp)) == {"error", "error_description"}


@pytest.mark.parametrize(
    "form",
    [
        {"client_id": "__ID__", "client_secret": "__SECRET__"},
        {"grant_type": "", "client_id": "__ID__", "client_secret": "__SECRET__"},
        [("grant_type", "client_credentials"), ("grant_type", "client_credentials"), ("client_id", "__ID__")],
    ],
)
def test_can_refuse_a_malformed_request_with_invalid_request(api, form):
    make_service_account(api.root)
    creds = credentials(api)
    items = form.items() if isinstance(form, dict) else form
    filled = [(k, {"__ID__": creds["clientId"], "__SECRET__": creds["clientSecret"]}.get(v, v)) for k, v in items]
    resp = token_request(api, filled)
    assert resp.status_code == 400
    assert answer(resp)["error"] == "invalid_request"
    assert isinstance(answer(resp)["error_description"], str)
    assert resp.headers["Cache-Control"] == "no-store"


def test_can_refuse_a_json_body_with_invalid_request(api):
    make_service_account(api.root)
    creds = credentials(api)
    for content_type in ("application/json", "text/plain", None):
        headers = {"Content-Type": content_type} if content_type else {"Content-Type": ""}
        resp = token_request(api, raw=json.dumps(grant(creds)), headers=headers)
        assert resp.status_code == 400, content_type
        assert answer(resp) == {"error": "invalid_request", "error_description": answer(resp)["error_description"]}


def test_can_refuse_other_grant_types_with_unsupported_grant_type(api):
    make_service_account(api.root)
    creds = credentials(api)
    for grant_type in ("password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"):
        resp = token_request(api, {**grant(creds), "grant_type": grant_type})
        assert resp.status_code == 400
        assert answer(resp)["error"] == "unsupported_grant_type"


def test_can_refuse_wrong_and_unknown_clients_with_invalid_client(api):
    # GIVEN a client
    make_service_account(api.root)
    creds = credentials(api)
    wrong = {**creds, "clientSecret": creds["clientSecret"][:-1] + ("A" if creds["clientSecret"][-1] != "A" else "B")}
    unknown = {**creds, "clientId": "0" * 32}
    # WHEN the secret is wrong or the client unknown, in the form or with Basic
    for bad in (wrong, unknown, {**creds, "clientId": "short"}, {**creds, "clientSecret": ""}):
        form = token_request(api, grant(bad))
        with_basic = token_request(
            api,
            {"grant_type": "client_credentials"},
            headers={"Authorization": basic(bad["clientId"], bad["clientSecret"])},
        )
        # THEN 401 invalid_client, with a Basic challenge
        for resp in (form, with_basic):
            assert resp.status_code == 401, resp.body
            assert answer(resp)["error"] == "invalid_client"
            assert "access_token" not in answer(resp)
            assert resp.headers["WWW-Authenticate"].startswith("Basic")


def test_can_refuse_missing_malformed_or_double_client_authentication(api):
    make_service_account(api.root)
    creds = credentials(api)
    good_basic = basic(creds["clientId"], creds["clientSecret"])
    cases = [
        ({"grant_type": "client_credentials"}, {}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": creds["clientId"]}, {}, 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, {"Authorization": "Basic !!!notbase64"}, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials"},
            {"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, {"Authorization": "Bearer something"}, 401, "invalid_client"),
        (grant(creds), {"Authorization": good_basic}, 400, "invalid_request"),
        (
            {"grant_type": "client_credentials", "client_id": "other"},
            {"Authorization": good_basic},
            400,
            "invalid_request",
        ),
    ]
    for form, headers, status, error in cases:
        resp = token_request(api, form, headers=headers)
        assert (resp.status_code, answer(resp)["error"]) == (status, error), (form, headers)


def test_can_refuse_a_scope_the_account_does_not_hold(api):
    make_service_account(api.root)
    creds = credentials(api)
    resp = token_request(api, grant(creds, scope="apitoken.read account.create"))
    assert resp.status_code == 400
    assert answer(resp)["error"] == "invalid_scope"
    resp = token_request(api, grant(creds, scope="apitoken.read"))
    assert resp.status_code == 200
    assert answer(resp)["scope"] == "apitoken.read"


def test_can_refuse_a_tampered_access_token(api):
    # GIVEN a valid access token
    make_service_account(api.root)
    token = access_token(api, credentials(api))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # WHEN its signature, or its claims (another account, another tenant), are altered
    forged = []
    for change in ({"sub": api.admin}, {"tid": "another-tenant"}, {"knd": "user"}):
        body = base64.urlsafe_b64encode(json.dumps({**claims, **change}).encode()).rstrip(b"=").decode()
        forged.append(f"{header}.{body}.{signature}")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    forged.append(f"{header}.{payload}.{flipped}")
    # THEN every one of them is refused
    for bad in forged:
        assert api.json("GET", "/api/v2/apitoken", token=bad)[0] == 401


def test_can_answer_unknown_oauth_paths_in_the_oauth_dialect(api):
    resp = token_request(api, {"grant_type": "client_credentials"})
    assert resp.status_code == 401
    status, body = api.json("POST", "/auth/oauth/nothing", token="")
    assert status == 404 and set(body) == {"error", "error_description"}
    status, body = api.json("GET", TOKEN, token="")
    assert status == 405 and set(body) == {"error", "error_description"}


# ---- tenants ----------------------------------------------------------------------------------


def test_can_keep_clients_and_their_tokens_inside_their_tenant(api, make_user, make_tenant):
    # GIVEN sibling tenants A and B, each with a service account, credentials and an
    # account manager
    a, b = make_tenant("a"), make_tenant("b")
    make_service_account(a, "sa::a-bot", ["apitoken.#"])
    make_service_account(b, "sa::b-bot", ["apitoken.#"])
    manager_a = make_user(["account.#"], tenant=a, username="manager-a")
    manager_b = make_user(["account.#"], tenant=b, username="manager-b")
    creds_a = credentials(api, "sa::a-bot", token=manager_a.token)
    creds_b = credentials(api, "sa::b-bot", token=manager_b.token)
    assert creds_a["tenantId"] == a and creds_b["tenantId"] == b
    # WHEN A's manager reaches for B's service account and clients
    b_path = "/api/v2/account/serviceaccount/sa::b-bot/credentials"
    # THEN 404 everywhere, and B's client keeps working
    assert api.json("POST", b_path, {}, token=manager_a.token)[0] == 404
    assert api.json("GET", b_path, token=manager_a.token)[0] == 404
    assert api.json("DELETE", f"{b_path}/{creds_b['clientId']}", token=manager_a.token)[0] == 404
    a_path = "/api/v2/account/serviceaccount/sa::a-bot/credentials"
    assert api.json("DELETE", f"{a_path}/{creds_b['clientId']}", token=manager_a.token)[0] == 404
    token_b = access_token(api, creds_b)
    # AND A's access token sees only A's tokens and cannot act in B
    token_a = access_token(api, creds_a)
    api.json("POST", "/api/v2/apitoken", {}, token=token_b)
    status, body = api.json("GET", "/api/v2/apitoken/customertokens", token=token_a)
    assert status == 200 and body["response"] == []
    assert api.json("GET", "/api/v2/apitoken/customertokens", token=token_a, headers={"X-Tenant-Id": b})[0] == 403
    status, body = api.json("GET", "/api/v2/apitoken/customertokens", token=token_b)
    assert [t["account"] for t in body["response"]] == ["sa::b-bot"]
    # AND A's secret with B's client id fails
    mixed = {**creds_b, "clientSecret": creds_a["clientSecret"]}
    assert token_request(api, grant(mixed)).status_code == 401


# ---- the Basic parser ---------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(client_id=_TEXT.filter(bool), secret=_TEXT)
def test_can_read_back_any_client_secret_basic_credentials(client_id, secret):
    from chalicelib.compat.oauth import client_credentials

    headers = {"authorization": basic(client_id, secret)}
    assert client_credentials(headers, {"grant_type": "client_credentials"}) == (client_id, secret)


@given(value=st.text(max_size=60))
def test_can_refuse_any_malformed_basic_value_with_a_domain_error(value):
    from chalicelib.compat.oauth import client_credentials
    from chalicelib.errors import OpsplaneError

    try:
        client_credentials({"authorization": "Basic " + value}, {})
    except OpsplaneError as error:
        assert error.status in (400, 401)
        assert error.context["oauth_error"] in ("invalid_client", "invalid_request")
