"""Rows of the usage table: per-tenant rate-limit windows (http/limits.py decides the
budgets and when to flush). Throttling and outages leave as Unavailable (store/failures.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.store import partitions
from chalicelib.store.failures import guarded
from chalicelib.store.models import UsageItem


@guarded
def add(pk: str, sk: str, hits: int, *, expires: float) -> int:
    """Add hits to a window row (which vanishes at expires, epoch s) in one UpdateItem; the
    row's new count, every container's flushed hits included."""
    partitions.note(pk.split("#", 1)[0], pk, partitions.USAGE)  # pk: "<tenant>#rate#..."
    item = UsageItem(pk, sk)
    item.update(actions=[UsageItem.hits.add(hits), UsageItem.expires.set(datetime.fromtimestamp(expires, tz=UTC))])
    return int(item.hits or 0)
