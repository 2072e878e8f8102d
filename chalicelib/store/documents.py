"""How an entity's document is stored in its item: inline JSON, zlib-compressed bytes, or
a compressed blob in S3 (store/blobs.py) whose key the item keeps (doc_ref).

Where a document goes (its JSON as stored, in bytes): up to COMPRESS_ABOVE it stays in the
item as text; above, it is zlib-compressed (level 6) and stays in the item when the
compressed bytes fit in INLINE_COMPRESSED_MAX; anything larger goes to S3 (store/blobs.py)
and the item keeps only its key (doc_ref). DynamoDB items stop at 400 KB, but the real
bound is cost: a Query page (1 MB) and every listing read carry whole items, so ~100 KB
keeps ten or more objects per page and a consistent read of one object at 25 RCUs or
less, and the live item plus its history copy stay far inside a transaction's limits.
The request body limit (settings.max_body_bytes, or a route's own) bounds the size.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import zlib
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools import Logger
from pynamodb.exceptions import DoesNotExist

from chalicelib.errors import NotFound, StoreError, Unavailable
from chalicelib.store import blobs
from chalicelib.store.models import EntityItem

COMPRESS_ABOVE = 64 * 1024
INLINE_COMPRESSED_MAX = 100 * 1024
# Longer (percent-encoded) ids are hashed in blob keys: S3 keys stop at 1024 bytes.
MAX_KEY_ID = 256

logger = Logger(service="opsplane", child=True)

# The compressed document of an item whose doc goes to S3, kept on the item (not stored):
# set by encode, uploaded by Repository._write, and read back from there rather than from S3.
_PACKED = "_opsplane_packed"
# The blob an update replaces (deleted after the write when no history version keeps it).
_REPLACED = "_opsplane_replaced"


def packed(item: EntityItem) -> bytes | None:
    """The compressed document an item carries on its way to S3 (not stored), or None."""
    found: bytes | None = getattr(item, _PACKED, None)
    return found


def encode(item: EntityItem, doc: dict[str, Any]) -> None:
    """Set the item's document fields for doc (a document bound for S3 waits in packed())."""
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    if item.doc_ref is not None:
        setattr(item, _REPLACED, item.doc_ref)
    item.doc, item.doc_z, item.doc_ref = None, None, None
    setattr(item, _PACKED, None)
    if len(raw) <= COMPRESS_ABOVE:
        item.doc = raw.decode()
        return
    packed = zlib.compress(raw, 6)
    if len(packed) <= INLINE_COMPRESSED_MAX:
        item.doc_z = packed
    else:
        setattr(item, _PACKED, packed)  # _write puts it in S3 and sets doc_ref


def decode(item: EntityItem) -> dict[str, Any]:
    """The document an item holds, wherever it is stored."""
    data = packed(item)
    if data is None and item.doc_ref is not None:
        data = _read_blob(item)
        if data is None:  # the item was read again and its document is now inline
            return decode(item)
    if data is None:
        data = item.doc_z
    if data is not None:
        return json.loads(zlib.decompress(data).decode())
    return json.loads(item.doc or "{}")


def _read_blob(item: EntityItem) -> bytes | None:
    """The item's compressed document from S3. A blob that vanished means a concurrent
    write replaced (or a purge removed) this very version since it was read: read the
    item again, once, and use the current version (or answer NotFound)."""
    try:
        packed = blobs.get(str(item.doc_ref))
    except StoreError as exc:
        if not exc.context.get("missing"):
            raise
        try:
            item.refresh(consistent_read=True)
        except DoesNotExist as gone:
            raise NotFound(f"{str(item.kind).capitalize()} {item.entity_id} not found") from gone
        if item.doc_ref is None:
            return None
        packed = blobs.get(str(item.doc_ref))
    setattr(item, _PACKED, packed)
    return packed


def blob_key(tenant: str, kind: str, entity_id: str, revision: int) -> str:
    """A new S3 key for one write of an object's document: never reused, so concurrent
    writers of the same version never overwrite each other's blob."""
    segment = quote(entity_id, safe="@:._-")
    if len(segment) > MAX_KEY_ID:
        segment = "sha256-" + hashlib.sha256(entity_id.encode()).hexdigest()
    return f"{tenant}/{kind}/{segment}/{int(revision):012d}-{secrets.token_hex(8)}"


def discard(keys: set[str], why: str) -> None:
    """Delete blobs nothing refers to any more; a failure only leaves orphans (logged)."""
    if not keys:
        return
    try:
        blobs.delete(keys)
    except (StoreError, Unavailable) as exc:
        logger.warning("orphaned document blobs", extra={"why": why, "keys": sorted(keys), "error": exc.context})


def take_replaced(item: EntityItem) -> str | None:
    """The blob key an update replaced (once: the mark is cleared)."""
    replaced: str | None = getattr(item, _REPLACED, None)
    setattr(item, _REPLACED, None)
    return replaced
