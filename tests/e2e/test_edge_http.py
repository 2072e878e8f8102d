"""The edge over plain HTTP against the live server: credential header styles, tenant headers,
error shapes per dialect, 404 / 405, percent-encoded path parameters, query booleans, literal
routes beside {id} routes, rate-limit headers and 429, and the bodies the Wavefront client sends
(Content-Type: application/json on GET, `{}` on bodiless POST / DELETE) (CONTRACTS.md)."""

from __future__ import annotations

import json

import pytest
import requests
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.e2e.clients import TIMEOUT, login, new_tenant, unique, wavefront

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
ALERT = {"name": "edge", "condition": "ts(cpu.load) > 1", "minutes": 1, "severity": "INFO"}


def _call(server, method: str, path: str, headers: dict[str, str] | None = None, **kw) -> requests.Response:
    return requests.request(method, server.url + path, headers=headers or {}, timeout=TIMEOUT, **kw)


def _native_error(resp: requests.Response, status: int) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert body["status"]["result"] == "ERROR"
    assert body["status"]["code"] == status
    assert isinstance(body["status"]["message"], str) and body["status"]["message"]


def _new_alert(server, token: str, **headers: str) -> str:
    resp = _call(server, "POST", "/api/v2/alert", {**JSON, "X-AUTH-TOKEN": token, **headers}, json=dict(ALERT))
    assert resp.status_code == 200, resp.text
    return resp.json()["response"]["id"]


# ---- credentials ---------------------------------------------------------------------------------------------


def test_can_accept_every_credential_header_style(server, admin_token):
    styles = {
        "X-AUTH-TOKEN": {"X-AUTH-TOKEN": admin_token},
        "X-AUTH-TOKEN Bearer": {"X-AUTH-TOKEN": f"Bearer {admin_token}"},
        "X-Auth-Token": {"X-Auth-Token": admin_token},
        "lower-case": {"x-auth-token": admin_token},
        "Authorization Bearer": {"Authorization": f"Bearer {admin_token}"},
        "both together": {"X-AUTH-TOKEN": admin_token, "Authorization": f"Bearer {admin_token}"},
    }
    for style, headers in styles.items():
        resp = _call(server, "GET", "/api/v2/alert", {**JSON, **headers})
        assert resp.status_code == 200, f"{style}: {resp.status_code} {resp.text}"
        assert resp.json()["status"]["result"] == "OK" and resp.json()["status"]["code"] == 200, style

    basic = _call(server, "GET", "/api/v2/alert", auth=("admin", server.admin_password))
    assert basic.status_code == 200


def test_can_refuse_missing_garbage_and_tampered_credentials(server, admin_token):
    head, payload, signature = admin_token.split(".")
    tampered = f"{head}.{payload}.{signature[:-6]}AAAAAA"
    cases = {
        "none": {},
        "garbage": {"X-AUTH-TOKEN": "not-a-token"},
        "tampered jwt": {"Authorization": f"Bearer {tampered}"},
        "unknown scheme": {"Authorization": "Digest username=admin"},
        "empty bearer": {"Authorization": "Bearer "},
    }
    for case, headers in cases.items():
        resp = _call(server, "GET", "/api/v2/alert", {**JSON, **headers})
        _native_error(resp, 401)
        assert "WWW-Authenticate" in resp.headers, case


def test_can_refuse_a_browser_basic_write_without_x_requested_by(server):
    browser = {**JSON, "Origin": "https://evil.example"}

    refused = _call(server, "POST", "/api/v2/alert", browser, auth=("admin", server.admin_password), json=dict(ALERT))
    allowed = _call(
        server,
        "POST",
        "/api/v2/alert",
        {**browser, "X-Requested-By": "e2e"},
        auth=("admin", server.admin_password),
        json=dict(ALERT),
    )
    script = _call(server, "POST", "/api/v2/alert", JSON, auth=("admin", server.admin_password), json=dict(ALERT))

    _native_error(refused, 403)
    assert "X-Requested-By" in refused.json()["status"]["message"]
    assert allowed.status_code == 200
    assert script.status_code == 200


