"""Tenants form a tree. Each tenant record lives in its own partition; a link record in
the parent's partition lists children (Query, never a table scan).

Deleting a tenant marks its record deleted (it answers 410 from then on, and so do its
descendants) and hands the removal of everything it owns to a background purge
(identity/purge.py, queue PURGE_QUEUE); the record stays as a tombstone, so its id is never
used again.

A tenant has a tier (chalicelib/tiers.py). Tiers are given from above: a tenant's tier is at
most its parent's (the operator's root tenant excepted, whose children may have any), a new
tenant gets the default tier (capped so) unless told otherwise, and no one changes their own
home tenant's tier. Creating a tenant, changing its tier and deleting it each ask the
tenant-keys worker to bring its API Gateway key in line (identity/tenant_keys.py)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import tiers
from chalicelib.auth.cache import InvalidatingRepository
from chalicelib.auth.keys import cursor_secret
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound, OpsplaneError, TenantGone
from chalicelib.identity import groups, names
from chalicelib.identity.names import slugify
from chalicelib.settings import get_settings
from chalicelib.store import names as reservations
from chalicelib.store import queues
from chalicelib.store.repository import Entity, Repository, get_each, now_ms

TENANT = "tenant"
CHILD = "subtenant"
SLUGS = "tenantslug"  # slugs are unique among siblings: reserved in the parent's partition
PURGE_QUEUE = "tenant-purge"  # workers/tenant_purge.py
KEYS_QUEUE = "tenant-keys"  # workers/tenant_keys.py

logger = Logger(service="opsplane", child=True)


def _repo(owner: str, kind: str) -> Repository:
    return InvalidatingRepository(owner, kind, cursor_secret=cursor_secret)


def record(tenant_uuid: str) -> Repository:
    """The repository of a tenant's record (in the tenant's own partition)."""
    return _repo(_check(tenant_uuid), TENANT)


def get_tenant(tenant_uuid: str) -> dict[str, Any]:
    """The tenant record (deactivated ones included)."""
    try:
        return _repo(_check(tenant_uuid), TENANT).get(tenant_uuid).doc
    except (NotFound, Invalid) as exc:
        raise NotFound(f"Tenant {tenant_uuid} not found") from exc


def _valid(tenant_uuid: str) -> bool:
    return bool(tenant_uuid) and "#" not in tenant_uuid and len(tenant_uuid) <= 64


def _check(tenant_uuid: str) -> str:
    if not _valid(tenant_uuid):
        raise NotFound(f"Tenant {tenant_uuid} not found")
    return tenant_uuid


def require_active(tenant_uuid: str) -> dict[str, Any]:
    """The tenant, or TenantGone when it or one of its ancestors is deactivated (a
    deactivated partner takes its clients down with it)."""
    return _active(get_tenant(tenant_uuid))


def unavailable(doc: dict[str, Any]) -> str | None:
    """Why a tenant (its record given) serves nothing on its own account, or None."""
    if doc.get("deleted"):
        return "deleted"
    if not doc.get("active", True):
        return "deactivated"
    return None


def check_available(doc: dict[str, Any], ancestors: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The tenant, or TenantGone when it or one of its ancestors (their records given, by
    uuid; missing ones are skipped) is deactivated or deleted: a deactivated or deleted
    partner takes its clients down with it."""
    tenant_uuid = doc["uuid"]
    reason = unavailable(doc)
    if reason:
        raise TenantGone(f"Tenant {tenant_uuid} is {reason}")
    for ancestor in doc.get("ancestors", []):
        above = ancestors.get(ancestor)
        reason = unavailable(above) if above is not None else None
        if reason:
            raise TenantGone(f"Tenant {tenant_uuid} is unavailable: tenant {ancestor} is {reason}")
    return doc


def _active(doc: dict[str, Any]) -> dict[str, Any]:
    ancestors = {}
    for ancestor in doc.get("ancestors", []):
        try:
            ancestors[ancestor] = get_tenant(ancestor)
        except NotFound:
            continue
    return check_available(doc, ancestors)


def _descendant(home: str, requested: str) -> dict[str, Any]:
    """The requested tenant's record when it lies below home; Forbidden otherwise."""
    try:
        doc = get_tenant(requested)
    except NotFound as exc:
        raise Forbidden(f"Unauthorized tenant {requested}") from exc
    if home not in doc.get("ancestors", []):
        raise Forbidden(f"Unauthorized tenant {requested}")
    return doc


def resolve_acting_tenant(home: str, requested: str | None) -> str:
    """The tenant a request acts in: the home tenant or a named descendant of it."""
    if not requested or requested == home:
        return home
    _descendant(home, requested)
    return requested


def enter_tenant(home: str, requested: str | None) -> str:
    """resolve_acting_tenant, and TenantGone when the descendant entered is unavailable
    (the home tenant's own state is checked by authorize())."""
    if not requested or requested == home:
        return home
    _active(_descendant(home, requested))
    return requested


