"""Wavefront accounts (AccountUserAndServiceAccountApi): users and service accounts over
the one identity model (kind "account").

A Wavefront identifier is the account's username: users created here are named by their
email address, service accounts by "sa::<name>". `{id}` in paths also accepts the uuid.
Wavefront "groups" of an account are its permissions (permissions.py), its roles are
policies and its user groups are groups. Operations typed UserModel answer bare; the
others answer in the envelope. Service-account credentials (OAuth) live in compat/oauth.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.auth import apitokens, permissions
from chalicelib.auth.passwords import hash_password, password_problem
from chalicelib.categories.identity_views import (
    IDS,
    PAGING,
    AccessFields,
    Account,
    ServiceAccount,
    ServiceAccountWrite,
    UserModel,
    UserRequest,
    UserToCreate,
    ValidatedUsers,
    Views,
    edit_permission,
    id_list,
    is_service,
    link_roles,
    paged_views,
    policies_acl,
    require_grantable,
    require_liftable,
)
from chalicelib.domain import messages
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Forbidden, Invalid
from chalicelib.http.reply import bare
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.identity import accounts, directory
from chalicelib.identity.accounts import ACCOUNT, GROUP, POLICY, SERVICE, USER
from chalicelib.identity.directory import Directory
from chalicelib.store.repository import Entity

router = Router("account")


# ---- shared steps ---------------------------------------------------------------------


@dataclass
class Access:
    """Validated permissions, roles and user groups for one account (None: unchanged)."""

    permissions: list[str] | None = None
    roles: list[Entity] | None = None
    groups: list[Entity] | None = None


def _plan(ctx: Context, snapshot: Directory, fields: AccessFields, current: Entity | None) -> Access:
    """Check names and ids (400 when unknown) and that the caller may grant what is new and
    lift the negations of what goes away (403)."""
    tenant = ctx.tenant
    access = Access()
    new_acl: list[str] = []
    gone_acl: list[str] = []
    if fields.groups is not None:
        access.permissions = permissions.canonical_all(fields.groups)
        have = set(permissions.held(current.doc.get("acl", []))) if current else set()
        new_acl += permissions.patterns_of(p for p in access.permissions if p not in have)
    if fields.roles is not None:
        access.roles = directory.resolve(tenant, POLICY, fields.roles, "role")
        have = set(current.doc.get("policies", [])) if current else set()
        wanted = {r.id for r in access.roles}
        new_acl += policies_acl(r for r in access.roles if r.id not in have)
        gone_acl += policies_acl(snapshot.policies_in(p for p in have if p not in wanted))
    if fields.userGroups is not None:
        access.groups = directory.resolve(tenant, GROUP, fields.userGroups, "user group")
        have_groups = snapshot.groups_of(current.id) if current else []
        have = {g.id for g in have_groups}
        wanted = {g.id for g in access.groups}
        new_acl += [e for g in access.groups if g.id not in have for e in snapshot.group_acl(g)]
        gone_acl += [e for g in have_groups if g.id not in wanted for e in snapshot.group_acl(g)]
    require_grantable(ctx, new_acl)
    require_liftable(ctx, gone_acl)
    return access


def _apply(ctx: Context, account_id: str, access: Access, snapshot: Directory) -> None:
    """Write a planned Access onto an existing account."""
    tenant, by = ctx.tenant, ctx.actor
    if access.permissions is not None:
        wanted = access.permissions
        directory.edit_acl(tenant, ACCOUNT, account_id, lambda acl: permissions.replace(acl, wanted), by=by)
    if access.roles is not None:
        directory.replace_links(tenant, ACCOUNT, account_id, "policies", [r.id for r in access.roles], by=by)
    if access.groups is not None:
        directory.set_memberships(tenant, account_id, [g.id for g in access.groups], directory=snapshot, by=by)


def _create(ctx: Context, username: str, kind: str, access: Access, fields: dict[str, Any]) -> Entity:
    """A new account holding the planned access."""
    tenant = ctx.tenant
    doc = {
        **fields,
        "acl": permissions.grant([], access.permissions or []),
        "policies": [r.id for r in access.roles or []],
    }
    account = accounts.create_account(tenant, username=username, password=None, kind=kind, fields=doc, by=ctx.actor)
    if access.groups:
        directory.add_to_groups(tenant, [account.id], [g.id for g in access.groups], by=ctx.actor)
    return account


def _account(req: Request, kind: str | None = None) -> Entity:
    return directory.require_account(req.need_tenant(), req.params["id"], kind=kind)


def _user_model(ctx: Context, account_id: str) -> Any:
    tenant = ctx.tenant
    return bare(Views(tenant).user(accounts.repo(tenant, ACCOUNT).get(account_id)).dump())


def _service_view(ctx: Context, account_id: str) -> dict[str, Any]:
    tenant = ctx.tenant
    return Views(tenant).service_account(accounts.repo(tenant, ACCOUNT).get(account_id)).dump()


def _change_service_account(req: Request, account_id: str, change: Callable[[Entity], None]) -> Entity:
    """directory.update of a service account; when the write is the one that deactivated
    it, the tenant's administrators are told (once, however many ask at the same time)."""
    was_active: list[bool] = []

    def tracked(entity: Entity) -> None:
        was_active[:] = [bool(entity.doc.get("enabled", True))]  # of the attempt that is written
        change(entity)

    tenant = req.need_tenant()
    written = directory.update(tenant, ACCOUNT, account_id, tracked, by=req.actor)
    if was_active[-1:] == [True] and not written.doc.get("enabled", True):
        messages.service_account_deactivated(tenant, written, by=req.actor)
    return written


