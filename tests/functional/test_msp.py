"""The MSP dialect (docs/msp.md): tenant URLs reaching every route as the tenant header
does, a partner's client tenants, 407 for an expired token on the MSP routes only, and the
X-RateLimit-* headers on every answer to an identified tenant (403, 404, 405, 429 too)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.settings import reset_settings
from tests.functional.conftest import ADMIN_PASSWORD, Api, mint

T = "/api/v2/tenants"
ALERT = {"name": "CPU", "condition": "ts(cpu.load) > 4", "minutes": 5, "severity": "WARN"}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def partner(api: Api, make_tenant: Any, make_user: Any) -> Any:
    """A partner tenant below the root and an administrator of it (ACL `#`)."""
    return make_user(["#"], tenant=make_tenant("Partner"))


def _ids(page: dict[str, Any]) -> list[str]:
    return [t["id"] for t in page["response"]["items"]]


def _alert_names(api: Api, **kw: Any) -> list[str]:
    status, body = api.json("GET", "/api/v2/alert", **kw)
    assert status == 200, body
    return [a["name"] for a in body["response"]["items"]]


# ---- partner -> client tenancy ----------------------------------------------------------


def test_can_create_list_read_deactivate_and_reactivate_clients_as_a_partner(api, partner):
    # WHEN the partner creates two clients
    status, acme = api.json("POST", T, {"name": "Acme"}, token=partner.token)
    assert status == 200, acme
    _, zeta = api.json("POST", T, {"name": "Zeta", "slug": "zeta-co"}, token=partner.token)
    acme, zeta = acme["response"], zeta["response"]
    # THEN each is a client of the partner, active
    assert acme == {
        "id": acme["id"],
        "name": "Acme",
        "slug": "acme",
        "active": True,
        "tier": "standard",
        "parentId": partner.tenant,
    }
    assert zeta["slug"] == "zeta-co"
    # ... listed by name in the native paged envelope, and read one by one
    status, page = api.json("GET", T, token=partner.token)
    assert status == 200
    assert _ids(page) == [acme["id"], zeta["id"]]
    assert page["response"]["totalItems"] == 2 and page["response"]["moreItems"] is False
    assert api.json("GET", f"{T}?limit=1&offset=1", token=partner.token)[1]["response"]["items"][0]["name"] == "Zeta"
    assert api.json("GET", f"{T}/{acme['id']}", token=partner.token)[1]["response"] == acme

    # WHEN it deactivates Acme
    status, gone = api.json("POST", f"{T}/{acme['id']}/deactivate", token=partner.token)
    # THEN Acme is inactive and answers 410 to a request acting in it, by URL or by header
    assert status == 200 and gone["response"]["active"] is False
    assert api.json("GET", f"{T}/{acme['id']}/alert", token=partner.token)[0] == 410
    assert api.json("GET", "/api/v2/alert", token=partner.token, headers={"X-Tenant-Id": acme["id"]})[0] == 410
    # ... until it is reactivated
    status, back = api.json("POST", f"{T}/{acme['id']}/activate", token=partner.token)
    assert status == 200 and back["response"]["active"] is True
    assert api.json("GET", f"{T}/{acme['id']}/alert", token=partner.token)[0] == 200


def test_can_list_every_tenant_below_with_recurse(api, partner):
    # GIVEN a client of the partner with a client of its own
    client = api.json("POST", T, {"name": "Client"}, token=partner.token)[1]["response"]
    grand = api.json("POST", f"{T}/{client['id']}/tenants", {"name": "Grand"}, token=partner.token)[1]["response"]
    # THEN the partner lists its direct client, and with recurse both
    assert _ids(api.json("GET", T, token=partner.token)[1]) == [client["id"]]
    assert set(_ids(api.json("GET", f"{T}?recurse=true", token=partner.token)[1])) == {client["id"], grand["id"]}
    assert grand["parentId"] == client["id"]


def test_can_keep_a_client_from_seeing_its_partner_or_siblings(api, partner, make_user):
    # GIVEN two clients of the partner and a user of the first
    first = api.json("POST", T, {"name": "First"}, token=partner.token)[1]["response"]
    second = api.json("POST", T, {"name": "Second"}, token=partner.token)[1]["response"]
    user = make_user(["#"], tenant=first["id"])
    # WHEN the client lists and reads tenants
    status, page = api.json("GET", T, token=user.token)
    # THEN it has no clients, and its own record does not name its partner
    assert status == 200 and page["response"]["items"] == []
    own = api.json("GET", f"{T}/{first['id']}", token=user.token)[1]["response"]
    assert own == {"id": first["id"], "name": "First", "slug": "first", "active": True, "tier": "standard"}
    # ... its partner and its sibling are unknown to it (404), and it cannot act in them (403)
    for other in (partner.tenant, second["id"]):
        assert api.json("GET", f"{T}/{other}", token=user.token)[0] == 404
        assert api.json("POST", f"{T}/{other}/deactivate", token=user.token)[0] == 404
        assert api.json("GET", f"{T}/{other}/alert", token=user.token)[0] == 403
    # ... and it cannot deactivate its own home tenant
    assert api.json("POST", f"{T}/{first['id']}/deactivate", token=user.token)[0] == 403


def test_can_refuse_bad_tenant_bodies_and_missing_permissions(api, partner, make_user):
    before = api.json("GET", T, token=partner.token)[1]["response"]["totalItems"]
    for body in ({}, {"name": ""}, {"name": 5}, {"name": "x" * 129}, {"name": "A", "extra": 1}, [1]):
        status, answer = api.json("POST", T, body, token=partner.token)
        assert status == 400, body
        assert answer["status"]["result"] == "ERROR"
    viewer = make_user(["tenant.read"], tenant=partner.tenant)
    assert api.json("POST", T, {"name": "No"}, token=viewer.token)[0] == 403
    assert api.json("GET", T, token=viewer.token)[0] == 200
    # nothing was written
    assert api.json("GET", T, token=partner.token)[1]["response"]["totalItems"] == before


# ---- tenant URLs --------------------------------------------------------------------------


def test_can_reach_native_routes_through_the_tenant_url_as_through_the_header(api, partner):
    client = api.json("POST", T, {"name": "Client"}, token=partner.token)[1]["response"]["id"]
    header = {"X-Tenant-Id": client}
    # WHEN an alert is created through the short tenant URL, another through the full one
    status, made = api.json("POST", f"{T}/{client}/alert", ALERT, token=partner.token)
    assert status == 200, made
    full = api.json("POST", f"{T}/{client}/api/v2/alert", {**ALERT, "name": "Disk"}, token=partner.token)
    assert full[0] == 200
    alert_id = made["response"]["id"]
    # THEN both live in the client tenant: the header form lists them, the partner's own tenant does not
    assert sorted(_alert_names(api, token=partner.token, headers=header)) == ["CPU", "Disk"]
    assert _alert_names(api, token=partner.token) == []
    # ... and every form reaches the same object routes (an {id}, a literal beside {id}, a search)
    assert api.json("GET", f"{T}/{client}/alert/{alert_id}", token=partner.token)[1]["response"]["name"] == "CPU"
    history = api.json("GET", f"{T}/{client}/api/v2/alert/{alert_id}/history", token=partner.token)
    assert history[0] == 200 and history[1]["response"]["items"]
    summary = api.json("GET", f"{T}/{client}/alert/summary", token=partner.token)
    assert summary[0] == 200 and isinstance(summary[1]["response"], dict)
    found = api.json("POST", f"{T}/{client}/search/alert", {"query": [], "limit": 10}, token=partner.token)
    assert found[0] == 200 and found[1]["response"]["totalItems"] == 2
    # ... and a percent-encoded path parameter is decoded as on the plain path
    assert api.json("PUT", f"{T}/{client}/alert/{alert_id}/tag/team%3Aops", token=partner.token)[0] == 200
    tags = api.json("GET", f"/api/v2/alert/{alert_id}/tag", token=partner.token, headers=header)[1]
    assert tags["response"]["items"] == ["team:ops"]


def test_can_reach_other_categories_and_dialects_through_the_tenant_url(api, partner):
    client = api.json("POST", T, {"name": "Client"}, token=partner.token)[1]["response"]["id"]
    # native categories: events, maintenance windows, accounts, the MSP routes themselves
    event = {"name": "deploy", "startTime": 1_700_000_000_000, "annotations": {}}
    assert api.json("POST", f"{T}/{client}/event", event, token=partner.token)[0] == 200
    assert api.json("GET", f"{T}/{client}/account", token=partner.token)[0] == 200
    grand = api.json("POST", f"{T}/{client}/tenants", {"name": "Grand"}, token=partner.token)
    assert grand[0] == 200 and grand[1]["response"]["parentId"] == client
    # Grafana (full path): a dashboard saved through the URL is the client's, and its errors stay Grafana's
    board = {"dashboard": {"title": "Ops", "panels": []}, "overwrite": False}
    status, saved = api.json("POST", f"{T}/{client}/api/dashboards/db", board, token=partner.token)
    assert status == 200, saved
    hits = api.json("GET", "/api/search?query=Ops", token=partner.token, headers={"X-Tenant-Id": client})[1]
    assert [h["uid"] for h in hits] == [saved["uid"]]
    assert api.json("GET", "/api/search?query=Ops", token=partner.token)[1] == []
    missing = api.json("GET", f"{T}/{client}/api/dashboards/uid/nope", token=partner.token)
    assert missing == (404, {"message": "Dashboard not found"})
    # Wazo (full path): the client's users, in Wazo's list shape
    users = api.json("GET", f"{T}/{client}/api/auth/0.1/users", token=partner.token)
    assert users[0] == 200 and users[1]["total"] == 0


def test_can_apply_the_tenant_rules_to_tenant_urls(api, partner, make_tenant, make_user):
    # GIVEN the partner, a sibling partner, a client of the partner's, and a user of that client
    sibling = make_tenant("Sibling")
    client = api.json("POST", T, {"name": "Client"}, token=partner.token)[1]["response"]["id"]
    client_user = make_user(["#"], tenant=client)
    # THEN a sibling, an ancestor and an unknown tenant are refused with 403, as by the header
    for other in (sibling, api.root, "no-such-tenant"):
        by_url = api.json("GET", f"{T}/{other}/alert", token=partner.token)
        by_header = api.json("GET", "/api/v2/alert", token=partner.token, headers={"X-Tenant-Id": other})
        assert by_url[0] == by_header[0] == 403, other
        assert by_url[1]["status"]["message"] == by_header[1]["status"]["message"]
    assert api.json("GET", f"{T}/{partner.tenant}/alert", token=client_user.token)[0] == 403
    # ... the tenant itself is fine, and so is a descendant of a descendant
    assert api.json("GET", f"{T}/{partner.tenant}/alert", token=partner.token)[0] == 200
    assert api.json("GET", f"{T}/{client}/alert", token=api.token)[0] == 200
    # ... a header naming the URL's tenant is accepted, one naming another is a 400
    assert api.json("GET", f"{T}/{client}/alert", token=partner.token, headers={"Wazo-Tenant": client})[0] == 200
    for name in ("Wazo-Tenant", "X-Tenant-Id"):
        status, body = api.json("GET", f"{T}/{client}/alert", token=partner.token, headers={name: partner.tenant})
        assert status == 400, name
        assert name.lower() in body["status"]["message"]
    # ... the ACL still applies inside the tenant, and credentials are still needed
    reader = make_user(["alert.read"], tenant=partner.tenant)
    assert api.json("GET", f"{T}/{client}/alert", token=reader.token)[0] == 200
    assert api.json("POST", f"{T}/{client}/alert", ALERT, token=reader.token)[0] == 403
    assert api.json("GET", f"{T}/{client}/alert", token="")[0] == 401


def test_can_answer_404_and_405_through_the_tenant_url_in_the_dialect(api, partner):
    client = api.json("POST", T, {"name": "Client"}, token=partner.token)[1]["response"]["id"]
    unknown = api.call("GET", f"{T}/{client}/no-such-thing", token=partner.token)
    assert unknown.status_code == 404
    assert unknown.json_body["status"]["code"] == 404
    grafana = api.call("GET", f"{T}/{client}/api/no/such/thing", token=partner.token)
    assert grafana.status_code == 404 and grafana.json_body == {"message": "Not found"}
    wrong = api.call("PATCH", f"{T}/{client}/alert", token=partner.token)
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, POST, HEAD"
    # the tenant record itself, and a tenant URL naming no path, are not rewritten
    assert api.json("GET", f"{T}/{client}", token=partner.token)[0] == 200
    assert api.json("GET", f"{T}/{client}/", token=partner.token)[0] == 200


# ---- 407 on the MSP routes, 401 elsewhere -------------------------------------------------


def test_can_answer_407_for_an_expired_token_on_msp_routes_only(api, partner):
    client = api.json("POST", T, {"name": "Client"}, token=partner.token)[1]["response"]["id"]
    expired = mint(api.admin, api.root, ttl=-10)
    # WHEN the expired token is used on the MSP routes and through a tenant URL
    for path in (T, f"{T}/{client}", f"{T}/{client}/alert", f"{T}/{client}/api/v2/alert"):
        resp = api.call("GET", path, token=expired)
        # THEN 407 "Token expired." in the native envelope, with the challenge
        assert resp.status_code == 407, path
        assert resp.json_body["status"] == {"result": "ERROR", "code": 407, "message": "Token expired."}
        assert 'error="invalid_token"' in resp.headers["Proxy-Authenticate"]
    # ... a Grafana path reached through the tenant URL says it in Grafana's shape
    grafana = api.call("GET", f"{T}/{client}/api/search", token=expired)
    assert grafana.status_code == 407 and grafana.json_body == {"message": "Token expired."}
    # ... while the Wavefront, Grafana, Wazo and CloverDX dialects keep 401 (docs/auth.md's table)
    for path in ("/api/v2/alert", "/api/search", "/api/auth/0.1/users", "/clover/api/rest/v1/dashboards"):
        resp = api.call("GET", path, token=expired, headers={"X-Requested-By": "test"})
        assert resp.status_code == 401, path
        assert "expired" in resp.headers["WWW-Authenticate"]
        # ... as they do for a bad or a missing token, like the MSP routes
        for token in ("not-a-token", ""):
            assert api.call("GET", path, token=token, headers={"X-Requested-By": "test"}).status_code == 401
    assert api.call("GET", T, token="not-a-token").status_code == 401
    assert api.call("GET", T, token="").status_code == 401


# ---- rate-limit headers on every answer to an identified tenant ---------------------------


@pytest.fixture
def limited(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The whole API with the rate limiter on: 3 writes a minute per tenant and category."""
    from chalicelib.api import routers
    from chalicelib.http.edge import Edge
    from chalicelib.identity.bootstrap import bootstrap

    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_ENABLED", "true")
    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_WRITE", "3")
    reset_settings()
    app = Chalice(app_name="opsplane-msp-limited")
    Edge(app, routers(())).register()
    inst = bootstrap(ADMIN_PASSWORD)
    with Client(app) as client:
        yield Api(client, mint(inst.admin_uuid, inst.root_tenant), inst.root_tenant, inst.admin_uuid)
    reset_settings()


