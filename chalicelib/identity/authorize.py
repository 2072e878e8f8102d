"""authorize(): one function for the API Gateway Lambda authorizer and the local path.

Accepted credentials (CONTRACTS.md): `Authorization: Bearer <JWT or API token>`,
`X-AUTH-TOKEN: [Bearer ]<token>` / `X-Auth-Token: <token>` (header names are
case-insensitive), and `Authorization: Basic` (with the CSRF rule for browser-originated
and cookie-session requests).

A verified credential's principal is kept per container for `auth_cache_seconds`
(auth/cache.py): a warm request costs no AWS call. A cold one reads the credential's rows,
its account and tenant in one batch, then the tenant's ancestors (one batch), the tenant's
groups (one Query) and the policies (one batch). Everyone's role, which every account holds
through its tenant's Everyone group, has an id derived from the tenant: it is read in the
first batch, or, for a Basic login, with the tenant (whose verdict the cache keeps with
the role, whoever's request read it), so its grant adds no call.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.auth import apitokens, records, sessions
from chalicelib.auth.cache import AUTH_CACHE
from chalicelib.auth.passwords import verify_password
from chalicelib.auth.principal import Principal
from chalicelib.errors import CsrfRefused, NotFound, Unauthenticated
from chalicelib.identity import accounts, groups, network, tenants
from chalicelib.settings import get_settings
from chalicelib.store import batch

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


def login(
    username: str, password: str, *, source: str | None = None, verify: Callable[[Any, str], bool] = verify_password
) -> tuple[str, dict]:
    """Check a username/password; returns (tenant, account doc). Throttled per account (by
    its canonical name: any padding or casing of it) and per client address (source): the
    password is checked only after a slot was taken (auth/records.py, docs/auth.md)."""
    canonical = accounts.canonical_username(username)
    taken = records.take_attempts(records.account_attempts(canonical), source=source, name=canonical)
    found = accounts.find_by_username(username)
    account = None
    if found:
        try:
            account = accounts.get_account(found[0], found[1]).doc
        except NotFound:
            account = None
    if account is None or not verify(account.get("password_hash"), password):
        raise Unauthenticated("Invalid username or password")  # the slots stay taken
    records.give_back(*taken)
    if not account.get("enabled", True):
        raise Unauthenticated("Account is disabled")
    return found[0] if found else "", account


# Policies already read (id -> policy, None when absent): accounts.effective_acl skips them.
Known = dict[str, Any]


def _principal_in(
    tenant_doc: dict, account: dict, method: str, session: str | None, known: Known | None = None
) -> Principal:
    """The principal of an enabled account of an active tenant (its record given; known:
    policies read with it, Everyone's role)."""
    tenant = tenant_doc["uuid"]
    if not account.get("enabled", True):
        raise Unauthenticated("Account is deactivated")
    member_of = accounts.groups_of(tenant, account["uuid"])
    if not any(groups.is_everyone(tenant, g.id) for g in member_of):  # a tenant older than Everyone
        groups.ensure_everyone(tenant)
        member_of = accounts.groups_of(tenant, account["uuid"])
        known = None  # its role was made after it was read
    return Principal(
        id=account["uuid"],
        name=account.get("username", ""),
        tenant=tenant,
        kind=account.get("type", accounts.USER),
        acl=accounts.effective_acl(tenant, account, member_of, known=known),
        groups=[g.id for g in member_of],
        method=method,
        session=session,
        network=network.lines_of(tenant_doc),
    )


# ---- the per-container cache (auth/cache.py) ----------------------------------------------


def _cached(namespace: str, parts: tuple[str, ...], compute: Callable[[], tuple[Any, float]]) -> Any:
    """compute()'s value (value, valid until epoch s), kept up to auth_cache_seconds under
    a keyed hash of parts; compute() runs on a miss or when the cache is off."""
    seconds = get_settings().auth_cache_seconds
    if not seconds:
        return compute()[0]
    cache = AUTH_CACHE
    key = cache.key(namespace, *parts)
    found = cache.get(key)
    if found is not None:
        return found
    generation = cache.generation  # before reading: a write meanwhile makes this entry stale
    value, valid_until = compute()
    cache.put(key, value, generation=generation, expires=min(cache.clock() + seconds, valid_until))
    return value


def _own(principal: Principal) -> Principal:
    """A copy the caller may change without changing the cached one."""
    return replace(principal, acl=list(principal.acl), groups=list(principal.groups))


FOREVER = float("inf")


def _tenant_key(tenant_uuid: str) -> batch.EntityKey:
    return tenant_uuid, tenants.TENANT, tenant_uuid


def _everyone_key(tenant_uuid: str) -> batch.EntityKey:
    """Everyone's role: its id is the tenant's, so it is read with the tenant's other rows."""
    return tenant_uuid, accounts.POLICY, groups.everyone_role_id(tenant_uuid)


def _everyone(tenant_uuid: str, found: dict[batch.EntityKey, Any]) -> Known:
    """Everyone's role among the rows of a batch read (None when it is absent)."""
    key = _everyone_key(tenant_uuid)
    return {key[2]: found.get(key)}


# A tenant's verdict as the cache keeps it: (its record, found active; Everyone's role).
TenantEntry = tuple[dict[str, Any], Known]


def _verdict(doc: dict[str, Any], everyone: Known) -> TenantEntry:
    """(doc, everyone) when the tenant and its ancestors are active (the ancestors read in one
    batch), TenantGone otherwise."""
    found, _ = batch.read([_tenant_key(a) for a in doc.get("ancestors", [])])
    ancestors = {key[2]: entity.doc for key, entity in found.items()}
    return tenants.check_available(doc, ancestors), everyone


def _active(doc: dict[str, Any], everyone: Known) -> TenantEntry:
    """The tenant (its record and Everyone's role given), or TenantGone when it or an
    ancestor is deactivated or deleted; the verdict is kept like a principal, with the role."""
    tenant_doc, _ = _cached("tenant", (doc["uuid"],), lambda: (_verdict(doc, everyone), FOREVER))
    return dict(tenant_doc), dict(everyone)


def _tenant_and_everyone(tenant_uuid: str) -> TenantEntry:
    """(active tenant, Everyone's role): read in one batch on a miss (one call, as reading
    the tenant alone was), kept with the tenant's verdict (NotFound, TenantGone)."""

    def read() -> tuple[TenantEntry, float]:
        try:
            found, _ = batch.read([_tenant_key(tenant_uuid), _everyone_key(tenant_uuid)])
        except NotFound as exc:  # an id the store refuses
            raise NotFound(f"Tenant {tenant_uuid} not found") from exc
        tenant_found = found.get(_tenant_key(tenant_uuid))
        if tenant_found is None:
            raise NotFound(f"Tenant {tenant_uuid} not found")
        return _verdict(tenant_found.doc, _everyone(tenant_uuid, found)), FOREVER

    tenant_doc, everyone = _cached("tenant", (tenant_uuid,), read)
    return dict(tenant_doc), dict(everyone)


def active_tenant(tenant_uuid: str) -> dict[str, Any]:
    """tenants.require_active, kept for auth_cache_seconds (NotFound, TenantGone)."""
    return _tenant_and_everyone(tenant_uuid)[0]


def enter_tenant(home: str, requested: str | None) -> str:
    """tenants.enter_tenant, kept for auth_cache_seconds: the home tenant costs nothing (it
    was found active when the principal was), a named descendant is checked once per bound."""
    if not requested or requested == home:
        return home
    return str(_cached("enter", (home, requested), lambda: (tenants.enter_tenant(home, requested), FOREVER)))


def _account_and_tenant(
    tenant: str, account_uuid: str, *, revocation: tuple[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Any], Known]:
    """(account, active tenant, Everyone's role) of a credential in one batch read (with its
    revocation row, Unauthenticated when present)."""
    account_key = (tenant, accounts.ACCOUNT, account_uuid)
    try:
        found, rows = batch.read(
            [account_key, _tenant_key(tenant), _everyone_key(tenant)], [revocation] if revocation else []
        )
    except NotFound as exc:  # an id the store refuses
        raise Unauthenticated("Invalid token") from exc
    if revocation is not None and revocation in rows:
        raise Unauthenticated("The token has been revoked")
    tenant_found = found.get(_tenant_key(tenant))
    # A deleted tenant answers 410 before its accounts are gone, and after (its tombstone stays).
    entry = _active(tenant_found.doc, _everyone(tenant, found)) if tenant_found is not None else None
    if account_key not in found:
        raise Unauthenticated("The account behind these credentials no longer exists")
    if entry is None:
        raise NotFound(f"Tenant {tenant} not found")
    return found[account_key].doc, *entry


def _verified_token(token: str) -> tuple[Principal, float]:
    """(principal, valid until) of a bearer token, read from the store."""
    if sessions.looks_like_jwt(token):
        claims = sessions.verify(token)
        account, tenant_doc, known = _account_and_tenant(
            claims.tenant, claims.sub, revocation=records.revocation_key(claims.jti)
        )
        return _principal_in(tenant_doc, account, claims.method, claims.jti, known), float(claims.expires_at)
    api_token = apitokens.lookup(token)
    if api_token is None:
        raise Unauthenticated("Invalid token")
    account, tenant_doc, known = _account_and_tenant(api_token.tenant, api_token.account)
    principal = _principal_in(tenant_doc, account, "apitoken", api_token.public_id, known)
    apitokens.touch(api_token)  # on a miss only, and at most once a minute per token
    return principal, FOREVER


def principal_of(tenant: str, account_uuid: str, method: str) -> Principal:
    """The principal of an account named by a credential other than a password or a token
    (a refresh token): Unauthenticated when the account is gone or disabled, TenantGone
    when its tenant is deactivated."""
    account, tenant_doc, known = _account_and_tenant(tenant, account_uuid)
    return _principal_in(tenant_doc, account, method, None, known)


def authenticate_token(token: str) -> Principal:
    """The principal behind a bearer token (JWT session or API token)."""
    return _own(_cached("bearer", (token,), lambda: _verified_token(token)))


def _basic(username: str, password: str, source: str | None) -> tuple[tuple[Principal, bool], float]:
    tenant, account = login(username, password, source=source)
    tenant_doc, known = _tenant_and_everyone(tenant)
    strict = get_settings().csrf_strict or bool(tenant_doc.get("csrf_strict"))
    return (_principal_in(tenant_doc, account, "basic", None, known), strict), FOREVER


def authorize(headers: Mapping[str, str], method: str, *, source: str | None = None) -> Principal:
    """The principal of a request, or Unauthenticated / Throttled / CsrfRefused / TenantGone,
    or Forbidden when its tenant's access policy denies the address (identity/network.py).
    source: the client's address as API Gateway saw it (Basic logins are throttled per
    address too), never a header the client wrote."""
    headers = {k.lower(): v for k, v in headers.items()}
    creds = extract(headers)
    if creds is None:
        raise Unauthenticated("No credentials")
    if creds.scheme == "basic":
        # Keyed by user and password: after a password change only the new one matches,
        # and the change itself invalidates the cache.
        principal, strict = _cached(
            "basic", (creds.username, creds.password), lambda: _basic(creds.username, creds.password, source)
        )
        network.admit(principal, source)
        check_csrf(method, headers, strict=strict)
        return _own(principal)
    principal = authenticate_token(creds.value)
    network.admit(principal, source)
    return principal
