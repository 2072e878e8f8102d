"""Small security records in the tokens table: revoked session ids and login throttling
(rows read and written by store/tokens.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from chalicelib.auth.cache import invalidate
from chalicelib.store import tokens


def revocation_key(jti: str) -> tokens.Key:
    """The row that marks a JWT id revoked (authorize() reads it in its batch)."""
    return f"revoked#{jti}", "jti"


def revoke_session(jti: str, expires_at: int) -> None:
    """Mark a JWT id revoked until it would have expired anyway."""
    tokens.put(revocation_key(jti), expires=datetime.fromtimestamp(expires_at + 60, tz=UTC))
    invalidate()


def is_revoked(jti: str) -> bool:
    return tokens.get(revocation_key(jti)) is not None


def _failures_key(username: str) -> tuple[str, str]:
    return f"login#{username.lower()}", "failures"


def login_failures(username: str) -> tuple[int, int]:
    """(failures in the current window, seconds until the window ends)."""
    row = tokens.get(_failures_key(username))
    if row is None:
        return 0, 0
    remaining = int(row.expires.timestamp() - time.time()) if row.expires else 0
    if remaining <= 0:
        return 0, 0
    return int(row.hits or 0), remaining


def record_login_failure(username: str, window: int) -> None:
    """Count one failed login for username (window seconds from the first failure)."""
    count, remaining = login_failures(username)
    tokens.count(_failures_key(username), restart=not count, expires=time.time() + (remaining if count else window))


def clear_login_failures(username: str) -> None:
    tokens.delete(_failures_key(username))
