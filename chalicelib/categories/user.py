"""Wavefront's legacy users (UserApi, `/api/v2/user`): the deprecated view over the same
accounts as `/api/v2/account` (account.py). One data model, two views: every operation is
one of account_rules.py's, so both APIs always agree, the grant rule applies, and no
deletion or revocation may leave the tenant without an administrator.

`{id}` is an account's identifier (a user's email address, a service account's "sa::"
name) or its uuid. Operations typed UserModel answer bare, the others in the envelope.
`sendEmail` is accepted and ignored: opsplane sends no email.
"""

from __future__ import annotations

from typing import Any

from chalicelib.categories import account_rules as rules
from chalicelib.categories.crud_views import NO_PAYLOAD
from chalicelib.categories.identity_views import IDS, UserModel, UserRequest, UserToCreate, ValidatedUsers, Views
from chalicelib.errors import Invalid
from chalicelib.http.reply import bare
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.identity.accounts import USER

router = Router("user")

FORM = "application/x-www-form-urlencoded"
PERMISSION_FORM: dict[str, Any] = {
    "contentMediaType": FORM,
    "type": "object",
    "required": ["group"],
    "properties": {"group": {"type": "string", "description": "The permission (e.g. alerts_management)"}},
}


class UserWithFunctions(UserModel):
    """The client's declared answer of businessFunctions (a UserModel), with the functions."""

    businessFunctions: list[str]


@router.get("/api/v2/user", acl="account.read", response=list[UserModel], envelope=False)
def get_all_users(req: Request) -> Any:
    """Get all user accounts of the tenant."""
    views = Views(req.need_tenant())
    users = sorted((a for a in views.directory.accounts.values() if a.doc.get("type") == USER), key=_username)
    return [views.user(a).dump() for a in users]


def _username(account: Any) -> str:
    return str(account.doc["username"])


@router.post(
    "/api/v2/user",
    acl="account.create",
    body=UserToCreate,
    response=UserModel,
    envelope=False,
    query=(rules.SEND_EMAIL,),
)
def create_user(req: Request) -> Any:
    """Create a user account named by its email address, or update the existing one."""
    return rules.create_or_update_user(req)


@router.post("/api/v2/user/invite", acl="account.create", body=list[UserToCreate], response=UserModel, envelope=False)
def invite_users(req: Request) -> Any:
    """Create several user accounts; answers the first one."""
    return rules.invite_users(req)


@router.post("/api/v2/user/deleteUsers", acl="account.delete", body=IDS, response=IDS)
def delete_multiple_users(req: Request) -> Any:
    """Delete several users or service accounts; answers the identifiers deleted."""
    return rules.delete_many(req)


@router.post("/api/v2/user/validateUsers", acl="account.read", body=IDS, response=ValidatedUsers)
def validate_users(req: Request) -> Any:
    """Split identifiers into existing accounts and unknown ones."""
    return rules.validate(req)


@router.post("/api/v2/user/grant/{permission}", acl="account.update", body=IDS, response=UserModel, envelope=False)
def grant_permission_to_users(req: Request) -> Any:
    """Grant a permission to several accounts; answers the first one."""
    return rules.edit_many(req, grant=True)


@router.post("/api/v2/user/revoke/{permission}", acl="account.update", body=IDS, response=UserModel, envelope=False)
def revoke_permission_from_users(req: Request) -> Any:
    """Revoke a permission from several accounts; answers the first one."""
    return rules.edit_many(req, grant=False)


@router.get("/api/v2/user/{id}", acl="account.{id}.read", response=UserModel, envelope=False)
def get_user(req: Request) -> Any:
    """Get a user or service account."""
    return rules.user_model(req.ctx, rules.target(req).id)


@router.put("/api/v2/user/{id}", acl="account.{id}.update", body=UserRequest, response=UserModel, envelope=False)
def update_user(req: Request) -> Any:
    """Update a user account: permissions, roles and user groups given replace the current ones."""
    return rules.update_user(req, rules.target(req, USER))


@router.delete("/api/v2/user/{id}", acl="account.{id}.delete", response=NO_PAYLOAD)
def delete_user(req: Request) -> Any:
    """Delete a user or service account: its API tokens are revoked and it leaves every group."""
    rules.delete_one(req, rules.target(req))
    return None


@router.get("/api/v2/user/{id}/businessFunctions", acl="account.{id}.read", response=UserWithFunctions, envelope=False)
def get_user_business_functions(req: Request) -> Any:
    """Business functions of an account: the client reads a UserModel, so the account is
    answered as one, with `businessFunctions` beside its fields."""
    account = rules.target(req)
    model = Views(req.need_tenant()).user(account).dump()
    return bare({**model, "businessFunctions": rules.business_functions(req)})


@router.post("/api/v2/user/{id}/addUserGroups", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False)
def add_user_to_user_groups(req: Request) -> Any:
    """Add an account to user groups."""
    return rules.join_groups(req, join=True)


@router.post(
    "/api/v2/user/{id}/removeUserGroups", acl="account.{id}.update", body=IDS, response=UserModel, envelope=False
)
def remove_user_from_user_groups(req: Request) -> Any:
    """Remove an account from user groups."""
    return rules.join_groups(req, join=False)


@router.post(
    "/api/v2/user/{id}/grant", acl="account.{id}.update", body=PERMISSION_FORM, response=UserModel, envelope=False
)
def grant_user_permission(req: Request) -> Any:
    """Grant a permission (the form's `group`) to an account."""
    return rules.edit_one(req, _form_permission(req), grant=True)


@router.post(
    "/api/v2/user/{id}/revoke", acl="account.{id}.update", body=PERMISSION_FORM, response=UserModel, envelope=False
)
def revoke_user_permission(req: Request) -> Any:
    """Revoke a permission (the form's `group`) from an account (never the last administrator's)."""
    return rules.edit_one(req, _form_permission(req), grant=False)


def _form_permission(req: Request) -> str:
    """The one `group` of a form body (the client sends the permission so)."""
    if req.content_type != FORM:
        raise Invalid(f"group: the body must be {FORM} with the permission in `group`")
    values = req.form().get("group", [])
    if len(values) != 1 or not values[0].strip():
        raise Invalid("group: exactly one permission is required")
    return values[0]


CATEGORY = Category(router, tables=("entities", "tokens"), permission="user_management")
