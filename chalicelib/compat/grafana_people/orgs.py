"""Grafana orgs: an org IS a tenant. The current org is the acting tenant; the orgs listed
are the tenants the caller may act in (the acting one and those below it), as Wazo's
/tenants lists them.
"""

from __future__ import annotations

from chalicelib.compat.grafana_people.views import GrafanaOrg, org_view
from chalicelib.errors import NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import tenants

router = Router("grafana_people")


@router.get("/api/org", acl="tenant.read", response=GrafanaOrg)
def current(req: Request) -> Reply:
    """The current org: the acting tenant."""
    return bare(org_view(tenants.get_tenant(req.need_tenant())))


@router.get("/api/orgs", acl="tenant.read", response=list[GrafanaOrg])
def listing(req: Request) -> Reply:
    """The orgs the caller may act in: the acting tenant and its descendants."""
    return bare([{"id": t["uuid"], "name": t.get("name", "")} for t in tenants.tenant_tree(req.need_tenant())])


@router.get("/api/orgs/name/{name}", acl="tenant.read", response=GrafanaOrg)
def by_name(req: Request) -> Reply:
    """The visible org of that name (the first in tree order: names are not unique)."""
    for tenant in tenants.tenant_tree(req.need_tenant()):
        if tenant.get("name") == req.params["name"]:
            return bare(org_view(tenant))
    raise NotFound("Organization not found")
