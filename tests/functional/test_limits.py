"""Per-tenant rate limits: exact X-RateLimit-* headers and a 429 with Retry-After."""

from __future__ import annotations

import json

import pytest

from chalicelib.settings import reset_settings


@pytest.fixture
def limited(monkeypatch, api):
    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_ENABLED", "true")
    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_GET", "3")
    reset_settings()
    yield api
    reset_settings()


def test_can_count_down_and_throttle(limited):
    remaining = []
    for _ in range(3):
        resp = limited.call("GET", "/api/auth/0.1/users")
        assert resp.status_code == 200
        assert resp.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(resp.headers["X-RateLimit-Remaining"]))
        assert int(resp.headers["X-RateLimit-Reset"]) > 1_700_000_000
    assert remaining == [2, 1, 0]
    resp = limited.call("GET", "/api/auth/0.1/users")
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    body = json.loads(resp.body)
    assert body["error"] == "throttled"
    assert body["error_description"] == "Too Many Requests"
    assert body["status"]["code"] == 429


def test_can_keep_tenants_budgets_apart(limited, make_tenant, make_user):
    for _ in range(4):
        limited.call("GET", "/api/auth/0.1/users")
    other = make_user(["#"], tenant=make_tenant("other"))
    resp = limited.call("GET", "/api/auth/0.1/users", token=other.token)
    assert resp.status_code == 200