def _taken(username: str) -> None:
    if accounts.find_by_username(username) is not None:
        raise Conflict(f"Username {username} is already taken")


# ---- every account --------------------------------------------------------------------


@router.get("/api/v2/account", acl="account.read", query=PAGING, paged=True, response=Account)
def get_all_accounts(req: Request) -> Any:
    """Get all accounts (users and service accounts) of the tenant."""
    return paged_views(req, ACCOUNT, Views.account)


@router.get("/api/v2/account/{id}", acl="account.{id}.read", response=Account)
def get_account(req: Request) -> Any:
    """Get a specific account (user or service account)."""
    return Views(req.need_tenant()).account(_account(req)).dump()


@router.delete("/api/v2/account/{id}", acl="account.{id}.delete", response=Account)
def delete_account(req: Request) -> Any:
    """Delete an account: its API tokens are revoked and it leaves every group."""
    account = _account(req)
    if req.principal and account.id == req.principal.id:
        raise Invalid("You cannot delete your own account")
    view = Views(req.need_tenant()).account(account).dump()
    directory.delete_account(req.need_tenant(), account.id, guard=True)
    return view


@router.post("/api/v2/account/deleteAccounts", acl="account.delete", body=IDS, response=IDS)
def delete_multiple_accounts(req: Request) -> Any:
    """Delete several accounts; answers the identifiers deleted."""
    tenant = req.need_tenant()
    targets = directory.resolve_accounts(tenant, id_list(req, "account", required=True))
    if req.principal and any(a.id == req.principal.id for a in targets):
        raise Invalid("You cannot delete your own account")
    with directory.administration(tenant):
        directory.keep_administrator(tenant, [(ACCOUNT, a.id, None) for a in targets])
        for account in targets:
            directory.delete_account(tenant, account.id)
    return [a.doc["username"] for a in targets]


@router.get(
    "/api/v2/account/{id}/businessFunctions",
    acl="account.{id}.read",
    response={"type": "array", "items": {"type": "string"}, "uniqueItems": True},
)
def get_account_business_functions(req: Request) -> Any:
    """Business functions of an account (what its permissions let it do)."""
    account = _account(req)
    acl = Directory(req.need_tenant()).united_acl(account)
    return permissions.business_functions(acl, user=not is_service(account))


@router.post("/api/v2/account/validateAccounts", acl="account.read", body=IDS, response=ValidatedUsers)
def validate_accounts(req: Request) -> Any:
    """Split identifiers into existing accounts and unknown ones."""
    tenant = req.need_tenant()
    views = Views(tenant)
    valid, invalid = [], []
    for ref in id_list(req, "identifier"):
        account = directory.find_account(tenant, ref)
        if account is None:
            invalid.append(ref)
        else:
            valid.append(views.user(account))
    return ValidatedUsers(validUsers=valid, invalidIdentifiers=invalid).dump()


