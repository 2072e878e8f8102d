"""Refresh tokens (Wazo's `access_type: offline`): a long-lived secret that gets new session
tokens without the password, one per user and client id (a new one replaces the old).

Rows in the tokens table, written together (store/tokens.py write_rows):
  "refreshtoken#<sha256 of secret>" / "token"          lookup when a token is asked for by it
  "<tenant>#refreshtoken" / "<user>#<client id>"       the refresh token as listed
The secret is 256 random bits, shown once, stored as its SHA-256 (auth/apitokens.py says
why an unsalted hash is enough for such a secret). Refresh tokens do not expire; deleting
one stops it from making new sessions (the sessions it made run out on their own).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass

from chalicelib.auth.apitokens import digest
from chalicelib.errors import NotFound
from chalicelib.store import tokens
from chalicelib.store.audit import Change

# What the audit log calls refresh tokens (store/audit.py).
KIND = "refreshtoken"

MAX_CLIENT_ID = 1024  # Wazo's bound


@dataclass(frozen=True)
class RefreshToken:
    """One refresh token as stored (never its secret)."""

    client_id: str
    user_uuid: str
    tenant_uuid: str
    created_at: int  # epoch seconds
    mobile: bool
    digest: str


def _lookup_key(token_digest: str) -> tokens.Key:
    return f"refreshtoken#{token_digest}", "token"


def _listed_key(tenant: str, user: str, client_id: str) -> tokens.Key:
    return f"{tenant}#refreshtoken", f"{user}#{client_id}"


def partitions_of(tenant: str) -> list[str]:
    """The tenant's partition of refresh token rows (a tenant's purge empties it)."""
    return [f"{tenant}#refreshtoken"]


def rows_behind(listed_doc: str | None) -> list[tokens.Key]:
    """The rows outside the tenant's partition that a listed refresh token points to."""
    found = json.loads(listed_doc or "{}").get("digest")
    return [_lookup_key(found)] if found else []


def _from_doc(doc: str | None) -> RefreshToken:
    return RefreshToken(**json.loads(doc or "{}"))


def issue(tenant: str, user: str, client_id: str, *, mobile: bool) -> str:
    """A new refresh token of the user for client_id (the previous one of that client stops
    working); its secret, shown once."""
    listed_key = _listed_key(tenant, user, client_id)
    previous = tokens.get(listed_key, consistent=True)
    secret = secrets.token_urlsafe(32)
    token = RefreshToken(client_id, user, tenant, int(time.time()), mobile, digest(secret))
    doc = json.dumps(asdict(token))
    stale = [_lookup_key(_from_doc(previous.doc).digest)] if previous is not None else []
    change = Change(tenant, KIND, f"{user}#{client_id}", "create", after=asdict(token))
    tokens.write_rows(
        [tokens.NewRow(_lookup_key(token.digest), tenant, doc), tokens.NewRow(listed_key, tenant, doc)],
        stale,
        change=change,
    )
    return secret


def find(secret: str, client_id: str) -> RefreshToken | None:
    """The refresh token of a secret, if it was issued to client_id and not deleted."""
    row = tokens.get(_lookup_key(digest(secret)), consistent=True)
    if row is None:
        return None
    token = _from_doc(row.doc)
    return token if secrets.compare_digest(token.client_id, client_id) else None


def listed(tenant: str, user: str | None = None) -> list[RefreshToken]:
    """The refresh tokens of a tenant, or of one of its users (one Query)."""
    return [_from_doc(r.doc) for r in tokens.query(f"{tenant}#refreshtoken", f"{user}#" if user else None)]


def revoke(tenant: str, user: str, client_id: str) -> None:
    """Delete the user's refresh token of client_id (NotFound when there is none)."""
    listed_key = _listed_key(tenant, user, client_id)
    row = tokens.get(listed_key, consistent=True)
    if row is None:
        raise NotFound(f"No refresh token for client {client_id}")
    token = _from_doc(row.doc)
    change = Change(tenant, KIND, f"{user}#{client_id}", "delete", before=asdict(token))
    tokens.write_rows([], [listed_key, _lookup_key(token.digest)], change=change)
