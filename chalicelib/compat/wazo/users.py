"""Wazo users: profile, password, and the policies attached to a user."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StrictBool, StrictStr

from chalicelib.compat.wazo.common import (
    GROUP_SEARCH,
    GROUP_SORT,
    LIST_QUERY,
    POLICY_SEARCH,
    POLICY_SORT,
    PREFIX,
    USER_SEARCH,
    USER_SORT,
    WazoList,
    acting,
    group_view,
    in_scope,
    listed,
    no_content,
    policy_view,
    relink,
    user_view,
)
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.identity import accounts, directory, users
from chalicelib.wire import Model

router = Router("wazo")

Purpose = Literal["user", "internal", "external_api"]


class UserBody(Model):
    """POST body (Wazo's `email_address`, or `email`)."""

    model_config = ConfigDict(extra="ignore")

    uuid: UUID | None = None
    username: StrictStr = Field(min_length=1, max_length=256)
    password: StrictStr | None = None
    email_address: StrictStr | None = None
    email: StrictStr | None = None
    firstname: StrictStr | None = Field(default=None, max_length=128)
    lastname: StrictStr | None = Field(default=None, max_length=128)
    purpose: Purpose = "user"
    enabled: StrictBool = True


class UserChange(Model):
    """PUT body: the fields given replace the stored ones."""

    model_config = ConfigDict(extra="ignore")

    username: StrictStr | None = Field(default=None, min_length=1, max_length=256)
    email_address: StrictStr | None = None
    email: StrictStr | None = None
    firstname: StrictStr | None = Field(default=None, max_length=128)
    lastname: StrictStr | None = Field(default=None, max_length=128)
    purpose: Purpose | None = None
    enabled: StrictBool | None = None


class PasswordChange(Model):
    """PUT body of /users/{user_uuid}/password."""

    model_config = ConfigDict(extra="ignore")

    old_password: StrictStr | None = None
    new_password: StrictStr


class Email(Model):
    uuid: str
    address: str
    main: bool
    confirmed: bool


class EmailEntry(Model):
    """One address of PUT /users/{user_uuid}/emails (new addresses start unconfirmed)."""

    model_config = ConfigDict(extra="ignore")

    address: StrictStr = Field(min_length=3, max_length=320)
    main: StrictBool = False


class AdminEmailEntry(EmailEntry):
    """One address of PUT /admin/users/{user_uuid}/emails: confirmed may be set (null or
    absent: an address keeps its state, a new one is unconfirmed)."""

    confirmed: StrictBool | None = None


class EmailsBody(Model):
    """PUT /users/{user_uuid}/emails: every address of the user (an empty list removes them)."""

    model_config = ConfigDict(extra="ignore")

    emails: list[EmailEntry] = Field(max_length=users.MAX_EMAILS)


class AdminEmailsBody(Model):
    """PUT /admin/users/{user_uuid}/emails."""

    model_config = ConfigDict(extra="ignore")

    emails: list[AdminEmailEntry] = Field(max_length=users.MAX_EMAILS)


class User(Model):
    """A user (never its password)."""

    uuid: str
    tenant_uuid: str
    username: str
    firstname: str | None
    lastname: str | None
    purpose: str
    enabled: bool
    emails: list[Email]


def _profile(body: UserBody | UserChange) -> dict[str, Any]:
    """Profile fields of a body as stored (`email_address` wins over `email`)."""
    given = body.model_fields_set
    fields: dict[str, Any] = {k: getattr(body, k) for k in ("firstname", "lastname") if k in given}
    # purpose and enabled are never null in a User: a null sent for them changes nothing.
    fields.update({k: getattr(body, k) for k in ("purpose", "enabled") if getattr(body, k) is not None})
    if "email_address" in given or "email" in given:
        fields["email"] = body.email_address if "email_address" in given else body.email
    return fields


@router.post(f"{PREFIX}/users", acl="user.create", body=UserBody, response=User)
def create_user(req: Request) -> Reply:
    """Create a user in the acting tenant (usernames are unique installation-wide)."""
    body = req.model(UserBody)
    fields = {**_profile(body), "purpose": body.purpose, "enabled": body.enabled}
    fields.update(username=body.username, password=body.password)
    user = users.create_user(req.need_tenant(), fields, by=req.actor, user_uuid=str(body.uuid) if body.uuid else None)
    return bare(user_view(user))


@router.get(f"{PREFIX}/users", acl="user.read", query=LIST_QUERY, response=WazoList)
def list_users(req: Request) -> Reply:
    """Users of the acting tenant (and its sub-tenants with recurse=true)."""
    return listed(req, in_scope(req, accounts.ACCOUNT), user_view, sort=USER_SORT, search=USER_SEARCH)


@router.get(f"{PREFIX}/users/{{user_uuid}}", acl="user.{user_uuid}.read", response=User)
def get_user(req: Request) -> Reply:
    """One user of the acting tenant."""
    return bare(user_view(accounts.require_account(req.need_tenant(), req.params["user_uuid"])))


@router.put(f"{PREFIX}/users/{{user_uuid}}", acl="user.{user_uuid}.update", body=UserChange, response=User)
def update_user(req: Request) -> Reply:
    """Change a user's profile or username."""
    body = req.model(UserChange)
    changes = _profile(body)
    if body.username is not None:
        changes["username"] = body.username
    tenant, user_uuid = req.need_tenant(), req.params["user_uuid"]
    with ExitStack() as held:
        if changes.get("enabled") is False:
            held.enter_context(directory.administration(tenant))
            current = accounts.require_account(tenant, user_uuid)
            directory.keep_administrator(tenant, [(accounts.ACCOUNT, user_uuid, {**current.doc, "enabled": False})])
        user = users.update_user(tenant, user_uuid, changes, by=req.actor)
    return bare(user_view(user))


@router.delete(f"{PREFIX}/users/{{user_uuid}}", acl="user.{user_uuid}.delete", status=204)
def delete_user(req: Request) -> Reply:
    """Delete a user: its username is freed and its credentials stop working (never the
    tenant's last administrator)."""
    tenant, user_uuid = req.need_tenant(), req.params["user_uuid"]
    accounts.require_account(tenant, user_uuid)
    with directory.administration(tenant):
        directory.keep_administrator(tenant, [(accounts.ACCOUNT, user_uuid, None)])
        users.delete_user(tenant, user_uuid)
    return no_content()


@router.put(
    f"{PREFIX}/users/{{user_uuid}}/password",
    acl="user.{user_uuid}.update",
    self_param="user_uuid",
    body=PasswordChange,
    status=204,
)
def change_password(req: Request) -> Reply:
    """Change a password: one's own with the old password, anyone's with user.{uuid}.update."""
    body = req.model(PasswordChange)
    user_uuid = req.params["user_uuid"]
    users.change_password(
        req.need_tenant(),
        user_uuid,
        new_password=body.new_password,
        old_password=body.old_password,
        self_service=acting(req).id == user_uuid,
        by=req.actor,
    )
    return no_content()


@router.get(
    f"{PREFIX}/users/{{user_uuid}}/policies",
    acl="user.{user_uuid}.read",
    query=LIST_QUERY[:5],
    response=WazoList,
)
def list_user_policies(req: Request) -> Reply:
    """The policies attached directly to a user."""
    found = users.user_policies(req.need_tenant(), req.params["user_uuid"])
    return listed(req, found, policy_view, sort=POLICY_SORT, search=POLICY_SEARCH)


@router.put(f"{PREFIX}/users/{{user_uuid}}/policies/{{policy_uuid}}", acl="user.{user_uuid}.update", status=204)
def attach_policy(req: Request) -> Reply:
    """Attach a policy to a user (the caller must hold all of its ACL)."""
    return relink(req, users.attach_policy, "user_uuid", "policy_uuid")


@router.delete(f"{PREFIX}/users/{{user_uuid}}/policies/{{policy_uuid}}", acl="user.{user_uuid}.update", status=204)
def detach_policy(req: Request) -> Reply:
    """Detach a policy from a user."""
    return relink(req, users.detach_policy, "user_uuid", "policy_uuid")


@router.get(
    f"{PREFIX}/users/{{user_uuid}}/groups", acl="user.{user_uuid}.read", query=LIST_QUERY[:5], response=WazoList
)
def list_user_groups(req: Request) -> Reply:
    """The groups a user is a member of."""
    tenant = req.need_tenant()
    found = accounts.groups_of(tenant, accounts.require_account(tenant, req.params["user_uuid"]).id)
    return listed(req, found, group_view, sort=GROUP_SORT, search=GROUP_SEARCH)


@router.get(
    f"{PREFIX}/users/{{user_uuid}}/external",
    acl="user.{user_uuid}.read",
    self_param="user_uuid",
    query=LIST_QUERY[:5],
    response=WazoList,
)
def list_user_external_auths(req: Request) -> Reply:
    """The external authentications of a user, as Wazo lists them ({type, enabled, data,
    plugin_info}): opsplane has no external OAuth providers, so the list is always empty."""
    tenant = req.need_tenant()
    accounts.require_account(tenant, req.params["user_uuid"])
    return listed(req, [], dict, sort=("type",), search=("type",))


def _set_emails(req: Request, entries: list[dict[str, Any]]) -> Reply:
    user = users.set_emails(req.need_tenant(), req.params["user_uuid"], entries, by=req.actor)
    return bare(users.emails_of(user))


@router.put(
    f"{PREFIX}/users/{{user_uuid}}/emails",
    acl="user.{user_uuid}.update",
    self_param="user_uuid",
    body=EmailsBody,
    response=list[Email],
)
def update_emails(req: Request) -> Reply:
    """Replace one's addresses (or a user's, with user.{uuid}.update): addresses kept keep
    their confirmation, new ones are unconfirmed; answers the list."""
    body = req.model(EmailsBody)
    return _set_emails(req, [{**e.model_dump(), "confirmed": None} for e in body.emails])


@router.put(
    f"{PREFIX}/admin/users/{{user_uuid}}/emails",
    acl="user.{user_uuid}.update",
    body=AdminEmailsBody,
    response=list[Email],
)
def admin_update_emails(req: Request) -> Reply:
    """Replace a user's addresses, confirmed or not as the administrator says."""
    body = req.model(AdminEmailsBody)
    return _set_emails(req, [e.model_dump() for e in body.emails])
