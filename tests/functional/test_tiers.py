"""Tiers: a tenant's tier sizes its budgets, a change applies to the next request, and tiers
are given from above (never above the parent's, never to oneself).

The app here runs on a Limiter whose clock the test holds (no minute ends mid-test), as in
test_limits.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib import tiers
from chalicelib.settings import reset_settings
from tests.functional.conftest import ADMIN_PASSWORD, Api, mint

W = "/api/auth/0.1"
ALERTS = "/api/v2/alert"  # a paginated GET: the standard budget is the setting's 10 below
START = 1_800_000_000 + 15.0


@pytest.fixture
def tiered(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The whole API, limited, with a standard paged-GET budget of 10 a minute."""
    from chalicelib.api import routers
    from chalicelib.http.edge import Edge
    from chalicelib.http.limits import Limiter
    from chalicelib.identity.bootstrap import bootstrap

    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_ENABLED", "true")
    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_GET_PAGED", "10")
    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_FLUSH_HITS", "1000")
    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_FLUSH_SECONDS", "3600")
    reset_settings()
    app = Chalice(app_name="opsplane-tiered")
    Edge(app, routers(()), limiter=Limiter(clock=lambda: START)).register()
    inst = bootstrap(ADMIN_PASSWORD)
    with Client(app) as client:
        yield Api(client, mint(inst.admin_uuid, inst.root_tenant), inst.root_tenant, inst.admin_uuid)
    reset_settings()


def _client_of(api: Api, tier: str | None, parent: str | None = None) -> tuple[str, str]:
    """A new tenant (tier given or default) and a token of an admin inside it."""
    from chalicelib.identity import accounts

    body: dict[str, Any] = {"name": f"client {tier}"} | ({"tier": tier} if tier else {})
    headers = {"Wazo-Tenant": parent} if parent else None
    status, tenant = api.json("POST", f"{W}/tenants", body, headers=headers)
    assert status == 200, tenant
    account = accounts.create_account(
        tenant["uuid"], username=f"admin-{tenant['uuid']}", password="pw-123456789", fields={"acl": ["#"]}, by="test"
    )
    return tenant["uuid"], mint(account.id, tenant["uuid"])


def _limits(api: Api, token: str, n: int) -> list[tuple[int, str]]:
    answers = [api.call("GET", ALERTS, token=token) for _ in range(n)]
    return [(r.status_code, r.headers.get("X-RateLimit-Limit", "")) for r in answers]


def test_can_size_each_tiers_budget_as_a_share_of_the_settings():
    # THEN four tiers, in ascending order, with the standard tier at the settings' budget
    assert tiers.NAMES == ("free", "standard", "premium", "enterprise")
    assert [tiers.get(n).budget(50) for n in tiers.NAMES] == [10, 50, 150, 500]
    assert tiers.get("free").budget(1) == 1  # never a budget of nothing
    for low, high in zip(tiers.TIERS, tiers.TIERS[1:], strict=False):
        assert low.rate < high.rate and low.monthly_quota < high.monthly_quota
        assert low.ingest_points_per_second < high.ingest_points_per_second
        assert tiers.retention_days(low.name) < tiers.retention_days(high)
    # AND a record without a tier is a standard tenant
    assert tiers.tier_of({"uuid": "t", "parent_uuid": "p"}).name == "standard"


def test_can_limit_each_tenant_by_its_tier(tiered):
    # GIVEN a free and a premium tenant (10 paged GETs a minute is the standard budget)
    _, free = _client_of(tiered, "free")
    _, premium = _client_of(tiered, "premium")
    # THEN the free tenant gets 2 (20%) and the third is refused
    assert _limits(tiered, free, 3) == [(200, "2"), (200, "2"), (429, "2")]
    # AND the premium tenant 30 (300%)
    answers = _limits(tiered, premium, 31)
    assert answers[:30] == [(200, "30")] * 30
    assert answers[30] == (429, "30")