def _has_budget(resp: Any) -> bool:
    return all(name in resp.headers for name in RATE_HEADERS)


def test_can_send_rate_limit_headers_on_refusals_too(limited, make_user, make_tenant):
    api = limited
    sibling = make_tenant("Sibling")
    reader = make_user(["alert.read"])
    answers = {
        "200": api.call("GET", "/api/v2/alert"),
        "403 acl": api.call("POST", "/api/v2/alert", ALERT, token=reader.token),
        "403 tenant": api.call("GET", "/api/v2/alert", token=reader.token, headers={"X-Tenant-Id": "nope"}),
        "404 id": api.call("GET", "/api/v2/alert/123"),
        "404 path": api.call("GET", "/api/v2/no-such-thing"),
        "404 tenant url": api.call("GET", f"{T}/{sibling}/no-such-thing"),
        "405": api.call("PATCH", "/api/v2/alert"),
        "405 tenant url": api.call("PATCH", f"{T}/{sibling}/alert"),
    }
    for what, resp in answers.items():
        assert _has_budget(resp), (what, resp.status_code, resp.headers)
    assert [r.status_code for r in answers.values()] == [200, 403, 403, 404, 404, 404, 405, 405]
    # an anonymous 404 or 405 has no tenant, so no budget
    assert not _has_budget(api.call("GET", "/api/v2/no-such-thing", token=""))
    assert not _has_budget(api.call("PATCH", "/api/v2/alert", token=""))