# ---- roles, user groups and permissions of one account --------------------------------


@router.post("/api/v2/account/{id}/addRoles", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False)
def add_account_to_roles(req: Request) -> Any:
    """Grant roles to an account."""
    account = _account(req)
    link_roles(req, ACCOUNT, account, add=True)
    return _user_model(req.ctx, account.id)


@router.post(
    "/api/v2/account/{id}/removeRoles", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False
)
def remove_account_from_roles(req: Request) -> Any:
    """Take roles away from an account."""
    account = _account(req)
    link_roles(req, ACCOUNT, account, add=False)
    return _user_model(req.ctx, account.id)


@router.post(
    "/api/v2/account/{id}/addUserGroups", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False
)
def add_account_to_user_groups(req: Request) -> Any:
    """Add an account to user groups."""
    return _join_groups(req, join=True)


@router.post(
    "/api/v2/account/{id}/removeUserGroups", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False
)
def remove_account_from_user_groups(req: Request) -> Any:
    """Remove an account from user groups."""
    return _join_groups(req, join=False)


def _join_groups(req: Request, *, join: bool) -> Any:
    """Add (join) or remove the account to or from the user groups the body names."""
    tenant = req.need_tenant()
    account = _account(req)
    groups = directory.resolve(tenant, GROUP, id_list(req, "user group"), "user group")
    snapshot = Directory(tenant)
    changed = [g for g in groups if (account.id in g.doc.get("users", [])) != join]
    acl = [entry for g in changed for entry in snapshot.group_acl(g)]
    if join:
        require_grantable(req.ctx, acl)
        directory.add_to_groups(tenant, [account.id], [g.id for g in groups], by=req.actor)
    else:
        require_liftable(req.ctx, acl)
        directory.remove_from_groups(tenant, [account.id], [g.id for g in groups], by=req.actor)
    return _user_model(req.ctx, account.id)


@router.post("/api/v2/account/{id}/grant/{permission}", acl="account.{id}.update", response=UserModel, envelope=False)
def grant_account_permission(req: Request) -> Any:
    """Grant a permission to an account."""
    name = permissions.canonical(req.params["permission"])
    account = _account(req)
    edit_permission(req.ctx, ACCOUNT, [account], name, grant=True)
    return _user_model(req.ctx, account.id)


@router.post("/api/v2/account/{id}/revoke/{permission}", acl="account.{id}.update", response=UserModel, envelope=False)
def revoke_account_permission(req: Request) -> Any:
    """Revoke a permission from an account."""
    name = permissions.canonical(req.params["permission"])
    account = _account(req)
    edit_permission(req.ctx, ACCOUNT, [account], name, grant=False)
    return _user_model(req.ctx, account.id)


@router.post("/api/v2/account/grant/{permission}", acl="account.update", body=IDS, response=UserModel, envelope=False)
def grant_permission_to_accounts(req: Request) -> Any:
    """Grant a permission to several accounts; answers the first one."""
    return _edit_permission(req, grant=True)


@router.post("/api/v2/account/revoke/{permission}", acl="account.update", body=IDS, response=UserModel, envelope=False)
def revoke_permission_from_accounts(req: Request) -> Any:
    """Revoke a permission from several accounts; answers the first one."""
    return _edit_permission(req, grant=False)


def _edit_permission(req: Request, *, grant: bool) -> Any:
    name = permissions.canonical(req.params["permission"])
    targets = directory.resolve_accounts(req.need_tenant(), id_list(req, "account", required=True))
    edit_permission(req.ctx, ACCOUNT, targets, name, grant=grant)
    return _user_model(req.ctx, targets[0].id)


# ---- users ----------------------------------------------------------------------------


@router.get("/api/v2/account/user", acl="account.read", response=list[UserModel])
def get_all_user_accounts(req: Request) -> Any:
    """Get all user accounts of the tenant."""
    views = Views(req.need_tenant())
    users = sorted((a for a in views.directory.accounts.values() if not is_service(a)), key=lambda a: a.doc["username"])
    return [views.user(a).dump() for a in users]


