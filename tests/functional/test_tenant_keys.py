"""A gateway API key per tenant, on moto's API Gateway: made by the tenant-keys worker off the
request path, idempotent, retried when API Gateway throttles, moved with the tier, removed
with the tenant, handed to API Gateway by the authorizer; the tier's fallback key until then.

The usage plans and fallback keys are made here as infra/ makes them (one plan per tier,
named <usage plan prefix><tier>, and a key <fallback prefix><tier> on each). API Gateway
calls are watched with a botocore `before-call` handler on the store's client; a throttled
answer is given by the same kind of handler, answering before moto does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.awsrequest import AWSResponse

from chalicelib import tiers
from chalicelib.settings import get_settings, reset_settings
from chalicelib.store import gatewaykeys, queues
from chalicelib.workers.local import drain
from tests.functional.conftest import Api, mint

W = "/api/auth/0.1"
QUEUE = "tenant-keys"
HANDLER_ID = "opsplane-test-gateway-calls"
WRITES = {"CreateApiKey", "DeleteApiKey", "CreateUsagePlanKey", "DeleteUsagePlanKey"}


class Gateway:
    """Plans by tier, the calls the store makes, and throttled answers on demand."""

    def __init__(self) -> None:
        self.client = gatewaykeys._client()
        self.calls: list[str] = []
        self.throttle: dict[str, int] = {}  # operation -> how many more calls to throttle
        self.plans: dict[str, str] = {}

    def attach(self) -> Gateway:
        self.client.meta.events.register("before-call.api-gateway", self._before, unique_id=HANDLER_ID)
        return self

    def detach(self) -> None:
        self.client.meta.events.unregister("before-call.api-gateway", unique_id=HANDLER_ID)

    def _before(self, model: Any, **_: Any) -> Any:
        self.calls.append(model.name)
        if self.throttle.get(model.name, 0) > 0:
            self.throttle[model.name] -= 1
            error = {"Error": {"Code": "TooManyRequestsException", "Message": "Too Many Requests"}}
            return AWSResponse("https://apigateway", 429, {}, None), {**error, "ResponseMetadata": {}}
        return None

    def writes(self) -> list[str]:
        return [c for c in self.calls if c in WRITES]

    def keys_named(self, name: str) -> list[dict[str, Any]]:
        items = self.client.get_api_keys(nameQuery=name, includeValues=True)["items"]
        return [k for k in items if k["name"] == name]

    def plan_keys(self, tier: str) -> set[str]:
        return {k["id"] for k in self.client.get_usage_plan_keys(usagePlanId=self.plans[tier])["items"]}


@pytest.fixture
def gateway(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    """Keys on; the plans and fallback keys infra/ would make; no sleeping between retries."""
    monkeypatch.setenv("OPSPLANE_API_KEYS", "true")
    reset_settings()
    waits: list[float] = []
    monkeypatch.setattr(gatewaykeys, "sleep", waits.append)
    found = Gateway()
    found.waits = waits  # type: ignore[attr-defined]
    settings = get_settings()
    for tier in tiers.NAMES:
        plan = found.client.create_usage_plan(name=settings.usage_plan_prefix + tier)["id"]
        fallback = settings.fallback_key_prefix + tier
        key = found.client.create_api_key(name=fallback, value=fallback, enabled=True)["id"]
        found.client.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
        found.plans[tier] = plan
    found.attach()
    yield found
    found.detach()
    reset_settings()


def fallback(tier: str) -> str:
    """The fallback key's value infra/ gives a tier."""
    return get_settings().fallback_key_prefix + tier


def _tenant(api: Api, tier: str | None = "free") -> tuple[str, str]:
    """A new tenant (by the API, as a user would) and a token of an account inside it."""
    from chalicelib.identity import accounts

    status, tenant = api.json("POST", f"{W}/tenants", {"name": "acme"} | ({"tier": tier} if tier else {}))
    assert status == 200, tenant
    account = accounts.create_account(
        tenant["uuid"], username=f"u-{tenant['uuid']}", password="pw-123456789", fields={"acl": ["#"]}, by="test"
    )
    return tenant["uuid"], mint(account.id, tenant["uuid"])