def test_can_throttle_through_the_tenant_url_with_the_seed_body(limited, make_tenant):
    api = limited
    client = make_tenant("Client")
    # WHEN four writes a minute reach a budget of three, through the tenant URL
    answers = [api.call("POST", f"{T}/{client}/alert", {**ALERT, "name": f"a{i}"}) for i in range(4)]
    # THEN three pass, counting down, and the fourth is 429 with the seed's body and the envelope
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [int(r.headers["X-RateLimit-Remaining"]) for r in answers] == [2, 1, 0, 0]
    throttled = answers[-1]
    assert throttled.json_body["error"] == "throttled"
    assert throttled.json_body["error_description"] == "Too Many Requests"
    assert throttled.json_body["status"]["code"] == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.headers["X-RateLimit-Limit"] == "3"
    # ... the budget is the client tenant's: the same category by header is spent, the root's is not
    assert api.call("POST", "/api/v2/alert", ALERT, headers={"X-Tenant-Id": client}).status_code == 429
    assert api.call("POST", "/api/v2/alert", ALERT).status_code == 200
    # ... and a 404 or 405 of the spent tenant answers 429 too
    assert api.call("PATCH", f"{T}/{client}/alert").status_code == 429


def test_can_document_the_tenant_url_once_as_a_server(api):
    # WHEN the OpenAPI document is read
    doc = api.json("GET", "/api/v2/swagger.json", token="")[1]
    # THEN the tenant URL is one server (every route below it), not a copy of every path
    assert [s["url"] for s in doc["servers"]] == ["/", "/api/v2/tenants/{tenantId}"]
    assert not [p for p in doc["paths"] if p.startswith("/api/v2/tenants/{tenantId}/api/")]
    # ... the MSP routes say 407 for an expired token, the other dialects do not
    assert "407" in doc["paths"]["/api/v2/tenants"]["get"]["responses"]
    assert "407" in doc["paths"]["/api/v2/tenants/{tenantId}/deactivate"]["post"]["responses"]
    assert "407" not in doc["paths"]["/api/v2/alert"]["get"]["responses"]
    assert "401" in doc["paths"]["/api/v2/alert"]["get"]["responses"]


def test_can_give_a_client_a_tier_no_higher_than_its_partners(api, partner):
    status, free = api.json("POST", T, {"name": "Small", "tier": "free"}, token=partner.token)
    assert status == 200 and free["response"]["tier"] == "free", free
    status, answer = api.json("POST", T, {"name": "Big", "tier": "enterprise"}, token=partner.token)
    assert status == 400 and "tier" in answer["status"]["message"], answer
    status, answer = api.json("POST", T, {"name": "Odd", "tier": "platinum"}, token=partner.token)
    assert status == 400 and "tier" in answer["status"]["message"], answer
    status, page = api.json("GET", T, token=partner.token)
    assert [t["name"] for t in page["response"]["items"]] == ["Small"]
