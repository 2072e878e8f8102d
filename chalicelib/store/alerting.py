"""What the alert evaluation keeps: the registry of tenants with alerts, and each alert's
evaluation state.

Registry: one row per tenant with evaluated alerts, in one partition, found with one Query
(no Scan) by the schedule every minute:

    pk = "_global#alerting", sk = "<tenant>", members = {alert ids}

Every write of an alert adds or removes its id in the transaction of the write (`follow`,
through the alert Kind's `follow`): live -> a member, trashed or deleted -> not. A set
(ADD / DELETE) makes the write idempotent; a tenant with no member left keeps an empty row,
which the schedule skips. A row holds some 20,000 ids (400 KB).

The derived metric evaluation keeps the same two things for derived metrics in rows of
its own (the `registry` and `kind` arguments: workers/derivedeval.py).

State: one row per alert, its evaluation state as JSON, written only on condition that its
version has not moved (two evaluations of the same minute: one wins, the other sees it):

    pk = "<tenant>#alertstate", sk = "<alert id>", doc, version
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import VersionMismatch
from chalicelib.store import partitions
from chalicelib.store.failures import guarded
from chalicelib.store.models import EntityItem, transaction_connection
from chalicelib.store.repository import Writes, _is_conditional_failure, now_ms

PARTITION = "_global#alerting"
# The same registry for derived metrics (categories/derivedmetric_evaluation.py).
DERIVED_PARTITION = "_global#derivedmetrics"
REGISTRY_KIND = "alerting"
STATE_KIND = "alertstate"


# ---- the registry -------------------------------------------------------------------------


def follow(tenant: str, alert_id: str, *, enlisted: bool, registry: str = PARTITION) -> Writes:
    """The transactional write that keeps the alert's id in its tenant's row (or out)."""
    row = EntityItem(registry, tenant)

    def write(tx: TransactWrite) -> None:
        if enlisted:
            actions: list[Any] = [
                EntityItem.kind.set(REGISTRY_KIND),
                EntityItem.tenant.set(tenant),
                EntityItem.entity_id.set(tenant),
                EntityItem.members.add({alert_id}),
            ]
        else:
            actions = [EntityItem.members.delete({alert_id})]
        tx.update(row, actions=actions, add_version_condition=False)

    return write


@guarded
def enlisted(registry: str = PARTITION) -> Iterator[tuple[str, list[str]]]:
    """(tenant, its alert ids, sorted) of every tenant with evaluated alerts. One Query."""
    for item in EntityItem.query(registry):
        if item.members:
            yield str(item.tenant), sorted(item.members)


@guarded
def drop(tenant: str, alert_id: str, *, registry: str = PARTITION, kind: str = STATE_KIND) -> None:
    """Take an alert that is gone out of its tenant's row (and forget its state)."""
    EntityItem(registry, tenant).update(actions=[EntityItem.members.delete({alert_id})], add_version_condition=False)
    try:
        EntityItem.get(f"{tenant}#{kind}", alert_id).delete(add_version_condition=False)
    except DoesNotExist:
        pass


# ---- states -------------------------------------------------------------------------------


@dataclass
class State:
    """An alert's evaluation state and the version it was read at (None: never written)."""

    alert_id: str
    doc: dict[str, Any] = field(default_factory=dict)
    version: int | None = None


def _state(tenant: str, alert_id: str, item: EntityItem | None) -> State:
    if item is None:
        return State(alert_id)
    return State(alert_id, json.loads(item.doc or "{}"), int(item.version or 0))


@guarded
def load(tenant: str, alert_id: str, *, kind: str = STATE_KIND) -> State:
    """The alert's state (strongly consistent), empty when none was written."""
    try:
        return _state(tenant, alert_id, EntityItem.get(f"{tenant}#{kind}", alert_id, consistent_read=True))
    except DoesNotExist:
        return State(alert_id)


@guarded
def load_many(tenant: str, alert_ids: list[str], *, kind: str = STATE_KIND) -> dict[str, State]:
    """The states of several alerts (BatchGetItem), empty ones for those never written."""
    keys = [(f"{tenant}#{kind}", i) for i in dict.fromkeys(alert_ids)]
    found = {str(item.entity_id): item for item in EntityItem.batch_get(keys)} if keys else {}
    return {i: _state(tenant, i, found.get(i)) for i in dict.fromkeys(alert_ids)}


def _item(tenant: str, state: State, doc: dict[str, Any], kind: str = STATE_KIND) -> EntityItem:
    item = EntityItem(
        f"{tenant}#{kind}",
        state.alert_id,
        kind=kind,
        tenant=tenant,
        entity_id=state.alert_id,
        doc=json.dumps(doc, separators=(",", ":"), sort_keys=True),
        updated=now_ms(),
    )
    if state.version is not None:
        item.version = state.version  # the save's condition: the version read (absent: new)
    return item


@guarded
def save(
    tenant: str, state: State, doc: dict[str, Any], *, extra: Writes | None = None, kind: str = STATE_KIND
) -> State:
    """Write doc as the alert's state on condition that it is still at state.version (with
    extra in the same transaction); VersionMismatch when another evaluation wrote first."""
    item = _item(tenant, state, doc, kind)
    partitions.note(tenant, f"{tenant}#{kind}")  # the tenant's purge finds it (store/partitions.py)
    try:
        if extra is None:
            item.save()
        else:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(item)
                extra(tx)
    except (PutError, TransactWriteError) as exc:
        if _is_conditional_failure(exc):
            raise VersionMismatch(f"The state of alert {state.alert_id} was written by another evaluation") from exc
        raise
    return State(state.alert_id, doc, int(item.version or 0))


def state_writes(tenant: str, state: State, doc: dict[str, Any]) -> Writes:
    """The conditional write of a state, for another write's transaction (an event's)."""
    item = _item(tenant, state, doc)
    partitions.note(tenant, f"{tenant}#{STATE_KIND}")

    def write(tx: TransactWrite) -> None:
        tx.save(item)

    return write
