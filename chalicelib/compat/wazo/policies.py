"""Wazo policies: named ACL lists. Nobody grants ACL it does not hold itself."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field, StrictStr

from chalicelib.compat.wazo.common import (
    LIST_QUERY,
    POLICY_SEARCH,
    POLICY_SORT,
    PREFIX,
    Named,
    NamedChange,
    WazoList,
    acting,
    in_scope,
    listed,
    named_changes,
    no_content,
    policy_view,
    relink,
)
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import policies

router = Router("wazo")


class PolicyChange(NamedChange):
    """PUT body; `acl_templates` is the older name of `acl` (still sent by older scripts)."""

    acl: list[StrictStr] | None = None
    acl_templates: list[StrictStr] | None = None

    def acl_given(self) -> list[str] | None:
        return self.acl if self.acl is not None else self.acl_templates


class PolicyBody(PolicyChange):
    """POST body."""

    uuid: UUID | None = None
    name: StrictStr = Field(min_length=1, max_length=128)
    slug: StrictStr | None = Field(default=None, min_length=1, max_length=80)


class Policy(Named):
    """A policy."""

    acl: list[str]


@router.post(f"{PREFIX}/policies", acl="policy.create", body=PolicyBody, response=Policy)
def create_policy(req: Request) -> Reply:
    """Create a policy in the acting tenant (its ACL must be held by the caller)."""
    body = req.model(PolicyBody)
    policy = policies.create_policy(
        req.need_tenant(),
        name=body.name,
        slug=body.slug,
        description=body.description,
        acl=body.acl_given() or [],
        held=acting(req).acl,
        by=req.actor,
        policy_uuid=str(body.uuid) if body.uuid else None,
    )
    return bare(policy_view(policy))


@router.get(f"{PREFIX}/policies", acl="policy.read", query=LIST_QUERY, response=WazoList)
def list_policies(req: Request) -> Reply:
    """Policies of the acting tenant (and its sub-tenants with recurse=true)."""
    return listed(req, in_scope(req, policies.POLICY), policy_view, sort=POLICY_SORT, search=POLICY_SEARCH)


@router.get(f"{PREFIX}/policies/{{policy_uuid}}", acl="policy.{policy_uuid}.read", response=Policy)
def get_policy(req: Request) -> Reply:
    """One policy of the acting tenant."""
    return bare(policy_view(policies.get_policy(req.need_tenant(), req.params["policy_uuid"])))


@router.put(
    f"{PREFIX}/policies/{{policy_uuid}}",
    acl="policy.{policy_uuid}.update",
    body=PolicyChange,
    response=Policy,
)
def update_policy(req: Request) -> Reply:
    """Change a policy's name, description or ACL (the slug never changes)."""
    body = req.model(PolicyChange)
    changes = named_changes(body)
    acl = body.acl_given()
    if acl is not None:
        changes["acl"] = acl
    policy = policies.update_policy(
        req.need_tenant(), req.params["policy_uuid"], changes, held=acting(req).acl, by=req.actor
    )
    return bare(policy_view(policy))


@router.delete(f"{PREFIX}/policies/{{policy_uuid}}", acl="policy.{policy_uuid}.delete", status=204)
def delete_policy(req: Request) -> Reply:
    """Delete a policy; users and groups that had it lose its ACL."""
    policies.delete_policy(req.need_tenant(), req.params["policy_uuid"], held=acting(req).acl, by=req.actor)
    return no_content()


@router.put(f"{PREFIX}/policies/{{policy_uuid}}/acl/{{access}}", acl="policy.{policy_uuid}.update", status=204)
def add_access(req: Request) -> Reply:
    """Add one ACL entry to a policy (percent-encode it: `#` is `%23`)."""
    return relink(req, policies.add_access, "policy_uuid", "access")


@router.delete(f"{PREFIX}/policies/{{policy_uuid}}/acl/{{access}}", acl="policy.{policy_uuid}.update", status=204)
def remove_access(req: Request) -> Reply:
    """Remove one ACL entry from a policy."""
    return relink(req, policies.remove_access, "policy_uuid", "access")
