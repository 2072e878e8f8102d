"""The audit log: one record per change, written in the change's own transaction.

Every write of the repository (create, update, trash, undelete, tag, purge, a staged update)
and of the credentials in the tokens table (API tokens, OAuth clients, refresh tokens,
sessions) adds `record(...)` to its TransactWriteItems, so a change lands with its record or
neither lands: a refused write (a failed condition, a stale version) leaves no record, and
the record costs one more item in a transaction the write makes anyway.

Who acts is the unit of work's Actor (`acting(actor)`: the edge sets it for each request, a
worker for each batch). A write made outside any (a script, bootstrap) is recorded as the
system's, with no principal.

    pk = "<tenant>#audit", sk = "<epoch ms, 13 digits>#<random>"  (time order)

Records expire through the entities table's TTL (`expires`) after the retention setting.
Reading is one Query over a time range of that partition, newest first, the filters
applied by DynamoDB (FilterExpression), by signed cursor.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.errors import Invalid
from chalicelib.settings import get_settings
from chalicelib.store.cursor import decode_cursor, encode_cursor
from chalicelib.store.failures import guarded
from chalicelib.store.models import EntityItem

KIND = "audit"
REDACTED = "<redacted>"
WIDTH = 13  # epoch milliseconds, zero-padded: text order is time order until the year 2286
# A diff larger than this (JSON characters) keeps only the names of what changed: an item
# holds 400 KB, and the record rides in the change's transaction.
MAX_DIFF_CHARS = 32_000
# Field names whose values never reach a record (lower-cased, `-` and `_` removed): these,
# and names ending in one of SECRET_SUFFIXES (password_hash, client_secret, apiKey, ...).
SECRET_NAMES = frozenset({"authorization", "cookie", "setcookie", "passwd", "tokenid", "credentials"})
SECRET_SUFFIXES = ("password", "hash", "secret", "token", "key", "digest")
# What a filtered page reads per Query call: a filter may drop most records.
FILTERED_BATCH = 100


@dataclass(frozen=True)
class Actor:
    """Who makes the changes of a unit of work: the principal (id, name), the credential it
    presented (`jwt:<jti>`, `apitoken:<public id>`, `oauth:<client id>`, `basic`, ...) and
    the address the request came from."""

    principal_id: str | None = None
    principal_name: str | None = None
    credential: str | None = None
    address: str | None = None


SYSTEM = Actor(principal_name="system")

_acting: ContextVar[Actor | None] = ContextVar("opsplane_audit_actor", default=None)


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Record the changes made inside the block as actor's."""
    token = _acting.set(actor)
    try:
        yield actor
    finally:
        _acting.reset(token)


def current() -> Actor:
    """Who acts now (SYSTEM outside any acting block)."""
    return _acting.get() or SYSTEM


# ---- what a record says -----------------------------------------------------------------


def is_secret_name(name: str) -> bool:
    """Does a field of this name hold a credential (its value is never recorded)?"""
    folded = name.lower().replace("-", "").replace("_", "")
    return folded in SECRET_NAMES or folded.endswith(SECRET_SUFFIXES)


def scrub(value: Any) -> Any:
    """value with the values of every secret-named field, at any depth, replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_name(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """The fields that differ, scrubbed: {"before": {...}, "after": {...}} (a create has
    no before, a delete no after). Too large a diff keeps the changed fields' names only."""
    before, after = before or {}, after or {}
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k, None) != after.get(k, None))
    found = {
        "before": {k: before[k] for k in changed if k in before},
        "after": {k: after[k] for k in changed if k in after},
    }
    found = scrub(found)
    if len(json.dumps(found, default=str)) > MAX_DIFF_CHARS:
        return {"changed": changed, "truncated": True}
    return found


def _sort_key(at: int) -> str:
    return f"{at:0{WIDTH}d}#{secrets.token_hex(6)}"


