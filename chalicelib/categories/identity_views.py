"""Wavefront wire shapes of the identity records (Account, ServiceAccount, UserModel,
UserGroupModel, RoleDTO) and the rules the account, usergroup and role categories share:
body schemas, and "a principal can only grant what it holds".

Shapes are pydantic models so one definition gives both the answer and its OpenAPI
schema; answers omit absent fields (the client rejects nulls in required fields).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ConfigDict, Field, StrictBool, StrictStr, field_validator

from chalicelib.auth import apitokens, permissions
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid
from chalicelib.http import dialects
from chalicelib.http.request import Request
from chalicelib.identity import accounts, directory, groups, policies
from chalicelib.identity.accounts import POLICY
from chalicelib.identity.directory import Directory
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

SAMPLE_SIZE = 10
MAX_NAME = 256
MAX_DESCRIPTION = 4096
MAX_IDS = 1000
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\Z")
SERVICE_PREFIX = "sa::"
SERVICE_IDENTIFIER = re.compile(r"sa::[A-Za-z0-9._@+-]{1,250}\Z")

PAGING = (("offset", "integer", "Index of the first item"), ("limit", "integer", "Page size (1-1000, default 100)"))
IDS = list[str]

# ---- answers --------------------------------------------------------------------------


class Wire(Model):
    """An answer model: dumped without absent fields."""

    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class UserGroupProperties(Wire):
    nameEditable: bool = True
    rolesEditable: bool = True
    usersEditable: bool = True


class UserGroup(Wire):
    """A user group as other objects embed it."""

    id: str
    name: str
    description: str | None = None
    customer: str | None = None
    properties: UserGroupProperties | None = None
    userCount: int | None = None


class RoleDTO(Wire):
    """A role (a policy): its permissions and, in full views, who has it."""

    id: str
    name: str
    description: str | None = None
    customer: str | None = None
    permissions: list[str] = Field(default_factory=list)
    createdEpochMillis: int | None = None
    lastUpdatedMs: int | None = None
    lastUpdatedAccountId: str | None = None
    linkedAccountsCount: int | None = None
    linkedGroupsCount: int | None = None
    sampleLinkedAccounts: list[str] | None = None
    sampleLinkedGroups: list[UserGroup] | None = None


class UserGroupModel(Wire):
    id: str
    name: str
    description: str | None = None
    customer: str | None = None
    createdEpochMillis: int | None = None
    properties: UserGroupProperties | None = None
    roleCount: int = 0
    roles: list[RoleDTO] = Field(default_factory=list)
    userCount: int = 0
    users: list[str] = Field(default_factory=list)


class Account(Wire):
    """An account (user or service account) with ids of its roles and groups."""

    identifier: str
    groups: list[str] = Field(default_factory=list, description="Permissions granted directly")
    roles: list[str] = Field(default_factory=list, description="Ids of the roles granted directly")
    userGroups: list[str] = Field(default_factory=list, description="Ids of its user groups")
    unitedPermissions: list[str] = Field(default_factory=list, description="Every permission it holds")
    unitedRoles: list[str] = Field(default_factory=list, description="Ids of its roles, direct or by group")


class ServiceAccount(Wire):
    identifier: str
    active: bool
    description: str | None = None
    groups: list[str] = Field(default_factory=list)
    roles: list[RoleDTO] = Field(default_factory=list)
    userGroups: list[UserGroup] = Field(default_factory=list)
    tokens: list[dict[str, Any]] = Field(default_factory=list, description="UserApiToken objects")
    unitedPermissions: list[str] = Field(default_factory=list)
    unitedRoles: list[str] = Field(default_factory=list)
    lastUsed: int | None = None


class UserModel(Wire):
    """Wavefront's UserModel (also UserDTO)."""

    identifier: str
    customer: str
    groups: list[str] = Field(default_factory=list, description="Permissions granted directly")
    userGroups: list[UserGroup] = Field(default_factory=list)
    roles: list[RoleDTO] = Field(default_factory=list)


class ValidatedUsers(Wire):
    validUsers: list[UserModel] = Field(default_factory=list)
    invalidIdentifiers: list[str] = Field(default_factory=list)


# ---- bodies ---------------------------------------------------------------------------


class Body(Model):
    """A request body: unknown fields are ignored (clients send whole models back)."""

    model_config = ConfigDict(extra="ignore")


def _text(value: str | None, limit: int, what: str) -> str | None:
    if value is not None and (len(value) > limit or any(ord(c) < 32 and c not in "\n\t" for c in value)):
        raise ValueError(f"{what} must be at most {limit} printable characters")
    return value


def _ids(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if len(value) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} items")
    if any(not v or len(v) > MAX_NAME for v in value):
        raise ValueError(f"items must be 1 to {MAX_NAME} characters")
    return list(dict.fromkeys(value))


