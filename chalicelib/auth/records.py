"""Small security records in the tokens table: revoked session ids and login throttling."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import TokenItem


def revoke_session(jti: str, expires_at: int) -> None:
    """Mark a JWT id revoked until it would have expired anyway."""
    TokenItem(f"revoked#{jti}", "jti", expires=datetime.fromtimestamp(expires_at + 60, tz=UTC)).save()


def is_revoked(jti: str) -> bool:
    try:
        TokenItem.get(f"revoked#{jti}", "jti")
    except DoesNotExist:
        return False
    return True


def login_failures(username: str) -> tuple[int, int]:
    """(failures in the current window, seconds until the window ends)."""
    try:
        item = TokenItem.get(f"login#{username.lower()}", "failures")
    except DoesNotExist:
        return 0, 0
    remaining = int(item.expires.timestamp() - time.time()) if item.expires else 0
    if remaining <= 0:
        return 0, 0
    return int(item.hits or 0), remaining


def record_login_failure(username: str, window: int) -> None:
    """Count one failed login for username (window seconds from the first failure)."""
    key = TokenItem(f"login#{username.lower()}", "failures")
    count, remaining = login_failures(username)
    expires = time.time() + (remaining if count else window)
    key.update(
        actions=[
            TokenItem.hits.set((TokenItem.hits | 0) + 1) if count else TokenItem.hits.set(1),
            TokenItem.expires.set(datetime.fromtimestamp(expires, tz=UTC)),
        ]
    )


def clear_login_failures(username: str) -> None:
    TokenItem(f"login#{username.lower()}", "failures").delete()
