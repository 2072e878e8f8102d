"""Rows of the tokens table: credentials (API tokens, OAuth clients) and short-lived
security records (revoked session ids, login throttling).

auth/ decides what the rows mean; this module reads and writes them. A credential is
created and revoked in one transaction with its account's counter (the counter's
condition keeps a limit exact under races). Throttling and outages leave as Unavailable
(store/failures.py), a failed condition as the caller's NotFound / Invalid.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.store.audit import Change
from chalicelib.store.failures import guarded
from chalicelib.store.models import TokenItem, transaction_connection

Key = tuple[str, str]


@dataclass(frozen=True)
class Row:
    """One row of the tokens table."""

    pk: str
    sk: str
    tenant: str | None = None
    doc: str | None = None
    hits: int | None = None
    used: int | None = None  # epoch ms
    expires: datetime | None = None


def _row(item: TokenItem) -> Row:
    return Row(
        pk=item.pk,
        sk=item.sk,
        tenant=item.tenant,
        doc=item.doc,
        hits=int(item.hits) if item.hits is not None else None,
        used=int(item.used) if item.used is not None else None,
        expires=item.expires,
    )


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Why DynamoDB cancelled a transaction, one code per item. PynamoDB sends the items
    grouped, not in call order: condition checks, deletes, puts, then updates."""
    return [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]


def is_conditional_failure(exc: PynamoDBException) -> bool:
    """Did a single-item write fail its condition?"""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


# ---- reading ------------------------------------------------------------------------------


@guarded
def get(key: Key, *, consistent: bool = False) -> Row | None:
    """The row under key, or None."""
    try:
        return _row(TokenItem.get(*key, consistent_read=consistent))
    except DoesNotExist:
        return None


@guarded
def query(pk: str, sk_prefix: str | None = None) -> list[Row]:
    """The rows of a partition (whose sort key starts with sk_prefix), strongly consistent."""
    cond = TokenItem.sk.startswith(sk_prefix) if sk_prefix else None
    return [_row(i) for i in TokenItem.query(pk, cond, consistent_read=True)]


# ---- single rows --------------------------------------------------------------------------


@guarded
def put(key: Key, *, expires: datetime) -> None:
    """Save a marker row that vanishes (TTL) after expires."""
    TokenItem(*key, expires=expires).save()


@guarded
def delete(key: Key, *, change: Change | None = None) -> None:
    """Delete a row (an absent one is fine); with change, in one transaction with its
    audit record (store/audit.py)."""
    audited = change.record() if change is not None else None
    if audited is None:
        TokenItem(*key).delete()
        return

    def build(tx: TransactWrite) -> None:
        tx.delete(TokenItem(*key))
        audited(tx)

    transact(build)