def test_can_act_in_a_child_tenant_named_by_either_tenant_header(server, admin_token, boss):
    # GIVEN a child tenant and its own administrator
    child_admin = boss

    # WHEN the root admin creates alerts there, naming it by X-Tenant-Id and by Wazo-Tenant
    by_x = _new_alert(server, admin_token, **{"X-Tenant-Id": child_admin.tenant})
    by_wazo = _new_alert(server, admin_token, **{"Wazo-Tenant": child_admin.tenant})

    # THEN they live in the child, not in the root tenant
    for alert_id in (by_x, by_wazo):
        assert _call(server, "GET", f"/api/v2/alert/{alert_id}", {"X-AUTH-TOKEN": child_admin.token}).status_code == 200
        _native_error(_call(server, "GET", f"/api/v2/alert/{alert_id}", {"X-AUTH-TOKEN": admin_token}), 404)
    # ... and the child's admin may not name the root, nor a sibling
    sibling = new_tenant(server.url, admin_token)["uuid"]
    root = login(server.url, "admin", server.admin_password)["metadata"]["tenant_uuid"]
    for tenant in (sibling, root):
        resp = _call(server, "GET", "/api/v2/alert", {"X-AUTH-TOKEN": child_admin.token, "X-Tenant-Id": tenant})
        _native_error(resp, 403)


# ---- 404 / 405 / dialects -------------------------------------------------------------------------------------


def test_can_answer_unknown_paths_with_404_in_each_dialect(server, admin_token):
    native = _call(server, "GET", "/api/v2/no-such-category/at/all", {"X-AUTH-TOKEN": admin_token})
    wazo = _call(server, "GET", "/api/auth/0.1/no-such-resource", {"X-Auth-Token": admin_token})
    grafana = _call(server, "GET", "/api/dashboards/no/such/thing", {"Authorization": f"Bearer {admin_token}"})
    oauth = _call(server, "POST", "/auth/oauth/no-such-endpoint")

    _native_error(native, 404)
    assert wazo.status_code == 404
    assert wazo.json()["status_code"] == 404 and {"error_id", "message", "reason"} <= set(wazo.json())
    assert grafana.status_code == 404
    assert set(grafana.json()) >= {"message"} and "status" not in grafana.json()
    assert oauth.status_code == 404
    assert {"error", "error_description"} <= set(oauth.json())


def test_can_answer_wrong_methods_with_405_in_each_dialect(server, admin_token):
    native = _call(server, "PATCH", "/api/v2/alert", {**JSON, "X-AUTH-TOKEN": admin_token}, data="{}")
    wazo = _call(server, "PATCH", "/api/auth/0.1/token", JSON, data="{}")
    grafana = _call(server, "DELETE", "/api/health")
    oauth = _call(server, "GET", "/auth/oauth/token")

    _native_error(native, 405)
    assert wazo.status_code == 405 and wazo.json()["status_code"] == 405
    assert grafana.status_code == 405 and "message" in grafana.json()
    assert oauth.status_code == 405 and "error" in oauth.json()


def test_can_tag_every_answer_with_a_request_id(server, admin_token):
    for resp in (
        _call(server, "GET", "/api/health"),
        _call(server, "GET", "/api/v2/alert", {"X-AUTH-TOKEN": admin_token}),
        _call(server, "GET", "/api/v2/nothing"),
    ):
        assert resp.headers.get("X-Request-Id")


# ---- what the client sends ---------------------------------------------------------------------------------


