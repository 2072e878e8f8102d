"""Wazo's password reset and address confirmation by e-mail: the requests that mail a
one-purpose token, and the routes that take it (as `X-Auth-Token`, as wazo-auth-client
sends it) instead of a session (identity/mailtokens.py)."""

from __future__ import annotations

from pydantic import ConfigDict, Field, StrictStr

from chalicelib.compat.wazo.common import PREFIX, no_content
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Router
from chalicelib.identity import mailtokens
from chalicelib.wire import Model

router = Router("wazo")

RESET = f"{PREFIX}/users/password/reset"
RESET_QUERY = (
    ("username", "string", "The user's username"),
    ("email", "string", "One of the user's addresses"),
    ("login", "string", "A username or an address"),
)


class NewPassword(Model):
    """POST /users/password/reset body."""

    model_config = ConfigDict(extra="ignore")

    password: StrictStr = Field(min_length=1, max_length=1024)


@router.get(RESET, acl=PUBLIC, query=RESET_QUERY, status=204)
def request_password_reset(req: Request) -> Reply:
    """Mail a reset token to the user named: always 204, whether or not anyone was found."""
    named = {name: req.arg(name) for name, _, _ in RESET_QUERY}
    if not any(named.values()):
        raise Invalid("username, email or login is required")
    mailtokens.request_reset(**named)
    return no_content()


@router.post(
    RESET,
    acl=PUBLIC,
    query=(("user_uuid", "string", "The user whose password the token resets"),),
    body=NewPassword,
    status=204,
)
def reset_password(req: Request) -> Reply:
    """Set a new password with the reset token mailed to the user (X-Auth-Token): once."""
    body = req.model(NewPassword)
    user_uuid = req.arg("user_uuid")
    if not user_uuid:
        raise Invalid("user_uuid is required")
    mailtokens.reset_password(req.headers.get("x-auth-token"), user_uuid, body.password)
    return no_content()


@router.get(
    f"{PREFIX}/users/{{user_uuid}}/emails/{{email_uuid}}/confirm",
    acl="user.{user_uuid}.update",
    self_param="user_uuid",
    status=204,
)
def request_confirmation_email(req: Request) -> Reply:
    """Mail a confirmation token to one of one's addresses (or a user's, with
    user.{uuid}.update)."""
    mailtokens.request_confirmation(req.need_tenant(), req.params["user_uuid"], req.params["email_uuid"])
    return no_content()


@router.put(f"{PREFIX}/emails/{{email_uuid}}/confirm", acl=PUBLIC, status=204)
def confirm_email(req: Request) -> Reply:
    """Confirm the address a confirmation token was mailed to (X-Auth-Token): once."""
    mailtokens.confirm(req.headers.get("x-auth-token"), req.params["email_uuid"])
    return no_content()
