"""The deliveries an inbound webhook received (categories/inboundwebhook.py), kept for
RETENTION_SECONDS in the usage table (TTL on `expires`), two rows per delivery, written in
the transaction that creates the delivery's event (or alone, for an ignored delivery):

    pk = "<tenant>#hookdelivery#<hook>"
    sk = "d#<delivery id>"                    the delivery by its id: the write is
                                               conditional on its absence, so a delivery id
                                               is recorded (and its event made) at most once
    sk = "t#<epoch ms, 15 digits>#<delivery id>"  the same record in time order, for listings

Powertools' idempotency record (store/idempotency.py) answers retries; the `d#` row is
the second lock, for a retry that comes after that record has expired or after a crash
between the transaction and the record's completion.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict
from chalicelib.store import partitions
from chalicelib.store.failures import guarded
from chalicelib.store.models import UsageItem, transaction_connection
from chalicelib.store.repository import Writes
from chalicelib.store.timeline import WIDTH

RETENTION_SECONDS = 30 * 24 * 3600


def _partition(tenant: str, hook_id: str) -> str:
    return f"{tenant}#hookdelivery#{hook_id}"


def record(tenant: str, hook_id: str, delivery_id: str, doc: dict[str, Any], *, at: int) -> Writes:
    """The transactional writes that record a delivery received at `at` (epoch ms); the
    transaction fails when the hook already has a delivery with that id."""
    pk = _partition(tenant, hook_id)
    partitions.note(tenant, pk, partitions.USAGE)
    expires = datetime.fromtimestamp(at / 1000 + RETENTION_SECONDS, tz=UTC)
    text = json.dumps({**doc, "id": delivery_id, "time": at})
    by_id = UsageItem(pk, f"d#{delivery_id}", doc=text, expires=expires)
    by_time = UsageItem(pk, f"t#{at:0{WIDTH}d}#{delivery_id}", doc=text, expires=expires)

    def save(tx: TransactWrite) -> None:
        tx.save(by_id, condition=UsageItem.pk.does_not_exist())
        tx.save(by_time)

    return save


@guarded
def write(tenant: str, hook_id: str, delivery_id: str, doc: dict[str, Any], *, at: int) -> None:
    """Record a delivery on its own (one transaction); Conflict when its id is recorded."""
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            record(tenant, hook_id, delivery_id, doc, at=at)(tx)
    except TransactWriteError as exc:
        reasons = getattr(exc, "cancellation_reasons", None) or []
        if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
            raise Conflict(f"Delivery {delivery_id} is already recorded") from exc
        raise


@guarded
def find(tenant: str, hook_id: str, delivery_id: str) -> dict[str, Any] | None:
    """The record of one delivery (None: none with that id, or it expired)."""
    try:
        item = UsageItem.get(_partition(tenant, hook_id), f"d#{delivery_id}", consistent_read=True)
    except DoesNotExist:
        return None
    return _doc(item)


@guarded
def recent(tenant: str, hook_id: str, *, limit: int) -> list[dict[str, Any]]:
    """The hook's latest deliveries, newest first (one Query)."""
    rows = UsageItem.query(
        _partition(tenant, hook_id),
        UsageItem.sk.startswith("t#"),
        scan_index_forward=False,
        limit=limit,
        page_size=limit,
    )
    return [_doc(item) for item in rows]


def _doc(item: UsageItem) -> dict[str, Any]:
    found = json.loads(item.doc) if item.doc else {}
    return found if isinstance(found, dict) else {}
