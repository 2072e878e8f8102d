"""API tokens: random, shown once, stored as a SHA-256 hash, listed by a public id.

Two records per token, written in one transaction:
  tokens table  pk "apitoken#<sha256>" / "token"              lookup on every request
  tokens table  pk "<tenant>#apitoken" / "<account>#<public id>"  listing per tenant/account
A per-account counter row (condition count < max) keeps the limit exact under races.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Invalid, NotFound
from chalicelib.store.models import TokenItem


@dataclass
class ApiToken:
    public_id: str
    tenant: str
    account: str
    account_type: str
    name: str
    created: int
    last_used: int | None = None

    def to_doc(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _connection() -> Connection:
    meta: Any = TokenItem.Meta
    return Connection(region=meta.region, host=getattr(meta, "host", None))


def _list_pk(tenant: str) -> str:
    return f"{tenant}#apitoken"


def create(tenant: str, account: str, account_type: str, *, name: str = "", limit: int = 20) -> tuple[str, ApiToken]:
    """A new token for the account; returns (secret, token). Over the limit is Invalid."""
    secret = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
    token = ApiToken(
        public_id=str(uuid.uuid4()),
        tenant=tenant,
        account=account,
        account_type=account_type,
        name=name,
        created=int(time.time() * 1000),
    )
    doc = json.dumps({**token.to_doc(), "hash": _hash(secret)})
    counter = TokenItem(f"{tenant}#apitoken-count", account)
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.update(
                counter,
                actions=[TokenItem.hits.add(1)],
                condition=(TokenItem.hits.does_not_exist() | (TokenItem.hits < limit)),
            )
            tx.save(
                TokenItem(f"apitoken#{_hash(secret)}", "token", tenant=tenant, doc=doc),
                condition=TokenItem.pk.does_not_exist(),
            )
            tx.save(
                TokenItem(_list_pk(tenant), f"{account}#{token.public_id}", tenant=tenant, doc=doc),
                condition=TokenItem.pk.does_not_exist(),
            )
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            raise Invalid(f"An account can have at most {limit} API tokens; revoke one first") from exc
        raise
    return secret, token


def _from_doc(doc: dict[str, Any]) -> ApiToken:
    return ApiToken(**{k: doc[k] for k in ApiToken.__dataclass_fields__ if k in doc})


def lookup(secret: str) -> ApiToken | None:
    """The token a secret belongs to, or None."""
    if not secret or len(secret) > 256:
        return None
    try:
        item = TokenItem.get(f"apitoken#{_hash(secret)}", "token")
    except DoesNotExist:
        return None
    return _from_doc(json.loads(item.doc or "{}"))


def list_tokens(tenant: str, account: str | None = None) -> list[ApiToken]:
    """Tokens of the tenant (of one account when given)."""
    cond = TokenItem.sk.startswith(f"{account}#") if account else None
    return [_from_doc(json.loads(i.doc or "{}")) for i in TokenItem.query(_list_pk(tenant), cond)]


def get_token(tenant: str, public_id: str, account: str | None = None) -> tuple[ApiToken, str]:
    """(token, its hash) by public id within the tenant (and account when given)."""
    for item in TokenItem.query(_list_pk(tenant)):
        doc = json.loads(item.doc or "{}")
        if doc.get("public_id") == public_id and (account is None or doc.get("account") == account):
            return _from_doc(doc), doc["hash"]
    raise NotFound(f"Token {public_id} not found")


def rename(tenant: str, public_id: str, name: str, account: str | None = None) -> ApiToken:
    """Give a token a new name."""
    if not isinstance(name, str) or len(name) > 256:
        raise Invalid("Invalid token name")
    token, digest = get_token(tenant, public_id, account)
    token.name = name
    doc = json.dumps({**token.to_doc(), "hash": digest})
    with TransactWrite(connection=_connection()) as tx:
        tx.save(TokenItem(_list_pk(tenant), f"{token.account}#{public_id}", tenant=tenant, doc=doc))
        tx.save(TokenItem(f"apitoken#{digest}", "token", tenant=tenant, doc=doc))
    return token


def revoke(tenant: str, public_id: str, account: str | None = None) -> ApiToken:
    """Delete a token for good (its secret stops working at once)."""
    token, digest = get_token(tenant, public_id, account)
    with TransactWrite(connection=_connection()) as tx:
        tx.delete(TokenItem(_list_pk(tenant), f"{token.account}#{public_id}"))
        tx.delete(TokenItem(f"apitoken#{digest}", "token"))
        tx.update(TokenItem(f"{tenant}#apitoken-count", token.account), actions=[TokenItem.hits.add(-1)])
    return token


def revoke_all(tenant: str, account: str) -> int:
    """Revoke every token of an account (account deletion)."""
    tokens = list_tokens(tenant, account)
    for token in tokens:
        revoke(tenant, token.public_id, account)
    return len(tokens)


def touch(token: ApiToken) -> None:
    """Record last use at most once a minute (cheap, best effort)."""
    now = int(time.time() * 1000)
    if token.last_used and now - token.last_used < 60_000:
        return
    token.last_used = now
