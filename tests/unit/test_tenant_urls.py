"""Tenant URLs split into their tenant and inner path, and matched to route templates."""

from __future__ import annotations

import pytest

from chalicelib.http.tenant_urls import Scoped, is_msp, match, split


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v2/tenants/T/alert", Scoped("T", "/api/v2/alert")),
        ("/api/v2/tenants/T/api/v2/alert/1", Scoped("T", "/api/v2/alert/1")),
        ("/api/v2/tenants/T/api/dashboards/db", Scoped("T", "/api/dashboards/db")),
        ("/api/v2/tenants/a%20b/alert", Scoped("a b", "/api/v2/alert")),
        ("/api/v2/tenants/T", None),
        ("/api/v2/tenants/T/", None),
        ("/api/v2/tenants", None),
        ("/api/v2/alert", None),
        ("/api/v2/tenantsX/T/alert", None),
    ],
)
def test_can_split_a_tenant_url(path, expected):
    assert split(path) == expected


def test_can_tell_msp_paths():
    assert is_msp("/api/v2/tenants") and is_msp("/api/v2/tenants/T/alert")
    assert not is_msp("/api/v2/tenantsX") and not is_msp("/api/v2/alert")


def test_can_match_a_literal_before_a_variable_whatever_the_order():
    templates = ["/api/v2/alert/{id}", "/api/v2/alert/summary", "/api/v2/alert/{id}/tag/{tagValue}"]
    assert match(templates, "/api/v2/alert/summary") == ("/api/v2/alert/summary", {})
    assert match(reversed(templates), "/api/v2/alert/42") == ("/api/v2/alert/{id}", {"id": "42"})
    assert match(templates, "/api/v2/alert/42/tag/a%3Ab") == (
        "/api/v2/alert/{id}/tag/{tagValue}",
        {"id": "42", "tagValue": "a%3Ab"},
    )
    assert match(templates, "/api/v2/alert/42/nothing") is None
    assert match(templates, "/api/v2/alert//tag/x") is None
