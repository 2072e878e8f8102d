"""API tokens: random, shown once, stored as a SHA-256 hash, listed by a public id.

Rows in the tokens table, all written in one transaction:
  "apitoken#<sha256 of secret>" / "token"          lookup on every request (never rewritten)
  "<tenant>#apitoken" / "<account>#<public id>"    the token as listed (name, dates)
  "<tenant>#apitoken-id" / "<public id>"           owner of a public id (admin lookups by id)
  "<tenant>#apitoken-count" / "<account>"          per-account counter (condition count < max)
The counter keeps the limit exact under races. Every rename and revoke is conditional on
the listed row still existing, so a revoked token is never resurrected by a concurrent
rename and two concurrent revokes never both decrement the counter. Last use lives in
its own attribute (`used`) so recording it never overwrites a rename.

New secrets have opsplane's scannable shape (`opsat_...`, auth/secretformat.py: 190
random bits and a checksum); tokens issued earlier are 122-bit random UUIDs (Wavefront's
token shape) and keep working. An unsalted SHA-256 is enough for a secret with that much
entropy, and makes the lookup a single get. The rows
are read and written by store/tokens.py.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.auth import secretformat
from chalicelib.auth.cache import invalidate
from chalicelib.errors import Invalid, NotFound
from chalicelib.settings import get_settings
from chalicelib.store import tokens
from chalicelib.store.audit import Change
from chalicelib.store.tokens import create_counted as create_counted
from chalicelib.store.tokens import delete_counted as delete_counted
from chalicelib.store.tokens import transact as transact

# What the audit log calls API tokens (store/audit.py).
KIND = "apitoken"

MAX_NAME_LENGTH = 256
MAX_PUBLIC_ID_LENGTH = 64
# Last use is for people ("used 3 minutes ago"), not for security: a write per request would
# double the cost of every call, so a token's use is recorded at most once a minute.
TOUCH_EVERY_MS = 60_000
# When this container last recorded each token's use (sha-256 -> epoch ms), bounded.
_touched: dict[str, int] = {}
MAX_TOUCHED = 10_000


@dataclass
class ApiToken:
    """One API token as stored (never its secret)."""

    public_id: str
    tenant: str
    account: str  # account uuid
    account_type: str  # accounts.USER | accounts.SERVICE
    created: int  # epoch ms
    name: str = ""  # not kept in the lookup row: read the listed row for it
    digest: str = ""  # sha-256 of the secret
    last_used: int | None = None  # epoch ms

    def to_doc(self) -> dict[str, Any]:
        doc = dict(self.__dict__)
        doc.pop("last_used")  # kept in the `used` attribute
        return doc


# ---- shared helpers (also used by auth/oauthclients.py) ---------------------------------
# create_counted, delete_counted and transact (store/tokens.py) are re-exported here.


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def revoke_each(ids: Iterable[str], revoke_one: Callable[[str], object]) -> int:
    """Revoke every id (one revoked concurrently is skipped); how many this call revoked."""
    count = 0
    for credential_id in ids:
        try:
            revoke_one(credential_id)
        except NotFound:
            continue  # revoked concurrently
        count += 1
    return count


# ---- keys -------------------------------------------------------------------------------


def _lookup_key(token_digest: str) -> tuple[str, str]:
    return f"apitoken#{token_digest}", "token"


def _list_key(tenant: str, account: str, public_id: str) -> tuple[str, str]:
    return f"{tenant}#apitoken", f"{account}#{public_id}"


def _owner_key(tenant: str, public_id: str) -> tuple[str, str]:
    return f"{tenant}#apitoken-id", public_id


def _counter_key(tenant: str, account: str) -> tuple[str, str]:
    return f"{tenant}#apitoken-count", account


def partitions_of(tenant: str) -> list[str]:
    """The tenant's partitions of API token rows (a tenant's purge empties them)."""
    return [f"{tenant}#apitoken", f"{tenant}#apitoken-id", f"{tenant}#apitoken-count"]


def rows_behind(listed_doc: str | None) -> list[tuple[str, str]]:
    """The rows outside the tenant's partitions that a listed token's document points to."""
    found = json.loads(listed_doc or "{}").get("digest")
    return [_lookup_key(found)] if found else []


def check_name(name: Any) -> str:
    """A token name is a short string without control characters."""
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise Invalid(f"A token name is a string of at most {MAX_NAME_LENGTH} printable characters")
    return name


def _from_row(row: tokens.Row) -> ApiToken:
    doc = json.loads(row.doc or "{}")
    token = ApiToken(**{k: doc[k] for k in ApiToken.__dataclass_fields__ if k in doc})
    token.last_used = row.used
    return token


# ---- operations -------------------------------------------------------------------------


def new_secret() -> str:
    """A new API token secret (opsplane's scannable shape)."""
    return secretformat.issue(secretformat.API_TOKEN)


def create(
    tenant: str,
    account: str,
    account_type: str,
    *,
    name: str = "",
    limit: int | None = None,
    secret_source: Callable[[], str] = new_secret,
) -> tuple[str, ApiToken]:
    """A new token for the account; returns (secret, token). Over the limit is Invalid.
    secret_source makes the secret (tests pass one of the older shapes)."""
    check_name(name)
    limit = get_settings().max_api_tokens_per_account if limit is None else limit
    secret = secret_source()
    token = ApiToken(
        public_id=str(uuid.uuid4()),
        tenant=tenant,
        account=account,
        account_type=account_type,
        name=name,
        created=int(time.time() * 1000),
        digest=digest(secret),
    )
    listed = json.dumps(token.to_doc())
    # The lookup row holds only what authorizing a request needs.
    lookup_doc = json.dumps(
        {k: v for k, v in token.to_doc().items() if k in ("public_id", "tenant", "account", "account_type", "created")}
    )
    rows = [
        (_lookup_key(token.digest), lookup_doc),
        (_list_key(tenant, account, token.public_id), listed),
        (_owner_key(tenant, token.public_id), json.dumps({"account": account})),
    ]
    over_limit = f"An account can have at most {limit} API tokens; revoke one first"
    change = Change(tenant, KIND, token.public_id, "create", after=token.to_doc())
    create_counted(tenant, _counter_key(tenant, account), limit, rows, over_limit, change=change)
    return secret, token


def lookup(secret: str) -> ApiToken | None:
    """The token a secret belongs to, or None."""
    if not secret or len(secret) > 256 or not secretformat.plausible(secret):
        return None
    token_digest = digest(secret)
    # Strongly consistent: a token revoked a moment ago must not pass.
    row = tokens.get(_lookup_key(token_digest), consistent=True)
    if row is None:
        return None
    token = _from_row(row)
    token.digest = token_digest
    return token


def list_tokens(tenant: str, account: str | None = None) -> list[ApiToken]:
    """Tokens of the tenant (of one account when given), oldest first."""
    found = [_from_row(r) for r in tokens.query(f"{tenant}#apitoken", f"{account}#" if account else None)]
    return sorted(found, key=lambda t: (t.created, t.public_id))


def get_token(tenant: str, public_id: str, account: str | None = None) -> ApiToken:
    """A token by public id within the tenant (and owned by account when given)."""
    if not isinstance(public_id, str) or not public_id or len(public_id) > MAX_PUBLIC_ID_LENGTH:
        raise NotFound(f"Token {public_id} not found")
    if account is None:
        owner = tokens.get(_owner_key(tenant, public_id), consistent=True)
        if owner is None:
            raise NotFound(f"Token {public_id} not found")
        account = str(json.loads(owner.doc or "{}")["account"])
    listed = tokens.get(_list_key(tenant, account, public_id), consistent=True)
    if listed is None:
        raise NotFound(f"Token {public_id} not found")
    return _from_row(listed)


def rename(tenant: str, public_id: str, name: str, account: str | None = None) -> ApiToken:
    """Give a token a new name (a token revoked meanwhile stays revoked: NotFound)."""
    check_name(name)
    token = get_token(tenant, public_id, account)
    before = token.to_doc()
    token.name = name
    change = Change(tenant, KIND, public_id, "update", before=before, after=token.to_doc())
    if not tokens.set_doc(_list_key(tenant, token.account, public_id), json.dumps(token.to_doc()), change=change):
        raise NotFound(f"Token {public_id} not found")
    return token


def revoke(tenant: str, public_id: str, account: str | None = None) -> ApiToken:
    """Delete a token for good (its secret stops working at once)."""
    token = get_token(tenant, public_id, account)
    delete_counted(
        _list_key(tenant, token.account, public_id),
        [_lookup_key(token.digest), _owner_key(tenant, public_id)],
        _counter_key(tenant, token.account),
        f"Token {public_id} not found",
        change=Change(tenant, KIND, public_id, "delete", before=token.to_doc()),
    )
    invalidate()
    return token


def revoke_all(tenant: str, account: str) -> int:
    """Revoke every token of an account (account deletion)."""
    return revoke_each((t.public_id for t in list_tokens(tenant, account)), lambda i: revoke(tenant, i, account))


def touch(token: ApiToken) -> None:
    """Record the token's use, at most once a minute (best effort: never fails a request)."""
    now = int(time.time() * 1000)
    if not token.digest or (token.last_used and now - token.last_used < TOUCH_EVERY_MS):
        return
    if now - _touched.get(token.digest, 0) < TOUCH_EVERY_MS:
        return  # this container wrote it a moment ago (the row read may predate that write)
    if len(_touched) >= MAX_TOUCHED:
        _touched.clear()
    _touched[token.digest] = now
    token.last_used = now
    for key in (_lookup_key(token.digest), _list_key(token.tenant, token.account, token.public_id)):
        if not tokens.touch(key, now):
            return  # revoked meanwhile, or a transient error: the next use records it
