"""The cloud integrations a schedule pulls from, across tenants, found without a Scan.

One row per enabled integration that is pulled (AWS CloudWatch today) in one partition of
the entities table:

    pk = "_global#cloudpull", sk = "<tenant>#<integration id>", due = next pull (epoch ms)

The row is written and removed in the transaction of every write of its integration
(`follow`, through the kind's `Kind.follow`): enabled and live -> the row exists (a new row
is due at once; an existing one keeps its time), disabled, trashed or deleted -> no row.
The scheduled run reads the partition with one Query (pages of 1 MB: some 10,000 rows each)
and the pull moves `due` on by the integration's refresh period (`reschedule`, only while
the row exists, so a pull never brings back the row of an integration disabled meanwhile).
The partition is written only when integrations change or are pulled (minutes apart per
integration) and read once a minute: no hot partition at 10,000 tenants.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.store.failures import guarded
from chalicelib.store.models import EntityItem
from chalicelib.store.repository import Writes

PARTITION = "_global#cloudpull"
KIND = "cloudpull"


@dataclass(frozen=True)
class Enlisted:
    """One integration to pull: its tenant, id and when it is next due (epoch ms)."""

    tenant: str
    integration_id: str
    due: int


def _row(tenant: str, integration_id: str) -> EntityItem:
    return EntityItem(PARTITION, f"{tenant}#{integration_id}")


def follow(tenant: str, integration_id: str, *, enlisted: bool, now: int) -> Writes:
    """The transactional write that keeps the integration's row in step with it: present
    (due now when new) when enlisted, absent otherwise."""
    row = _row(tenant, integration_id)

    def write(tx: TransactWrite) -> None:
        if enlisted:
            actions: list[Any] = [
                EntityItem.kind.set(KIND),
                EntityItem.tenant.set(tenant),
                EntityItem.entity_id.set(integration_id),
                EntityItem.due.set(EntityItem.due | now),  # if_not_exists: keep the time of a row
            ]
            tx.update(row, actions=actions, add_version_condition=False)
        else:
            tx.delete(row, add_version_condition=False)

    return write


@guarded
def enlisted(*, due_by: int | None = None) -> Iterator[Enlisted]:
    """Every row (in tenant order), or those due by due_by (epoch ms). One Query."""
    condition = EntityItem.due <= due_by if due_by is not None else None
    for item in EntityItem.query(PARTITION, filter_condition=condition):
        yield Enlisted(str(item.tenant), str(item.entity_id), int(item.due or 0))


@guarded
def reschedule(tenant: str, integration_id: str, due: int) -> bool:
    """Move the row's next pull to due; False when the row is gone (nothing written)."""
    try:
        _row(tenant, integration_id).update(
            actions=[EntityItem.due.set(due)], condition=EntityItem.pk.exists(), add_version_condition=False
        )
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


@guarded
def drop(tenant: str, integration_id: str) -> None:
    """Remove a row whose integration is no longer to be pulled (gone with its tenant)."""
    _row(tenant, integration_id).delete(add_version_condition=False)
