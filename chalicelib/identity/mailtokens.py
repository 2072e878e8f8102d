"""Password reset and address confirmation by e-mail (Wazo's `/users/password/reset` and
`/emails/{uuid}/confirm`): one-purpose tokens sent by mail, and the index that finds a user
by address.

A token is 256 random bits, mailed once and stored as its SHA-256 in the tokens table with a
TTL; it does one thing: reset one user's password, or confirm one address of one user. It is
claimed (a conditional delete) before it acts, so it works once, and a token read after its
expiry is refused even before DynamoDB's TTL deletes it.

Rows in the tokens table:
  "mailtoken#<sha256 of secret>" / "reset" | "confirm"   the token: {tenant, user, email?}
Users are found by username (the username index) or by address (identity/users.py's
address index: a Query, never a Scan).
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.auth.apitokens import digest
from chalicelib.errors import NotFound, Unauthenticated, Unavailable
from chalicelib.identity import accounts, users
from chalicelib.settings import get_settings
from chalicelib.store import mail, tokens

logger = Logger(service="opsplane", child=True)

RESET = "reset"
CONFIRM = "confirm"
TTL = {RESET: 3600, CONFIRM: 2 * 86400}  # seconds: an hour to reset, two days to confirm
MAX_LOOKUP = 320  # the longest username or address looked up


def _token_key(secret: str, purpose: str) -> tokens.Key:
    return f"mailtoken#{digest(secret)}", purpose


def _by_username(username: str) -> list[tuple[str, Any]]:
    where = accounts.find_by_username(username)
    if where is None:
        return []
    try:
        return [(where[0], accounts.require_account(*where))]
    except NotFound:
        return []


def _issue(purpose: str, tenant: str, user_uuid: str, **extra: str) -> str:
    secret = secrets.token_urlsafe(32)
    expires = datetime.fromtimestamp(time.time() + TTL[purpose], tz=UTC)
    doc = json.dumps({"tenant": tenant, "user": user_uuid, **extra})
    tokens.write_rows([tokens.NewRow(_token_key(secret, purpose), tenant, doc, expires=expires)])
    return secret


def _send(to: str, subject: str, body: str) -> None:
    """Send, and only log a refusal or an outage: the caller's answer must not depend on
    whether a mail could go (it would tell who has an account)."""
    try:
        mail.send(get_settings().email_sender, [to], subject, body, html=False)
    except (mail.MailRefused, Unavailable) as exc:
        logger.warning("account mail not sent", extra={"reason": str(exc)})


def request_reset(*, username: str | None, email: str | None, login: str | None) -> None:
    """Mail a reset token to the main address of the user named by username, address, or
    login (either). Nothing tells the caller whether anyone was found."""
    found: list[tuple[str, Any]] = []
    for name in (username, login):
        if name and len(name) <= MAX_LOOKUP:
            found += _by_username(name)
    for address in (email, login):
        if address and len(address) <= MAX_LOOKUP and "@" in address:
            found += users.find_by_address(address)
    seen = set()
    for tenant, user in found:
        main = user.doc.get("email")
        if user.id in seen or not main or user.doc.get("enabled") is False:
            continue
        seen.add(user.id)
        secret = _issue(RESET, tenant, user.id)
        _send(
            main,
            "Reset your opsplane password",
            f"Someone asked to reset the password of {user.doc['username']}.\n"
            f"To choose a new one within the hour, send it with this token:\n\n"
            f"  POST {get_settings().public_url}/api/auth/0.1/users/password/reset?user_uuid={user.id}\n"
            f'  X-Auth-Token: {secret}\n  {{"password": "..."}}\n\n'
            "If you did not ask, ignore this message: your password stays as it is.\n",
        )


def _claim(secret: str | None, purpose: str) -> dict[str, Any]:
    """The token's record, used up; Unauthenticated when it is unknown, used or expired."""
    row = tokens.claim(_token_key(secret, purpose)) if secret else None
    if row is None or row.expires is None or row.expires.timestamp() <= time.time():
        raise Unauthenticated("This token is unknown, used or expired")
    return dict(json.loads(row.doc or "{}"))


def reset_password(secret: str | None, user_uuid: str, password: str) -> None:
    """Set a user's password with a reset token mailed to it (the token is used up only by
    an acceptable password for its own user)."""
    users.check_password(password)
    row = tokens.get(_token_key(secret, RESET), consistent=True) if secret else None
    if row is None or json.loads(row.doc or "{}").get("user") != user_uuid:
        raise Unauthenticated("This token is unknown, used or expired")
    record = _claim(secret, RESET)
    users.set_password(record["tenant"], user_uuid, password, by=f"password-reset:{user_uuid}")


def request_confirmation(tenant: str, user_uuid: str, email_uuid: str) -> None:
    """Mail a confirmation token to one address of a user."""
    user = accounts.require_account(tenant, user_uuid)
    address = next((e["address"] for e in users.emails_of(user) if e["uuid"] == email_uuid), None)
    if address is None:
        raise NotFound(f"Email {email_uuid} not found")
    secret = _issue(CONFIRM, tenant, user_uuid, email_uuid=email_uuid)
    _send(
        address,
        "Confirm your e-mail address",
        f"Confirm that {address} belongs to {user.doc['username']} (within two days):\n\n"
        f"  PUT {get_settings().public_url}/api/auth/0.1/emails/{email_uuid}/confirm\n"
        f"  X-Auth-Token: {secret}\n",
    )


def confirm(secret: str | None, email_uuid: str) -> None:
    """Confirm the address a confirmation token was mailed to."""
    row = tokens.get(_token_key(secret, CONFIRM), consistent=True) if secret else None
    if row is None or json.loads(row.doc or "{}").get("email_uuid") != email_uuid:
        raise Unauthenticated("This token is unknown, used or expired")
    record = _claim(secret, CONFIRM)
    users.confirm_email(record["tenant"], record["user"], email_uuid, by=f"email-confirmation:{record['user']}")
