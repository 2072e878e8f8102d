"""Short-lived tokens: JWTs signed with the active key, verified by kid.

PyJWT (and cryptography behind it) is imported by the functions that sign or verify, not
with this module: a warm request whose principal is cached never checks a signature.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.keys import ALGORITHM, keyring
from chalicelib.errors import TokenExpired, Unauthenticated

ISSUER = "opsplane"


@dataclass(frozen=True)
class SessionClaims:
    jti: str
    sub: str
    tenant: str
    kind: str
    method: str
    issued_at: int
    expires_at: int
    name: str


def issue(*, sub: str, tenant: str, name: str, kind: str, method: str, ttl: int) -> tuple[str, SessionClaims]:
    """A signed JWT for the account, valid ttl seconds."""
    now = int(time.time())
    claims = SessionClaims(
        jti=str(uuid.uuid4()),
        sub=sub,
        tenant=tenant,
        kind=kind,
        method=method,
        issued_at=now,
        expires_at=now + ttl,
        name=name,
    )
    import jwt

    key = keyring().active
    token = jwt.encode(
        {
            "iss": ISSUER,
            "jti": claims.jti,
            "sub": sub,
            "tid": tenant,
            "knd": kind,
            "mth": method,
            "nam": name,
            "iat": now,
            "exp": claims.expires_at,
        },
        key.private_key(),
        algorithm=ALGORITHM,
        headers={"kid": key.kid},
    )
    return token, claims


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def verify(token: str, *, leeway: int = 0) -> SessionClaims:
    """Claims of a valid token; Unauthenticated (TokenExpired when expired) otherwise."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated("Invalid token") from exc
    key = keyring().by_kid(str(header.get("kid", "")))
    if key is None or header.get("alg") != ALGORITHM:
        raise Unauthenticated("Invalid token")
    try:
        data: dict[str, Any] = jwt.decode(
            token,
            key.public_key(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            leeway=leeway,
            options={"require": ["exp", "iat", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("The token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("Invalid token") from exc
    return SessionClaims(
        jti=data["jti"],
        sub=data["sub"],
        tenant=data["tid"],
        kind=data.get("knd", "user"),
        method=data.get("mth", "jwt"),
        issued_at=int(data["iat"]),
        expires_at=int(data["exp"]),
        name=data.get("nam", ""),
    )
