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
from typing import Any

from chalicelib.auth import apitokens, permissions
from chalicelib.categories import account_rules as rules
from chalicelib.categories.identity_views import (
    IDS,
    PAGING,
    Account,
    ServiceAccount,
    ServiceAccountWrite,
    UserModel,
    UserRequest,
    UserToCreate,
    ValidatedUsers,
    Views,
    is_service,
    link_roles,
    paged_views,
)
from chalicelib.domain import messages
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.identity import directory
from chalicelib.identity.accounts import ACCOUNT, SERVICE, USER
from chalicelib.identity.directory import Directory
from chalicelib.store.repository import Entity

router = Router("account")


def _service_view(ctx: Context, account_id: str) -> dict[str, Any]:
    tenant = ctx.tenant
    return Views(tenant).service_account(ctx.repo(ACCOUNT).get(account_id)).dump()


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


# ---- every account --------------------------------------------------------------------


@router.get("/api/v2/account", acl="account.read", query=PAGING, paged=True, response=Account)
def get_all_accounts(req: Request) -> Any:
    """Get all accounts (users and service accounts) of the tenant."""
    return paged_views(req, ACCOUNT, Views.account)


@router.get("/api/v2/account/{id}", acl="account.{id}.read", response=Account)
def get_account(req: Request) -> Any:
    """Get a specific account (user or service account)."""
    return Views(req.need_tenant()).account(rules.target(req)).dump()


@router.delete("/api/v2/account/{id}", acl="account.{id}.delete", response=Account)
def delete_account(req: Request) -> Any:
    """Delete an account: its API tokens are revoked and it leaves every group."""
    account = rules.target(req)
    view = Views(req.need_tenant()).account(account).dump()
    rules.delete_one(req, account)
    return view


@router.post("/api/v2/account/deleteAccounts", acl="account.delete", body=IDS, response=IDS)
def delete_multiple_accounts(req: Request) -> Any:
    """Delete several accounts; answers the identifiers deleted."""
    return rules.delete_many(req)


@router.get(
    "/api/v2/account/{id}/businessFunctions",
    acl="account.{id}.read",
    response={"type": "array", "items": {"type": "string"}, "uniqueItems": True},
)
def get_account_business_functions(req: Request) -> Any:
    """Business functions of an account (what its permissions let it do)."""
    return rules.business_functions(req)


@router.post("/api/v2/account/validateAccounts", acl="account.read", body=IDS, response=ValidatedUsers)
def validate_accounts(req: Request) -> Any:
    """Split identifiers into existing accounts and unknown ones."""
    return rules.validate(req)


# ---- roles, user groups and permissions of one account --------------------------------


@router.post("/api/v2/account/{id}/addRoles", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False)
def add_account_to_roles(req: Request) -> Any:
    """Grant roles to an account."""
    account = rules.target(req)
    link_roles(req, ACCOUNT, account, add=True)
    return rules.user_model(req.ctx, account.id)


@router.post(
    "/api/v2/account/{id}/removeRoles", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False
)
def remove_account_from_roles(req: Request) -> Any:
    """Take roles away from an account."""
    account = rules.target(req)
    link_roles(req, ACCOUNT, account, add=False)
    return rules.user_model(req.ctx, account.id)


@router.post(
    "/api/v2/account/{id}/addUserGroups", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False
)
def add_account_to_user_groups(req: Request) -> Any:
    """Add an account to user groups."""
    return rules.join_groups(req, join=True)


@router.post(
    "/api/v2/account/{id}/removeUserGroups", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False
)
def remove_account_from_user_groups(req: Request) -> Any:
    """Remove an account from user groups."""
    return rules.join_groups(req, join=False)


@router.post("/api/v2/account/{id}/grant/{permission}", acl="account.{id}.update", response=UserModel, envelope=False)
def grant_account_permission(req: Request) -> Any:
    """Grant a permission to an account."""
    return rules.edit_one(req, req.params["permission"], grant=True)


@router.post("/api/v2/account/{id}/revoke/{permission}", acl="account.{id}.update", response=UserModel, envelope=False)
def revoke_account_permission(req: Request) -> Any:
    """Revoke a permission from an account."""
    return rules.edit_one(req, req.params["permission"], grant=False)


