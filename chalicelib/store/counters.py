"""Atomic counters in the entities table (`<tenant>#counter / <series>`): each call takes
the next number of a series; gaps are possible (a number taken by a write that then
failed), repeats are not."""

from __future__ import annotations

from chalicelib.store import partitions
from chalicelib.store.failures import guarded
from chalicelib.store.models import EntityItem


@guarded
def next_value(tenant: str, series: str) -> int:
    """The next number of the tenant's series (1 first)."""
    partitions.note(tenant, f"{tenant}#counter")
    counter = EntityItem(f"{tenant}#counter", series)
    counter.update(actions=[EntityItem.revision.add(1)], add_version_condition=False)
    return int(counter.revision)
