"""What the account API (account.py) and the legacy user API (user.py) both do to the one
identity model: two views over the same accounts, one implementation.

Planning and applying access (permissions, roles, user groups) under the grant rule,
creating and inviting users, joining and leaving groups, granting and revoking one
permission, deleting accounts (never the last administrator: directory.keep_administrator),
validating identifiers. Operations typed UserModel answer bare (`user_model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chalicelib.auth import permissions
from chalicelib.auth.passwords import hash_password, password_problem
from chalicelib.categories.identity_views import (
    AccessFields,
    UserRequest,
    UserToCreate,
    ValidatedUsers,
    Views,
    edit_permission,
    id_list,
    is_service,
    policies_acl,
    require_grantable,
    require_liftable,
)
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Forbidden, Invalid
from chalicelib.http.reply import bare
from chalicelib.http.request import Request, validation_message
from chalicelib.identity import accounts, directory
from chalicelib.identity.accounts import ACCOUNT, GROUP, POLICY, USER
from chalicelib.identity.directory import Directory
from chalicelib.store.repository import Entity

SEND_EMAIL = ("sendEmail", "boolean", "Accepted for compatibility; opsplane sends no email")


@dataclass
class Access:
    """Validated permissions, roles and user groups for one account (None: unchanged)."""

    permissions: list[str] | None = None
    roles: list[Entity] | None = None
    groups: list[Entity] | None = None


def plan_access(ctx: Context, snapshot: Directory, fields: AccessFields, current: Entity | None) -> Access:
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


def apply_access(ctx: Context, account_id: str, access: Access, snapshot: Directory) -> None:
    """Write a planned Access onto an existing account."""
    tenant, by = ctx.tenant, ctx.actor
    if access.permissions is not None:
        wanted = access.permissions
        directory.edit_acl(tenant, ACCOUNT, account_id, lambda acl: permissions.replace(acl, wanted), by=by)
    if access.roles is not None:
        directory.replace_links(tenant, ACCOUNT, account_id, "policies", [r.id for r in access.roles], by=by)
    if access.groups is not None:
        directory.set_memberships(tenant, account_id, [g.id for g in access.groups], directory=snapshot, by=by)


def create_account(ctx: Context, username: str, kind: str, access: Access, fields: dict[str, Any]) -> Entity:
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


def require_free(username: str) -> None:
    """Conflict when an account anywhere already has the username."""
    if accounts.find_by_username(username) is not None:
        raise Conflict(f"Username {username} is already taken")


def target(req: Request, kind: str | None = None) -> Entity:
    """The account the path's {id} names (its username or uuid; 404 when unknown)."""
    return directory.require_account(req.need_tenant(), req.params["id"], kind=kind)


def user_model(ctx: Context, account_id: str) -> Any:
    """The account as a bare UserModel answer."""
    tenant = ctx.tenant
    return bare(Views(tenant).user(accounts.repo(tenant, ACCOUNT).get(account_id)).dump())


# ---- users --------------------------------------------------------------------------------


def _user_fields(body: UserToCreate) -> dict[str, Any]:
    return {"email": body.emailAddress, "purpose": "user"}


def create_or_update_user(req: Request) -> Any:
    """Create a user account named by its email address (no email is sent: `sendEmail` is
    read and ignored), or update the existing one's access."""
    req.flag("sendEmail")
    body = req.model(UserToCreate)
    tenant = req.need_tenant()
    existing = directory.find_account(tenant, body.emailAddress)
    if existing is not None and is_service(existing):
        raise Conflict(f"{body.emailAddress} is a service account")
    snapshot = Directory(tenant)
    if existing is None:
        require_free(body.emailAddress)
        access = plan_access(req.ctx, snapshot, body, None)
        created = create_account(req.ctx, body.emailAddress, USER, access, _user_fields(body))
        return user_model(req.ctx, created.id)
    if not req.principal or not req.principal.can(f"account.{body.emailAddress}.update"):
        raise Forbidden(f"Missing permission account.{body.emailAddress}.update")
    access = plan_access(req.ctx, snapshot, body, existing)
    apply_access(req.ctx, existing.id, access, snapshot)
    return user_model(req.ctx, existing.id)


