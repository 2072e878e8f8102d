"""Small security records in the tokens table: revoked session ids and the login throttle
(rows read and written by store/tokens.py).

The throttle counts password (and OAuth client secret) checks per account and per client
address, in windows: a check runs only after taking a slot by a conditional write, so
concurrent guesses never exceed the limit (docs/auth.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.auth.cache import invalidate
from chalicelib.errors import Throttled
from chalicelib.settings import get_settings
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


# Longer names reach no account (accounts.find_by_username): they share a key.
_MAX_NAME = 256


def account_attempts(canonical_name: str) -> tokens.Key:
    """The login throttle's row of an account, by its canonical username."""
    return f"login#{canonical_name[:_MAX_NAME]}", "failures"


def client_attempts(client_id: str) -> tokens.Key:
    """The throttle's row of an OAuth client id (its secret checks)."""
    return f"login#oauthclient#{client_id.lower()[:_MAX_NAME]}", "failures"


def address_attempts(source: str) -> tokens.Key:
    """The throttle's row of a client address (failures across every account)."""
    return f"login-from#{source[:_MAX_NAME]}", "failures"


def take_attempt(key: tokens.Key, *, limit: int, window: int) -> int:
    """Take one of limit password checks of key's window: 0 when taken, else the seconds
    until the window ends. A failed check keeps its slot for the window."""
    return tokens.take_slot(key, limit=limit, window=window)


def give_back(*keys: tokens.Key) -> None:
    """Give back the slots of a check that succeeded (or never ran): a success never hands
    a guesser fresh attempts, and its own slot does not count as a failure."""
    for key in keys:
        tokens.release_slot(key)


def take_attempts(key: tokens.Key, *, source: str | None, name: str) -> list[tokens.Key]:
    """Slots for one secret check: the client address's (when known), then key's. Throttled
    (having given back what it took) when either window is full; else the keys to give back
    if the check succeeds."""
    settings = get_settings()
    window = settings.login_throttle_seconds
    taken: list[tokens.Key] = []
    if source:
        address = address_attempts(source)
        wait = take_attempt(address, limit=settings.login_failures_per_address, window=window)
        if wait:
            raise Throttled(f"Too many failed logins from {source}; try again in {wait} seconds", retry_after=wait)
        taken.append(address)
    wait = take_attempt(key, limit=settings.login_failures_before_throttle, window=window)
    if wait:
        give_back(*taken)
        raise Throttled(f"Too many failed logins for {name}; try again in {wait} seconds", retry_after=wait)
    taken.append(key)
    return taken