def _usage_key(token: str) -> str:
    from chalicelib.http.gateway import authorizer_response

    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123:abc/dev/GET/api/v2/alert",
        "httpMethod": "GET",
        "headers": {"Authorization": f"Bearer {token}"},
    }
    return str(authorizer_response(event)["usageIdentifierKey"])


def _record(tenant: str) -> dict[str, Any]:
    from chalicelib.identity import tenants

    return tenants.get_tenant(tenant)


def test_can_serve_a_new_tenant_under_its_tiers_fallback_key_until_its_own_exists(api, gateway):
    # WHEN a tenant is created
    tenant, token = _tenant(api, "free")
    # THEN no API Gateway call was made on the request path, one job waits
    assert gateway.calls == []
    assert queues.depth(QUEUE) == 1
    # AND its requests are metered under the free tier's shared key, and served
    assert _usage_key(token) == fallback("free")
    assert api.call("GET", "/api/v2/alert", token=token).status_code == 200
    assert "api_key" not in _record(tenant)


def test_can_provision_a_key_on_the_tiers_plan_off_the_request_path(api, gateway):
    tenant, token = _tenant(api, "free")
    # WHEN the worker runs
    assert drain(QUEUE).handled == 1
    # THEN one key named after the tenant, tagged, is on the free plan only
    (key,) = gateway.keys_named(tenant)
    assert key["tags"] == {"opsplane:tenant": tenant, "opsplane:stage": get_settings().stage}
    assert key["enabled"] is True and len(key["value"]) >= 20
    assert gateway.plan_keys("free") - {k["id"] for k in gateway.keys_named(fallback("free"))} == {key["id"]}
    assert all(key["id"] not in gateway.plan_keys(t) for t in ("standard", "premium", "enterprise"))
    # AND the record names it, and the authorizer hands its value to API Gateway
    record = _record(tenant)
    assert (record["api_key_id"], record["api_key"], record["api_key_tier"]) == (key["id"], key["value"], "free")
    assert _usage_key(token) == key["value"]


def test_can_run_a_job_twice_without_doing_anything_twice(api, gateway):
    from chalicelib.identity import tenant_keys

    tenant, _ = _tenant(api, "standard")
    drain(QUEUE)
    version = _record(tenant)
    gateway.calls.clear()
    # WHEN the same job is delivered again, and reconcile is run once more
    queues.send(QUEUE, [json.dumps({"tenant": tenant})])
    assert drain(QUEUE).handled == 1
    assert tenant_keys.reconcile(tenant) == "unchanged"
    # THEN API Gateway was only read, the record not written, and there is still one key
    assert gateway.writes() == []
    assert _record(tenant) == version
    assert len(gateway.keys_named(tenant)) == 1


def test_can_find_a_key_made_by_a_run_that_stopped_before_recording_it(api, gateway):
    from chalicelib.identity import tenant_keys

    # GIVEN a key made for the tenant by a run that stopped before writing the record, and a
    # key of the same name without our tags (not ours)
    tenant, _ = _tenant(api, "standard")
    tags = {"opsplane:tenant": tenant, "opsplane:stage": get_settings().stage}
    gateway.client.create_api_key(name=tenant, value="s" * 40, enabled=True)
    made = gateway.client.create_api_key(name=tenant, value="v" * 40, enabled=True, tags=tags)
    gateway.calls.clear()
    # WHEN the job runs THEN that key is used (found by name and tags), none is made
    drain(QUEUE)
    assert "CreateApiKey" not in gateway.calls
    assert _record(tenant)["api_key_id"] == made["id"]
    assert made["id"] in gateway.plan_keys("standard")
    assert tenant_keys.reconcile(tenant) == "unchanged"