def create_tenant(
    *,
    name: str,
    slug: str | None,
    parent_uuid: str | None,
    by: str | None,
    tenant_uuid: str | None = None,
    tier: str | None = None,
) -> dict[str, Any]:
    """A new tenant under parent (None: a root tenant, bootstrap only). An explicit slug
    already used by a sibling is a Conflict; a derived one gets a suffix instead. tier:
    None for the default (at most the parent's)."""
    new_uuid = tenant_uuid or str(uuid.uuid4())
    if not parent_uuid:
        doc = _tenant_doc(new_uuid, name, slug or slugify(name, "tenant"), new_uuid, [], tier or tiers.DEFAULT)
        _repo(new_uuid, TENANT).create(new_uuid, doc, by=by)
        groups.ensure_everyone(new_uuid)
        request_key(new_uuid)
        return doc
    parent = require_active(parent_uuid)
    tier = check_tier(parent, tier) if tier else _default_tier(parent)
    slug = names.check_slug(slug) if slug else names.pick(parent_uuid, SLUGS, slugify(name, "tenant"))
    doc = _tenant_doc(new_uuid, name, slug, parent_uuid, [*parent.get("ancestors", []), parent_uuid], tier)
    link = reservations.reserve(parent_uuid, CHILD, new_uuid, {"uuid": new_uuid})
    names.create_named(
        _repo(new_uuid, TENANT), new_uuid, doc, owner=parent_uuid, space=SLUGS, name=slug, by=by, extra=link
    )
    groups.ensure_everyone(new_uuid)
    request_key(new_uuid)
    return doc


def _tenant_doc(
    tenant_uuid: str, name: str, slug: str, parent_uuid: str, ancestors: list[str], tier: str
) -> dict[str, Any]:
    return {
        "uuid": tenant_uuid,
        "name": name,
        "slug": slug,
        "parent_uuid": parent_uuid,
        "ancestors": ancestors,
        "active": True,
        "csrf_strict": False,
        "tier": tier,
    }


def _is_root(doc: dict[str, Any]) -> bool:
    return doc.get("parent_uuid") in (None, doc.get("uuid"))


def check_tier(parent: dict[str, Any], tier: str) -> str:
    """A tier a child of parent may have: a known one, at most the parent's (any under the
    root tenant). Invalid otherwise."""
    if tier not in tiers.BY_NAME:
        raise Invalid(f"Unknown tier {tier!r}: expected one of {', '.join(tiers.NAMES)}", field="tier")
    ceiling = tiers.tier_of(parent)
    if not _is_root(parent) and tiers.rank(tier) > tiers.rank(ceiling.name):
        raise Invalid(f"Tier {tier} is above the parent tenant's tier {ceiling.name}", field="tier")
    return tier


def _default_tier(parent: dict[str, Any]) -> str:
    if _is_root(parent):
        return tiers.DEFAULT
    return min(tiers.DEFAULT, tiers.tier_of(parent).name, key=tiers.rank)


def request_key(tenant_uuid: str) -> None:
    """Ask the tenant-keys worker to bring the tenant's API key in line with its record
    (created, moved to its tier's plan, removed with the tenant). Off unless
    settings.api_keys. A queue that refuses leaves the tenant on its tier's fallback key (it
    is never refused) and is logged: any later tier change, even to the same tier, asks again
    (docs/deploy.md)."""
    if not get_settings().api_keys:
        return
    try:
        queues.send(KEYS_QUEUE, [json.dumps({"tenant": tenant_uuid})])
    except OpsplaneError as exc:
        logger.error("tenant key job not queued", extra={"tenant": tenant_uuid, "error": str(exc)})


def update_tenant(tenant_uuid: str, changes: dict[str, Any], *, by: str | None) -> dict[str, Any]:
    """Apply changes (name, active, csrf_strict) to a tenant; its slug is reserved among
    its siblings and never changes."""

    def apply(e: Entity) -> None:
        e.doc.update(changes)

    return _repo(_check(tenant_uuid), TENANT).update(tenant_uuid, apply, by=by, retries=3).doc


def children(parent_uuid: str) -> list[str]:
    """Direct children uuids."""
    return [e.id for e in _repo(parent_uuid, CHILD).iterate()]


def descendants(root_uuid: str) -> list[dict[str, Any]]:
    """Every tenant below root (breadth first), root excluded; deleted ones and theirs too.
    One Query per tenant for its children, and the records of each level in batched reads.
    (A partition listing every descendant of a tenant would make this one paged Query:
    docs/msp.md names it as the next step.)"""
    found: list[dict[str, Any]] = []
    frontier = [root_uuid]
    while frontier:
        below = [child for parent in frontier for child in children(parent)]
        level = [e.doc for e in get_each([(record(child), child) for child in below if _valid(child)])]
        found.extend(level)
        frontier = [doc["uuid"] for doc in level]
    return found


def mark_deleted(tenant_uuid: str, *, by: str | None) -> dict[str, Any]:
    """Mark a tenant deleted: it answers 410 from now on (the cached principals of this
    container are dropped with the write). A tenant already marked is left as it is."""

    def apply(e: Entity) -> None:
        if not e.doc.get("deleted"):
            e.doc.update(deleted=True, deleted_at=now_ms())

    return record(tenant_uuid).update(tenant_uuid, apply, by=by, retries=3).doc