def _user_to_create(item: dict[str, Any]) -> UserToCreate:
    try:
        return UserToCreate.model_validate(item)
    except ValidationError as exc:
        raise Invalid(validation_message(exc)) from exc


def invite_users(req: Request) -> Any:
    """Create several user accounts (all checked before any is made); answers the first one."""
    raw = req.json_list(of=dict)
    if not raw:
        raise Invalid("The body must list at least one user")
    bodies = [_user_to_create(item) for item in raw]
    emails = [b.emailAddress.lower() for b in bodies]
    if len(set(emails)) != len(emails):
        raise Invalid("The same email address is listed twice")
    snapshot = Directory(req.need_tenant())
    plans = []
    for body in bodies:
        require_free(body.emailAddress)
        plans.append(plan_access(req.ctx, snapshot, body, None))
    created = [
        create_account(req.ctx, b.emailAddress, USER, p, _user_fields(b)) for b, p in zip(bodies, plans, strict=True)
    ]
    return user_model(req.ctx, created[0].id)


def update_user(req: Request, account: Entity) -> Any:
    """Update a user account: permissions, roles and user groups given replace the current
    ones; `credential` sets its password."""
    body = req.model(UserRequest, default={})
    if body.identifier is not None and body.identifier.lower() not in (account.doc["username"].lower(), account.id):
        raise Invalid("The identifier of an account cannot change")
    problem = password_problem(body.credential) if body.credential is not None else None
    if problem:
        raise Invalid(f"credential: {problem}")
    snapshot = Directory(req.need_tenant())
    access = plan_access(req.ctx, snapshot, body, account)
    if body.credential is not None:
        password_hash = hash_password(body.credential)

        def set_password(entity: Entity) -> None:
            entity.doc["password_hash"] = password_hash

        req.ctx.repo(ACCOUNT).update(account.id, set_password, by=req.actor, retries=directory.RETRIES)
    apply_access(req.ctx, account.id, access, snapshot)
    return user_model(req.ctx, account.id)


# ---- any account ----------------------------------------------------------------------------


def delete_one(req: Request, account: Entity) -> None:
    """Delete an account (never one's own, never the last administrator): its API tokens
    are revoked and it leaves every group."""
    if req.principal and account.id == req.principal.id:
        raise Invalid("You cannot delete your own account")
    directory.delete_account(req.need_tenant(), account.id, guard=True)


def delete_many(req: Request) -> list[str]:
    """Delete the accounts the body lists, all or none checked first; the identifiers deleted."""
    tenant = req.need_tenant()
    targets = directory.resolve_accounts(tenant, id_list(req, "account", required=True))
    if req.principal and any(a.id == req.principal.id for a in targets):
        raise Invalid("You cannot delete your own account")
    with directory.administration(tenant):
        directory.keep_administrator(tenant, [(ACCOUNT, a.id, None) for a in targets])
        for account in targets:
            directory.delete_account(tenant, account.id)
    return [a.doc["username"] for a in targets]


def business_functions(req: Request) -> list[str]:
    """The business functions of the path's account (what its permissions let it do)."""
    account = target(req)
    acl = Directory(req.need_tenant()).united_acl(account)
    return permissions.business_functions(acl, user=not is_service(account))


def validate(req: Request) -> dict[str, Any]:
    """Split the body's identifiers into existing accounts and unknown ones."""
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


def join_groups(req: Request, *, join: bool) -> Any:
    """Add (join) or remove the path's account to or from the user groups the body names."""
    tenant = req.need_tenant()
    account = target(req)
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
    return user_model(req.ctx, account.id)


def edit_one(req: Request, name: str, *, grant: bool) -> Any:
    """Grant or revoke one permission on the path's account (revoking the last
    administrator's is refused)."""
    account = target(req)
    edit_permission(req.ctx, ACCOUNT, [account], permissions.canonical(name), grant=grant)
    return user_model(req.ctx, account.id)


def edit_many(req: Request, *, grant: bool) -> Any:
    """Grant or revoke the path's permission on the accounts the body lists; answers the first."""
    name = permissions.canonical(req.params["permission"])
    targets = directory.resolve_accounts(req.need_tenant(), id_list(req, "account", required=True))
    edit_permission(req.ctx, ACCOUNT, targets, name, grant=grant)
    return user_model(req.ctx, targets[0].id)
