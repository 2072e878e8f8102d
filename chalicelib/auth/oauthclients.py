"""OAuth2 clients of service accounts (client credentials grant, RFC 6749 §4.4).

A client is a (client id, secret) pair bound to one service account. The secret has
opsplane's scannable shape (`opsoc_...`, auth/secretformat.py: 190 random bits and a
checksum; secrets issued earlier, url-safe base64, keep working), is shown once, and is
stored only as its SHA-256, compared in constant time. Rows in the tokens table, written in one transaction:
  "oauthclient#<client id>" / "client"               lookup at the token endpoint
  "<tenant>#oauthclient" / "<account>#<client id>"   the account's clients, as listed
  "<tenant>#oauthclient-count" / "<account>"         per-account counter (condition count < max)
The rows are read and written by store/tokens.py.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.auth import secretformat
from chalicelib.auth.apitokens import digest, revoke_each
from chalicelib.auth.cache import invalidate
from chalicelib.errors import NotFound
from chalicelib.store import tokens
from chalicelib.store.audit import Change
from chalicelib.store.tokens import create_counted, delete_counted

# What the audit log calls OAuth clients (store/audit.py).
KIND = "oauthclient"

MAX_CLIENTS_PER_ACCOUNT = 10
CLIENT_ID_LENGTH = 32  # hex characters
# Compared against when the client id is unknown, so both paths cost one comparison.
_NO_CLIENT = digest("no such client")


@dataclass
class OAuthClient:
    """One client of a service account (never its secret)."""

    client_id: str
    tenant: str
    account: str  # service account uuid
    created: int  # epoch ms
    digest: str = ""  # sha-256 of the secret
    last_used: int | None = None  # epoch ms of the last token issued

    def to_doc(self) -> dict[str, Any]:
        doc = dict(self.__dict__)
        doc.pop("last_used")  # kept in the `used` attribute
        return doc


def _lookup_key(client_id: str) -> tuple[str, str]:
    return f"oauthclient#{client_id}", "client"


def _list_key(tenant: str, account: str, client_id: str) -> tuple[str, str]:
    return f"{tenant}#oauthclient", f"{account}#{client_id}"


def _counter_key(tenant: str, account: str) -> tuple[str, str]:
    return f"{tenant}#oauthclient-count", account


def partitions_of(tenant: str) -> list[str]:
    """The tenant's partitions of OAuth client rows (a tenant's purge empties them)."""
    return [f"{tenant}#oauthclient", f"{tenant}#oauthclient-count"]


def rows_behind(listed_doc: str | None) -> list[tuple[str, str]]:
    """The rows outside the tenant's partitions that a listed client's document points to."""
    found = json.loads(listed_doc or "{}").get("client_id")
    return [_lookup_key(found)] if found else []


def _from_row(row: tokens.Row) -> OAuthClient:
    doc = json.loads(row.doc or "{}")
    client = OAuthClient(**{k: doc[k] for k in OAuthClient.__dataclass_fields__ if k in doc})
    client.last_used = row.used
    return client


def _well_formed(client_id: str) -> bool:
    return isinstance(client_id, str) and len(client_id) == CLIENT_ID_LENGTH and client_id.isalnum()


def new_secret() -> str:
    """A new client secret (opsplane's scannable shape)."""
    return secretformat.issue(secretformat.OAUTH_CLIENT_SECRET)


def create(
    tenant: str, account: str, *, limit: int = MAX_CLIENTS_PER_ACCOUNT, secret_source: Callable[[], str] = new_secret
) -> tuple[str, OAuthClient]:
    """A new client for the service account; returns (secret, client). Over the limit is
    Invalid. secret_source makes the secret (tests pass one of the older shapes)."""
    secret = secret_source()
    client = OAuthClient(
        client_id=secrets.token_hex(CLIENT_ID_LENGTH // 2),
        tenant=tenant,
        account=account,
        created=int(time.time() * 1000),
        digest=digest(secret),
    )
    doc = json.dumps(client.to_doc())
    rows = [(_lookup_key(client.client_id), doc), (_list_key(tenant, account, client.client_id), doc)]
    over_limit = f"A service account can have at most {limit} OAuth clients; revoke one first"
    change = Change(tenant, KIND, client.client_id, "create", after=client.to_doc())
    create_counted(tenant, _counter_key(tenant, account), limit, rows, over_limit, change=change)
    return secret, client


def verify(client_id: str, secret: str) -> OAuthClient | None:
    """The client whose id and secret these are, or None (unknown id or wrong secret)."""
    stored: OAuthClient | None = None
    if _well_formed(client_id) and 0 < len(secret) <= 256 and secretformat.plausible(secret):
        row = tokens.get(_lookup_key(client_id), consistent=True)
        stored = _from_row(row) if row is not None else None
    matches = hmac.compare_digest(digest(secret), stored.digest if stored else _NO_CLIENT)
    return stored if stored is not None and matches else None


def list_clients(tenant: str, account: str) -> list[OAuthClient]:
    """The clients of a service account, oldest first."""
    rows = tokens.query(f"{tenant}#oauthclient", f"{account}#")
    return sorted((_from_row(r) for r in rows), key=lambda c: (c.created, c.client_id))


def revoke(tenant: str, account: str, client_id: str) -> OAuthClient:
    """Delete a client of the service account: its secret stops working at once."""
    if not _well_formed(client_id):
        raise NotFound(f"Client {client_id} not found")
    row = tokens.get(_list_key(tenant, account, client_id), consistent=True)
    if row is None:
        raise NotFound(f"Client {client_id} not found")
    client = _from_row(row)
    delete_counted(
        _list_key(tenant, account, client_id),
        [_lookup_key(client_id)],
        _counter_key(tenant, account),
        f"Client {client_id} not found",
        change=Change(tenant, KIND, client_id, "delete", before=client.to_doc()),
    )
    invalidate()
    return client


def revoke_all(tenant: str, account: str) -> int:
    """Revoke every client of a service account (account deletion)."""
    return revoke_each((c.client_id for c in list_clients(tenant, account)), lambda i: revoke(tenant, account, i))


def touch(client: OAuthClient) -> None:
    """Record that the client was just issued a token (best effort)."""
    client.last_used = int(time.time() * 1000)
    # False when revoked meanwhile: the token was issued before the revocation.
    tokens.touch(_list_key(client.tenant, client.account, client.client_id), client.last_used)