# A purge's progress is kept outside the tenant: in an installation-wide partition (not
# audited: `_` owners are indexes), so moving it on writes nothing into what is being purged.
PURGES = "_purges"
PURGE_KIND = "tenantpurge"


def purges() -> Repository:
    """The purges under way, one row per tenant: {step, stage, cursor} (identity/purge.py)."""
    return Repository(PURGES, PURGE_KIND, cursor_secret=cursor_secret)


def start_purge(tenant_uuid: str) -> Entity:
    """The tenant's purge state, made at step 0 when it has none."""
    found = purges().find(tenant_uuid)
    if found is not None:
        return found
    try:
        return purges().create(tenant_uuid, {"step": 0, "stage": 0, "cursor": {}}, by="opsplane-purge")
    except Conflict:
        return purges().get(tenant_uuid)


def enqueue_purge(tenant_uuid: str, step: int, *, delay_seconds: int = 0) -> None:
    """Ask the purge worker (workers/tenant_purge.py) to run step `step` of the tenant's purge."""
    queues.send(PURGE_QUEUE, [json.dumps({"tenant": tenant_uuid, "step": step})], delay_seconds=delay_seconds)


def delete_tenant(tenant_uuid: str, *, by: str | None) -> dict[str, Any]:
    """Mark the tenant deleted and start its purge (identity/purge.py). The purge starts
    once every container's cached principals of the tenant have aged out (auth/cache.py),
    so no request let in by a cache writes behind it. Deleting a deleted tenant again asks
    its purge to go on from where it is (a purge stopped by a failure resumes); deleting a
    purged one (a tombstone) does nothing."""
    doc = mark_deleted(tenant_uuid, by=by)
    request_key(tenant_uuid)  # the tenant-keys worker removes a deleted tenant's key
    if doc.get("purged_at"):
        return doc
    step = int(start_purge(tenant_uuid).doc.get("step", 0))
    delay = get_settings().auth_cache_seconds if step == 0 else 0
    enqueue_purge(tenant_uuid, step, delay_seconds=delay)
    return doc


# ---- what a principal acting in a tenant may do to the tenants it sees ----------------


def visible_tenant(acting: str, target: str, *, deleted: bool = False) -> dict[str, Any]:
    """The target as seen from the acting tenant: itself or a descendant, else NotFound;
    TenantGone when it is deleted (unless deleted=True)."""
    doc = get_tenant(target)
    if target != acting and acting not in doc.get("ancestors", []):
        raise NotFound(f"Tenant {target} not found")
    if deleted:
        return doc
    if doc.get("deleted"):
        raise TenantGone(f"Tenant {target} is deleted")
    # Below a deleted tenant (whose purge has not reached it yet): gone as well
    chain = doc.get("ancestors", [])
    for ancestor in chain[chain.index(acting) + 1 :] if acting in chain else []:
        if get_tenant(ancestor).get("deleted"):
            raise TenantGone(f"Tenant {target} is deleted")
    return doc


def tenant_tree(acting: str) -> list[dict[str, Any]]:
    """The tenants visible from the acting one: itself and all its descendants (deleted
    ones, and those below them, left out)."""
    return without_deleted([get_tenant(acting), *descendants(acting)])


def without_deleted(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tenant records of found that are not deleted, nor below a deleted one of found."""
    gone = {d["uuid"] for d in found if d.get("deleted")}
    return [d for d in found if d["uuid"] not in gone and not gone.intersection(d.get("ancestors", []))]


def change_tenant(acting: str, home: str, target: str, changes: dict[str, Any], *, by: str | None) -> dict[str, Any]:
    """Rename, deactivate, reactivate or change the tier of a visible tenant (never one's own
    home tenant's state or tier; the slug never changes). A tier given, even the current one,
    asks the key worker to move the tenant's API key."""
    doc = visible_tenant(acting, target)
    if changes.get("slug", doc.get("slug")) != doc.get("slug"):
        raise Invalid("The slug of a tenant cannot be changed")
    changes = {k: v for k, v in changes.items() if k != "slug"}
    if changes.get("active") is False and target == home:
        raise Forbidden("A tenant cannot deactivate its own home tenant")
    tier = changes.get("tier")
    if tier is not None:
        if target == home:
            raise Forbidden("A tenant cannot change its own home tenant's tier")
        check_tier(get_tenant(doc["parent_uuid"]), tier)
    changed = update_tenant(target, changes, by=by) if changes else doc
    if tier is not None:
        request_key(target)
    return changed


def remove_tenant(acting: str, home: str, target: str, *, by: str | None = None) -> None:
    """Delete a visible tenant and, with it, its descendants (never one's own home tenant)."""
    visible_tenant(acting, target, deleted=True)
    if target == home:
        raise Forbidden("A tenant cannot delete its own home tenant")
    delete_tenant(target, by=by)