def _conditional(item: TokenItem, actions: list[Any], condition: Any) -> bool:
    """Apply one conditional update; False when the condition failed."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


@guarded
def take_slot(key: Key, *, limit: int, window: int, attempts: int = 3) -> int:
    """Take one of limit slots of key's window (window seconds from its first slot), by a
    conditional write, so concurrent takers never exceed limit. 0 when taken, else the
    seconds until the window ends. Each round tries the live window, then a fresh one (the
    row absent or expired: TTL deletes late); a round lost to a racing fresh window is retried,
    and a window still contended after attempts rounds refuses (fail closed)."""
    for _ in range(attempts):
        now = time.time()
        at = datetime.fromtimestamp(now, tz=UTC)
        item = TokenItem(*key)
        if _conditional(item, [TokenItem.hits.add(1)], (TokenItem.expires > at) & (TokenItem.hits < limit)):
            return 0
        fresh = [TokenItem.hits.set(1), TokenItem.expires.set(datetime.fromtimestamp(now + window, tz=UTC))]
        if _conditional(item, fresh, TokenItem.expires.does_not_exist() | (TokenItem.expires <= at)):
            return 0
        row = get(key, consistent=True)
        if row is not None and row.expires is not None and (row.hits or 0) >= limit:
            return max(1, int(row.expires.timestamp() - time.time()))
    return window


@guarded
def release_slot(key: Key) -> None:
    """Give back a slot taken by take_slot (a window that ended meanwhile is left alone)."""
    at = datetime.fromtimestamp(time.time(), tz=UTC)
    _conditional(TokenItem(*key), [TokenItem.hits.add(-1)], (TokenItem.expires > at) & (TokenItem.hits > 0))


@guarded
def set_doc(key: Key, doc: str, *, change: Change | None = None) -> bool:
    """Replace an existing row's document; False when the row is gone. With change, in one
    transaction with its audit record (store/audit.py)."""
    audited = change.record() if change is not None else None
    if audited is None:
        try:
            TokenItem(*key).update(actions=[TokenItem.doc.set(doc)], condition=TokenItem.pk.exists())
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def build(tx: TransactWrite) -> None:
        tx.update(TokenItem(*key), actions=[TokenItem.doc.set(doc)], condition=TokenItem.pk.exists())
        audited(tx)

    try:
        transact(build)
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in cancellation_codes(exc):
            return False
        raise
    return True


def touch(key: Key, used: int) -> bool:
    """Record a credential's last use on its row, best effort: False when the row is gone
    or the write failed for any reason (never translated: a use must not fail a request)."""
    try:
        TokenItem(*key).update(actions=[TokenItem.used.set(used)], condition=TokenItem.pk.exists())
    except UpdateError:
        return False
    return True


# ---- counted credentials (one transaction each) -------------------------------------------


@guarded
def transact(build: Callable[[TransactWrite], None], *, attempts: int = 5) -> None:
    """Run build's writes in one transaction. A transaction that DynamoDB cancels
    because another one touched the same item (TransactionConflict: two tokens of one
    account created at once share the counter) is retried; a failed condition is not."""
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                build(tx)
            return
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if "TransactionConflict" not in codes or "ConditionalCheckFailed" in codes:
                raise
            if attempt == attempts - 1:
                raise Conflict("Too many concurrent changes to these credentials; try again") from exc
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))


@guarded
def create_counted(
    tenant: str,
    counter: Key,
    limit: int,
    rows: Iterable[tuple[Key, str]],
    over_limit: str,
    *,
    change: Change | None = None,
) -> None:
    """Save new rows (key, doc) and count them against the account's limit, in one
    transaction (with change's audit record); a full counter is Invalid(over_limit), an
    existing row fails the write."""
    rows = list(rows)
    audited = change.record() if change is not None else None

    def build(tx: TransactWrite) -> None:
        tx.update(
            TokenItem(*counter),
            actions=[TokenItem.hits.add(1)],
            condition=(TokenItem.hits.does_not_exist() | (TokenItem.hits < limit)),
        )
        for key, doc in rows:
            tx.save(TokenItem(*key, tenant=tenant, doc=doc), condition=TokenItem.pk.does_not_exist())
        if audited is not None:
            audited(tx)  # a put: the counter stays the only update

    try:
        transact(build)
    except TransactWriteError as exc:
        if cancellation_codes(exc)[-1:] == ["ConditionalCheckFailed"]:  # the counter: the only update
            raise Invalid(over_limit) from exc
        raise


@guarded
def delete_counted(
    listed: Key, others: Iterable[Key], counter: Key, not_found: str, *, change: Change | None = None
) -> None:
    """Delete a credential's rows and uncount it, in one transaction (with change's audit
    record), on condition that its listed row still exists (NotFound(not_found) otherwise:
    two revokes never both uncount)."""
    others = list(others)
    audited = change.record() if change is not None else None

    def build(tx: TransactWrite) -> None:
        tx.delete(TokenItem(*listed), condition=TokenItem.pk.exists())
        for key in others:
            tx.delete(TokenItem(*key))
        tx.update(TokenItem(*counter), actions=[TokenItem.hits.add(-1)])
        if audited is not None:
            audited(tx)

    try:
        transact(build)
    except TransactWriteError as exc:
        if cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:  # the listed row: the first delete
            raise NotFound(not_found) from exc
        raise


@guarded
def take_lease(key: Key, holder: str, *, seconds: float) -> bool:
    """Hold key's lease for seconds, by a conditional write: True when it was free (absent,
    expired, or already ours), False when someone else holds it."""
    now = time.time()
    until = datetime.fromtimestamp(now + seconds, tz=UTC)
    free = (
        TokenItem.expires.does_not_exist()
        | (TokenItem.expires <= datetime.fromtimestamp(now, tz=UTC))
        | (TokenItem.doc == holder)
    )
    return _conditional(TokenItem(*key), [TokenItem.doc.set(holder), TokenItem.expires.set(until)], free)


@guarded
def end_lease(key: Key, holder: str) -> None:
    """Give a lease back (one that expired and was taken by someone else is left alone)."""
    try:
        TokenItem(*key).delete(condition=TokenItem.doc == holder)
    except DeleteError as exc:
        if not is_conditional_failure(exc):
            raise


# ---- rows written together ----------------------------------------------------------------


@dataclass(frozen=True)
class NewRow:
    """A row to save: its key, tenant, document and (TTL) expiry."""

    key: Key
    tenant: str
    doc: str
    expires: datetime | None = None


@guarded
def write_rows(saves: Iterable[NewRow], deletes: Iterable[Key] = (), *, change: Change | None = None) -> None:
    """Save rows and delete others in one transaction, with change's audit record (a
    refresh token replacing the previous one of its client: both rows of each, never half
    of them)."""
    saves, deletes = list(saves), list(deletes)
    audited = change.record() if change is not None else None

    def build(tx: TransactWrite) -> None:
        for key in deletes:
            tx.delete(TokenItem(*key))
        for row in saves:
            tx.save(TokenItem(*row.key, tenant=row.tenant, doc=row.doc, expires=row.expires))
        if audited is not None:
            audited(tx)

    transact(build)