def test_can_retry_throttled_management_calls_with_backoff(api, gateway):
    # GIVEN API Gateway throttling the first two CreateApiKey and one CreateUsagePlanKey
    tenant, token = _tenant(api, "premium")
    gateway.throttle = {"CreateApiKey": 2, "CreateUsagePlanKey": 1}
    # WHEN the worker runs THEN the job is done, after three waits, each under its ceiling
    assert drain(QUEUE).handled == 1
    assert gateway.calls.count("CreateApiKey") == 3
    waits = gateway.waits  # type: ignore[attr-defined]
    assert len(waits) == 3
    assert all(0 <= w <= gatewaykeys.BACKOFF_CAP for w in waits)
    (key,) = gateway.keys_named(tenant)
    assert key["id"] in gateway.plan_keys("premium")
    assert _usage_key(token) == key["value"]


def test_can_keep_a_job_throttled_past_every_retry_for_a_later_delivery(api, gateway):
    tenant, token = _tenant(api, "free")
    # GIVEN API Gateway throttling every CreateApiKey
    gateway.throttle = {"CreateApiKey": 10_000}
    # WHEN the worker runs THEN the job fails after ATTEMPTS tries (a batch that failed whole
    # is raised by Powertools, and SQS delivers all of it again), and is kept, not lost
    with pytest.raises(BatchProcessingError):
        drain(QUEUE, max_batches=1)
    assert gateway.calls.count("CreateApiKey") == gatewaykeys.ATTEMPTS
    assert queues.depth(QUEUE) == 1
    # AND the tenant is still served under the fallback key meanwhile
    assert _usage_key(token) == fallback("free")
    assert api.call("GET", "/api/v2/alert", token=token).status_code == 200
    # AND once API Gateway answers again, the job delivered again does the work
    gateway.throttle = {}
    from chalicelib.identity import tenant_keys

    assert tenant_keys.reconcile(tenant) == "updated"
    assert len(gateway.keys_named(tenant)) == 1


def test_can_move_the_key_with_a_tier_change(api, gateway):
    tenant, token = _tenant(api, "free")
    drain(QUEUE)
    (key,) = gateway.keys_named(tenant)
    # WHEN the operator moves the tenant to enterprise
    status, _ = api.json("PUT", f"{W}/tenants/{tenant}", {"tier": "enterprise"})
    assert status == 200
    # THEN until the worker runs it is metered under the enterprise fallback key
    assert _usage_key(token) == fallback("enterprise")
    # AND once it ran, the same key is on the enterprise plan only (detached first)
    gateway.calls.clear()
    drain(QUEUE)
    assert [c for c in gateway.writes()] == ["DeleteUsagePlanKey", "CreateUsagePlanKey"]
    assert key["id"] in gateway.plan_keys("enterprise")
    assert key["id"] not in gateway.plan_keys("free")
    assert gateway.keys_named(tenant) == [key]
    assert _usage_key(token) == key["value"]
    assert _record(tenant)["api_key_tier"] == "enterprise"


def test_can_remove_the_key_with_the_tenant(api, gateway):
    tenant, _ = _tenant(api, "standard")
    drain(QUEUE)
    (key,) = gateway.keys_named(tenant)
    # WHEN the tenant is deleted and the worker runs
    assert api.call("DELETE", f"{W}/tenants/{tenant}").status_code == 204
    drain(QUEUE)
    # THEN its key is off the plan and gone
    assert key["id"] not in gateway.plan_keys("standard")
    assert gateway.keys_named(tenant) == []
    # AND a late job for it (its creation's, delivered again) makes nothing
    queues.send(QUEUE, [json.dumps({"tenant": tenant})])
    drain(QUEUE)
    assert gateway.keys_named(tenant) == []


def test_can_leave_keys_alone_when_they_are_off(api, gateway, monkeypatch):
    # GIVEN keys turned off (a local run without API Gateway)
    monkeypatch.setenv("OPSPLANE_API_KEYS", "false")
    reset_settings()
    # WHEN a tenant is created THEN no job is queued, and it is metered under the fallback key
    _, token = _tenant(api, "standard")
    assert queues.depth(QUEUE) == 0
    assert _usage_key(token) == fallback("standard")


def test_can_refuse_a_job_that_names_no_tenant(api, gateway):
    queues.send(QUEUE, ["not json", json.dumps({"tenant": ""})])
    with pytest.raises(BatchProcessingError):
        drain(QUEUE, max_batches=1)
    assert gateway.calls == []
    assert queues.depth(QUEUE) == 2
