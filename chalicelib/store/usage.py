"""Rows of the usage table: per-tenant rate-limit windows (http/limits.py decides the
budgets). Throttling and outages leave as Unavailable (store/failures.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.store.failures import guarded
from chalicelib.store.models import UsageItem


@guarded
def hit(pk: str, sk: str, *, expires: float) -> int:
    """Count one hit on a window row (which vanishes at expires, epoch s); the new count."""
    item = UsageItem(pk, sk)
    item.update(actions=[UsageItem.hits.add(1), UsageItem.expires.set(datetime.fromtimestamp(expires, tz=UTC))])
    return int(item.hits or 0)
