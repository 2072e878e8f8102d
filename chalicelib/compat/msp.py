"""The MSP platform's tenancy routes (seed 003, docs/msp.md): a partner lists, creates,
reads, deactivates and reactivates its client tenants under /api/v2/tenants, and acts
inside one through its tenant URL (`/api/v2/tenants/{tenantId}/...`, http/tenant_urls.py).

Over the one tenant tree (identity/tenants.py): what a principal sees is the tenant it acts
in and the tenants below it, never a sibling or an ancestor (another tenant's id is 404).
Answers are in the native envelope; an expired token answers 407 here (http/dialects.on_msp).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, StrictStr

from chalicelib import tiers
from chalicelib.categories import crud
from chalicelib.categories.crud import PAGING
from chalicelib.categories.crud_views import Page
from chalicelib.domain.entities import Listing
from chalicelib.errors import NotFound
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.http.tenant_urls import MSP_PREFIX
from chalicelib.identity import tenants
from chalicelib.wire import Model

router = Router("msp")

ONE = f"{MSP_PREFIX}/{{tenantId}}"


class MspTenantToCreate(Model):
    """POST body: a new client of the acting tenant."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(min_length=1, max_length=128)
    slug: StrictStr | None = Field(default=None, min_length=1, max_length=80)
    # free | standard | premium | enterprise, at most the acting tenant's (chalicelib/tiers.py).
    tier: StrictStr | None = Field(default=None, min_length=1, max_length=32)


class MspTenant(Model):
    """A tenant as the MSP routes show it; parentId only below the acting tenant (a client
    never learns its partner's id)."""

    id: str
    name: str
    slug: str
    active: bool
    tier: str
    parentId: str | None = None


class PagedMspTenant(Page):
    """A page of tenants."""

    items: list[MspTenant]


def view(doc: dict[str, Any], acting: str) -> dict[str, Any]:
    """A tenant record as the acting tenant sees it."""
    shown: dict[str, Any] = {
        "id": doc["uuid"],
        "name": doc.get("name", ""),
        "slug": doc.get("slug", ""),
        "active": bool(doc.get("active", True)),
        "tier": tiers.tier_of(doc).name,
    }
    if doc["uuid"] != acting:
        shown["parentId"] = doc.get("parent_uuid")
    return shown


def _clients(acting: str, recurse: bool) -> list[dict[str, Any]]:
    if recurse:
        return tenants.descendants(acting)
    found = []
    for child in tenants.children(acting):
        try:
            found.append(tenants.get_tenant(child))
        except NotFound:  # a child being deleted: its link goes last
            continue
    return found


@router.get(
    MSP_PREFIX,
    acl="tenant.read",
    query=(*PAGING, ("recurse", "boolean", "Every tenant below the acting one, not only its direct clients")),
    paged=True,
    response=PagedMspTenant,
)
def list_tenants(req: Request) -> Any:
    """The acting tenant's clients (with recurse=true, every tenant below it), by name."""
    offset, limit = req.paging()
    acting = req.need_tenant()
    found = sorted(_clients(acting, req.flag("recurse")), key=lambda d: (d.get("name", "").lower(), d["uuid"]))
    return crud.page(Listing.of(found, offset, limit, lambda d: view(d, acting)))


@router.post(MSP_PREFIX, acl="tenant.create", body=MspTenantToCreate, response=MspTenant)
def create_tenant(req: Request) -> Any:
    """Create a client tenant of the acting tenant."""
    body = req.model(MspTenantToCreate)
    acting = req.need_tenant()
    doc = tenants.create_tenant(name=body.name, slug=body.slug, parent_uuid=acting, by=req.actor, tier=body.tier)
    return view(doc, acting)


@router.get(ONE, acl="tenant.{tenantId}.read", response=MspTenant)
def get_tenant(req: Request) -> Any:
    """One tenant: the acting one or one below it (404 otherwise)."""
    acting = req.need_tenant()
    return view(tenants.visible_tenant(acting, req.params["tenantId"]), acting)


def _set_active(req: Request, active: bool) -> Any:
    acting = req.need_tenant()
    home = req.ctx.principal.tenant
    doc = tenants.change_tenant(acting, home, req.params["tenantId"], {"active": active}, by=req.actor)
    return view(doc, acting)


@router.post(f"{ONE}/deactivate", acl="tenant.{tenantId}.update", response=MspTenant)
def deactivate_tenant(req: Request) -> Any:
    """Deactivate a tenant below the acting one: it and its own clients answer 410 until reactivated."""
    return _set_active(req, False)


@router.post(f"{ONE}/activate", acl="tenant.{tenantId}.update", response=MspTenant)
def activate_tenant(req: Request) -> Any:
    """Reactivate a deactivated tenant below the acting one."""
    return _set_active(req, True)


# Creating a client asks for its API Gateway key (identity/tenant_keys.py).
CATEGORY = Category(router, permission="user_management", queues=(tenants.KEYS_QUEUE,))