def record(
    tenant: str,
    kind: str,
    entity_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    version: int | None = None,
    tags: tuple[list[str], list[str]] | None = None,
) -> Callable[[TransactWrite], None]:
    """The transactional write of one audit record: the current actor changed entity_id (a
    kind) of tenant by action, from before to after (documents; the diff is scrubbed), and
    its tags from tags[0] to tags[1] when they moved."""
    actor = current()
    at = int(time.time() * 1000)
    days = get_settings().audit_retention_days
    doc = {
        "at": at,
        "action": action,
        "entity": {"kind": kind, "id": entity_id, "version": version},
        "actor": {"id": actor.principal_id, "name": actor.principal_name},
        "credential": actor.credential,
        "source": actor.address,
        "diff": diff(before, after),
    }
    if tags is not None:
        doc["tags"] = {"before": tags[0], "after": tags[1]}
    item = EntityItem(
        f"{tenant}#{KIND}",
        _sort_key(at),
        kind=KIND,
        tenant=tenant,
        entity_id=entity_id,
        subject=kind,
        action=action,
        actor=actor.principal_id,
        created_by=actor.principal_name,
        created=at,
        doc=json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str),
        expires=datetime.fromtimestamp(at / 1000 + days * 86400, tz=UTC),
    )

    def write(tx: TransactWrite) -> None:
        tx.save(item)

    return write


@dataclass(frozen=True)
class Change:
    """A change outside the repository (a credential in the tokens table), for the audit
    record its transaction carries: kind and id of what changed, in which tenant, how."""

    tenant: str
    kind: str
    entity_id: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    def record(self) -> Callable[[TransactWrite], None] | None:
        """Its record's transactional write (None outside a tenant)."""
        if not audited(self.tenant):
            return None
        return record(self.tenant, self.kind, self.entity_id, self.action, self.before, self.after)


def audited(tenant: str | None) -> bool:
    """Does a write in this partition owner belong to a tenant's log? (`_global` and the
    like are installation-wide indexes written with a tenant's change, not changes.)"""
    return bool(tenant) and not str(tenant).startswith("_")


# ---- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a query keeps: entity kind and id, actor (principal id or name), action."""

    kind: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None

    def condition(self) -> Any:
        found = None
        for cond in (
            EntityItem.subject == self.kind if self.kind else None,
            EntityItem.entity_id == self.entity_id if self.entity_id else None,
            (EntityItem.actor == self.actor) | (EntityItem.created_by == self.actor) if self.actor else None,
            EntityItem.action == self.action if self.action else None,
        ):
            if cond is not None:
                found = cond if found is None else found & cond
        return found


@dataclass
class Records:
    """One page of records, newest first; cursor is None on the last page."""

    items: list[dict[str, Any]]
    cursor: str | None


@guarded
def query(
    tenant: str,
    *,
    secret: bytes,
    earliest: int,
    latest: int,
    filters: Filters,
    limit: int = 100,
    cursor: str | None = None,
) -> Records:
    """One page of tenant's records in [earliest, latest] (epoch ms) that pass filters, newest
    first: Query calls over that time range of the partition only (key condition), filters
    applied by DynamoDB, until the page is full or the range ends."""
    if not 1 <= limit <= 1000:
        raise Invalid("limit must be between 1 and 1000")
    if earliest > latest:
        raise Invalid("from must not be after to")
    # The filters only: a window left to its defaults (to = now) moves between pages, and a
    # cursor means "older than this record" in any window.
    fingerprint = {"audit": tenant, "filters": filters.__dict__}
    key = decode_cursor(secret, tenant, fingerprint, cursor).get("k") if cursor else None
    low, high = f"{max(earliest, 0):0{WIDTH}d}#", f"{min(latest, 10**WIDTH - 1):0{WIDTH}d}$"
    condition = filters.condition()
    found: list[EntityItem] = []
    while len(found) <= limit:
        want = limit + 1 - len(found)
        results = EntityItem.query(
            f"{tenant}#{KIND}",
            EntityItem.sk.between(low, high),
            filter_condition=condition,
            scan_index_forward=False,
            last_evaluated_key=key,
            page_size=want if condition is None else max(want, FILTERED_BATCH),
        )
        raw = next(results.page_iter, None) or {}
        found += [EntityItem.from_raw_data(i) for i in raw.get("Items", [])]
        key = raw.get("LastEvaluatedKey")
        if not key:
            break
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        last = page[-1]
        position = {"k": {"pk": {"S": last.pk}, "sk": {"S": last.sk}}}
        next_cursor = encode_cursor(secret, tenant, fingerprint, position)
    return Records(items=[{"id": i.sk, **json.loads(i.doc or "{}")} for i in page], cursor=next_cursor)
