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

The secrets are 122-bit random UUIDs (Wavefront's token shape): an unsalted SHA-256 is
enough for a secret with that much entropy, and makes the lookup a single get.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.settings import get_settings
from chalicelib.store.models import TokenItem, transaction_connection

MAX_NAME_LENGTH = 256
MAX_PUBLIC_ID_LENGTH = 64
TOUCH_EVERY_MS = 60_000


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


# ---- shared transaction helpers (also used by auth/oauthclients.py) -----------------------


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def connection() -> Connection:
    """A connection to the tokens table's endpoint (for TransactWrite)."""
    return transaction_connection()


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Why DynamoDB cancelled a transaction, one code per item. PynamoDB sends the items
    grouped, not in call order: condition checks, deletes, puts, then updates."""
    return [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]


def is_conditional_failure(exc: PynamoDBException) -> bool:
    """Did a single-item write fail its condition?"""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def transact(build: Callable[[TransactWrite], None], *, attempts: int = 5) -> None:
    """Run build's writes in one transaction. A transaction that DynamoDB cancels
    because another one touched the same item (TransactionConflict: two tokens of one
    account created at once share the counter) is retried; a failed condition is not."""
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=connection()) as tx:
                build(tx)
            return
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if "TransactionConflict" not in codes or "ConditionalCheckFailed" in codes:
                raise
            if attempt == attempts - 1:
                raise Conflict("Too many concurrent changes to these credentials; try again") from exc
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))


Key = tuple[str, str]


def create_counted(tenant: str, counter: Key, limit: int, rows: Iterable[tuple[Key, str]], over_limit: str) -> None:
    """Save new rows (key, doc) and count them against the account's limit, in one
    transaction; a full counter is Invalid(over_limit), an existing row fails the write."""
    rows = list(rows)

    def build(tx: TransactWrite) -> None:
        tx.update(
            TokenItem(*counter),
            actions=[TokenItem.hits.add(1)],
            condition=(TokenItem.hits.does_not_exist() | (TokenItem.hits < limit)),
        )
        for key, doc in rows:
            tx.save(TokenItem(*key, tenant=tenant, doc=doc), condition=TokenItem.pk.does_not_exist())

    try:
        transact(build)
    except TransactWriteError as exc:
        if cancellation_codes(exc)[-1:] == ["ConditionalCheckFailed"]:  # the counter: the only update
            raise Invalid(over_limit) from exc
        raise


def delete_counted(listed: Key, others: Iterable[Key], counter: Key, not_found: str) -> None:
    """Delete a credential's rows and uncount it, in one transaction, on condition that its
    listed row still exists (NotFound(not_found) otherwise: two revokes never both uncount)."""
    others = list(others)

    def build(tx: TransactWrite) -> None:
        tx.delete(TokenItem(*listed), condition=TokenItem.pk.exists())
        for key in others:
            tx.delete(TokenItem(*key))
        tx.update(TokenItem(*counter), actions=[TokenItem.hits.add(-1)])

    try:
        transact(build)
    except TransactWriteError as exc:
        if cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:  # the listed row: the first delete
            raise NotFound(not_found) from exc
        raise


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


def check_name(name: Any) -> str:
    """A token name is a short string without control characters."""
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise Invalid(f"A token name is a string of at most {MAX_NAME_LENGTH} printable characters")
    return name


def _from_item(item: TokenItem) -> ApiToken:
    doc = json.loads(item.doc or "{}")
    token = ApiToken(**{k: doc[k] for k in ApiToken.__dataclass_fields__ if k in doc})
    token.last_used = int(item.used) if item.used is not None else None
    return token


# ---- operations -------------------------------------------------------------------------


def create(
    tenant: str, account: str, account_type: str, *, name: str = "", limit: int | None = None
) -> tuple[str, ApiToken]:
    """A new token for the account; returns (secret, token). Over the limit is Invalid."""
    check_name(name)
    limit = get_settings().max_api_tokens_per_account if limit is None else limit
    secret = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
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
    create_counted(tenant, _counter_key(tenant, account), limit, rows, over_limit)
    return secret, token


def lookup(secret: str) -> ApiToken | None:
    """The token a secret belongs to, or None."""
    if not secret or len(secret) > 256:
        return None
    token_digest = digest(secret)
    try:
        # Strongly consistent: a token revoked a moment ago must not pass.
        item = TokenItem.get(*_lookup_key(token_digest), consistent_read=True)
    except DoesNotExist:
        return None
    token = _from_item(item)
    token.digest = token_digest
    return token


def list_tokens(tenant: str, account: str | None = None) -> list[ApiToken]:
    """Tokens of the tenant (of one account when given), oldest first."""
    cond = TokenItem.sk.startswith(f"{account}#") if account else None
    found = [_from_item(i) for i in TokenItem.query(f"{tenant}#apitoken", cond, consistent_read=True)]
    return sorted(found, key=lambda t: (t.created, t.public_id))


def get_token(tenant: str, public_id: str, account: str | None = None) -> ApiToken:
    """A token by public id within the tenant (and owned by account when given)."""
    if not isinstance(public_id, str) or not public_id or len(public_id) > MAX_PUBLIC_ID_LENGTH:
        raise NotFound(f"Token {public_id} not found")
    try:
        if account is None:
            owner = TokenItem.get(*_owner_key(tenant, public_id), consistent_read=True)
            account = str(json.loads(owner.doc or "{}")["account"])
        return _from_item(TokenItem.get(*_list_key(tenant, account, public_id), consistent_read=True))
    except DoesNotExist as exc:
        raise NotFound(f"Token {public_id} not found") from exc


def rename(tenant: str, public_id: str, name: str, account: str | None = None) -> ApiToken:
    """Give a token a new name (a token revoked meanwhile stays revoked: NotFound)."""
    check_name(name)
    token = get_token(tenant, public_id, account)
    token.name = name
    try:
        TokenItem(*_list_key(tenant, token.account, public_id)).update(
            actions=[TokenItem.doc.set(json.dumps(token.to_doc()))],
            condition=TokenItem.pk.exists(),
        )
    except UpdateError as exc:
        if is_conditional_failure(exc):
            raise NotFound(f"Token {public_id} not found") from exc
        raise
    return token


def revoke(tenant: str, public_id: str, account: str | None = None) -> ApiToken:
    """Delete a token for good (its secret stops working at once)."""
    token = get_token(tenant, public_id, account)
    delete_counted(
        _list_key(tenant, token.account, public_id),
        [_lookup_key(token.digest), _owner_key(tenant, public_id)],
        _counter_key(tenant, token.account),
        f"Token {public_id} not found",
    )
    return token


def revoke_all(tenant: str, account: str) -> int:
    """Revoke every token of an account (account deletion)."""
    return revoke_each((t.public_id for t in list_tokens(tenant, account)), lambda i: revoke(tenant, i, account))


def touch(token: ApiToken) -> None:
    """Record the token's use, at most once a minute (best effort: never fails a request)."""
    now = int(time.time() * 1000)
    if not token.digest or (token.last_used and now - token.last_used < TOUCH_EVERY_MS):
        return
    token.last_used = now
    for key in (_lookup_key(token.digest), _list_key(token.tenant, token.account, token.public_id)):
        try:
            TokenItem(*key).update(actions=[TokenItem.used.set(now)], condition=TokenItem.pk.exists())
        except UpdateError:
            return  # revoked meanwhile, or a transient error: the next use records it
