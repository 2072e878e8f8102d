"""The tenant-scoped repository every category uses.

Versioned entities with conditional writes (a stale write raises VersionMismatch, it
never silently wins), history versions, trash (soft delete / undelete / purge), tags and
Query-only listing with signed cursors. botocore and PynamoDB errors stop here and leave
as domain errors (throttling and outages as Unavailable: store/failures.py).

What each operation costs (DynamoDB calls; a transaction is one):
- get: 1 GetItem. create: 1 TransactWriteItems (the item, its history version, its head
  row, its timeline copy, the kind's counter row, a unique-name row, the caller's extra
  writes and the audit record: store/audit.py). Every write in a tenant carries its audit
  record, so is a transaction; only installation-wide partitions (`_global`) may take a
  single PutItem.
- update: 1 GetItem + 1 write. The read is needed: the change is a function of the stored
  object (server-managed document keys, the entity ACL the caller is checked against, the
  name whose reservation moves, the trash flag the counter follows).
- page: 1 Query when the page fits in 1 MB. The kind's counter row (`<tenant>#<kind>` /
  COUNTER, sorted before every id) holds how many objects are live and in the trash; it is
  written in the transaction of every create, trash, undelete and purge, and read by the
  same Query as the first page. A page at offset 0 (or after a cursor) reads the page plus
  one item (plus trashed objects in between, which the filter skips); a page at offset n
  reads n + limit + 1 items, the least an offset can cost without an index.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
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

from chalicelib.errors import Conflict, Invalid, NameExists, NotFound, VersionMismatch
from chalicelib.settings import get_settings
from chalicelib.store import audit, blobs, documents, partitions, timeline
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.failures import guard_methods, guarded
from chalicelib.store.models import EntityItem, copy_actions, transaction_connection

MAX_ID_LENGTH = 512

# Writes a caller adds to the transaction of a create, update or purge (store/names.py
# makes the ones callers outside store/ need).
Writes = Callable[[TransactWrite], None]

# The sort key of a kind's counter row: a control character first, so it sorts before every
# id (check_id refuses them) and the first Query of a listing reads it with the page.
COUNTER = "\x01count"
# A transaction cancelled only because another one held one of its items (every create of
# a kind writes the kind's counter row) runs again, this many times at most.
CONFLICT_RETRIES = 5
# How many timeline copies a filtered window reads per Query call (Repository.window).
FILTERED_BATCH = 100


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
    note: str | None = None
    # What this version changed, in words, when the repository describes its writes.
    changes: list[str] | None = None
    # True when doc holds only the repository's head keys (a listing that skipped documents).
    partial: bool = False


# What a write changed, in words, from the entity before it (None: a create) and after it.
Describe = Callable[["Entity | None", Entity], list[str]]


@dataclass(frozen=True)
class UniqueName:
    """A name no two live objects of a kind may share: key(entity) is the reservation key
    (None when the object holds no name, e.g. while in the trash); message is the Conflict's."""

    key: Callable[[Entity], str | None]
    message: str
    error: type[Conflict] = NameExists


@dataclass
class Page:
    """One page of a listing; cursor is None on the last page."""

    items: list[Entity]
    cursor: str | None = None
    offset: int = 0
    limit: int = 0
    total: int = 0
    # Whether items follow the page, when the listing read one more to know.
    follows: bool | None = None

    @property
    def more(self) -> bool:
        if self.follows is not None:
            return self.follows
        return self.cursor is not None or self.offset + len(self.items) < self.total


def _to_entity(item: EntityItem) -> Entity:
    return Entity(
        id=item.entity_id,
        kind=item.kind,
        tenant=item.tenant,
        doc=documents.decode(item),
        version=int(item.revision or 1),
        tags=[str(t) for t in (item.tags or [])],
        deleted=bool(item.deleted),
        created=int(item.created or 0),
        updated=int(item.updated or 0),
        created_by=item.created_by,
        updated_by=item.updated_by,
        note=item.note,
        changes=json.loads(item.changes) if item.changes else None,
    )


