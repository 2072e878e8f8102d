"""A kind's timeline: a copy of each live object of the kind in its own partition,
`<tenant>#<kind>#t`, sorted by a time the kind chooses (an event's startTime):

    sk = "<time, zero-padded to 15 digits>#<id>"

The repository writes the copy in the transaction of every create and update of the
object (moving it when the time changes) and deletes it in the purge's transaction
(Repository(timeline=...)), so the copy is never out of step. A window of time
[earliest, latest] is then one Query with a BETWEEN key condition: it reads the objects
inside the window and nothing else, newest or oldest first, and the copy carries the
whole object (document, tags, bookkeeping), so a listing reads no other row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.errors import Invalid
from chalicelib.store.models import EntityItem, copy_actions

WIDTH = 15
# Epoch milliseconds that fit the padded width (about the year 33658).
MAX_TIME = 10**WIDTH - 1


def partition(pk: str) -> str:
    """The timeline partition of a kind's partition (`<tenant>#<kind>`)."""
    return f"{pk}#t"


def sort_key(when: int, entity_id: str) -> str:
    """Where an object sits in its timeline: time first (zero-padded, so text order is time
    order), then the id, which makes the key unique."""
    if not 0 <= when <= MAX_TIME:
        raise Invalid(f"Time {when} is outside 0..{MAX_TIME}")
    return f"{when:0{WIDTH}d}#{entity_id}"


def _bounds(earliest: int, latest: int) -> tuple[str, str]:
    """The BETWEEN bounds of [earliest, latest]: '$' sorts right after '#', so every key of
    the latest millisecond is inside and none of the next."""
    return f"{max(earliest, 0):0{WIDTH}d}#", f"{min(latest, MAX_TIME):0{WIDTH}d}$"


def place(
    pk: str, item: EntityItem, attributes: tuple[str, ...], *, was: str | None, now: str | None
) -> Callable[[TransactWrite], None]:
    """The transactional writes that move an object's copy from `was` to `now` (either None:
    absent) and set its attributes from item. Unconditional: the object's own write guards
    the transaction, and a copy never decides anything."""
    rows = partition(pk)

    def write(tx: TransactWrite) -> None:
        if was is not None and was != now:
            tx.delete(EntityItem(rows, was), add_version_condition=False)
        if now is not None:
            tx.update(EntityItem(rows, now), actions=copy_actions(item, attributes), add_version_condition=False)

    return write


def read(
    pk: str,
    earliest: int,
    latest: int,
    *,
    newest_first: bool,
    start_key: dict[str, Any] | None,
    count: int,
) -> tuple[list[EntityItem], dict[str, Any] | None]:
    """One Query call over the window: at most count copies after start_key, and the key to
    go on from (None when the window is exhausted)."""
    low, high = _bounds(earliest, latest)
    if low > high:
        return [], None
    results = EntityItem.query(
        partition(pk),
        EntityItem.sk.between(low, high),
        scan_index_forward=not newest_first,
        consistent_read=True,
        last_evaluated_key=start_key,
        page_size=count,
    )
    raw = next(results.page_iter, None) or {}
    return [EntityItem.from_raw_data(i) for i in raw.get("Items", [])], raw.get("LastEvaluatedKey")
