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
    Body,
    RoleDTO,
    Views,
    check_name,
    held,
    id_list,
    require_grantable,
    require_liftable,
)
from chalicelib.errors import Invalid
from chalicelib.http import dialects
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import directory, policies
from chalicelib.identity.accounts import ACCOUNT, GROUP, POLICY
from chalicelib.store.repository import Entity

router = Router("role")

PAGING = (("offset", "integer", "Index of the first item"), ("limit", "integer", "Page size (1-1000, default 100)"))
IDS = list[str]
MAX_DESCRIPTION = 4096


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
        if value is not None and len(value) > MAX_DESCRIPTION:
            raise ValueError(f"must be at most {MAX_DESCRIPTION} characters")
        return value

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, value: list[str] | None) -> list[str] | None:
        # An unknown name leaves as Invalid (400) naming the known ones.
        return None if value is None else permissions.canonical_all(value)


def _role(req: Request) -> Entity:
    return directory.require(req.need_tenant(), POLICY, req.params["id"], "Role")


def _view(req: Request, role_id: str) -> dict[str, Any]:
    tenant = req.need_tenant()
    return Views(tenant).role(policies.get_policy(tenant, role_id)).dump()


@router.get("/api/v2/role", acl="role.read", query=PAGING, paged=True, response=RoleDTO)
def get_all_roles(req: Request) -> Any:
    """Get all roles of the tenant."""
    offset = req.int_arg("offset", 0, low=0)
    limit = req.int_arg("limit", 100, low=1, high=1000)
    page = req.repo(POLICY).page(limit=limit, offset=offset)
    views = Views(req.need_tenant())
    items = [views.role(p).dump() for p in page.items]
    return dialects.paged(items, offset=offset, limit=limit, total=page.total, more=page.more)


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
        held=held(req),
        by=req.actor,
    )
    return _view(req, role.id)


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
    mine = held(req)

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

    req.repo(POLICY).update(role.id, change, by=req.actor, retries=directory.RETRIES)
    return _view(req, role.id)


@router.delete("/api/v2/role/{id}", acl="role.{id}.delete", response=RoleDTO)
def delete_role(req: Request) -> Any:
    """Delete a role; its accounts and user groups lose it."""
    role = _role(req)
    view = Views(req.need_tenant()).role(role).dump()
    policies.delete_policy(req.need_tenant(), role.id, held=held(req), by=req.actor)
    return view


@router.post("/api/v2/role/grant/{permission}", acl="role.update", body=IDS, response=RoleDTO)
def grant_permission_to_roles(req: Request) -> Any:
    """Grant a permission to several roles; answers the first one."""
    name = permissions.canonical(req.params["permission"])
    tenant = req.need_tenant()
    roles = directory.resolve(tenant, POLICY, id_list(req, "role", required=True), "role")
    require_grantable(req, permissions.patterns(name))
    for role in roles:
        directory.edit_acl(tenant, POLICY, role.id, lambda acl: permissions.grant(acl, [name]), by=req.actor)
    return _view(req, roles[0].id)


@router.post("/api/v2/role/revoke/{permission}", acl="role.update", body=IDS, response=RoleDTO)
def revoke_permission_from_roles(req: Request) -> Any:
    """Revoke a permission from several roles; answers the first one."""
    name = permissions.canonical(req.params["permission"])
    tenant = req.need_tenant()
    roles = directory.resolve(tenant, POLICY, id_list(req, "role", required=True), "role")
    for role in roles:
        directory.edit_acl(tenant, POLICY, role.id, lambda acl: permissions.revoke(acl, [name]), by=req.actor)
    return _view(req, roles[0].id)


def _assignees(req: Request) -> tuple[list[Entity], list[Entity]]:
    """(accounts, groups) named in the body: user group ids, or account identifiers / uuids."""
    tenant = req.need_tenant()
    refs = id_list(req, "assignee", required=True)
    found_groups = {g.id: g for g in directory.resolve_some(tenant, GROUP, refs)}
    found_accounts = directory.resolve_accounts(tenant, [r for r in refs if r not in found_groups])
    return found_accounts, list(found_groups.values())


@router.post("/api/v2/role/{id}/addAssignees", acl="role.{id}.update", body=IDS, response=RoleDTO)
def add_assignees(req: Request) -> Any:
    """Give the role to accounts and user groups."""
    role = _role(req)
    holders, groups = _assignees(req)
    if any(role.id not in e.doc.get("policies", []) for e in [*holders, *groups]):
        require_grantable(req, role.doc.get("acl", []))
    tenant = req.need_tenant()
    for kind, records in ((ACCOUNT, holders), (GROUP, groups)):
        for record in records:
            directory.edit_links(tenant, kind, record.id, "policies", add=[role.id], by=req.actor)
    return _view(req, role.id)


@router.post("/api/v2/role/{id}/removeAssignees", acl="role.{id}.update", body=IDS, response=RoleDTO)
def remove_assignees(req: Request) -> Any:
    """Take the role away from accounts and user groups."""
    role = _role(req)
    holders, groups = _assignees(req)
    if any(role.id in e.doc.get("policies", []) for e in [*holders, *groups]):
        require_liftable(req, role.doc.get("acl", []))
    tenant = req.need_tenant()
    for kind, records in ((ACCOUNT, holders), (GROUP, groups)):
        for record in records:
            directory.edit_links(tenant, kind, record.id, "policies", remove=[role.id], by=req.actor)
    return _view(req, role.id)