@router.get("/api/v2/account/user/admin", acl="account.read", response=IDS)
def get_users_with_accounts_permission(req: Request) -> Any:
    """Identifiers of the users holding the Accounts (user_management) permission."""
    snapshot = Directory(req.need_tenant())
    return sorted(
        a.doc["username"]
        for a in snapshot.accounts.values()
        if not is_service(a) and permissions.holds(snapshot.united_acl(a), "user_management")
    )


@router.post(
    "/api/v2/account/user",
    acl="account.create",
    body=UserToCreate,
    response=UserModel,
    envelope=False,
    query=(("sendEmail", "boolean", "Accepted for compatibility; opsplane sends no email"),),
)
def create_or_update_user_account(req: Request) -> Any:
    """Create a user account named by its email address, or update the existing one."""
    req.flag("sendEmail")
    body = req.model(UserToCreate)
    tenant = req.need_tenant()
    existing = directory.find_account(tenant, body.emailAddress)
    if existing is not None and is_service(existing):
        raise Conflict(f"{body.emailAddress} is a service account")
    snapshot = Directory(tenant)
    if existing is None:
        _taken(body.emailAddress)
        access = _plan(req.ctx, snapshot, body, None)
        fields = {"email": body.emailAddress, "purpose": "user"}
        created = _create(req.ctx, body.emailAddress, USER, access, fields)
        return _user_model(req.ctx, created.id)
    if not req.principal or not req.principal.can(f"account.{body.emailAddress}.update"):
        raise Forbidden(f"Missing permission account.{body.emailAddress}.update")
    access = _plan(req.ctx, snapshot, body, existing)
    _apply(req.ctx, existing.id, access, snapshot)
    return _user_model(req.ctx, existing.id)


@router.post(
    "/api/v2/account/user/invite", acl="account.create", body=list[UserToCreate], response=UserModel, envelope=False
)
def invite_user_accounts(req: Request) -> Any:
    """Create several user accounts; answers the first one."""
    raw = req.json_list(of=dict)
    if not raw:
        raise Invalid("The body must list at least one user")
    bodies = [_user_to_create(item) for item in raw]
    tenant = req.need_tenant()
    emails = [b.emailAddress.lower() for b in bodies]
    if len(set(emails)) != len(emails):
        raise Invalid("The same email address is listed twice")
    snapshot = Directory(tenant)
    plans = []
    for body in bodies:
        _taken(body.emailAddress)
        plans.append(_plan(req.ctx, snapshot, body, None))
    created = [
        _create(req.ctx, b.emailAddress, USER, p, {"email": b.emailAddress, "purpose": "user"})
        for b, p in zip(bodies, plans, strict=True)
    ]
    return _user_model(req.ctx, created[0].id)


def _user_to_create(item: dict[str, Any]) -> UserToCreate:
    from pydantic import ValidationError

    from chalicelib.http.request import validation_message

    try:
        return UserToCreate.model_validate(item)
    except ValidationError as exc:
        raise Invalid(validation_message(exc)) from exc


@router.get("/api/v2/account/user/{id}", acl="account.{id}.read", response=UserModel, envelope=False)
def get_user_account(req: Request) -> Any:
    """Get a specific user account."""
    return _user_model(req.ctx, _account(req, USER).id)


@router.put(
    "/api/v2/account/user/{id}", acl="account.{id}.update", body=UserRequest, response=UserModel, envelope=False
)
def update_user_account(req: Request) -> Any:
    """Update a user account: permissions, roles and user groups given replace the current ones."""
    account = _account(req, USER)
    body = req.model(UserRequest, default={})
    if body.identifier is not None and body.identifier.lower() not in (account.doc["username"].lower(), account.id):
        raise Invalid("The identifier of an account cannot change")
    problem = password_problem(body.credential) if body.credential is not None else None
    if problem:
        raise Invalid(f"credential: {problem}")
    snapshot = Directory(req.need_tenant())
    access = _plan(req.ctx, snapshot, body, account)
    if body.credential is not None:
        password_hash = hash_password(body.credential)

        def set_password(entity: Entity) -> None:
            entity.doc["password_hash"] = password_hash

        req.ctx.repo(ACCOUNT).update(account.id, set_password, by=req.actor, retries=directory.RETRIES)
    _apply(req.ctx, account.id, access, snapshot)
    return _user_model(req.ctx, account.id)