# What a head row copies from its item (everything but the document).
HEAD_ROW_ATTRIBUTES = (
    "kind",
    "tenant",
    "entity_id",
    "name",
    "tags",
    "deleted",
    "created",
    "updated",
    "created_by",
    "updated_by",
    "revision",
    "note",
    "head",
)
# What a listing of history versions reads (heads=True): the same, without the document.
SUMMARY_ATTRIBUTES = ("pk", "sk", "version", *HEAD_ROW_ATTRIBUTES, "changes")
# What a timeline copy (store/timeline.py) carries: everything but the keys and the version.
COPY_ATTRIBUTES = (*HEAD_ROW_ATTRIBUTES, "doc", "doc_z", "doc_ref", "changes")


def _to_summary(item: EntityItem) -> Entity:
    """A partial entity from a projected item: doc is the head keys only."""
    item.doc, item.doc_z = item.head or "{}", None
    entity = _to_entity(item)
    entity.partial = True
    return entity


def _set_head(item: EntityItem, doc: dict[str, Any], keys: tuple[str, ...]) -> None:
    if keys:
        item.head = json.dumps({k: doc[k] for k in keys if k in doc}, separators=(",", ":"), ensure_ascii=False)


def check_id(entity_id: str) -> str:
    """Refuse ids that cannot be stored or addressed."""
    if not isinstance(entity_id, str) or not entity_id or len(entity_id) > MAX_ID_LENGTH:
        raise Invalid("Invalid id")
    if any(ord(c) < 32 for c in entity_id):
        raise Invalid("Invalid id: control characters")
    return entity_id


def _only_conflicts(exc: Exception) -> bool:
    """Was a transaction cancelled only because another transaction held one of its items?"""
    codes = {getattr(r, "code", None) for r in getattr(exc, "cancellation_reasons", None) or [] if r is not None}
    codes -= {None, "None"}
    return codes == {"TransactionConflict"}


def _transact(writes: Writes) -> None:
    """Run writes as one transaction, again when only a concurrent transaction cancelled it
    (a kind's counter row is shared by all its creates; DynamoDB cancels, it never queues)."""
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                writes(tx)
            return
        except TransactWriteError as exc:
            if attempt == CONFLICT_RETRIES or not _only_conflicts(exc):
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))