def test_can_decode_percent_encoded_path_parameters(server, boss):
    auth = {**JSON, "X-AUTH-TOKEN": boss.token}
    email = f"{unique('bob')}@example.com"
    created = _call(
        server, "POST", "/api/v2/account/user", auth, json={"emailAddress": email, "groups": [], "userGroups": []}
    )
    assert created.status_code == 200, created.text

    # WHEN the identifier travels percent-encoded, as the client sends every path parameter
    user = _call(server, "GET", "/api/v2/account/user/" + email.replace("@", "%40"), auth)
    # ... and through the client itself
    via_client = wf.AccountUserAndServiceAccountApi(wavefront(server.url, boss.token)).get_user_account(email)

    # THEN the account is found by its decoded identifier
    assert user.status_code == 200 and user.json()["identifier"] == email
    assert via_client.identifier == email

    # A tag with ":" (encoded %3A) and a service account "sa::..." (encoded sa%3A%3A...)
    alert_id = _new_alert(server, boss.token)
    assert _call(server, "PUT", f"/api/v2/alert/{alert_id}/tag/team%3Aops", auth, data="{}").status_code == 200
    tags = _call(server, "GET", f"/api/v2/alert/{alert_id}/tag", auth).json()["response"]["items"]
    assert tags == ["team:ops"]
    robot = "sa::" + unique("robot")
    made = _call(server, "POST", "/api/v2/account/serviceaccount", auth, json={"identifier": robot, "active": True})
    assert made.status_code == 200, made.text
    got = _call(server, "GET", "/api/v2/account/serviceaccount/" + robot.replace(":", "%3A"), auth)
    assert got.status_code == 200 and got.json()["response"]["identifier"] == robot


def test_can_accept_json_content_type_on_get_and_empty_object_bodies(server, boss):
    auth = {**JSON, "X-AUTH-TOKEN": boss.token}
    alert_id = _new_alert(server, boss.token)

    # GET with Content-Type: application/json, with no body and with {}
    assert _call(server, "GET", "/api/v2/alert", auth).status_code == 200
    assert _call(server, "GET", "/api/v2/alert", auth, data="{}").status_code == 200
    assert _call(server, "GET", f"/api/v2/alert/{alert_id}", auth, data="{}").status_code == 200
    # bodiless POST and DELETE carrying {}
    snoozed = _call(server, "POST", f"/api/v2/alert/{alert_id}/snooze", auth, data="{}")
    assert snoozed.status_code == 200 and snoozed.json()["response"]["snoozed"] == -1
    assert _call(server, "POST", f"/api/v2/alert/{alert_id}/unsnooze", auth, data="{}").status_code == 200
    deleted = _call(server, "DELETE", f"/api/v2/alert/{alert_id}", auth, data="{}")
    assert deleted.status_code == 200 and deleted.json()["response"]["inTrash"] is True


def test_can_refuse_malformed_json_and_write_nothing(server, boss):
    auth = {**JSON, "X-AUTH-TOKEN": boss.token}

    before = _call(server, "GET", "/api/v2/alert", auth).json()["response"]["totalItems"]
    broken = _call(server, "POST", "/api/v2/alert", auth, data='{"name": "x", "condition": ')
    wrong_types = _call(server, "POST", "/api/v2/alert", auth, json={**ALERT, "minutes": "five"})

    _native_error(broken, 400)
    _native_error(wrong_types, 400)
    assert _call(server, "GET", "/api/v2/alert", auth).json()["response"]["totalItems"] == before


def test_can_refuse_an_oversized_body_with_413(server, admin_token):
    body = json.dumps({**ALERT, "additionalInformation": "x" * (1024 * 1024 + 1)})

    resp = _call(server, "POST", "/api/v2/alert", {**JSON, "X-AUTH-TOKEN": admin_token}, data=body)

    _native_error(resp, 413)


def test_can_read_query_booleans_as_the_client_sends_them(server, boss):
    auth = {**JSON, "X-AUTH-TOKEN": boss.token}
    alert_id = _new_alert(server, boss.token)

    # WHEN skipTrash is not a boolean THEN 400 and nothing is deleted
    _native_error(_call(server, "DELETE", f"/api/v2/alert/{alert_id}?skipTrash=maybe", auth, data="{}"), 400)
    assert _call(server, "GET", f"/api/v2/alert/{alert_id}", auth).json()["response"]["inTrash"] is False

    # WHEN skipTrash=True (the client's spelling) THEN it is gone for good
    assert _call(server, "DELETE", f"/api/v2/alert/{alert_id}?skipTrash=True", auth, data="{}").status_code == 200
    _native_error(_call(server, "GET", f"/api/v2/alert/{alert_id}", auth), 404)


