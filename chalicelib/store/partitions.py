"""Every partition a tenant owns, found by key: what deleting a tenant removes.

Most of a tenant's rows sit in partitions whose names a purge cannot guess: a kind is any
string a module hands the repository (`<tenant>#<kind>`), a per-principal partition names
its principal (`<tenant>#<kind>@<principal>`), a rate-limit row its category. So the first
write into such a partition records it in the tenant's registry, in the entities table:

    pk "<tenant>#partitions"   sk "<table>|<partition>"   (table: "e" entities, "u" usage)

A partition is recorded before its first write (a recorded partition that stays empty costs
a purge one Query), once per process: this process remembers what it recorded. The
partitions derived from an entity partition (its history `#h#<id>`, heads `#head`, unique
names `#name`, timeline `#t`) are not recorded: the purge derives them.

Deleting is bounded (`take` at most N rows of a partition, `drop` them in BatchWriteItem
calls of 25): a purge works in steps and each step deletes what it found, so the next step
finds what is left. Reads are Queries, never a Scan. Throttling and outages leave as
Unavailable (store/failures.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from chalicelib.errors import StoreError
from chalicelib.store.failures import guarded, translated
from chalicelib.store.models import EntityItem, TimeseriesItem, TokenItem, UsageItem, connection

Table = Literal["entities", "usage", "tokens", "timeseries"]
ENTITIES: Table = "entities"
USAGE: Table = "usage"
TOKENS: Table = "tokens"
TIMESERIES: Table = "timeseries"
# The registry's sort key names the table by one letter.
_LETTER = {ENTITIES: "e", USAGE: "u"}
_TABLE_OF = {"e": ENTITIES, "u": USAGE}
REGISTRY = "partitions"
BATCH = 25  # BatchWriteItem's limit
BATCH_ATTEMPTS = 8
NOTED_MAX = 100_000  # partitions remembered before the memory is cleared (a repeat costs one write)

_noted: set[tuple[str, str]] = set()
_lock = threading.Lock()


def registry(tenant: str) -> str:
    """The partition that lists a tenant's partitions."""
    return f"{tenant}#{REGISTRY}"


def _table_name(table: Table) -> str:
    model = {ENTITIES: EntityItem, USAGE: UsageItem, TOKENS: TokenItem, TIMESERIES: TimeseriesItem}[table]
    return str(model.Meta.table_name)


def forget_noted() -> None:
    """Forget what this process recorded (tests: a new moto starts empty)."""
    with _lock:
        _noted.clear()


@guarded
def note(tenant: str, pk: str, table: Table = ENTITIES) -> None:
    """Record that the tenant owns partition pk of table (once per process; idempotent)."""
    sk = f"{_LETTER[table]}|{pk}"
    with _lock:
        if (tenant, sk) in _noted:
            return
    row = EntityItem(registry(tenant), sk)
    actions: list[Any] = [EntityItem.kind.set(REGISTRY), EntityItem.tenant.set(tenant), EntityItem.entity_id.set(pk)]
    row.update(actions=actions, add_version_condition=False)
    with _lock:
        if len(_noted) >= NOTED_MAX:
            _noted.clear()
        _noted.add((tenant, sk))


def note_entities(pk: str) -> None:
    """note() for an entity partition `<tenant>#...` (the tenant is its first part)."""
    note(pk.split("#", 1)[0], pk, ENTITIES)


@guarded
def listed(tenant: str, limit: int) -> list[tuple[Table, str]]:
    """Up to limit partitions the tenant's registry records, (table, partition), in key order."""
    found = take(ENTITIES, registry(tenant), limit)
    out: list[tuple[Table, str]] = []
    for _, sk in found:
        letter, _, pk = sk.partition("|")
        if letter in _TABLE_OF:
            out.append((_TABLE_OF[letter], pk))
    return out


def unlisted(tenant: str, partitions: Iterable[tuple[Table, str]]) -> list[tuple[str, str]]:
    """The registry rows of partitions (to drop once they are empty)."""
    with _lock:
        for table, pk in partitions:
            _noted.discard((tenant, f"{_LETTER[table]}|{pk}"))
    return [(registry(tenant), f"{_LETTER[table]}|{pk}") for table, pk in partitions]


# ---- bounded reads and deletes -------------------------------------------------------------


def _query(table: Table, request: dict[str, Any], limit: int) -> Iterator[dict[str, Any]]:
    """Items of a Query, page after page, at most limit of them."""
    client, name, left = connection().client, _table_name(table), limit
    while left > 0:
        with translated():
            answer = client.query(TableName=name, Limit=left, ConsistentRead=True, **request)
        items = answer.get("Items", [])
        yield from items
        left -= len(items)
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


def take(
    table: Table, pk: str, limit: int, *, after: str | None = None, prefix: str | None = None
) -> list[tuple[str, str]]:
    """Up to limit keys (pk, sk) of partition pk, in sort-key order (after `after`, or
    beginning with `prefix`, when given)."""
    condition, values = "pk = :pk", {":pk": {"S": pk}}
    if after is not None:
        condition += " AND sk > :a"
        values[":a"] = {"S": after}
    elif prefix is not None:
        condition += " AND begins_with(sk, :p)"
        values[":p"] = {"S": prefix}
    request = {
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ProjectionExpression": "pk, sk",
    }
    return [(i["pk"]["S"], i["sk"]["S"]) for i in _query(table, request, limit)]


def rows(table: Table, pk: str, limit: int, *attributes: str) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    """Up to limit rows of partition pk: their key and the named attributes that are text or
    numbers (a token's doc, a series' first and last seen), absent ones left out."""
    names = {f"#a{i}": a for i, a in enumerate(attributes)}
    request: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ProjectionExpression": ", ".join(["pk", "sk", *names]),
    }
    if names:
        request["ExpressionAttributeNames"] = names
    found = []
    for item in _query(table, request, limit):
        values: dict[str, Any] = {}
        for name in attributes:
            raw = item.get(name, {})
            if "S" in raw:
                values[name] = raw["S"]
            elif "N" in raw:
                values[name] = int(float(raw["N"]))
        found.append(((item["pk"]["S"], item["sk"]["S"]), values))
    return found


@guarded
def drop(table: Table, keys: Iterable[tuple[str, str]]) -> int:
    """Delete the rows under keys (absent ones are fine), 25 a call, retrying what DynamoDB
    leaves unprocessed; how many keys were sent."""
    client, name, count = connection().client, _table_name(table), 0
    pending = list(dict.fromkeys(keys))
    for start in range(0, len(pending), BATCH):
        requests = [
            {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}} for pk, sk in pending[start : start + BATCH]
        ]
        for attempt in range(BATCH_ATTEMPTS):
            with translated():
                answer = client.batch_write_item(RequestItems={name: requests})
            requests = answer.get("UnprocessedItems", {}).get(name) or []
            if not requests:
                break
            time.sleep(min(2.0, 0.05 * 2**attempt))
        else:
            raise StoreError("A purge left rows unprocessed", table=table, rows=len(requests))
        count += min(BATCH, len(pending) - start)
    return count


def sweep(table: Table, pk: str, limit: int) -> int:
    """Delete up to limit rows of partition pk; how many (fewer than limit: it is empty now)."""
    return drop(table, take(table, pk, limit))
