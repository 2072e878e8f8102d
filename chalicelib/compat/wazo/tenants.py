"""Wazo tenants: the acting tenant and its descendants, never a sibling or an ancestor."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import ConfigDict, Field, StrictBool, StrictStr

from chalicelib.compat.wazo.common import LIST_QUERY, PREFIX, WazoList, acting, listed, no_content, tenant_view
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import tenants
from chalicelib.tiers import TierName
from chalicelib.wire import Model

router = Router("wazo")


class TenantBody(Model):
    """POST body: a new child of the acting tenant."""

    model_config = ConfigDict(extra="ignore")

    uuid: UUID | None = None
    name: StrictStr = Field(min_length=1, max_length=128)
    slug: StrictStr | None = Field(default=None, min_length=1, max_length=80)
    # None: the default tier, capped at the parent's (docs/deploy.md, "Tiers").
    tier: TierName | None = None


class TenantChange(Model):
    """PUT body: rename, deactivate, reactivate or change the tier (the slug never changes,
    as in Wazo)."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr | None = Field(default=None, min_length=1, max_length=128)
    active: StrictBool | None = None
    slug: StrictStr | None = None
    tier: TierName | None = None


class Tenant(Model):
    """A tenant."""

    uuid: str
    name: str | None
    slug: str | None
    parent_uuid: str | None
    active: bool
    tier: TierName


@router.post(f"{PREFIX}/tenants", acl="tenant.create", body=TenantBody, response=Tenant)
def create_tenant(req: Request) -> Reply:
    """Create a sub-tenant of the acting tenant."""
    body = req.model(TenantBody)
    doc = tenants.create_tenant(
        name=body.name,
        slug=body.slug,
        parent_uuid=req.need_tenant(),
        by=req.actor,
        tenant_uuid=str(body.uuid) if body.uuid else None,
        tier=body.tier,
    )
    return bare(tenant_view(doc))


@router.get(f"{PREFIX}/tenants", acl="tenant.read", query=LIST_QUERY[:5], response=WazoList)
def list_tenants(req: Request) -> Reply:
    """The acting tenant and all its descendants (as wazo-auth lists them; recurse is implied)."""
    found = tenants.tenant_tree(req.need_tenant())
    return listed(req, found, tenant_view, sort=("name", "slug"), search=("uuid", "name", "slug", "parent_uuid"))


@router.get(f"{PREFIX}/tenants/{{tenant_uuid}}", acl="tenant.{tenant_uuid}.read", response=Tenant)
def get_tenant(req: Request) -> Reply:
    """One tenant: the acting one or a descendant."""
    return bare(tenant_view(tenants.visible_tenant(req.need_tenant(), req.params["tenant_uuid"])))


@router.put(
    f"{PREFIX}/tenants/{{tenant_uuid}}",
    acl="tenant.{tenant_uuid}.update",
    body=TenantChange,
    response=Tenant,
)
def update_tenant(req: Request) -> Reply:
    """Rename, deactivate, reactivate or change the tier of a tenant (never one's own home
    tenant's state or tier)."""
    changes: dict[str, Any] = req.model(TenantChange).model_dump(exclude_none=True)
    doc = tenants.change_tenant(req.need_tenant(), acting(req).tenant, req.params["tenant_uuid"], changes, by=req.actor)
    return bare(tenant_view(doc))


@router.delete(f"{PREFIX}/tenants/{{tenant_uuid}}", acl="tenant.{tenant_uuid}.delete", status=204)
def delete_tenant(req: Request) -> Reply:
    """Delete a leaf tenant and its users (never one's own home tenant)."""
    tenants.remove_tenant(req.need_tenant(), acting(req).tenant, req.params["tenant_uuid"])
    return no_content()