def _is_conditional_failure(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    if cause == "ConditionalCheckFailedException":
        return True
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


@guard_methods
class Repository:
    """Objects of one kind inside one tenant. The tenant comes only from the
    authorized request context, so no call can reach another tenant's partition.

    scope: the kind's objects of one owner inside the tenant (a principal's saved
    searches), in a partition of their own, so no call reaches another owner's."""

    def __init__(
        self,
        tenant: str,
        kind: str,
        *,
        cursor_secret: bytes | Callable[[], bytes] = b"",
        history: bool = False,
        unique: UniqueName | None = None,
        head_keys: tuple[str, ...] = (),
        describe: Describe | None = None,
        timeline: Callable[[dict[str, Any]], int] | None = None,
        scope: str | None = None,
    ) -> None:
        if not tenant or "#" in tenant:
            raise Invalid("Invalid tenant")
        if scope is not None and (not scope or "#" in scope):
            raise Invalid("Invalid scope")
        self.tenant = tenant
        self.kind = kind
        self.history_enabled = history
        # The cursor key, or how to read it: read only when a cursor is made or decoded.
        self._cursor_secret = cursor_secret
        self._pk = f"{tenant}#{kind}" if scope is None else f"{tenant}#{kind}@{scope}"
        self._unique = unique
        self._head_keys = head_keys
        self._describe = describe
        # The time each live object is ordered by in the kind's timeline (store/timeline.py).
        self._timeline = timeline

    def _secret(self) -> bytes:
        secret = self._cursor_secret
        return secret() if callable(secret) else secret

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

    def iterate(self, *, deleted: bool = False, consistent: bool = False) -> Iterator[Entity]:
        """Every object of this kind in the tenant (Query, never a table scan; consistent:
        strongly consistent, it sees every write that completed before it)."""
        cond = EntityItem.deleted == deleted
        for item in EntityItem.query(self._pk, filter_condition=cond, consistent_read=consistent):
            yield _to_entity(item)

    def summaries(self, *, deleted: bool = False) -> Iterator[Entity]:
        """Like iterate, but partial entities whose doc holds only the head keys, read from
        the head rows (`<tenant>#<kind>#head`, a few hundred bytes each) that every write of a
        kind with head_keys keeps in step: a listing never reads the documents."""
        if not self._head_keys:
            raise TypeError(f"{self.kind} keeps no heads (Repository head_keys)")
        for item in EntityItem.query(f"{self._pk}#head", filter_condition=EntityItem.deleted == deleted):
            yield _to_summary(item)

    def summary(self, entity_id: str, *, include_deleted: bool = False) -> Entity:
        """One object's head row (a partial entity, as summaries() gives): what an access
        check or a bookkeeping answer needs, without reading the document."""
        if not self._head_keys:
            raise TypeError(f"{self.kind} keeps no heads (Repository head_keys)")
        try:
            entity = _to_summary(EntityItem.get(f"{self._pk}#head", check_id(entity_id), consistent_read=True))
        except DoesNotExist as exc:
            raise NotFound(f"{self.kind.capitalize()} {entity_id} not found") from exc
        if entity.deleted and not include_deleted:
            raise NotFound(f"{self.kind.capitalize()} {entity_id} not found")
        return entity

    def count(self, *, deleted: bool = False) -> int:
        """How many objects of this kind the tenant has (live, or in the trash): the counter
        row, one GetItem (counted once from the partition when it has never been)."""
        try:
            row: EntityItem | None = EntityItem.get(self._pk, COUNTER, consistent_read=True)
        except DoesNotExist:
            row = None
        live, trashed = self._counts(row)
        return trashed if deleted else live

    def _counts(self, row: EntityItem | None) -> tuple[int, int]:
        """(live, trashed) from the counter row, counting the partition once when the row was
        never counted (data written before counters, or a kind's first listing)."""
        if row is not None and row.counted:
            return int(row.live or 0), int(row.trashed or 0)
        return self._recount()

    def _recount(self) -> tuple[int, int]:
        """Count the partition and store the counts in the counter row, unless a write moved
        the row meanwhile (then the counts are used once and taken again next time). The row
        is read before the partition: any write landing after that read changes its revision."""
        try:
            stamp: int | None = int(EntityItem.get(self._pk, COUNTER, consistent_read=True).revision or 0)
        except DoesNotExist:
            stamp = None
        live = trashed = 0
        for item in EntityItem.query(self._pk, consistent_read=True, attributes_to_get=["sk", "deleted", "kind"]):
            if item.sk == COUNTER:
                continue
            if item.deleted:
                trashed += 1
            else:
                live += 1
        row = EntityItem(self._pk, COUNTER)
        partitions.note_entities(self._pk)  # the counter row may be the partition's first
        unchanged = EntityItem.pk.does_not_exist() if stamp is None else EntityItem.revision == stamp
        actions = [
            *self._counter_labels(),
            EntityItem.live.set(live),
            EntityItem.trashed.set(trashed),
            EntityItem.counted.set(now_ms()),
            EntityItem.revision.set(stamp or 0),
        ]
        try:
            row.update(actions=actions, condition=unchanged, add_version_condition=False)
        except UpdateError as exc:
            if not _is_conditional_failure(exc):
                raise
        return live, trashed

    def _counter_labels(self) -> list[Any]:
        return [EntityItem.kind.set(f"{self.kind}#count"), EntityItem.tenant.set(self.tenant)]

    def _count(self, live: int, trashed: int) -> Writes:
        """The transactional write that moves the counter row by (live, trashed)."""
        row = EntityItem(self._pk, COUNTER)
        actions = [
            *self._counter_labels(),
            EntityItem.live.add(live),
            EntityItem.trashed.add(trashed),
            EntityItem.revision.add(1),
        ]

        def move(tx: TransactWrite) -> None:
            tx.update(row, actions=actions, add_version_condition=False)

        return move

    def page(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
        deleted: bool = False,
        query: Any = None,
    ) -> Page:
        """One page by offset (Wavefront) or by signed cursor (when cursor is given). One
        Query reads the counter row (for the total), the items up to the page and one more
        (to know whether there are more); trashed or live objects the page skips cost reads
        too, as does a partition beyond DynamoDB's 1 MB per call."""
        if limit < 1 or limit > 1000:
            raise Invalid("limit must be between 1 and 1000")
        if offset < 0:
            raise Invalid("offset must not be negative")
        fingerprint = {"kind": self._pk, "deleted": deleted, "q": query}
        start_key = None
        if cursor:
            start_key = decode_cursor(self._secret(), self.tenant, fingerprint, cursor).get("k")
            offset = 0
        cond = EntityItem.deleted == deleted
        if start_key is None:
            cond = cond | (EntityItem.kind == f"{self.kind}#count")
        wanted = offset + limit + 1 + (1 if start_key is None else 0)
        found = self._read(wanted, filter_condition=cond, start_key=start_key)
        counter = found.pop(0) if found and found[0].sk == COUNTER else None
        rest = found[offset:]
        items = [_to_entity(i) for i in rest[:limit]]
        more = len(rest) > limit
        next_cursor = None
        if more and offset == 0:
            last = rest[limit - 1]
            position = {"pk": {"S": last.pk}, "sk": {"S": last.sk}}
            next_cursor = encode_cursor(self._secret(), self.tenant, fingerprint, {"k": position})
        if start_key is not None:  # a cursor page: no counter row on the way, no total
            total = len(items) + (1 if more else 0)
            return Page(items=items, cursor=next_cursor, limit=limit, total=total, follows=more)
        live, trashed = self._counts(counter)
        total = trashed if deleted else live
        # A counter never hides what was read (and a page past the end read fewer than offset).
        total = max(total, min(offset, len(found)) + len(items) + (1 if more else 0))
        return Page(items=items, cursor=next_cursor, offset=offset, limit=limit, total=total, follows=more)

    def _read(self, wanted: int, *, start_key: Any = None, **conditions: Any) -> list[EntityItem]:
        """Up to wanted items of the partition that pass conditions, from start_key on: one
        Query call at a time, asking only for what is still missing (ResultIterator would ask
        for a whole page_size again), until enough passed the filter or the partition ends."""
        found: list[EntityItem] = []
        key = start_key
        while len(found) < wanted:
            results = EntityItem.query(self._pk, last_evaluated_key=key, page_size=wanted - len(found), **conditions)
            raw = next(results.page_iter, None)
            found += [EntityItem.from_raw_data(i) for i in (raw or {}).get("Items", [])]
            key = (raw or {}).get("LastEvaluatedKey")
            if not key:
                break
        return found

    def after(self, start: str | None, *, limit: int) -> Page:
        """Up to limit live objects whose ids sort after start (all of them without one), in
        id order, and whether more follow: a Query from that key on, so a page costs what it
        reads however deep it is (Wavefront's source cursor is the last id of the page before).
        The counter row sorts before every id and is never read; trashed objects on the way
        are skipped by the filter but cost reads."""
        if limit < 1 or limit > 1000:
            raise Invalid("limit must be between 1 and 1000")
        found = self._read(
            limit + 1,
            range_key_condition=EntityItem.sk > (check_id(start) if start is not None else COUNTER),
            filter_condition=EntityItem.deleted == False,  # noqa: E712 (a PynamoDB condition)
        )
        items = [_to_entity(i) for i in found[:limit]]
        more = len(found) > limit
        return Page(items=items, cursor=items[-1].id if more else None, limit=limit, follows=more)

    def window(
        self,
        earliest: int,
        latest: int,
        *,
        limit: int = 100,
        cursor: str | None = None,
        newest_first: bool = True,
        keep: Callable[[Entity], bool] | None = None,
        query: Any = None,
    ) -> Page:
        """One page of the live objects whose timeline time is in [earliest, latest], newest
        (or oldest) first, by signed cursor. Query calls over the window only: limit + 1
        copies when keep (a filter) is None, to know whether more follow; with keep, batches
        of FILTERED_BATCH until the page is full or the window ends. The page's offset is how
        many objects the pages before it held."""
        if self._timeline is None:
            raise TypeError(f"{self.kind} keeps no timeline (Repository timeline)")
        if limit < 1 or limit > 1000:
            raise Invalid("limit must be between 1 and 1000")
        fingerprint = {"kind": self._pk, "window": [earliest, latest], "newest": newest_first, "q": query}
        key, before = None, 0
        if cursor:
            position = decode_cursor(self._secret(), self.tenant, fingerprint, cursor)
            key, before = position.get("k"), int(position.get("n", 0))
        found: list[tuple[EntityItem, Entity]] = []
        while len(found) <= limit:
            # A filter may drop most rows: then read in batches, not row by row.
            count = limit + 1 - len(found) if keep is None else max(limit + 1 - len(found), FILTERED_BATCH)
            rows, key = timeline.read(self._pk, earliest, latest, newest_first=newest_first, start_key=key, count=count)
            found += [(row, e) for row, e in ((r, _to_entity(r)) for r in rows) if keep is None or keep(e)]
            if not key:
                break
        more = len(found) > limit
        items = [e for _, e in found[:limit]]
        next_cursor = None
        if more:
            last = found[limit - 1][0]
            position = {"k": {"pk": {"S": last.pk}, "sk": {"S": last.sk}}, "n": before + limit}
            next_cursor = encode_cursor(self._secret(), self.tenant, fingerprint, position)
        total = before + len(items) + (1 if more else 0)
        return Page(items=items, cursor=next_cursor, offset=before, limit=limit, total=total, follows=more)

    def _placed(self, entity: Entity) -> str | None:
        """Where a live object sits in the kind's timeline (None: no timeline, or trashed)."""
        if self._timeline is None or entity.deleted:
            return None
        return timeline.sort_key(self._timeline(entity.doc), entity.id)

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
        documents.encode(item, doc)
        _set_head(item, doc, self._head_keys)
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
            doc_ref=item.doc_ref,  # blobs are immutable: the version shares the live item's
            name=item.name,
            tags=item.tags,
            created=item.created,
            updated=item.updated,
            created_by=item.created_by,
            updated_by=item.updated_by,
            revision=item.revision,
            deleted=item.deleted,
            note=item.note,
            head=item.head,
            changes=item.changes,
        )
        return hist

    def _write(
        self,
        item: EntityItem,
        *,
        new: bool,
        extra: Writes | None = None,
        counts: tuple[int, int] | None = None,
        placed: tuple[str | None, str | None] = (None, None),
    ) -> None:
        """Save item conditionally (new: must not exist; else: version must match),
        together with its history version, its head row, its timeline copy (moved from
        placed[0] to placed[1]), the counter's move by counts (live, trashed) and any extra
        transactional writes. A document bound for S3 is uploaded first under a new key; a
        refused write deletes it again."""
        uploaded = self._upload_doc(item)
        try:
            if self.history_enabled or extra is not None or self._head_keys or counts is not None or any(placed):
                saves = self._saves(item, new=new, counts=counts, placed=placed)
                _transact(chain(saves, extra))  # type: ignore[arg-type]
            elif new:
                item.save(condition=EntityItem.pk.does_not_exist())
            else:
                item.save()
        except (PutError, TransactWriteError, UpdateError) as exc:
            if uploaded is not None and (_is_conditional_failure(exc) or getattr(exc, "cancellation_reasons", None)):
                # Refused (a cancelled transaction wrote nothing): the winner's blob has
                # another key, only ours goes (a new attempt with this item uploads again).
                documents.discard({uploaded}, "write refused")
                item.doc_ref = None
            if _is_conditional_failure(exc):
                if new:
                    raise Conflict(f"{self.kind.capitalize()} {item.entity_id} already exists") from exc
                raise VersionMismatch(f"{self.kind.capitalize()} {item.entity_id} was changed by someone else") from exc
            raise
        replaced = documents.take_replaced(item)
        if replaced is not None and not self.history_enabled and replaced != item.doc_ref:
            documents.discard({replaced}, "replaced")  # with history, the previous version keeps it

    def _saves(
        self,
        item: EntityItem,
        *,
        new: bool,
        counts: tuple[int, int] | None,
        placed: tuple[str | None, str | None] = (None, None),
    ) -> Writes:
        """The transactional writes that save item: conditionally (new: must not exist; else
        its version must not have moved), with its history version, its head row, its
        timeline copy (moved from placed[0] to placed[1]) and the counter's move by counts
        (live, trashed)."""

        def writes(tx: TransactWrite) -> None:
            if new:
                tx.save(item, condition=EntityItem.pk.does_not_exist())
            else:
                tx.save(item)  # the version attribute adds the condition
            if self.history_enabled:
                tx.save(self._history_item(item), condition=EntityItem.pk.does_not_exist())
            if self._head_keys:
                self._write_head(tx, item)
            if any(placed):
                timeline.place(self._pk, item, COPY_ATTRIBUTES, was=placed[0], now=placed[1])(tx)
            if counts is not None:
                self._count(*counts)(tx)

        return writes

    def _write_head(self, tx: TransactWrite, item: EntityItem) -> None:
        """Set the head row of item (unconditionally: the item's own condition guards the
        transaction, and a head row never decides anything)."""
        head = EntityItem(f"{self._pk}#head", item.entity_id)
        tx.update(head, actions=copy_actions(item, HEAD_ROW_ATTRIBUTES), add_version_condition=False)

    def _upload_doc(self, item: EntityItem) -> str | None:
        """Put a document bound for S3 under a new key (doc_ref); returns the key."""
        packed = documents.packed(item)
        if packed is None or item.doc_ref is not None:
            return None
        key = documents.blob_key(self.tenant, self.kind, item.entity_id, int(item.revision or 1))
        blobs.put(key, packed)
        item.doc_ref = key
        return key

    def create(
        self,
        entity_id: str,
        doc: dict[str, Any],
        *,
        by: str | None = None,
        tags: list[str] | None = None,
        extra: Writes | None = None,
        note: str | None = None,
    ) -> Entity:
        """Store a new object; an existing id is a Conflict, a taken unique name NameExists."""
        item = self._new_item(entity_id, doc, by)
        item.tags = bounded_tags(tags or [], before=0) or None  # type: ignore[assignment,arg-type]
        item.note = note
        entity = _to_entity(item)
        if self._describe is not None:
            entity.changes = self._describe(None, entity)
            item.changes = json.dumps(entity.changes, ensure_ascii=False)
        name = self._name_of(entity)
        partitions.note_entities(self._pk)  # a purge of the tenant finds the partition by key
        try:
            self._write(
                item,
                new=True,
                extra=chain(self._rename(entity_id, None, name), extra, self._audit("create", None, entity)),
                counts=(1, 0),
                placed=(None, self._placed(entity)),
            )
        except Conflict as exc:
            self._raise_if_name_taken(name, entity_id, exc)
            raise
        return entity

    def update(
        self,
        entity_id: str,
        change: Callable[[Entity], None],
        *,
        by: str | None = None,
        expected_version: int | None = None,
        include_deleted: bool = False,
        retries: int = 0,
        extra: Writes | None = None,
        note: str | None = None,
    ) -> Entity:
        """Read, apply change (which edits entity.doc / tags / deleted in place), write
        conditionally. expected_version (the caller's) must equal the stored one; with
        retries > 0 a lost race is re-read and re-applied (for commutative edits like tags).
        A unique name the change takes is reserved in the same transaction (NameExists)."""
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
            before = copy.deepcopy(entity)
            flip, rename, placed = self._apply(item, entity, change, by=by, note=note)
            record = self._audit(_action(before, entity), before, entity, version=int(item.revision))
            try:
                self._write(item, new=False, extra=chain(rename, extra, record), counts=flip, placed=placed)
                return _to_entity(item)
            except VersionMismatch as exc:
                self._raise_if_name_taken(self._name_of(entity), entity_id, exc)
                attempt += 1
                if attempt > retries:
                    raise

    def _apply(
        self, item: EntityItem, entity: Entity, change: Callable[[Entity], None], *, by: str | None, note: str | None
    ) -> tuple[tuple[int, int] | None, Writes | None, tuple[str | None, str | None]]:
        """Apply change to entity (read from item) and put the result in item as the next
        revision, described; returns the counter's move, the writes that move the name
        reservation, and where its timeline copy moves (from, to), which the write of item
        needs with it."""
        name_before = self._name_of(entity)
        was = self._placed(entity)
        before = copy.deepcopy(entity) if self._describe is not None else None
        change(entity)
        changes = self._describe(before, entity) if self._describe is not None else None
        item.changes = json.dumps(changes, ensure_ascii=False) if changes is not None else None
        flip = None
        if entity.deleted != bool(item.deleted):
            flip = (-1, 1) if entity.deleted else (1, -1)
        documents.encode(item, entity.doc)
        _set_head(item, entity.doc, self._head_keys)
        item.note = note
        item.name = str(entity.doc.get("name") or entity.doc.get("title") or "")[:512] or None
        item.tags = bounded_tags(entity.tags, before=len(item.tags or ())) or None  # type: ignore[assignment,arg-type]
        item.deleted = entity.deleted
        item.updated = now_ms()
        item.updated_by = by
        item.revision = int(item.revision or 1) + 1
        return flip, self._rename(entity.id, name_before, self._name_of(entity)), (was, self._placed(entity))

    def staged_update(
        self, entity_id: str, change: Callable[[Entity], None], *, by: str | None = None
    ) -> tuple[Entity, Writes]:
        """An update to run inside another write's transaction (pass the writes as its
        `extra`): the object is read now and changed, and the writes save it on condition
        that its version has not moved meanwhile, so a concurrent change cancels the whole
        transaction (VersionMismatch) and nothing of it lands. Objects in the trash are
        changed too. A document kept in S3 is refused (Invalid): a cancelled transaction
        could not discard the blob it would have uploaded."""
        item = self._load(entity_id)
        entity = _to_entity(item)
        stored_in_s3 = item.doc_ref is not None
        before = copy.deepcopy(entity)
        flip, rename, placed = self._apply(item, entity, change, by=by, note=None)
        if stored_in_s3 or documents.packed(item) is not None:
            raise Invalid(f"{self.kind.capitalize()} {entity_id} is too large to change in another write's transaction")
        record = self._audit(_action(before, entity), before, entity, version=int(item.revision))
        writes = chain(self._saves(item, new=False, counts=flip, placed=placed), rename, record)
        assert writes is not None
        return _to_entity(item), writes

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

    def purge(self, entity_id: str, *, extra: Writes | None = None) -> Entity:
        """Delete permanently, with its history."""
        item = self._load(entity_id)
        entity = _to_entity(item)
        gone = (0, -1) if entity.deleted else (-1, 0)
        was = self._placed(entity)
        unplace = timeline.place(self._pk, item, (), was=was, now=None) if was is not None else None
        writes = chain(
            self._rename(entity_id, self._name_of(entity), None),
            self._drop_head(entity_id),
            unplace,
            self._count(*gone),
            extra,
            self._audit("delete", entity, None),
        )
        try:
            _transact(chain(lambda tx: tx.delete(item), writes))  # type: ignore[arg-type]
        except (DeleteError, TransactWriteError) as exc:
            if _is_conditional_failure(exc):
                raise VersionMismatch(f"{self.kind.capitalize()} {entity_id} changed meanwhile") from exc
            raise
        refs = {item.doc_ref} if item.doc_ref else set()
        if self.history_enabled:
            with EntityItem.batch_write() as batch:
                for hist in EntityItem.query(f"{self._pk}#h#{entity_id}"):
                    if hist.doc_ref:
                        refs.add(hist.doc_ref)
                    batch.delete(hist)
        documents.discard(refs, "purged")
        return entity

    def _audit(
        self, action: str, before: Entity | None, after: Entity | None, *, version: int | None = None
    ) -> Writes | None:
        """The audit record of a write (store/audit.py), for the write's own transaction;
        None for installation-wide partitions (`_global`), which hold no tenant's objects."""
        if not audit.audited(self.tenant):
            return None
        subject = after or before
        assert subject is not None
        tags = None
        if before is not None and after is not None and before.tags != after.tags:
            tags = (before.tags, after.tags)
        return audit.record(
            self.tenant,
            self.kind,
            subject.id,
            action,
            before.doc if before is not None else None,
            after.doc if after is not None else None,
            version=version or subject.version,
            tags=tags,
        )

    def _drop_head(self, entity_id: str) -> Writes | None:
        if not self._head_keys:
            return None
        head = EntityItem(f"{self._pk}#head", entity_id)

        def drop(tx: TransactWrite) -> None:
            tx.delete(head, add_version_condition=False)

        return drop

    # ---- unique names ----------------------------------------------------------
    # A reservation row `<tenant>#<kind>#name / <key>` names its holder; it is written and
    # deleted in the same transaction as the object, so two writers never share a name.

    def _name_of(self, entity: Entity) -> str | None:
        return self._unique.key(entity) if self._unique is not None else None

    def name_holder(self, key: str) -> str | None:
        """Id of the object holding a unique name, or None."""
        try:
            return EntityItem.get(f"{self._pk}#name", key, consistent_read=True).entity_id
        except DoesNotExist:
            return None

    def _rename(self, entity_id: str, before: str | None, after: str | None) -> Writes | None:
        """The transactional writes that move a reservation from before to after."""
        if before == after:
            return None
        claim = release = None
        if after is not None:
            claim = EntityItem(
                f"{self._pk}#name",
                after,
                kind=f"{self.kind}#name",
                tenant=self.tenant,
                entity_id=entity_id,
                deleted=False,
                revision=1,
            )
        if before is not None:
            release = EntityItem(f"{self._pk}#name", before)

        def move(tx: TransactWrite) -> None:
            if claim is not None:
                tx.save(claim, condition=EntityItem.pk.does_not_exist())
            if release is not None:
                tx.delete(release, add_version_condition=False)

        return move

    def _raise_if_name_taken(self, name: str | None, entity_id: str, exc: Exception) -> None:
        if name is not None and self._unique is not None and self.name_holder(name) not in (None, entity_id):
            raise self._unique.error(self._unique.message) from exc

    # ---- history -------------------------------------------------------------

    def history(
        self, entity_id: str, *, offset: int = 0, limit: int = 100, heads: bool = False
    ) -> tuple[list[Entity], int]:
        """Versions, newest first, and how many there are. One Query of the newest
        offset + limit versions (versions are never dropped but with their object, so the
        newest one's number is the count); with heads, without their documents (partial
        entities, as summaries() gives)."""
        projection = list(SUMMARY_ATTRIBUTES) if heads else None
        wanted = offset + limit
        items = list(
            EntityItem.query(
                f"{self._pk}#h#{check_id(entity_id)}",
                scan_index_forward=False,
                attributes_to_get=projection,
                limit=wanted,
                page_size=wanted,
            )
        )
        if not items:
            try:
                EntityItem.get(self._pk, entity_id, consistent_read=True, attributes_to_get=["pk"])
            except DoesNotExist as exc:
                raise NotFound(f"{self.kind.capitalize()} {entity_id} not found") from exc
            return [], 0
        convert = _to_summary if heads else _to_entity
        total = max(int(items[0].revision or 0), len(items))
        return [convert(i) for i in items[offset:wanted]], total

    def version(self, entity_id: str, version: int) -> Entity:
        """One historical version."""
        try:
            return _to_entity(EntityItem.get(f"{self._pk}#h#{check_id(entity_id)}", f"{int(version):012d}"))
        except DoesNotExist as exc:
            raise NotFound(f"Version {version} of {self.kind} {entity_id} not found") from exc


