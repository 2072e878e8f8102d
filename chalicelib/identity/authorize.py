"""authorize(): one function for the API Gateway Lambda authorizer and the local path.

Accepted credentials (CONTRACTS.md): `Authorization: Bearer <JWT or API token>`,
`X-AUTH-TOKEN: [Bearer ]<token>` / `X-Auth-Token: <token>` (header names are
case-insensitive), and `Authorization: Basic` (with the CSRF rule for browser-originated
and cookie-session requests).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.auth import apitokens, records, sessions
from chalicelib.auth.passwords import verify_password
from chalicelib.auth.principal import Principal
from chalicelib.errors import CsrfRefused, NotFound, Throttled, Unauthenticated
from chalicelib.identity import accounts, tenants
from chalicelib.settings import get_settings

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Credentials:
    scheme: str  # bearer | basic
    value: str
    username: str = ""
    password: str = ""


def split_basic(value: str) -> tuple[str, str] | None:
    """(user, password) of HTTP Basic credentials (base64 of "user:password"); None if malformed."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII input
        return None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        return None
    return user, password


def extract(headers: Mapping[str, str]) -> Credentials | None:
    """The credentials a request carries (lower-cased header names), or None."""
    auth = headers.get("authorization", "").strip()
    if auth:
        scheme, _, rest = auth.partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            return Credentials("bearer", rest.strip())
        if scheme.lower() == "basic" and rest.strip():
            pair = split_basic(rest)
            if pair is None:
                raise Unauthenticated("Malformed Basic credentials")
            return Credentials("basic", "", username=pair[0], password=pair[1])
    token = headers.get("x-auth-token", "").strip()
    if token:
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if token:
            return Credentials("bearer", token)
    if auth:
        raise Unauthenticated("Unsupported Authorization scheme")
    return None


def from_browser(headers: Mapping[str, str]) -> bool:
    """Did a browser send this (cross-site or same-site, not a plain script)?"""
    if headers.get("origin"):
        return True
    site = headers.get("sec-fetch-site", "").lower()
    return bool(site) and site not in ("none", "same-origin")


def check_csrf(method: str, headers: Mapping[str, str], *, strict: bool) -> None:
    """CloverDX's rule: a state-changing Basic request from a browser (or any, when strict)
    needs X-Requested-By. opsplane issues no cookie sessions, so Basic is the only
    ambient credential a browser could replay."""
    if method.upper() not in STATE_CHANGING or headers.get("x-requested-by"):
        return
    if strict or from_browser(headers):
        raise CsrfRefused()


def login(username: str, password: str) -> tuple[str, dict]:
    """Check a username/password (throttled per user); returns (tenant, account doc)."""
    settings = get_settings()
    failures, remaining = records.login_failures(username)
    if failures >= settings.login_failures_before_throttle:
        raise Throttled(
            f"Too many failed logins for {username}; try again in {remaining} seconds",
            retry_after=remaining,
        )
    found = accounts.find_by_username(username)
    account = None
    if found:
        try:
            account = accounts.get_account(found[0], found[1]).doc
        except NotFound:
            account = None
    if account is None or not verify_password(account.get("password_hash"), password):
        records.record_login_failure(username, settings.login_throttle_seconds)
        raise Unauthenticated("Invalid username or password")
    if failures:
        records.clear_login_failures(username)
    if not account.get("enabled", True):
        raise Unauthenticated("Account is disabled")
    return found[0] if found else "", account


def _principal(tenant: str, account: dict, method: str, session: str | None) -> Principal:
    return _principal_in(tenants.require_active(tenant), account, method, session)


def _principal_in(tenant_doc: dict, account: dict, method: str, session: str | None) -> Principal:
    """The principal of an enabled account of an active tenant (its record given)."""
    tenant = tenant_doc["uuid"]
    if not account.get("enabled", True):
        raise Unauthenticated("Account is deactivated")
    groups = accounts.groups_of(tenant, account["uuid"])
    return Principal(
        id=account["uuid"],
        name=account.get("username", ""),
        tenant=tenant,
        kind=account.get("type", accounts.USER),
        acl=accounts.effective_acl(tenant, account, groups),
        groups=[g.id for g in groups],
        method=method,
        session=session,
    )


def _account(tenant: str, account_uuid: str) -> dict:
    try:
        return accounts.get_account(tenant, account_uuid).doc
    except NotFound as exc:
        raise Unauthenticated("The account behind these credentials no longer exists") from exc


def authenticate_token(token: str) -> Principal:
    """The principal behind a bearer token (JWT session or API token)."""
    if sessions.looks_like_jwt(token):
        claims = sessions.verify(token)
        if records.is_revoked(claims.jti):
            raise Unauthenticated("The token has been revoked")
        return _principal(claims.tenant, _account(claims.tenant, claims.sub), claims.method, claims.jti)
    api_token = apitokens.lookup(token)
    if api_token is None:
        raise Unauthenticated("Invalid token")
    principal = _principal(
        api_token.tenant, _account(api_token.tenant, api_token.account), "apitoken", api_token.public_id
    )
    apitokens.touch(api_token)
    return principal


def authorize(headers: Mapping[str, str], method: str) -> Principal:
    """The principal of a request, or Unauthenticated / Throttled / CsrfRefused / TenantGone."""
    headers = {k.lower(): v for k, v in headers.items()}
    creds = extract(headers)
    if creds is None:
        raise Unauthenticated("No credentials")
    if creds.scheme == "basic":
        tenant, account = login(creds.username, creds.password)
        tenant_doc = tenants.require_active(tenant)
        principal = _principal_in(tenant_doc, account, "basic", None)
        strict = get_settings().csrf_strict or bool(tenant_doc.get("csrf_strict"))
        check_csrf(method, headers, strict=strict)
        return principal
    return authenticate_token(creds.value)
