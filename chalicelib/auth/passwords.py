"""Password hashing with Argon2id (memory-hard).

argon2 is imported on first use: only Basic logins and password changes hash, and a
function that serves neither never loads it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    # 19 MiB, 2 passes: OWASP's minimum for Argon2id; a Lambda verifies in ~50 ms.
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    """Argon2id hash with a fresh salt."""
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when password matches; never raises for a bad hash."""
    if not stored_hash:
        # Spend the same time as a real check so unknown users are not distinguishable.
        _hasher().hash(password)
        return False
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    hasher = _hasher()
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def password_problem(password: object) -> str | None:
    """Why a new password is unacceptable, or None."""
    if not isinstance(password, str):
        return "password must be a string"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "password too long"
    return None
