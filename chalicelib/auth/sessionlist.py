"""The sessions a tenant's users hold: one row per session token issued by a login (Wazo's
POST /token, by password or by refresh token), so that sessions can be listed and ended.

Row in the tokens table: "<tenant>#session" / "<user>#<session uuid>", gone through TTL
when the token expires. Ending a session revokes its token (auth/records.py) and deletes
the row. A session token stays a self-contained JWT: authorizing a request never reads
this list.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from chalicelib.auth import records
from chalicelib.auth.sessions import SessionClaims
from chalicelib.errors import NotFound
from chalicelib.store import tokens
from chalicelib.store.audit import Change

# What the audit log calls sessions (store/audit.py).
KIND = "session"


@dataclass(frozen=True)
class Session:
    """A live session (the token's metadata, never the token)."""

    uuid: str
    user_uuid: str
    tenant_uuid: str
    mobile: bool
    user_agent: str
    created_at: int  # epoch seconds
    expires_at: int
    refresh_token_client_id: str | None = None


def _key(tenant: str, user: str, session_uuid: str) -> tokens.Key:
    return f"{tenant}#session", f"{user}#{session_uuid}"


def partitions_of(tenant: str) -> list[str]:
    """The tenant's partition of session rows (a tenant's purge empties it; the session
    tokens themselves stop working with the tenant: it answers 410)."""
    return [f"{tenant}#session"]


def record(claims: SessionClaims, *, mobile: bool, user_agent: str, client_id: str | None) -> Session:
    """List a session token just issued."""
    session = Session(
        claims.jti, claims.sub, claims.tenant, mobile, user_agent, claims.issued_at, claims.expires_at, client_id
    )
    expires = datetime.fromtimestamp(claims.expires_at + 60, tz=UTC)
    tokens.write_rows(
        [
            tokens.NewRow(
                _key(claims.tenant, claims.sub, claims.jti), claims.tenant, json.dumps(asdict(session)), expires
            )
        ],
        change=Change(claims.tenant, KIND, claims.jti, "create", after=asdict(session)),
    )
    return session


def listed(tenant: str, user: str | None = None) -> list[Session]:
    """The live sessions of a tenant, or of one of its users (one Query; TTL deletes late)."""
    now = time.time()
    rows = tokens.query(f"{tenant}#session", f"{user}#" if user else None)
    found = [Session(**json.loads(r.doc or "{}")) for r in rows]
    return [s for s in found if s.expires_at > now]


def find(tenant: str, session_uuid: str, user: str | None = None) -> Session:
    """A live session of the tenant (of user, when given); NotFound otherwise."""
    for session in listed(tenant, user):
        if session.uuid == session_uuid:
            return session
    raise NotFound(f"Session {session_uuid} not found")


def end(session: Session) -> None:
    """Revoke the session's token and take it off the list."""
    records.revoke_session(session.uuid, session.expires_at)
    change = Change(session.tenant_uuid, KIND, session.uuid, "delete", before=asdict(session))
    tokens.delete(_key(session.tenant_uuid, session.user_uuid, session.uuid), change=change)


def forget(claims: SessionClaims) -> None:
    """Take a revoked token's session off the list (DELETE /token did the revoking)."""
    change = Change(claims.tenant, KIND, claims.jti, "delete")
    tokens.delete(_key(claims.tenant, claims.sub, claims.jti), change=change)
