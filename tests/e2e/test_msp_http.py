"""The MSP platform flow against a live server (seed 003, docs/msp.md): a partner creates a
client tenant, gives it a service account with OAuth client credentials, and the client's
token works through the tenant URL (plain HTTP and the unmodified wavefront-api-client),
with rate-limit headers, a 429 with the seed's body once a small budget is spent, and 407
once the token has expired.

The shared server's limits are generous, so this module spawns its own server with a
write budget of WRITES a minute per tenant and category, and OAuth tokens that live
TOKEN_TTL seconds."""

from __future__ import annotations

import time

import pytest
import requests
import wavefront_api_client as wf

from tests.e2e.clients import TIMEOUT, new_tenant_admin, ok, unique, wavefront

pytestmark = pytest.mark.e2e

WRITES = 6
TOKEN_TTL = 5
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
ALERT = {"name": "CPU", "condition": "ts(cpu.load) > 4", "minutes": 5, "severity": "WARN"}


def _call(url: str, method: str, path: str, token: str, body: object = None) -> requests.Response:
    return requests.request(
        method,
        url + path,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        json=body if body is not None else {},
        timeout=TIMEOUT,
    )


def test_can_run_the_msp_flow_from_partner_to_client_token(spawn_server) -> None:
    server = spawn_server(
        env={
            "OPSPLANE_RATE_LIMIT_ENABLED": "true",
            "OPSPLANE_RATE_LIMIT_WRITE": str(WRITES),
            "OPSPLANE_RATE_LIMIT_FLUSH_HITS": "1",
            "OPSPLANE_OAUTH_TOKEN_TTL": str(TOKEN_TTL),
        }
    )
    url = server.url
    partner = new_tenant_admin(url, server.token())

    # GIVEN a partner that creates a client tenant and lists it
    client = ok(_call(url, "POST", "/api/v2/tenants", partner.token, {"name": unique("client")}))["response"]
    listed = ok(_call(url, "GET", "/api/v2/tenants", partner.token))["response"]["items"]
    assert [t["id"] for t in listed] == [client["id"]]
    scope = f"/api/v2/tenants/{client['id']}"

    # AND, acting in it through its tenant URL, a service account with OAuth client credentials
    identifier = "sa::" + unique("msp")
    account = {"identifier": identifier, "active": True, "groups": ["alerts_management"]}
    ok(_call(url, "POST", f"{scope}/account/serviceaccount", partner.token, account))
    creds = ok(_call(url, "POST", f"{scope}/account/serviceaccount/{identifier}/credentials", partner.token))
    assert creds["response"]["tenantId"] == client["id"]

    # WHEN the client trades its credentials for a token (client_credentials)
    issued = time.monotonic()
    grant = requests.post(
        url + "/auth/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds["response"]["clientId"],
            "client_secret": creds["response"]["clientSecret"],
        },
        timeout=TIMEOUT,
    )
    token = ok(grant)["access_token"]
    assert grant.json()["expires_in"] == TOKEN_TTL

    # THEN it calls through its tenant URL, with the rate-limit headers counting down
    made = _call(url, "POST", f"{scope}/alert", token, ALERT)
    assert made.status_code == 200, made.text
    assert all(name in made.headers for name in RATE_HEADERS)
    assert made.headers["X-RateLimit-Limit"] == str(WRITES)
    assert int(made.headers["X-RateLimit-Remaining"]) == WRITES - 1
    assert int(made.headers["X-RateLimit-Reset"]) > time.time() - 1
    # ... and the unmodified Wavefront client works with the tenant URL as its host
    alerts = wf.AlertApi(wavefront(url + scope, token, bearer=True))
    second = alerts.create_alert(body=wf.Alert(name="Disk", condition="ts(disk.used) > 90", minutes=5))
    assert second.response.name == "Disk"
    assert sorted(a.name for a in alerts.get_all_alert().response.items) == ["CPU", "Disk"]
    # ... a refusal carries the headers too (a path the API does not serve, a wrong method)
    for method, path in (("GET", f"{scope}/no-such-thing"), ("PATCH", f"{scope}/alert")):
        refused = _call(url, method, path, token)
        assert refused.status_code in (404, 405)
        assert all(name in refused.headers for name in RATE_HEADERS), (method, path)

    # WHEN it keeps writing past its budget
    answers = [_call(url, "POST", f"{scope}/alert", token, {**ALERT, "name": f"a{i}"}) for i in range(WRITES)]
    # THEN it is throttled with the seed's body, the native envelope and Retry-After
    throttled = next(r for r in answers if r.status_code == 429)
    body = throttled.json()
    assert body["error"] == "throttled" and body["error_description"] == "Too Many Requests"
    assert body["status"]["code"] == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.headers["X-RateLimit-Remaining"] == "0"

    # WHEN the token has expired
    time.sleep(max(0.0, issued + TOKEN_TTL + 1.5 - time.monotonic()))
    expired = _call(url, "GET", f"{scope}/alert", token)
    # THEN the tenant URL answers 407 "Token expired.", while the Wavefront dialect keeps 401
    assert expired.status_code == 407, expired.text
    assert expired.json()["status"]["message"] == "Token expired."
    assert _call(url, "GET", "/api/v2/alert", token).status_code == 401
