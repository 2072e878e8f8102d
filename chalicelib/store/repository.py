"""The tenant-scoped repository every category uses.

Versioned entities with conditional writes (a stale write raises VersionMismatch, it
never silently wins), history versions, trash (soft delete / undelete / purge), tags and
Query-only listing with signed cursors. botocore and PynamoDB errors stop here and leave
as domain errors.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    PutError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict, Invalid, NotFound, VersionMismatch
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.models import EntityItem, transaction_connection

# Documents above this size are stored zlib-compressed (DynamoDB items stop at 400 KB).
COMPRESS_ABOVE = 64 * 1024
MAX_STORED_DOC = 350 * 1024
MAX_ID_LENGTH = 512


def now_ms() -> int:
    """Epoch milliseconds, the timestamp unit of every wire dialect here."""
    return int(time.time() * 1000)


@dataclass
class Entity:
    """One stored object as categories see it."""

    id: str
    kind: str
    tenant: str
    doc: dict[str, Any]
    version: int = 1
    tags: list[str] = field(default_factory=list)
    deleted: bool = False
    created: int = 0
    updated: int = 0
    created_by: str | None = None
    updated_by: str | None = None
    alt_key: str | None = None


@dataclass
class Page:
    """One page of a listing; cursor is None on the last page."""

    items: list[Entity]
    cursor: str | None = None
    offset: int = 0
    limit: int = 0
    total: int = 0

    @property
    def more(self) -> bool:
        return self.cursor is not None or self.offset + len(self.items) < self.total


def _encode_doc(item: EntityItem, doc: dict[str, Any]) -> None:
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    if len(raw.encode()) > COMPRESS_ABOVE:
        packed = zlib.compress(raw.encode(), 6)
        if len(packed) > MAX_STORED_DOC:
            raise Invalid("Document too large to store")
        item.doc, item.doc_z = None, packed
    else:
        item.doc, item.doc_z = raw, None


def _decode_doc(item: EntityItem) -> dict[str, Any]:
    if item.doc_z is not None:
        return json.loads(zlib.decompress(item.doc_z).decode())
    return json.loads(item.doc or "{}")


def _to_entity(item: EntityItem) -> Entity:
    return Entity(
        id=item.entity_id,
        kind=item.kind,
        tenant=item.tenant,
        doc=_decode_doc(item),
        version=int(item.revision or 1),
        tags=[str(t) for t in (item.tags or [])],
        deleted=bool(item.deleted),
        created=int(item.created or 0),
        updated=int(item.updated or 0),
        created_by=item.created_by,
        updated_by=item.updated_by,
        alt_key=item.alt_pk,
    )


def check_id(entity_id: str) -> str:
    """Refuse ids that cannot be stored or addressed."""
    if not isinstance(entity_id, str) or not entity_id or len(entity_id) > MAX_ID_LENGTH:
        raise Invalid("Invalid id")
    if any(ord(c) < 32 for c in entity_id):
        raise Invalid("Invalid id: control characters")
    return entity_id


def _is_conditional_failure(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    if cause == "ConditionalCheckFailedException":
        return True
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


class Repository:
    """Objects of one kind inside one tenant. The tenant comes only from the
    authorized request context, so no call can reach another tenant's partition."""

    def __init__(
        self,
        tenant: str,
        kind: str,
        *,
        cursor_secret: bytes,
        history: bool = False,
        alt_prefix: str | None = None,
    ) -> None:
        if not tenant or "#" in tenant:
            raise Invalid("Invalid tenant")
        self.tenant = tenant
        self.kind = kind
        self.history_enabled = history
        self._secret = cursor_secret
        self._pk = f"{tenant}#{kind}"
        self._alt_prefix = alt_prefix

    # ---- reading -------------------------------------------------------------

    def _load(self, entity_id: str) -> EntityItem:
        try:
            return EntityItem.get(self._pk, check_id(entity_id), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound(f"{self.kind.capitalize()} {entity_id} not found") from exc

    def get(self, entity_id: str, *, include_deleted: bool = False) -> Entity:
        """The live object (or a trashed one when include_deleted)."""
        entity = _to_entity(self._load(entity_id))
        if entity.deleted and not include_deleted:
            raise NotFound(f"{self.kind.capitalize()} {entity_id} not found")
        return entity

    def find(self, entity_id: str) -> Entity | None:
        """The live object, or None."""
        try:
            return self.get(entity_id)
        except NotFound:
            return None

    def get_many(self, ids: list[str]) -> list[Entity]:
        """Live objects among ids, in the order given (absent ones are skipped)."""
        keys = [(self._pk, check_id(i)) for i in dict.fromkeys(ids)]
        found = {item.entity_id: _to_entity(item) for item in EntityItem.batch_get(keys)}
        return [found[i] for i in dict.fromkeys(ids) if i in found and not found[i].deleted]

    def iterate(self, *, deleted: bool = False) -> Iterator[Entity]:
        """Every object of this kind in the tenant (Query, never a table scan)."""
        cond = EntityItem.deleted == deleted
        for item in EntityItem.query(self._pk, filter_condition=cond):
            yield _to_entity(item)

    def count(self, *, deleted: bool = False) -> int:
        """How many objects of this kind the tenant has."""
        return int(EntityItem.count(self._pk, filter_condition=EntityItem.deleted == deleted))

    def page(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
        deleted: bool = False,
        query: Any = None,
    ) -> Page:
        """One page by offset (Wavefront) or by signed cursor (when cursor is given)."""
        if limit < 1 or limit > 1000:
            raise Invalid("limit must be between 1 and 1000")
        if offset < 0:
            raise Invalid("offset must not be negative")
        fingerprint = {"kind": self.kind, "deleted": deleted, "q": query}
        start_key = None
        if cursor:
            start_key = decode_cursor(self._secret, self.tenant, fingerprint, cursor).get("k")
        cond = EntityItem.deleted == deleted
        if cursor is not None or offset == 0:
            results = EntityItem.query(
                self._pk,
                filter_condition=cond,
                last_evaluated_key=start_key,
                limit=None,
                page_size=max(limit * 2, 25),
            )
            items: list[Entity] = []
            last_key: dict[str, Any] | None = None
            for item in results:
                items.append(_to_entity(item))
                if len(items) == limit:
                    last_key = {"pk": {"S": item.pk}, "sk": {"S": item.sk}}
                    break
            more = last_key is not None and self._has_after(last_key, deleted)
            next_cursor = (
                encode_cursor(self._secret, self.tenant, fingerprint, {"k": last_key}) if more and last_key else None
            )
            total = self.count(deleted=deleted) if not cursor else len(items) + (1 if more else 0)
            return Page(items=items, cursor=next_cursor, offset=offset, limit=limit, total=total)
        everything = list(self.iterate(deleted=deleted))
        return Page(
            items=everything[offset : offset + limit],
            offset=offset,
            limit=limit,
            total=len(everything),
        )

    def _has_after(self, last_key: dict[str, Any], deleted: bool) -> bool:
        rest = EntityItem.query(
            self._pk,
            filter_condition=EntityItem.deleted == deleted,
            last_evaluated_key=last_key,
            page_size=25,
        )
        return next(iter(rest), None) is not None

    def by_alt(self, alt_key: str) -> list[Entity]:
        """Objects indexed under a secondary key (GSI; eventually consistent when deployed)."""
        pk = f"{self.tenant}#{self.kind}#alt"
        return [_to_entity(i) for i in EntityItem.by_alt.query(pk, EntityItem.alt_sk.startswith(alt_key))]

    # ---- writing -------------------------------------------------------------

    def _new_item(self, entity_id: str, doc: dict[str, Any], by: str | None) -> EntityItem:
        ts = now_ms()
        item = EntityItem(
            self._pk,
            check_id(entity_id),
            kind=self.kind,
            tenant=self.tenant,
            entity_id=entity_id,
            created=ts,
            updated=ts,
            created_by=by,
            updated_by=by,
            deleted=False,
            revision=1,
        )
        _encode_doc(item, doc)
        item.name = str(doc.get("name") or doc.get("title") or "")[:512] or None
        return item

    def _history_item(self, item: EntityItem) -> EntityItem:
        hist = EntityItem(
            f"{self._pk}#h#{item.entity_id}",
            f"{int(item.revision):012d}",
            kind=self.kind,
            tenant=self.tenant,
            entity_id=item.entity_id,
            doc=item.doc,
            doc_z=item.doc_z,
            name=item.name,
            tags=item.tags,
            created=item.created,
            updated=item.updated,
            created_by=item.created_by,
            updated_by=item.updated_by,
            revision=item.revision,
            deleted=item.deleted,
        )
        return hist

    def _write(self, item: EntityItem, *, new: bool, extra: Callable[[TransactWrite], None] | None = None) -> None:
        """Save item conditionally (new: must not exist; else: version must match),
        together with its history version and any extra transactional writes."""
        try:
            if self.history_enabled or extra is not None:
                with TransactWrite(connection=transaction_connection()) as tx:
                    if new:
                        tx.save(item, condition=EntityItem.pk.does_not_exist())
                    else:
                        tx.save(item)
                    if self.history_enabled:
                        tx.save(self._history_item(item), condition=EntityItem.pk.does_not_exist())
                    if extra is not None:
                        extra(tx)
            elif new:
                item.save(condition=EntityItem.pk.does_not_exist())
            else:
                item.save()
        except (PutError, TransactWriteError, UpdateError) as exc:
            if _is_conditional_failure(exc):
                if new:
                    raise Conflict(f"{self.kind.capitalize()} {item.entity_id} already exists") from exc
                raise VersionMismatch(f"{self.kind.capitalize()} {item.entity_id} was changed by someone else") from exc
            raise

    def create(
        self,
        entity_id: str,
        doc: dict[str, Any],
        *,
        by: str | None = None,
        tags: list[str] | None = None,
        alt_key: str | None = None,
        extra: Callable[[TransactWrite], None] | None = None,
    ) -> Entity:
        """Store a new object; an existing id is a Conflict."""
        item = self._new_item(entity_id, doc, by)
        item.tags = sorted(set(tags or [])) or None  # type: ignore[assignment,arg-type]
        if alt_key is not None:
            item.alt_pk = f"{self.tenant}#{self.kind}#alt"
            item.alt_sk = alt_key
        self._write(item, new=True, extra=extra)
        return _to_entity(item)

    def update(
        self,
        entity_id: str,
        change: Callable[[Entity], None],
        *,
        by: str | None = None,
        expected_version: int | None = None,
        include_deleted: bool = False,
        retries: int = 0,
        extra: Callable[[TransactWrite], None] | None = None,
    ) -> Entity:
        """Read, apply change (which edits entity.doc / tags / deleted in place), write
        conditionally. expected_version (the caller's) must equal the stored one; with
        retries > 0 a lost race is re-read and re-applied (for commutative edits like tags)."""
        attempt = 0
        while True:
            item = self._load(entity_id)
            entity = _to_entity(item)
            if entity.deleted and not include_deleted:
                raise NotFound(f"{self.kind.capitalize()} {entity_id} not found")
            if expected_version is not None and expected_version != entity.version:
                raise VersionMismatch(
                    f"{self.kind.capitalize()} {entity_id} is at version {entity.version}, not {expected_version}"
                )
            change(entity)
            _encode_doc(item, entity.doc)
            item.name = str(entity.doc.get("name") or entity.doc.get("title") or "")[:512] or None
            item.tags = sorted(set(entity.tags)) or None  # type: ignore[assignment,arg-type]
            item.deleted = entity.deleted
            item.updated = now_ms()
            item.updated_by = by
            item.revision = int(item.revision or 1) + 1
            if entity.alt_key is not None:
                item.alt_pk = f"{self.tenant}#{self.kind}#alt"
                item.alt_sk = entity.alt_key
            try:
                self._write(item, new=False, extra=extra)
                return _to_entity(item)
            except VersionMismatch:
                attempt += 1
                if attempt > retries:
                    raise

    def soft_delete(self, entity_id: str, *, by: str | None = None) -> Entity:
        """Move to trash."""

        def trash(e: Entity) -> None:
            e.deleted = True

        return self.update(entity_id, trash, by=by, retries=3)

    def undelete(self, entity_id: str, *, by: str | None = None) -> Entity:
        """Bring back from trash."""
        entity = self.get(entity_id, include_deleted=True)
        if not entity.deleted:
            raise Invalid(f"{self.kind.capitalize()} {entity_id} is not in the trash")

        def restore(e: Entity) -> None:
            e.deleted = False

        return self.update(entity_id, restore, by=by, include_deleted=True, retries=3)

    def purge(self, entity_id: str, *, extra: Callable[[TransactWrite], None] | None = None) -> Entity:
        """Delete permanently, with its history."""
        item = self._load(entity_id)
        entity = _to_entity(item)
        try:
            if extra is not None:
                with TransactWrite(connection=transaction_connection()) as tx:
                    tx.delete(item)
                    extra(tx)
            else:
                item.delete()
        except (DeleteError, TransactWriteError) as exc:
            if _is_conditional_failure(exc):
                raise VersionMismatch(f"{self.kind.capitalize()} {entity_id} changed meanwhile") from exc
            raise
        if self.history_enabled:
            with EntityItem.batch_write() as batch:
                for hist in EntityItem.query(f"{self._pk}#h#{entity_id}"):
                    batch.delete(hist)
        return entity

    # ---- history -------------------------------------------------------------

    def history(self, entity_id: str, *, offset: int = 0, limit: int = 100) -> tuple[list[Entity], int]:
        """Versions, newest first, and how many there are."""
        self.get(entity_id, include_deleted=True)
        items = [_to_entity(i) for i in EntityItem.query(f"{self._pk}#h#{entity_id}", scan_index_forward=False)]
        return items[offset : offset + limit], len(items)

    def version(self, entity_id: str, version: int) -> Entity:
        """One historical version."""
        try:
            return _to_entity(EntityItem.get(f"{self._pk}#h#{check_id(entity_id)}", f"{int(version):012d}"))
        except DoesNotExist as exc:
            raise NotFound(f"Version {version} of {self.kind} {entity_id} not found") from exc


def add_tags(entity: Entity, tags: list[str]) -> None:
    """Add tags (idempotent)."""
    entity.tags = sorted(set(entity.tags) | {check_tag(t) for t in tags})


def remove_tags(entity: Entity, tags: list[str]) -> None:
    """Remove tags (absent ones are ignored)."""
    entity.tags = sorted(set(entity.tags) - set(tags))


def check_tag(tag: str) -> str:
    """Tags are short printable strings."""
    if not isinstance(tag, str) or not tag.strip() or len(tag) > 256:
        raise Invalid("Invalid tag")
    if any(ord(c) < 32 for c in tag):
        raise Invalid("Invalid tag: control characters")
    return tag
