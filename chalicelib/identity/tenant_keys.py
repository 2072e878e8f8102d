"""Each tenant's own API Gateway API key, on its tier's usage plan (docs/deploy.md).

The key is a metering identifier, not a credential: the API takes its key from the
authorizer (apiKeySource AUTHORIZER), so no caller can present one, and the authorizer
hands API Gateway the key of the tenant it has already authenticated. Its value is therefore
kept in the tenant record as it is (`api_key`, with `api_key_id` and `api_key_tier`, the
tier whose plan it was last attached to), and never shown in the API.

`reconcile(tenant)` brings API Gateway in line with the tenant record, whatever happened
before: no record (the tenant was deleted) removes the tenant's keys; otherwise the key is
found (by the id on the record, else by name = tenant id and tags), or made; it is detached
from every plan but its tier's and attached there (detached first: API Gateway keeps a key
on one plan per API stage); the record is updated when it says otherwise. A second run
finds everything in place and writes nothing, so a redelivered job does nothing twice, and
jobs may run in any order. Two runs racing to make a key each keep the oldest key named
after the tenant and delete their own.

Until the record names a key on its tier's plan, requests are metered under the tier's
shared fallback key (`usage_key`): infra/ creates one per tier on the tier's plan, named
and valued `<settings.fallback_key_prefix><tier>`. A new tenant, or one whose tier just
changed, is therefore metered under its (new) tier's plan at once, and never refused.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import tiers
from chalicelib.errors import Invalid, NotFound
from chalicelib.identity import tenants
from chalicelib.settings import get_settings
from chalicelib.store import gatewaykeys
from chalicelib.store.gatewaykeys import ApiKey

QUEUE = tenants.KEYS_QUEUE
TAG_TENANT = "opsplane:tenant"
TAG_STAGE = "opsplane:stage"
WORKER = "worker:tenant-keys"  # the `by` of the record updates

logger = Logger(service="opsplane", child=True)


def fallback_key(tier: tiers.Tier) -> str:
    """The value (and name) of a tier's shared fallback key."""
    return get_settings().fallback_key_prefix + tier.name


def plan_name(tier: tiers.Tier) -> str:
    """The name of a tier's usage plan (infra/ names it so)."""
    return get_settings().usage_plan_prefix + tier.name


def usage_key(tenant: Mapping[str, Any]) -> str:
    """The key API Gateway meters a tenant's requests under (the authorizer's
    usageIdentifierKey): its own once it is on its tier's plan, else the tier's fallback."""
    tier = tiers.tier_of(tenant)
    own = tenant.get("api_key")
    if own and tenant.get("api_key_tier") == tier.name:
        return str(own)
    return fallback_key(tier)


def parse_job(body: str) -> str:
    """The tenant id a job names (Invalid when the body is not a job)."""
    try:
        job = json.loads(body)
    except ValueError as exc:
        raise Invalid("A tenant key job is JSON") from exc
    tenant = job.get("tenant") if isinstance(job, dict) else None
    if not isinstance(tenant, str) or not tenant:
        raise Invalid("A tenant key job names its tenant")
    return tenant


def _tags(tenant_uuid: str) -> dict[str, str]:
    return {TAG_TENANT: tenant_uuid, TAG_STAGE: get_settings().stage}


def reconcile(tenant_uuid: str) -> str:
    """Bring the tenant's key in line with its record (module docstring); what was done:
    "removed", "unchanged" or "updated"."""
    try:
        doc = tenants.get_tenant(tenant_uuid)
    except NotFound:
        return _remove(tenant_uuid)
    tier = tiers.tier_of(doc)
    key = gatewaykeys.get_key(doc["api_key_id"]) if doc.get("api_key_id") else None
    if key is None:
        key = _find_or_create(tenant_uuid)
    wanted = gatewaykeys.plan_id(plan_name(tier))
    attached = gatewaykeys.plans_of(key.id)
    for plan in sorted(attached - {wanted}):
        gatewaykeys.detach(plan, key.id)
    if wanted not in attached:
        gatewaykeys.attach(wanted, key.id)
    record = {"api_key_id": key.id, "api_key": key.value, "api_key_tier": tier.name}
    changed = attached != {wanted}
    if any(doc.get(k) != v for k, v in record.items()):
        try:
            tenants.update_tenant(tenant_uuid, record, by=WORKER)
        except NotFound:  # deleted while we worked: its own job may have run already
            return _remove(tenant_uuid)
        changed = True
    if not changed:
        return "unchanged"
    logger.info("tenant key in line", extra={"tenant": tenant_uuid, "key": key.id, "tier": tier.name})
    return "updated"


def _find_or_create(tenant_uuid: str) -> ApiKey:
    tags = _tags(tenant_uuid)
    found = gatewaykeys.find_keys(tenant_uuid, tags)
    if found:
        return found[0]
    made = gatewaykeys.create_key(
        tenant_uuid, secrets.token_urlsafe(30), tags, description=f"opsplane tenant {tenant_uuid} (metering)"
    )
    # Another run may have made one meanwhile: every run keeps the oldest and drops its own.
    found = gatewaykeys.find_keys(tenant_uuid, tags) or [made]
    if found[0].id != made.id:
        _delete(made)
        return found[0]
    return made


def _delete(key: ApiKey) -> None:
    for plan in sorted(gatewaykeys.plans_of(key.id)):
        gatewaykeys.detach(plan, key.id)
    gatewaykeys.delete_key(key.id)


def _remove(tenant_uuid: str) -> str:
    for key in gatewaykeys.find_keys(tenant_uuid, _tags(tenant_uuid)):
        _delete(key)
    return "removed"