@router.post("/api/v2/account/grant/{permission}", acl="account.update", body=IDS, response=UserModel, envelope=False)
def grant_permission_to_accounts(req: Request) -> Any:
    """Grant a permission to several accounts; answers the first one."""
    return rules.edit_many(req, grant=True)


@router.post("/api/v2/account/revoke/{permission}", acl="account.update", body=IDS, response=UserModel, envelope=False)
def revoke_permission_from_accounts(req: Request) -> Any:
    """Revoke a permission from several accounts; answers the first one."""
    return rules.edit_many(req, grant=False)


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
    query=(rules.SEND_EMAIL,),
)
def create_or_update_user_account(req: Request) -> Any:
    """Create a user account named by its email address, or update the existing one."""
    return rules.create_or_update_user(req)


@router.post(
    "/api/v2/account/user/invite", acl="account.create", body=list[UserToCreate], response=UserModel, envelope=False
)
def invite_user_accounts(req: Request) -> Any:
    """Create several user accounts; answers the first one."""
    return rules.invite_users(req)


@router.get("/api/v2/account/user/{id}", acl="account.{id}.read", response=UserModel, envelope=False)
def get_user_account(req: Request) -> Any:
    """Get a specific user account."""
    return rules.user_model(req.ctx, rules.target(req, USER).id)


@router.put(
    "/api/v2/account/user/{id}", acl="account.{id}.update", body=UserRequest, response=UserModel, envelope=False
)
def update_user_account(req: Request) -> Any:
    """Update a user account: permissions, roles and user groups given replace the current ones."""
    return rules.update_user(req, rules.target(req, USER))


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
    rules.require_free(body.identifier)
    access = rules.plan_access(req.ctx, Directory(tenant), body, None)
    fields = {
        "enabled": True if body.active is None else body.active,
        "description": body.description,
        "purpose": "external_api",
    }
    created = rules.create_account(req.ctx, body.identifier, SERVICE, access, fields)
    return _service_view(req.ctx, created.id)


@router.get("/api/v2/account/serviceaccount/{id}", acl="account.{id}.read", response=ServiceAccount)
def get_service_account(req: Request) -> Any:
    """Get a specific service account."""
    return _service_view(req.ctx, rules.target(req, SERVICE).id)


@router.put(
    "/api/v2/account/serviceaccount/{id}", acl="account.{id}.update", body=ServiceAccountWrite, response=ServiceAccount
)
def update_service_account(req: Request) -> Any:
    """Update a service account. Fields given replace the current ones; `tokens` lists the
    API tokens to keep (the others are revoked)."""
    tenant = req.need_tenant()
    account = rules.target(req, SERVICE)
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
    access = rules.plan_access(req.ctx, snapshot, body, account)
    if body.active is not None or body.description is not None:

        def change(entity: Entity) -> None:
            if body.active is not None:
                entity.doc["enabled"] = body.active
            if body.description is not None:
                entity.doc["description"] = body.description

        _change_service_account(req, account.id, change)
    rules.apply_access(req.ctx, account.id, access, snapshot)
    for public_id in revoke:
        apitokens.revoke(tenant, public_id, account.id)
        messages.credential_revoked(tenant, account.id, public_id, "API token", by=req.actor)
    return _service_view(req.ctx, account.id)


@router.post("/api/v2/account/serviceaccount/{id}/activate", acl="account.{id}.update", response=ServiceAccount)
def activate_account(req: Request) -> Any:
    """Activate a service account (its API tokens work again)."""
    account = rules.target(req, SERVICE)
    directory.set_enabled(req.need_tenant(), account.id, True, by=req.actor)
    return _service_view(req.ctx, account.id)


@router.post("/api/v2/account/serviceaccount/{id}/deactivate", acl="account.{id}.update", response=ServiceAccount)
def deactivate_account(req: Request) -> Any:
    """Deactivate a service account: its API tokens stop working at once."""
    account = rules.target(req, SERVICE)
    _change_service_account(req, account.id, lambda entity: entity.doc.update(enabled=False))
    return _service_view(req.ctx, account.id)


CATEGORY = Category(router, tables=("entities", "tokens"), permission="user_management")