def test_can_apply_a_tier_change_to_the_next_request(tiered):
    # GIVEN a free tenant that spent its budget
    tenant, token = _client_of(tiered, "free")
    assert _limits(tiered, token, 3)[-1] == (429, "2")
    # WHEN the operator moves it to enterprise
    status, changed = tiered.json("PUT", f"{W}/tenants/{tenant}", {"tier": "enterprise"})
    assert (status, changed["tier"]) == (200, "enterprise")
    # THEN its next request is admitted under the enterprise budget, counted from the same window
    response = tiered.call("GET", ALERTS, token=token)
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "100"
    assert response.headers["X-RateLimit-Remaining"] == "97"
    # AND back to free: refused again at once
    tiered.json("PUT", f"{W}/tenants/{tenant}", {"tier": "free"})
    assert _limits(tiered, token, 1) == [(429, "2")]


def test_can_see_a_tier_changed_in_another_container_within_the_cache_bound(tiered):
    from chalicelib.auth.cache import AUTH_CACHE
    from chalicelib.settings import get_settings
    from chalicelib.store.repository import Repository

    # GIVEN a free tenant whose record this container keeps (auth/cache.py)
    tenant, token = _client_of(tiered, "free")
    assert _limits(tiered, token, 1) == [(200, "2")]
    # WHEN another container changes its tier (a write that does not invalidate this cache)
    Repository(tenant, "tenant").update(tenant, lambda e: e.doc.update(tier="premium"), by="elsewhere")
    # THEN this container applies it once the cached record ages out, no later
    now = AUTH_CACHE.clock()
    assert _limits(tiered, token, 1) == [(200, "2")]
    AUTH_CACHE.clock = lambda: now + get_settings().auth_cache_seconds + 1
    try:
        assert _limits(tiered, token, 1) == [(200, "30")]
    finally:
        AUTH_CACHE.clock = __import__("time").time


def test_can_give_new_tenants_the_default_tier_capped_at_the_parents(tiered):
    # GIVEN a free partner under the root
    partner, partner_token = _client_of(tiered, "free")
    # WHEN the partner makes a client without a tier THEN it is free, not standard
    status, client = tiered.json("POST", f"{W}/tenants", {"name": "c1"}, token=partner_token)
    assert (status, client["tier"]) == (200, "free")
    # AND a tier above the partner's is refused, naming the field, and nothing is made
    before = tiered.json("GET", f"{W}/tenants", token=partner_token)[1]["total"]
    status, body = tiered.json("POST", f"{W}/tenants", {"name": "c2", "tier": "premium"}, token=partner_token)
    assert status == 400 and "tier" in str(body)
    assert tiered.json("GET", f"{W}/tenants", token=partner_token)[1]["total"] == before
    # AND so is a change to one
    status, body = tiered.json("PUT", f"{W}/tenants/{client['uuid']}", {"tier": "standard"}, token=partner_token)
    assert status == 400 and "tier" in str(body)
    # AND the root's children may have any tier; a root child's default is standard
    status, top = tiered.json("POST", f"{W}/tenants", {"name": "top"})
    assert (status, top["tier"]) == (200, "standard")


def test_can_refuse_an_unknown_tier_and_ones_own_tier(tiered):
    tenant, token = _client_of(tiered, "standard")
    # WHEN a tier that does not exist is asked for THEN 400 naming the field
    status, body = tiered.json("PUT", f"{W}/tenants/{tenant}", {"tier": "platinum"})
    assert status == 400 and "tier" in str(body)
    # AND no tenant changes its own home tenant's tier, even an admin of it
    status, _ = tiered.json("PUT", f"{W}/tenants/{tenant}", {"tier": "free"}, token=token)
    assert status == 403
    status, shown = tiered.json("GET", f"{W}/tenants/{tenant}")
    assert shown["tier"] == "standard"
