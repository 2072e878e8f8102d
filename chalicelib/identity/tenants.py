"""Tenants form a tree. Each tenant record lives in its own partition; a link record in
the parent's partition lists children (Query, never Scan)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from chalicelib.auth.keys import keyring
from chalicelib.errors import Forbidden, Invalid, NotFound, TenantGone
from chalicelib.store.models import EntityItem
from chalicelib.store.repository import Entity, Repository

TENANT = "tenant"
CHILD = "subtenant"


def _repo(owner: str, kind: str) -> Repository:
    return Repository(owner, kind, cursor_secret=keyring().cursor_secret)


def slugify(name: str) -> str:
    """URL-friendly slug of a name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "tenant"


def get_tenant(tenant_uuid: str) -> dict[str, Any]:
    """The tenant record (deactivated ones included)."""
    try:
        return _repo(_check(tenant_uuid), TENANT).get(tenant_uuid).doc
    except (NotFound, Invalid) as exc:
        raise NotFound(f"Tenant {tenant_uuid} not found") from exc


def _check(tenant_uuid: str) -> str:
    if not tenant_uuid or "#" in tenant_uuid or len(tenant_uuid) > 64:
        raise NotFound(f"Tenant {tenant_uuid} not found")
    return tenant_uuid


def require_active(tenant_uuid: str) -> dict[str, Any]:
    """The tenant, or TenantGone when it is deactivated."""
    doc = get_tenant(tenant_uuid)
    if not doc.get("active", True):
        raise TenantGone(f"Tenant {tenant_uuid} is deactivated")
    return doc


def is_within(tenant_uuid: str, ancestor_uuid: str) -> bool:
    """Is tenant_uuid the ancestor itself or one of its descendants?"""
    if tenant_uuid == ancestor_uuid:
        return True
    doc = get_tenant(tenant_uuid)
    return ancestor_uuid in doc.get("ancestors", [])


def resolve_acting_tenant(home: str, requested: str | None) -> str:
    """The tenant a request acts in: the home tenant or a named descendant of it."""
    if not requested or requested == home:
        return home
    try:
        within = is_within(requested, home)
    except NotFound as exc:
        raise Forbidden(f"Unauthorized tenant {requested}") from exc
    if not within:
        raise Forbidden(f"Unauthorized tenant {requested}")
    return requested


def create_tenant(
    *, name: str, slug: str | None, parent_uuid: str | None, by: str | None, tenant_uuid: str | None = None
) -> dict[str, Any]:
    """A new tenant under parent (None: a root tenant, bootstrap only)."""
    new_uuid = tenant_uuid or str(uuid.uuid4())
    ancestors: list[str] = []
    if parent_uuid:
        parent = require_active(parent_uuid)
        ancestors = [*parent.get("ancestors", []), parent_uuid]
    doc = {
        "uuid": new_uuid,
        "name": name,
        "slug": slug or slugify(name),
        "parent_uuid": parent_uuid or new_uuid,
        "ancestors": ancestors,
        "active": True,
        "csrf_strict": False,
    }
    link = None
    if parent_uuid:
        link_item = EntityItem(
            f"{parent_uuid}#{CHILD}",
            new_uuid,
            kind=CHILD,
            tenant=parent_uuid,
            entity_id=new_uuid,
            doc=json.dumps({"uuid": new_uuid}),
            deleted=False,
            revision=1,
        )

        def link(tx: Any) -> None:
            tx.save(link_item, condition=EntityItem.pk.does_not_exist())

    _repo(new_uuid, TENANT).create(new_uuid, doc, by=by, extra=link)
    return doc


def update_tenant(tenant_uuid: str, changes: dict[str, Any], *, by: str | None) -> dict[str, Any]:
    """Apply changes (name, slug, active, csrf_strict) to a tenant."""

    def apply(e: Entity) -> None:
        e.doc.update(changes)

    return _repo(_check(tenant_uuid), TENANT).update(tenant_uuid, apply, by=by, retries=3).doc


def children(parent_uuid: str) -> list[str]:
    """Direct children uuids."""
    return [e.id for e in _repo(parent_uuid, CHILD).iterate()]


def descendants(root_uuid: str) -> list[dict[str, Any]]:
    """Every tenant below root (breadth first), root excluded."""
    found: list[dict[str, Any]] = []
    frontier = [root_uuid]
    while frontier:
        nxt: list[str] = []
        for parent in frontier:
            for child in children(parent):
                try:
                    found.append(get_tenant(child))
                except NotFound:
                    continue
                nxt.append(child)
        frontier = nxt
    return found


def delete_tenant(tenant_uuid: str) -> None:
    """Remove a leaf tenant (one with children is refused)."""
    doc = get_tenant(tenant_uuid)
    if children(tenant_uuid):
        raise Invalid("A tenant with sub-tenants cannot be deleted")
    parent = doc.get("parent_uuid")
    extra = None
    if parent and parent != tenant_uuid:
        link = EntityItem(f"{parent}#{CHILD}", tenant_uuid)

        def extra(tx: Any) -> None:
            tx.delete(link)

    _repo(tenant_uuid, TENANT).purge(tenant_uuid, extra=extra)
