"""Wavefront roles (RoleApi) over the one identity model: a role is a policy (kind
"policy"). Its `permissions` are the permission names whose ACL patterns the policy holds
(permissions.py); granting or revoking a permission adds or removes those patterns, and
ACL entries that belong to no permission (written through the Wazo API) are kept.
Assignees are accounts (by identifier) and user groups (by id).
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictStr, field_validator

from chalicelib.auth import permissions
from chalicelib.categories.identity_views import (
    IDS,
    PAGING,
    Body,
    RoleDTO,
    Views,
    check_description,
    check_name,
    edit_permission,
    held,
    id_list,
    paged_views,
    require_grantable,
    require_liftable,
)
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.identity import directory, policies
from chalicelib.identity.accounts import ACCOUNT, GROUP, POLICY
from chalicelib.store.repository import Entity

router = Router("role")


class RoleWrite(Body):
    """RoleCreateDTO / RoleUpdateDTO."""

    name: StrictStr | None = None
    permissions: list[StrictStr] | None = None
    description: StrictStr | None = None
    id: StrictStr | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return check_name(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return check_description(value)

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, value: list[str] | None) -> list[str] | None:
        # An unknown name leaves as Invalid (400) naming the known ones.
        return None if value is None else permissions.canonical_all(value)


def _role(req: Request) -> Entity:
    return directory.require(req.need_tenant(), POLICY, req.params["id"], "Role")


def _view(ctx: Context, role_id: str) -> dict[str, Any]:
    tenant = ctx.tenant
    return Views(tenant).role(policies.get_policy(tenant, role_id)).dump()


@router.get("/api/v2/role", acl="role.read", query=PAGING, paged=True, response=RoleDTO)
def get_all_roles(req: Request) -> Any:
    """Get all roles of the tenant."""
    return paged_views(req, POLICY, Views.role)


@router.post("/api/v2/role", acl="role.create", body=RoleWrite, response=RoleDTO)
def create_role(req: Request) -> Any:
    """Create a role holding permissions (the caller must hold them)."""
    body = req.model(RoleWrite)
    if body.name is None:
        raise Invalid("name: Field required")
    role = policies.create_policy(
        req.need_tenant(),
        name=body.name,
        slug=None,
        description=body.description,
        acl=permissions.patterns_of(body.permissions or []),
        held=held(req.ctx),
        by=req.actor,
    )
    return _view(req.ctx, role.id)


@router.get("/api/v2/role/{id}", acl="role.{id}.read", response=RoleDTO)
def get_role(req: Request) -> Any:
    """Get a specific role."""
    return Views(req.need_tenant()).role(_role(req)).dump()


@router.put("/api/v2/role/{id}", acl="role.{id}.update", body=RoleWrite, response=RoleDTO)
def update_role(req: Request) -> Any:
    """Update a role: name, description and (when given) exactly these permissions."""
    role = _role(req)
    body = req.model(RoleWrite)
    if body.id is not None and body.id != role.id:
        raise Invalid("The id in the body does not match the path")
    mine = held(req.ctx)

    def change(entity: Entity) -> None:
        if body.name is not None:
            entity.doc["name"] = body.name
        if body.description is not None:
            entity.doc["description"] = body.description
        if body.permissions is not None:
            old = list(entity.doc.get("acl", []))
            new = permissions.replace(old, body.permissions)
            policies.require_change_grantable(mine, old, new)
            entity.doc["acl"] = new

    directory.update(req.need_tenant(), POLICY, role.id, change, by=req.actor)
    return _view(req.ctx, role.id)


@router.delete("/api/v2/role/{id}", acl="role.{id}.delete", response=RoleDTO)
def delete_role(req: Request) -> Any:
    """Delete a role; its accounts and user groups lose it."""
    role = _role(req)
    view = Views(req.need_tenant()).role(role).dump()
    policies.delete_policy(req.need_tenant(), role.id, held=held(req.ctx), by=req.actor)
    return view


def _edit_permission(req: Request, *, grant: bool) -> Any:
    name = permissions.canonical(req.params["permission"])
    roles = directory.resolve(req.need_tenant(), POLICY, id_list(req, "role", required=True), "role")
    edit_permission(req.ctx, POLICY, roles, name, grant=grant)
    return _view(req.ctx, roles[0].id)


@router.post("/api/v2/role/grant/{permission}", acl="role.update", body=IDS, response=RoleDTO)
def grant_permission_to_roles(req: Request) -> Any:
    """Grant a permission to several roles; answers the first one."""
    return _edit_permission(req, grant=True)


@router.post("/api/v2/role/revoke/{permission}", acl="role.update", body=IDS, response=RoleDTO)
def revoke_permission_from_roles(req: Request) -> Any:
    """Revoke a permission from several roles; answers the first one."""
    return _edit_permission(req, grant=False)


def _assignees(req: Request) -> tuple[list[Entity], list[Entity]]:
    """(accounts, groups) named in the body: user group ids, or account identifiers / uuids."""
    tenant = req.need_tenant()
    refs = id_list(req, "assignee", required=True)
    found_groups = {g.id: g for g in directory.resolve_some(tenant, GROUP, refs)}
    found_accounts = directory.resolve_accounts(tenant, [r for r in refs if r not in found_groups])
    return found_accounts, list(found_groups.values())


def _assign(req: Request, *, add: bool) -> Any:
    """Give (add) or take away the role to or from the assignees the body names."""
    role = _role(req)
    holders, groups = _assignees(req)
    if add and any(role.id not in e.doc.get("policies", []) for e in [*holders, *groups]):
        require_grantable(req.ctx, role.doc.get("acl", []))
    if not add and any(role.id in e.doc.get("policies", []) for e in [*holders, *groups]):
        require_liftable(req.ctx, role.doc.get("acl", []))
    tenant = req.need_tenant()
    added, removed = ([role.id], []) if add else ([], [role.id])
    for kind, records in ((ACCOUNT, holders), (GROUP, groups)):
        for record in records:
            directory.edit_links(tenant, kind, record.id, "policies", add=added, remove=removed, by=req.actor)
    return _view(req.ctx, role.id)


@router.post("/api/v2/role/{id}/addAssignees", acl="role.{id}.update", body=IDS, response=RoleDTO)
def add_assignees(req: Request) -> Any:
    """Give the role to accounts and user groups."""
    return _assign(req, add=True)


@router.post("/api/v2/role/{id}/removeAssignees", acl="role.{id}.update", body=IDS, response=RoleDTO)
def remove_assignees(req: Request) -> Any:
    """Take the role away from accounts and user groups."""
    return _assign(req, add=False)


CATEGORY = Category(router, permission="user_management")