# ---- service accounts -----------------------------------------------------------------


@router.get("/api/v2/account/serviceaccount", acl="account.read", response=list[ServiceAccount])
def get_all_service_accounts(req: Request) -> Any:
    """Get all service accounts of the tenant."""
    tenant = req.need_tenant()
    views = Views(tenant)
    tokens: dict[str, list[apitokens.ApiToken]] = {}
    for token in apitokens.list_tokens(tenant):
        tokens.setdefault(token.account, []).append(token)
    found = sorted((a for a in views.directory.accounts.values() if is_service(a)), key=lambda a: a.doc["username"])
    return [views.service_account(a, tokens.get(a.id, [])).dump() for a in found]


@router.post("/api/v2/account/serviceaccount", acl="account.create", body=ServiceAccountWrite, response=ServiceAccount)
def create_service_account(req: Request) -> Any:
    """Create a service account ("sa::" identifier)."""
    body = req.model(ServiceAccountWrite)
    tenant = req.need_tenant()
    if body.tokens:
        raise Invalid("A new service account has no tokens yet: create them with the apitoken API")
    _taken(body.identifier)
    access = _plan(req.ctx, Directory(tenant), body, None)
    fields = {
        "enabled": True if body.active is None else body.active,
        "description": body.description,
        "purpose": "external_api",
    }
    created = _create(req.ctx, body.identifier, SERVICE, access, fields)
    return _service_view(req.ctx, created.id)


@router.get("/api/v2/account/serviceaccount/{id}", acl="account.{id}.read", response=ServiceAccount)
def get_service_account(req: Request) -> Any:
    """Get a specific service account."""
    return _service_view(req.ctx, _account(req, SERVICE).id)


@router.put(
    "/api/v2/account/serviceaccount/{id}", acl="account.{id}.update", body=ServiceAccountWrite, response=ServiceAccount
)
def update_service_account(req: Request) -> Any:
    """Update a service account. Fields given replace the current ones; `tokens` lists the
    API tokens to keep (the others are revoked)."""
    tenant = req.need_tenant()
    account = _account(req, SERVICE)
    body = req.model(ServiceAccountWrite)
    if body.identifier.lower() != account.doc["username"].lower():
        raise Invalid("The identifier of a service account cannot change")
    current_tokens = apitokens.list_tokens(tenant, account.id)
    revoke = []
    if body.tokens is not None:
        known = {t.public_id for t in current_tokens}
        unknown = [t for t in body.tokens if t not in known]
        if unknown:
            raise Invalid(f"Unknown tokens of {account.doc['username']}: {', '.join(unknown[:20])}")
        revoke = [t.public_id for t in current_tokens if t.public_id not in set(body.tokens)]
    snapshot = Directory(tenant)
    access = _plan(req.ctx, snapshot, body, account)
    if body.active is not None or body.description is not None:

        def change(entity: Entity) -> None:
            if body.active is not None:
                entity.doc["enabled"] = body.active
            if body.description is not None:
                entity.doc["description"] = body.description

        _change_service_account(req, account.id, change)
    _apply(req.ctx, account.id, access, snapshot)
    for public_id in revoke:
        apitokens.revoke(tenant, public_id, account.id)
        messages.credential_revoked(tenant, account.id, public_id, "API token", by=req.actor)
    return _service_view(req.ctx, account.id)


@router.post("/api/v2/account/serviceaccount/{id}/activate", acl="account.{id}.update", response=ServiceAccount)
def activate_account(req: Request) -> Any:
    """Activate a service account (its API tokens work again)."""
    account = _account(req, SERVICE)
    directory.set_enabled(req.need_tenant(), account.id, True, by=req.actor)
    return _service_view(req.ctx, account.id)


@router.post("/api/v2/account/serviceaccount/{id}/deactivate", acl="account.{id}.update", response=ServiceAccount)
def deactivate_account(req: Request) -> Any:
    """Deactivate a service account: its API tokens stop working at once."""
    account = _account(req, SERVICE)
    _change_service_account(req, account.id, lambda entity: entity.doc.update(enabled=False))
    return _service_view(req.ctx, account.id)


CATEGORY = Category(router, tables=("entities", "tokens"), permission="user_management")
