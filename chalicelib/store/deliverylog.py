"""The delivery log of alert notifications: one row per attempt to deliver a notification to
a target (status, latency, attempt, response excerpt), kept RETENTION_SECONDS in the usage
table (TTL on `expires`), and one row per notification a target has received, so that a
duplicated job is not delivered again once it was:

    pk = "<tenant>#notifylog#<target>"
    sk = "t#<epoch ms, 15 digits>#<notification id>#<attempt>"   an attempt, in time order
    sk = "n#<notification id>"                                     delivered (conditional put)

<target> is the alert target's id, or "email:<address>" / "pd:<key>" for what an alert
names directly. The tenant reads a target's log newest first, at most MAX_LIMIT rows a
request (GET /api/v2/notificant/{id}/deliveries).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.store.failures import guarded
from chalicelib.store.models import UsageItem
from chalicelib.store.timeline import WIDTH

RETENTION_SECONDS = 14 * 24 * 3600
MAX_LIMIT = 100


def _partition(tenant: str, target: str) -> str:
    return f"{tenant}#notifylog#{target}"


def _expires(at: int) -> datetime:
    return datetime.fromtimestamp(at / 1000 + RETENTION_SECONDS, tz=UTC)


@guarded
def record_attempt(tenant: str, target: str, doc: dict[str, Any], *, at: int) -> None:
    """Record one attempt (doc: notificationId, attempt, status, ...) made at `at` (epoch ms)."""
    sk = f"t#{at:0{WIDTH}d}#{doc['notificationId']}#{doc['attempt']}"
    UsageItem(_partition(tenant, target), sk, doc=json.dumps({**doc, "time": at}), expires=_expires(at)).save()


@guarded
def mark_delivered(tenant: str, target: str, notification_id: str, *, at: int) -> bool:
    """Note that the target received the notification; False when it was noted already."""
    item = UsageItem(_partition(tenant, target), f"n#{notification_id}", doc="{}", expires=_expires(at))
    try:
        item.save(condition=UsageItem.pk.does_not_exist())
    except PutError as exc:
        if getattr(exc.cause, "response", {}).get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


@guarded
def delivered(tenant: str, target: str, notification_id: str) -> bool:
    """Has the target received the notification (within the retention)?"""
    try:
        UsageItem.get(_partition(tenant, target), f"n#{notification_id}", consistent_read=True)
    except DoesNotExist:
        return False
    return True


@guarded
def recent(tenant: str, target: str, *, limit: int) -> list[dict[str, Any]]:
    """The target's latest attempts, newest first (one Query)."""
    limit = max(1, min(MAX_LIMIT, limit))
    rows = UsageItem.query(
        _partition(tenant, target),
        UsageItem.sk.startswith("t#"),
        scan_index_forward=False,
        limit=limit,
        page_size=limit,
    )
    out = []
    for item in rows:
        found = json.loads(item.doc) if item.doc else {}
        if isinstance(found, dict):
            out.append(found)
    return out
