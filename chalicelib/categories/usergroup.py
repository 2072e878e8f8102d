"""Wavefront user groups (UserGroupApi) over the one identity model: a user group is a
group (kind "group"), its roles are the group's policies, its users the group's members
(named on the wire by their identifiers). Joining a group, or giving it a role, hands out
the group's ACL, so the grant rule applies; taking them away lifts negations, likewise.
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictStr, field_validator

from chalicelib.categories.identity_views import (
    Body,
    UserGroupModel,
    Views,
    check_name,
    held,
    id_list,
    policies_acl,
    require_grantable,
    require_liftable,
)
from chalicelib.errors import Invalid
from chalicelib.http import dialects
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import directory, groups
from chalicelib.identity.accounts import GROUP, POLICY
from chalicelib.store.repository import Entity

router = Router("usergroup")

PAGING = (("offset", "integer", "Index of the first item"), ("limit", "integer", "Page size (1-1000, default 100)"))
IDS = list[str]
MAX_DESCRIPTION = 4096


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
        if value is not None and len(value) > MAX_DESCRIPTION:
            raise ValueError(f"must be at most {MAX_DESCRIPTION} characters")
        return value


def _group(req: Request) -> Entity:
    return directory.require(req.need_tenant(), GROUP, req.params["id"], "User group")


def _view(req: Request, group_id: str) -> dict[str, Any]:
    tenant = req.need_tenant()
    return Views(tenant).group(groups.get_group(tenant, group_id)).dump()


def _roles(req: Request, ids: list[str]) -> list[Entity]:
    return directory.resolve(req.need_tenant(), POLICY, ids, "role")


@router.get("/api/v2/usergroup", acl="usergroup.read", query=PAGING, paged=True, response=UserGroupModel)
def get_all_user_groups(req: Request) -> Any:
    """Get all user groups of the tenant."""
    offset = req.int_arg("offset", 0, low=0)
    limit = req.int_arg("limit", 100, low=1, high=1000)
    page = req.repo(GROUP).page(limit=limit, offset=offset)
    views = Views(req.need_tenant())
    items = [views.group(g).dump() for g in page.items]
    return dialects.paged(items, offset=offset, limit=limit, total=page.total, more=page.more)


@router.post("/api/v2/usergroup", acl="usergroup.create", body=UserGroupWrite, response=UserGroupModel)
def create_user_group(req: Request) -> Any:
    """Create a user group with roles."""
    body = req.model(UserGroupWrite)
    roles = _roles(req, body.roleIDs or [])
    require_grantable(req, policies_acl(roles))
    tenant = req.need_tenant()
    group = groups.create_group(tenant, name=body.name, slug=None, description=body.description, by=req.actor)
    if roles:
        directory.edit_links(tenant, GROUP, group.id, "policies", add=[r.id for r in roles], by=req.actor)
    return _view(req, group.id)


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
        roles = _roles(req, body.roleIDs)
        wanted = [r.id for r in roles]
        have = group.doc.get("policies", [])
        require_grantable(req, policies_acl(r for r in roles if r.id not in have))
        snapshot = Views(req.need_tenant()).directory
        require_liftable(req, policies_acl(snapshot.policies_in(p for p in have if p not in wanted)))

    def change(entity: Entity) -> None:
        entity.doc["name"] = body.name
        if body.description is not None:
            entity.doc["description"] = body.description
        if wanted is not None:
            entity.doc["policies"] = list(wanted)

    req.repo(GROUP).update(group.id, change, by=req.actor, retries=directory.RETRIES)
    return _view(req, group.id)


@router.delete("/api/v2/usergroup/{id}", acl="usergroup.{id}.delete", response=UserGroupModel)
def delete_user_group(req: Request) -> Any:
    """Delete a user group (its members lose its roles)."""
    group = _group(req)
    view = Views(req.need_tenant()).group(group).dump()
    groups.delete_group(req.need_tenant(), group.id, held=held(req))
    return view


@router.post("/api/v2/usergroup/{id}/addUsers", acl="usergroup.{id}.update", body=IDS, response=UserGroupModel)
def add_users_to_user_group(req: Request) -> Any:
    """Add accounts (by identifier) to a user group."""
    tenant = req.need_tenant()
    group = _group(req)
    members = directory.resolve_accounts(tenant, id_list(req, "account"))
    if any(m.id not in group.doc.get("users", []) for m in members):
        require_grantable(req, Views(tenant).directory.group_acl(group))
    directory.edit_links(tenant, GROUP, group.id, "users", add=[m.id for m in members], by=req.actor)
    return _view(req, group.id)


@router.post("/api/v2/usergroup/{id}/removeUsers", acl="usergroup.{id}.update", body=IDS, response=UserGroupModel)
def remove_users_from_user_group(req: Request) -> Any:
    """Remove accounts (by identifier) from a user group."""
    tenant = req.need_tenant()
    group = _group(req)
    members = directory.resolve_accounts(tenant, id_list(req, "account"))
    if any(m.id in group.doc.get("users", []) for m in members):
        require_liftable(req, Views(tenant).directory.group_acl(group))
    directory.edit_links(tenant, GROUP, group.id, "users", remove=[m.id for m in members], by=req.actor)
    return _view(req, group.id)


@router.post("/api/v2/usergroup/{id}/addRoles", acl="usergroup.{id}.update", body=IDS, response=UserGroupModel)
def add_roles_to_user_group(req: Request) -> Any:
    """Give roles to a user group (and so to its members)."""
    group = _group(req)
    roles = _roles(req, id_list(req, "role"))
    require_grantable(req, policies_acl(r for r in roles if r.id not in group.doc.get("policies", [])))
    directory.edit_links(req.need_tenant(), GROUP, group.id, "policies", add=[r.id for r in roles], by=req.actor)
    return _view(req, group.id)


@router.post("/api/v2/usergroup/{id}/removeRoles", acl="usergroup.{id}.update", body=IDS, response=UserGroupModel)
def remove_roles_from_user_group(req: Request) -> Any:
    """Take roles away from a user group."""
    group = _group(req)
    roles = _roles(req, id_list(req, "role"))
    require_liftable(req, policies_acl(r for r in roles if r.id in group.doc.get("policies", [])))
    directory.edit_links(req.need_tenant(), GROUP, group.id, "policies", remove=[r.id for r in roles], by=req.actor)
    return _view(req, group.id)