def test_can_route_literal_paths_before_id_routes(server, admin_token):
    auth = {**JSON, "X-AUTH-TOKEN": admin_token}

    summary = _call(server, "GET", "/api/v2/alert/summary", auth)
    admins = _call(server, "GET", "/api/v2/account/user/admin", auth)
    facets = _call(server, "POST", "/api/v2/search/alert/facets", auth, json={"facets": ["severity"]})
    alert_id = _new_alert(server, admin_token)
    acl = _call(server, "GET", f"/api/v2/alert/acl?id={alert_id}", auth)

    assert summary.status_code == 200 and all(isinstance(v, int) for v in summary.json()["response"].values())
    assert admins.status_code == 200 and "admin" in admins.json()["response"]
    assert facets.status_code == 200 and "severity" in facets.json()["response"]["facets"]
    assert acl.status_code == 200 and [a["entityId"] for a in acl.json()["response"]] == [alert_id]


# ---- rate limits ------------------------------------------------------------------------------------------


def _budget(resp: requests.Response) -> tuple[int, int, int]:
    return (
        int(resp.headers["X-RateLimit-Limit"]),
        int(resp.headers["X-RateLimit-Remaining"]),
        int(resp.headers["X-RateLimit-Reset"]),
    )


def test_can_send_rate_limit_headers_on_authenticated_answers(server, boss):
    auth = {**JSON, "X-AUTH-TOKEN": boss.token}

    first = _call(server, "GET", "/api/v2/alert", auth)
    second = _call(server, "GET", "/api/v2/alert", auth)
    missing = _call(server, "GET", "/api/v2/alert/1700000000000000000", auth)

    limit, remaining, reset = _budget(first)
    limit2, remaining2, reset2 = _budget(second)
    assert limit == limit2 > 0
    assert reset > 1_600_000_000  # UTC epoch seconds
    if reset2 == reset:  # same one-minute window: exactly one request was counted in between
        assert remaining2 == remaining - 1
    assert missing.status_code == 404
    assert "X-RateLimit-Remaining" in missing.headers


def test_can_answer_429_with_retry_after_over_the_budget(spawn_server):
    # GIVEN a server whose paginated-GET and write budgets are 2 a minute
    srv = spawn_server(env={"OPSPLANE_RATE_LIMIT_GET_PAGED": "2", "OPSPLANE_RATE_LIMIT_WRITE": "2"})
    token = srv.token()

    # WHEN six paginated GETs arrive (two one-minute windows at most: one of them holds three)
    answers = [_call(srv, "GET", "/api/v2/alert", {**JSON, "X-AUTH-TOKEN": token}) for _ in range(6)]

    # THEN 429 with Retry-After, the exhausted budget, the throttled error and the native envelope
    throttled = [r for r in answers if r.status_code == 429]
    assert throttled, [r.status_code for r in answers]
    resp = throttled[0]
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    body = resp.json()
    assert body["error"] == "throttled" and body["error_description"] == "Too Many Requests"
    assert body["status"]["result"] == "ERROR" and body["status"]["code"] == 429

    # WHEN the client creates alerts over the write budget (a POST, which urllib3 never retries)
    client = wf.AlertApi(wavefront(srv.url, token))
    refusals = []
    for _ in range(6):
        try:
            client.create_alert(body=wf.Alert(name=unique("a"), condition="ts(x) > 1", minutes=1))
        except ApiException as exc:
            refusals.append(exc)

    # THEN it raises its ApiException with the 429 and the same body
    assert refusals and refusals[0].status == 429
    assert json.loads(refusals[0].body)["error"] == "throttled"
    assert int(refusals[0].headers["Retry-After"]) >= 1
