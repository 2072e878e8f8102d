"""OAuth2 client credentials (RFC 6749 §4.4) over plain HTTP against the live server: a service
account's credentials, the token endpoint with client_secret_post and client_secret_basic, the
access token on the native API, and the RFC's error shapes (CONTRACTS.md §4)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
import wavefront_api_client as wf

from tests.e2e.clients import TIMEOUT, ok, unique, wavefront

pytestmark = pytest.mark.e2e

TOKEN = "/auth/oauth/token"
# The Wavefront permission that lets an account work with alerts.
ALERTS_PERMISSION = "alerts_management"


@dataclass
class Client:
    identifier: str
    client_id: str
    client_secret: str
    tenant: str


def _service_account(server, admin_token: str) -> str:
    """A service account holding the alerts permission through a role; its identifier."""
    admin = wavefront(server.url, admin_token)
    role = wf.RoleApi(admin).create_role(body=wf.RoleCreateDTO(name=unique("role"), permissions=[ALERTS_PERMISSION]))
    identifier = "sa::" + unique("oauth")
    wf.AccountUserAndServiceAccountApi(admin).create_service_account(
        body=wf.ServiceAccountWrite(identifier=identifier, active=True, roles=[role.response.id])
    )
    return identifier


def _credentials(server, admin_token: str, identifier: str) -> Client:
    resp = requests.post(
        f"{server.url}/api/v2/account/serviceaccount/{identifier}/credentials",
        headers={"X-AUTH-TOKEN": admin_token, "Content-Type": "application/json"},
        data="{}",
        timeout=TIMEOUT,
    )
    body = ok(resp)
    assert body["status"]["result"] == "OK"
    creds = body["response"]
    return Client(identifier, creds["clientId"], creds["clientSecret"], creds["tenantId"])


@pytest.fixture(scope="module")
def client(server, admin_token) -> Client:
    """One service account with OAuth credentials, shared by the read-only tests of this module."""
    return _credentials(server, admin_token, _service_account(server, admin_token))


def _token(server, data: dict | None = None, auth: tuple[str, str] | None = None, **kw) -> requests.Response:
    return requests.post(server.url + TOKEN, data=data, auth=auth, timeout=TIMEOUT, **kw)


def test_can_create_credentials_for_a_service_account(server, admin_token, client):
    root = requests.post(
        server.url + "/api/auth/0.1/token", auth=("admin", server.admin_password), json={}, timeout=TIMEOUT
    ).json()["data"]["metadata"]["tenant_uuid"]

    assert client.client_id and client.client_secret
    assert client.client_id != client.client_secret
    assert client.tenant == root
    listed = ok(
        requests.get(
            f"{server.url}/api/v2/account/serviceaccount/{client.identifier}/credentials",
            headers={"X-AUTH-TOKEN": admin_token},
            timeout=TIMEOUT,
        )
    )["response"]
    assert [c["clientId"] for c in listed] == [client.client_id]
    assert client.client_secret not in str(listed)


def test_can_issue_an_access_token_for_a_form_body(server, client):
    # WHEN the client posts its credentials in the form body (client_secret_post)
    resp = _token(
        server,
        {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.client_secret},
    )

    # THEN a bearer token, never cached, that lists alerts on the native API
    body = ok(resp)
    assert body["token_type"].lower() == "bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert isinstance(body.get("scope", ""), str)
    assert "no-store" in resp.headers.get("Cache-Control", "")
    assert resp.headers["Content-Type"].startswith("application/json")
    alerts = requests.get(
        server.url + "/api/v2/alert", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=TIMEOUT
    )
    assert alerts.status_code == 200
    assert alerts.json()["status"]["result"] == "OK"
    # ... and through the Wavefront client as well
    assert wf.AlertApi(wavefront(server.url, body["access_token"], bearer=True)).get_all_alert().status.code == 200


def test_can_issue_an_access_token_for_client_secret_basic(server, client):
    resp = _token(server, {"grant_type": "client_credentials"}, auth=(client.client_id, client.client_secret))

    body = ok(resp)
    assert "no-store" in resp.headers.get("Cache-Control", "")
    alerts = requests.get(server.url + "/api/v2/alert", headers={"X-AUTH-TOKEN": body["access_token"]}, timeout=TIMEOUT)
    assert alerts.status_code == 200


def test_can_refuse_a_wrong_secret_with_invalid_client(server, client):
    # WHEN the secret is wrong, in the form and with Basic
    form = _token(server, {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": "wrong"})
    basic = _token(server, {"grant_type": "client_credentials"}, auth=(client.client_id, "wrong"))
    unknown = _token(server, {"grant_type": "client_credentials", "client_id": unique("nobody"), "client_secret": "x"})

    # THEN invalid_client; with Basic, 401 and a WWW-Authenticate challenge (RFC 6749 §5.2)
    for resp in (form, basic, unknown):
        assert resp.status_code in (400, 401)
        assert resp.json()["error"] == "invalid_client"
        assert "access_token" not in resp.json()
    assert basic.status_code == 401
    assert "WWW-Authenticate" in basic.headers


def test_can_refuse_an_unsupported_grant_type(server, client):
    resp = _token(
        server,
        {"grant_type": "password", "client_id": client.client_id, "client_secret": client.client_secret},
    )

    assert resp.status_code == 400
    assert resp.json()["error"] == "unsupported_grant_type"
    assert isinstance(resp.json().get("error_description", ""), str)


def test_can_refuse_a_malformed_request_with_invalid_request(server, client):
    # WHEN grant_type is missing, a parameter is repeated, or the body is JSON instead of a form
    missing = _token(server, {"client_id": client.client_id, "client_secret": client.client_secret})
    repeated = _token(
        server,
        [
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
            ("client_id", client.client_id),
            ("client_secret", client.client_secret),
        ],
    )
    as_json = requests.post(
        server.url + TOKEN,
        json={"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.client_secret},
        timeout=TIMEOUT,
    )

    # THEN 400 invalid_request, never a token
    for resp in (missing, repeated, as_json):
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"] == "invalid_request"
        assert "access_token" not in resp.json()


def test_can_refuse_credentials_of_a_deactivated_service_account(server, admin_token):
    # GIVEN credentials of a service account that is then deactivated
    creds = _credentials(server, admin_token, _service_account(server, admin_token))
    form = {"grant_type": "client_credentials", "client_id": creds.client_id, "client_secret": creds.client_secret}
    token = ok(_token(server, form))["access_token"]
    wf.AccountUserAndServiceAccountApi(wavefront(server.url, admin_token)).deactivate_account(creds.identifier)

    # WHEN it asks for a token, or uses the one it had
    again = _token(server, form)
    used = requests.get(server.url + "/api/v2/alert", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)

    # THEN both are refused
    assert again.status_code in (400, 401)
    assert again.json()["error"] == "invalid_client"
    assert used.status_code == 401


def test_can_answer_unknown_oauth_paths_in_the_oauth_error_shape(server):
    resp = requests.post(server.url + "/auth/oauth/nothing", data={"grant_type": "client_credentials"}, timeout=TIMEOUT)

    assert resp.status_code == 404
    assert {"error", "error_description"} <= set(resp.json())
