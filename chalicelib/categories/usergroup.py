"""Wavefront user groups (UserGroupApi) over the one identity model: a user group is a
group (kind "group"), its roles are the group's policies, its users the group's members
(named on the wire by their identifiers). Joining a group, or giving it a role, hands out
the group's ACL, so the grant rule applies; taking them away lifts negations, likewise.
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictStr, field_validator

from chalicelib.categories.identity_views import (
    IDS,
    PAGING,
    Body,
    UserGroupModel,
    Views,
    check_description,
    check_name,
    held,
    id_list,
    link_roles,
    paged_views,
    policies_acl,
    require_grantable,
    require_liftable,
)
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.identity import directory, groups
from chalicelib.identity.accounts import GROUP, POLICY
from chalicelib.store.repository import Entity

router = Router("usergroup")


class UserGroupWrite(Body):
    """What clients send to create or update a user group."""

    name: StrictStr
    roleIDs: list[StrictStr] | None = None
    description: StrictStr | None = None
    id: StrictStr | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value) or value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return check_description(value)


def _group(req: Request) -> Entity:
    return directory.require(req.need_tenant(), GROUP, req.params["id"], "User group")


def _view(ctx: Context, group_id: str) -> dict[str, Any]:
    tenant = ctx.tenant
    return Views(tenant).group(groups.get_group(tenant, group_id)).dump()


def _roles(ctx: Context, ids: list[str]) -> list[Entity]:
    return directory.resolve(ctx.tenant, POLICY, ids, "role")


@router.get("/api/v2/usergroup", acl="usergroup.read", query=PAGING, paged=True, response=UserGroupModel)
def get_all_user_groups(req: Request) -> Any:
    """Get all user groups of the tenant."""
    return paged_views(req, GROUP, Views.group)


@router.post("/api/v2/usergroup", acl="usergroup.create", body=UserGroupWrite, response=UserGroupModel)
def create_user_group(req: Request) -> Any:
    """Create a user group with roles."""
    body = req.model(UserGroupWrite)
    roles = _roles(req.ctx, body.roleIDs or [])
    require_grantable(req.ctx, policies_acl(roles))
    tenant = req.need_tenant()
    group = groups.create_group(tenant, name=body.name, slug=None, description=body.description, by=req.actor)
    if roles:
        directory.edit_links(tenant, GROUP, group.id, "policies", add=[r.id for r in roles], by=req.actor)
    return _view(req.ctx, group.id)


@router.get("/api/v2/usergroup/{id}", acl="usergroup.{id}.read", response=UserGroupModel)
def get_user_group(req: Request) -> Any:
    """Get a specific user group."""
    return Views(req.need_tenant()).group(_group(req)).dump()


@router.put("/api/v2/usergroup/{id}", acl="usergroup.{id}.update", body=UserGroupWrite, response=UserGroupModel)
def update_user_group(req: Request) -> Any:
    """Update a user group: name, description and (when given) exactly these roles."""
    group = _group(req)
    body = req.model(UserGroupWrite)
    if body.id is not None and body.id != group.id:
        raise Invalid("The id in the body does not match the path")
    wanted: list[str] | None = None
    if body.roleIDs is not None:
        roles = _roles(req.ctx, body.roleIDs)
        wanted = [r.id for r in roles]
        have = group.doc.get("policies", [])
        require_grantable(req.ctx, policies_acl(r for r in roles if r.id not in have))
        snapshot = Views(req.need_tenant()).directory
        require_liftable(req.ctx, policies_acl(snapshot.policies_in(p for p in have if p not in wanted)))

    def change(entity: Entity) -> None:
        groups.check_rename(entity.tenant, entity.id, body.name)
        entity.doc["name"] = body.name
        if body.description is not None:
            entity.doc["description"] = body.description
        if wanted is not None:
            entity.doc["policies"] = list(wanted)

    directory.update(req.need_tenant(), GROUP, group.id, change, by=req.actor)
    return _view(req.ctx, group.id)


@router.delete("/api/v2/usergroup/{id}", acl="usergroup.{id}.delete", response=UserGroupModel)
def delete_user_group(req: Request) -> Any:
    """Delete a user group (its members lose its roles)."""
    group = _group(req)
    view = Views(req.need_tenant()).group(group).dump()
    groups.delete_group(req.need_tenant(), group.id, held=held(req.ctx))
    return view


def _members(req: Request, *, add: bool) -> Any:
    """Add (add) or remove the accounts the body names (by identifier) to or from the group."""
    tenant = req.need_tenant()
    group = _group(req)
    members = directory.resolve_accounts(tenant, id_list(req, "account"))
    ids = [m.id for m in members]
    if add:
        if any(m not in group.doc.get("users", []) for m in ids):
            require_grantable(req.ctx, Views(tenant).directory.group_acl(group))
        directory.edit_links(tenant, GROUP, group.id, "users", add=ids, by=req.actor)
    else:
        if any(m in group.doc.get("users", []) for m in ids):
            require_liftable(req.ctx, Views(tenant).directory.group_acl(group))
        directory.edit_links(tenant, GROUP, group.id, "users", remove=ids, by=req.actor)
    return _view(req.ctx, group.id)


@router.post("/api/v2/usergroup/{id}/addUsers", acl="usergroup.{id}.update", body=IDS, response=UserGroupModel)
def add_users_to_user_group(req: Request) -> Any:
    """Add accounts (by identifier) to a user group."""
    return _members(req, add=True)


@router.post("/api/v2/usergroup/{id}/removeUsers", acl="usergroup.{id}.update", body=IDS, response=UserGroupModel)
def remove_users_from_user_group(req: Request) -> Any:
    """Remove accounts (by identifier) from a user group."""
    return _members(req, add=False)


@router.post("/api/v2/usergroup/{id}/addRoles", acl="usergroup.{id}.update", body=IDS, response=UserGroupModel)
def add_roles_to_user_group(req: Request) -> Any:
    """Give roles to a user group (and so to its members)."""
    group = _group(req)
    link_roles(req, GROUP, group, add=True)
    return _view(req.ctx, group.id)


@router.post("/api/v2/usergroup/{id}/removeRoles", acl="usergroup.{id}.update", body=IDS, response=UserGroupModel)
def remove_roles_from_user_group(req: Request) -> Any:
    """Take roles away from a user group."""
    group = _group(req)
    link_roles(req, GROUP, group, add=False)
    return _view(req.ctx, group.id)


CATEGORY = Category(router, permission="user_management")
