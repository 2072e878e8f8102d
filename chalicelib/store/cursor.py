"""Opaque paging cursors: signed (HMAC-SHA256) and bound to tenant + query.

A client can carry a cursor back, never edit it: any change, or reuse for another
tenant or another query, is refused as Invalid (400).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.errors import Invalid


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """The bytes of canonical unpadded base64url only: a last character that differs in the
    bits the encoding leaves unused decodes to the same bytes, so it is refused (an edited
    cursor never passes as the original)."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def query_fingerprint(query: Any) -> str:
    """A short stable digest of whatever identifies the query (kind, filters, sort)."""
    raw = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_cursor(secret: bytes, tenant: str, query: Any, position: dict[str, Any]) -> str:
    """Sign position (a DynamoDB LastEvaluatedKey or an offset) for this tenant and query."""
    payload = json.dumps(
        {"t": tenant, "q": query_fingerprint(query), "p": position},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    sig = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(sig)}"


def decode_cursor(secret: bytes, tenant: str, query: Any, cursor: str) -> dict[str, Any]:
    """The position a cursor carries, after checking signature, tenant and query."""
    try:
        body, sig = cursor.split(".", 1)
        payload = _unb64(body)
        given = _unb64(sig)
    except (ValueError, TypeError) as exc:
        raise Invalid("Malformed cursor") from exc
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(given, expected):
        raise Invalid("Invalid cursor")
    data = json.loads(payload)
    if data.get("t") != tenant or data.get("q") != query_fingerprint(query):
        raise Invalid("Cursor does not belong to this query")
    position = data.get("p")
    if not isinstance(position, dict):
        raise Invalid("Invalid cursor")
    return position