class AccessFields(Body):
    """Permissions (Wavefront calls them groups), roles and user groups of an account."""

    groups: list[StrictStr] | None = None
    roles: list[StrictStr] | None = None
    userGroups: list[StrictStr] | None = None

    @field_validator("groups", "roles", "userGroups")
    @classmethod
    def _lists(cls, value: list[str] | None) -> list[str] | None:
        return _ids(value)


class UserToCreate(AccessFields):
    emailAddress: StrictStr

    @field_validator("emailAddress")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if len(value) > MAX_NAME or not EMAIL.match(value):
            raise ValueError("must be a valid email address")
        return value


class UserRequest(AccessFields):
    identifier: StrictStr | None = None
    credential: StrictStr | None = None


class ServiceAccountWrite(AccessFields):
    identifier: StrictStr
    active: StrictBool | None = None
    description: StrictStr | None = None
    tokens: list[StrictStr] | None = None

    @field_validator("identifier")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not SERVICE_IDENTIFIER.match(value):
            raise ValueError(
                f"a service account identifier starts with {SERVICE_PREFIX!r} followed by letters, digits, '.', '_', '@', '+' or '-'"
            )
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return _text(value, MAX_DESCRIPTION, "description")

    @field_validator("tokens")
    @classmethod
    def _tokens(cls, value: list[str] | None) -> list[str] | None:
        return _ids(value)


def check_name(value: str | None) -> str | None:
    """A role or group name: 1-256 printable characters, not blank."""
    if value is not None and (not value.strip() or len(value) > MAX_NAME or any(ord(c) < 32 for c in value)):
        raise ValueError(f"must be 1 to {MAX_NAME} printable characters")
    return value.strip() if value is not None else None


def check_description(value: str | None) -> str | None:
    """A role or group description: at most 4096 characters."""
    if value is not None and len(value) > MAX_DESCRIPTION:
        raise ValueError(f"must be at most {MAX_DESCRIPTION} characters")
    return value


def id_list(req: Request, what: str, *, required: bool = False) -> list[str]:
    """A JSON array of ids (Wavefront sends id lists bare)."""
    ids = req.json_list(of=str)
    try:
        checked = _ids(ids) or []
    except ValueError as exc:
        raise Invalid(f"{what}: {exc}") from exc
    if required and not checked:
        raise Invalid(f"The body must name at least one {what}")
    return checked


# ---- the grant rule -------------------------------------------------------------------


def held(ctx: Context) -> list[str]:
    """The caller's own ACL."""
    return list(ctx.principal.acl) if ctx.principal else []


def require_grantable(ctx: Context, acl: Iterable[str]) -> None:
    """A principal can only hand out ACL it holds itself (403 otherwise)."""
    policies.require_grantable(held(ctx), list(dict.fromkeys(acl)))


def require_liftable(ctx: Context, acl: Iterable[str]) -> None:
    """Taking ACL away lifts its negations, which is a grant (403 unless held)."""
    policies.require_grantable(held(ctx), policies.lifted(acl))


def policies_acl(policies: Iterable[Entity]) -> list[str]:
    """The ACL a set of policies grants."""
    acl: list[str] = []
    for policy in policies:
        acl.extend(policy.doc.get("acl", []))
    return acl


def link_roles(req: Request, kind: str, record: Entity, *, add: bool) -> None:
    """Give (add) or take away the roles the body names to an account or group; giving
    follows the grant rule, taking away the lift rule."""
    tenant = req.need_tenant()
    roles = directory.resolve(tenant, POLICY, id_list(req, "role"), "role")
    have = record.doc.get("policies", [])
    ids = [r.id for r in roles]
    if add:
        require_grantable(req.ctx, policies_acl(r for r in roles if r.id not in have))
        directory.edit_links(tenant, kind, record.id, "policies", add=ids, by=req.actor)
    else:
        require_liftable(req.ctx, policies_acl(r for r in roles if r.id in have))
        directory.edit_links(tenant, kind, record.id, "policies", remove=ids, by=req.actor)


def edit_permission(ctx: Context, kind: str, targets: Iterable[Entity], name: str, *, grant: bool) -> None:
    """Grant or revoke one permission on accounts or policies (granting follows the grant rule)."""
    change: Callable[[list[str]], list[str]]
    if grant:
        require_grantable(ctx, permissions.patterns(name))

        def change(acl: list[str]) -> list[str]:
            return permissions.grant(acl, [name])
    else:

        def change(acl: list[str]) -> list[str]:
            return permissions.revoke(acl, [name])

    tenant = ctx.tenant
    for target in targets:
        directory.edit_acl(tenant, kind, target.id, change, by=ctx.actor)


# ---- views ----------------------------------------------------------------------------


