"""Rows that a create, update or purge writes in its own transaction beside the object:
reservations of unique names (`<owner>#<space> / <key>`, a username, a slug, a tenant's
link to its parent) and checks that another object is still live.

Each function returns the transactional writes (repository.Writes) to pass as `extra`;
nothing is written until the repository runs its transaction, so all of them or none land.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.store import partitions
from chalicelib.store.failures import guarded
from chalicelib.store.models import EntityItem
from chalicelib.store.repository import Writes


def reserve(owner: str, space: str, key: str, doc: dict[str, Any]) -> Writes:
    """Write the row `<owner>#<space> / <key>` holding doc; the transaction fails when it exists."""
    partitions.note(owner, f"{owner}#{space}")
    item = EntityItem(
        f"{owner}#{space}",
        key,
        kind=space,
        tenant=owner,
        entity_id=key,
        doc=json.dumps(doc),
        deleted=False,
        revision=1,
    )

    def save(tx: TransactWrite) -> None:
        tx.save(item, condition=EntityItem.pk.does_not_exist())

    return save


@guarded
def holder(owner: str, space: str, key: str) -> dict[str, Any] | None:
    """The doc of the row `<owner>#<space> / <key>`, or None when nobody holds it."""
    try:
        item = EntityItem.get(f"{owner}#{space}", key, consistent_read=True)
    except DoesNotExist:
        return None
    found = json.loads(item.doc) if item.doc else {}
    return found if isinstance(found, dict) else {}


def release(owner: str, space: str, key: str) -> Writes:
    """Delete the row `<owner>#<space> / <key>` (an absent one is fine)."""
    item = EntityItem(f"{owner}#{space}", key)

    def free(tx: TransactWrite) -> None:
        tx.delete(item, add_version_condition=False)

    return free


def move(owner: str, space: str, old: str, new: str, doc: dict[str, Any]) -> Writes:
    """Release old and reserve new (which must be free), in the same transaction."""
    drop, take = release(owner, space, old), reserve(owner, space, new, doc)

    def both(tx: TransactWrite) -> None:
        drop(tx)
        take(tx)

    return both


def still_live(tenant: str, kind: str, entity_id: str) -> Writes:
    """A check that an object exists and is not in the trash when the transaction runs."""
    partition = f"{tenant}#{kind}"

    def check(tx: TransactWrite) -> None:
        tx.condition_check(EntityItem, partition, entity_id, condition=EntityItem.deleted == False)  # noqa: E712

    return check