@guarded
def get_each(named: list[tuple[Repository, str]]) -> list[Entity]:
    """The live objects named by (repository, id) pairs, whatever their partitions, in
    strongly consistent batched reads (BatchGetItem, 100 keys a call), in the order given;
    absent ones are skipped."""
    keys = list(dict.fromkeys((repo._pk, check_id(i)) for repo, i in named))
    if not keys:
        return []
    found = {(i.pk, i.entity_id): _to_entity(i) for i in EntityItem.batch_get(keys, consistent_read=True)}
    return [found[k] for k in keys if k in found and not found[k].deleted]


def _action(before: Entity, after: Entity) -> str:
    """What an update did, in the audit log's words."""
    if before.deleted != after.deleted:
        return "trash" if after.deleted else "undelete"
    if before.doc == after.doc and before.tags != after.tags:
        return "tag"
    return "update"


def chain(*writes: Writes | None) -> Writes | None:
    """One transactional callback from several (None ones skipped)."""
    chosen = [w for w in writes if w is not None]
    if not chosen:
        return None

    def run(tx: TransactWrite) -> None:
        for write in chosen:
            write(tx)

    return run


def add_tags(entity: Entity, tags: list[str]) -> None:
    """Add tags (idempotent)."""
    entity.tags = sorted(set(entity.tags) | {check_tag(t) for t in tags})


def remove_tags(entity: Entity, tags: list[str]) -> None:
    """Remove tags (absent ones are ignored)."""
    entity.tags = sorted(set(entity.tags) - set(tags))


def bounded_tags(tags: Iterable[str], *, before: int) -> list[str]:
    """The sorted tag set, within settings.max_tags (an entity holding more from before the
    bound may keep them, or shed some, but not grow)."""
    chosen = sorted(set(tags))
    limit = get_settings().max_tags
    if len(chosen) > limit and len(chosen) > before:
        raise Invalid(f"At most {limit} tags per object (OPSPLANE_MAX_TAGS)")
    return chosen


def check_tag(tag: str) -> str:
    """Tags are short printable strings."""
    if not isinstance(tag, str) or not tag.strip() or len(tag) > 256:
        raise Invalid("Invalid tag")
    if any(ord(c) < 32 for c in tag):
        raise Invalid("Invalid tag: control characters")
    return tag
