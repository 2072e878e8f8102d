"""Wazo groups: members and policies (a member holds the ACL of its groups' policies)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field, StrictStr

from chalicelib.compat.wazo.common import (
    GROUP_SEARCH,
    GROUP_SORT,
    LIST_QUERY,
    POLICY_SEARCH,
    POLICY_SORT,
    PREFIX,
    USER_SEARCH,
    USER_SORT,
    Named,
    NamedChange,
    WazoList,
    acting,
    group_view,
    in_scope,
    listed,
    named_changes,
    no_content,
    policy_view,
    relink,
    user_view,
)
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import groups

router = Router("wazo")

GROUP = f"{PREFIX}/groups/{{group_uuid}}"


class GroupChange(NamedChange):
    """PUT body (the slug never changes, as in Wazo)."""


class GroupBody(GroupChange):
    """POST body."""

    uuid: UUID | None = None
    name: StrictStr = Field(min_length=1, max_length=128)
    slug: StrictStr | None = Field(default=None, min_length=1, max_length=80)


class Group(Named):
    """A group."""


@router.post(f"{PREFIX}/groups", acl="group.create", body=GroupBody, response=Group)
def create_group(req: Request) -> Reply:
    """Create an empty group in the acting tenant."""
    body = req.model(GroupBody)
    group = groups.create_group(
        req.need_tenant(),
        name=body.name,
        slug=body.slug,
        description=body.description,
        by=req.actor,
        group_uuid=str(body.uuid) if body.uuid else None,
    )
    return bare(group_view(group))


@router.get(f"{PREFIX}/groups", acl="group.read", query=LIST_QUERY, response=WazoList)
def list_groups(req: Request) -> Reply:
    """Groups of the acting tenant (and its sub-tenants with recurse=true)."""
    return listed(req, in_scope(req, groups.GROUP), group_view, sort=GROUP_SORT, search=GROUP_SEARCH)


@router.get(GROUP, acl="group.{group_uuid}.read", response=Group)
def get_group(req: Request) -> Reply:
    """One group of the acting tenant."""
    return bare(group_view(groups.get_group(req.need_tenant(), req.params["group_uuid"])))


@router.put(GROUP, acl="group.{group_uuid}.update", body=GroupChange, response=Group)
def update_group(req: Request) -> Reply:
    """Rename a group or change its description."""
    changes = named_changes(req.model(GroupChange))
    return bare(group_view(groups.update_group(req.need_tenant(), req.params["group_uuid"], changes, by=req.actor)))


@router.delete(GROUP, acl="group.{group_uuid}.delete", status=204)
def delete_group(req: Request) -> Reply:
    """Delete a group; its members lose its policies."""
    groups.delete_group(req.need_tenant(), req.params["group_uuid"], held=acting(req).acl)
    return no_content()


@router.get(f"{GROUP}/users", acl="group.{group_uuid}.read", query=LIST_QUERY[:5], response=WazoList)
def list_members(req: Request) -> Reply:
    """The group's members."""
    tenant = req.need_tenant()
    found = groups.members(tenant, groups.get_group(tenant, req.params["group_uuid"]))
    return listed(req, found, user_view, sort=USER_SORT, search=USER_SEARCH)


@router.put(f"{GROUP}/users/{{user_uuid}}", acl="group.{group_uuid}.update", status=204)
def add_member(req: Request) -> Reply:
    """Add a user of the acting tenant to the group (the caller must hold the group's ACL)."""
    return relink(req, groups.add_member, "group_uuid", "user_uuid")


@router.delete(f"{GROUP}/users/{{user_uuid}}", acl="group.{group_uuid}.update", status=204)
def remove_member(req: Request) -> Reply:
    """Remove a user from the group."""
    return relink(req, groups.remove_member, "group_uuid", "user_uuid")


@router.get(f"{GROUP}/policies", acl="group.{group_uuid}.read", query=LIST_QUERY[:5], response=WazoList)
def list_group_policies(req: Request) -> Reply:
    """The policies attached to the group."""
    tenant = req.need_tenant()
    found = groups.attached_policies(tenant, groups.get_group(tenant, req.params["group_uuid"]))
    return listed(req, found, policy_view, sort=POLICY_SORT, search=POLICY_SEARCH)


@router.put(f"{GROUP}/policies/{{policy_uuid}}", acl="group.{group_uuid}.update", status=204)
def add_group_policy(req: Request) -> Reply:
    """Attach a policy to the group (the caller must hold all of its ACL)."""
    return relink(req, groups.add_policy, "group_uuid", "policy_uuid")


@router.delete(f"{GROUP}/policies/{{policy_uuid}}", acl="group.{group_uuid}.update", status=204)
def remove_group_policy(req: Request) -> Reply:
    """Detach a policy from the group."""
    return relink(req, groups.remove_policy, "group_uuid", "policy_uuid")
