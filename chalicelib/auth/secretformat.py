"""The shape of the secrets opsplane issues, so that a leaked one can be found.

A secret is `<prefix>_<32 random letters and digits>_<checksum>`, as Grafana's `glsa_`
service-account tokens are: the prefix names what it is (a secret scanner's rule matches it
without false positives), the checksum (CRC32 of everything before it, 8 lowercase hex
digits) lets a scanner, or opsplane itself, tell a real secret from a look-alike without
asking the store. 32 characters of 62 carry 190 random bits.

- `opsat_`: API tokens (Wavefront's API tokens, Grafana's service-account tokens and API keys)
- `opsoc_`: OAuth client secrets

Secrets issued before this format (bare UUIDs, url-safe base64) keep working: they are
looked up as before. A secret that carries one of these prefixes but a wrong checksum is
refused without a store read.
"""

from __future__ import annotations

import re
import secrets
import string
import zlib

API_TOKEN = "opsat"
OAUTH_CLIENT_SECRET = "opsoc"  # noqa: S105 (a prefix, not a secret)
PREFIXES = (API_TOKEN, OAUTH_CLIENT_SECRET)
RANDOM_LENGTH = 32
_ALPHABET = string.ascii_letters + string.digits
_SHAPE = re.compile(rf"({'|'.join(PREFIXES)})_[A-Za-z0-9]{{{RANDOM_LENGTH}}}_([0-9a-f]{{8}})\Z")


def checksum(body: str) -> str:
    """CRC32 of body as 8 lowercase hex digits."""
    return f"{zlib.crc32(body.encode()):08x}"


def issue(prefix: str) -> str:
    """A new secret of the given kind (one of PREFIXES)."""
    if prefix not in PREFIXES:
        raise ValueError(f"Unknown secret prefix {prefix!r}")
    body = f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(RANDOM_LENGTH))}"
    return f"{body}_{checksum(body)}"


def claims_format(secret: str) -> bool:
    """Does the secret start like one of ours (prefix and underscore)?"""
    return secret.startswith(tuple(f"{p}_" for p in PREFIXES))


def valid(secret: str) -> bool:
    """Is the secret well formed: a known prefix, 32 random characters and a matching checksum?"""
    match = _SHAPE.match(secret)
    return match is not None and checksum(secret[: match.start(2) - 1]) == match.group(2)


def plausible(secret: str) -> bool:
    """May the secret be looked up? Old-format secrets yes; new-format ones only with a
    valid checksum (a typo or a forgery costs no store read)."""
    return valid(secret) if claims_format(secret) else True