class Views:
    """Builds answers from one Directory snapshot of the acting tenant."""

    def __init__(self, tenant: str, directory: Directory | None = None) -> None:
        self.tenant = tenant
        self.directory = directory or Directory(tenant)

    def _properties(self, group: Entity) -> UserGroupProperties:
        """What a client may edit: of Everyone, only its roles (as in Wavefront)."""
        if groups.is_everyone(self.tenant, group.id):
            return UserGroupProperties(nameEditable=False, usersEditable=False)
        return UserGroupProperties()

    def user_group(self, group: Entity) -> UserGroup:
        return UserGroup(
            id=group.id,
            name=group.doc.get("name") or group.id,
            description=group.doc.get("description"),
            customer=self.tenant,
            properties=self._properties(group),
            userCount=len(self.directory.members(group)),
        )

    def role(self, policy: Entity, *, links: bool = True) -> RoleDTO:
        dto = RoleDTO(
            id=policy.id,
            name=policy.doc.get("name") or policy.id,
            description=policy.doc.get("description"),
            customer=self.tenant,
            permissions=permissions.held(policy.doc.get("acl", [])),
            createdEpochMillis=policy.created or None,
            lastUpdatedMs=policy.updated or None,
            lastUpdatedAccountId=policy.updated_by,
        )
        if links:
            holders, groups = self.directory.assignees(policy.id)
            names = sorted(a.doc.get("username", a.id) for a in holders)
            groups = sorted(groups, key=lambda g: str(g.doc.get("name", "")))
            dto.linkedAccountsCount = len(holders)
            dto.linkedGroupsCount = len(groups)
            dto.sampleLinkedAccounts = names[:SAMPLE_SIZE]
            dto.sampleLinkedGroups = [self.user_group(g) for g in groups[:SAMPLE_SIZE]]
        return dto

    def group(self, group: Entity) -> UserGroupModel:
        roles = self.directory.policies_in(group.doc.get("policies", []))
        users = [m.doc["username"] for m in self.directory.members(group)]
        return UserGroupModel(
            id=group.id,
            name=group.doc.get("name") or group.id,
            description=group.doc.get("description"),
            customer=self.tenant,
            createdEpochMillis=group.created or None,
            properties=self._properties(group),
            roleCount=len(roles),
            roles=[self.role(r, links=False) for r in roles],
            userCount=len(users),
            users=users,
        )

    def account(self, account: Entity) -> Account:
        return Account(
            identifier=account.doc["username"],
            groups=permissions.held(account.doc.get("acl", [])),
            roles=[p.id for p in self.directory.policies_in(account.doc.get("policies", []))],
            userGroups=[g.id for g in self.directory.groups_of(account.id)],
            unitedPermissions=permissions.held(self.directory.united_acl(account)),
            unitedRoles=self.directory.united_policy_ids(account),
        )

    def user(self, account: Entity) -> UserModel:
        return UserModel(
            identifier=account.doc["username"],
            customer=self.tenant,
            groups=permissions.held(account.doc.get("acl", [])),
            userGroups=[self.user_group(g) for g in self.directory.groups_of(account.id)],
            roles=[self.role(p, links=False) for p in self.directory.policies_in(account.doc.get("policies", []))],
        )

    def service_account(self, account: Entity, tokens: list[apitokens.ApiToken] | None = None) -> ServiceAccount:
        from chalicelib.categories.apitoken import user_api_token

        if tokens is None:
            tokens = apitokens.list_tokens(self.tenant, account.id)
        used = [t.last_used for t in tokens if t.last_used is not None]
        return ServiceAccount(
            identifier=account.doc["username"],
            active=bool(account.doc.get("enabled", True)),
            description=account.doc.get("description"),
            groups=permissions.held(account.doc.get("acl", [])),
            roles=[self.role(p, links=False) for p in self.directory.policies_in(account.doc.get("policies", []))],
            userGroups=[self.user_group(g) for g in self.directory.groups_of(account.id)],
            tokens=[user_api_token(t, account.doc) for t in tokens],
            unitedPermissions=permissions.held(self.directory.united_acl(account)),
            unitedRoles=self.directory.united_policy_ids(account),
            lastUsed=max(used) if used else None,
        )


def paged_views(req: Request, kind: str, view: Callable[[Views, Entity], Wire]) -> dict[str, Any]:
    """One page (offset / limit query) of the tenant's records of a kind, each as view answers it."""
    offset = req.int_arg("offset", 0, low=0)
    limit = req.int_arg("limit", 100, low=1, high=1000)
    page = req.ctx.repo(kind).page(limit=limit, offset=offset)
    views = Views(req.need_tenant())
    items = [view(views, e).dump() for e in page.items]
    return dialects.paged(items, offset=offset, limit=limit, total=page.total, more=page.more)


def is_service(account: Entity) -> bool:
    """Is the account a service account?"""
    return account.doc.get("type") == accounts.SERVICE
