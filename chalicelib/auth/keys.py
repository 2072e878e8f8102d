"""Signing keys (ES256, each with a kid) and the cursor secret.

Locally they live in a JSON file in the state directory; deployed, in a Secrets Manager
secret. Rotation adds a key and makes it active; earlier keys stay published in the
JWKS (and accepted) so nobody is logged out.

cryptography and PyJWT are imported only where a key is made, parsed or published (about
70 ms of a cold start otherwise), and each key's PEM is parsed once per process.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.settings import Settings, get_settings
from chalicelib.store import secrets as stored_secrets

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str
    created: int

    def private_key(self) -> Any:
        """The parsed private key (parsed once per process)."""
        return _parsed(self.private_pem)[0]

    def public_key(self) -> Any:
        """The parsed public key that verifies this key's signatures (parsed once per process)."""
        return _parsed(self.private_pem)[1]

    def public_jwk(self) -> dict[str, Any]:
        from jwt.algorithms import ECAlgorithm

        jwk = json.loads(ECAlgorithm.to_jwk(self.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": ALGORITHM})
        return jwk


# PEM -> (private key, public key). Keyed by the PEM, not the kid: a key ring read anew
# (rotation, tests) can never meet a stale parse. A handful of keys per process at most.
_parsed_keys: dict[str, tuple[Any, Any]] = {}


def _parsed(private_pem: str) -> tuple[Any, Any]:
    found = _parsed_keys.get(private_pem)
    if found is None:
        from cryptography.hazmat.primitives import serialization

        private = serialization.load_pem_private_key(private_pem.encode(), password=None)
        found = _parsed_keys[private_pem] = (private, private.public_key())
    return found


def new_key() -> SigningKey:
    """A fresh P-256 key with a random kid."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return SigningKey(kid=secrets.token_hex(8), private_pem=pem, created=int(time.time()))


@dataclass
class KeyRing:
    """All signing keys (newest active) and the cursor secret."""

    keys: list[SigningKey]
    cursor_secret: bytes

    @property
    def active(self) -> SigningKey:
        return self.keys[-1]

    def by_kid(self, kid: str) -> SigningKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.keys]}

    def to_json(self) -> str:
        return json.dumps(
            {
                "keys": [k.__dict__ for k in self.keys],
                "cursor_secret": self.cursor_secret.hex(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        data = json.loads(text)
        return cls(
            keys=[SigningKey(**k) for k in data["keys"]],
            cursor_secret=bytes.fromhex(data["cursor_secret"]),
        )


_lock = threading.Lock()
_cache: dict[str, KeyRing] = {}


def _keys_file(settings: Settings) -> str:
    return settings.signing_keys_file or os.path.join(settings.state_dir, "signing-keys.json")


def _load_secret(secret_id: str) -> KeyRing:
    return KeyRing.from_json(stored_secrets.read(secret_id))


def keyring(settings: Settings | None = None) -> KeyRing:
    """The key ring, loaded once per process (created on first local start)."""
    settings = settings or get_settings()
    source = settings.signing_keys_secret or _keys_file(settings)
    ring = _cache.get(source)
    if ring is not None:
        return ring
    with _lock:
        if source in _cache:
            return _cache[source]
        if settings.signing_keys_secret:
            ring = _load_secret(settings.signing_keys_secret)
        else:
            ring = _load_or_create_file(source)
        _cache[source] = ring
        return ring


def cursor_secret() -> bytes:
    """The key that signs listing cursors (repositories call this only when they make or
    read a cursor)."""
    return keyring().cursor_secret


def _load_or_create_file(path: str) -> KeyRing:
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return KeyRing.from_json(fh.read())
    ring = KeyRing(keys=[new_key()], cursor_secret=secrets.token_bytes(32))
    _write_file(path, ring)
    return ring


def _write_file(path: str, ring: KeyRing) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(ring.to_json())
    os.replace(tmp, path)


def rotate(settings: Settings | None = None) -> SigningKey:
    """Add a new active key to the local key file (deployed: rotate the secret)."""
    settings = settings or get_settings()
    path = _keys_file(settings)
    ring = keyring(settings)
    key = new_key()
    ring = KeyRing(keys=[*ring.keys, key], cursor_secret=ring.cursor_secret)
    _write_file(path, ring)
    _cache[path] = ring
    return key


def forget_cached_keys() -> None:
    """Drop the in-process cache (tests point settings at new files)."""
    _cache.clear()
