"""Access filters: per tenant and day, a Bloom filter (rbloom) of what the tenant's queries
read, kept in the usage table so the access endpoint can say "never read" for certain.

    pk "<tenant>#access#<day>"   sk "<shard:02d>"   b (the filter's bytes), w (write count), expires (TTL)

- A day's filter is SHARDS items: a key goes to the shard its hash names, so an item stays
  small (95,856 bits, 12 KB: 12 WCU a write, far under the 400 KB item limit), a write
  touches only the shards its keys fall in and a look-up reads only the shards it asks.
- Capacity and false positives: SHARD_CAPACITY keys per shard (CAPACITY = 320,000 per
  tenant and day) at FALSE_POSITIVE_RATE (1%, 7 hashes). A false positive only makes an
  unread entity look read (the safe side: it is kept); past the capacity the rate rises
  (about 6% at 1.5x, 16% at 2x: rbloom's bit count is fixed), never a false "not read".
- Concurrent writers (two containers recording into one shard) never lose a key: a write
  reads the shard, ORs its keys in, and puts it back only if the shard's write count `w` is
  still the one it read (or the shard is still absent); on a lost race it reads the winner's
  filter and adds its keys again (ATTEMPTS times, then Unavailable, 503: never a silent loss).
- A key already in the shard is not written again: the same reads every minute cost one
  GetItem per shard, not a write (and nothing at all once this process wrote them today).
- Filters expire (TTL) RETENTION_DAYS after their day: past the largest look-back the
  endpoint accepts.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Iterable
from typing import Any

from rbloom import Bloom

from chalicelib.errors import Unavailable
from chalicelib.store.failures import guarded
from chalicelib.store.models import UsageItem, connection

SHARDS = 32
SHARD_CAPACITY = 10_000
CAPACITY = SHARDS * SHARD_CAPACITY  # keys a tenant may record a day at the stated rate
FALSE_POSITIVE_RATE = 0.01
RETENTION_DAYS = 92  # the endpoint looks back at most 90 days; two more for time zones and clocks
ATTEMPTS = 12
DAY_S = 86_400


def _hash(key: str) -> int:
    """A stable 128-bit hash (rbloom's persisted filters need the same one in every process;
    Python's own str hash is salted per process)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=16).digest(), "big", signed=True)


def shard_of(key: str) -> int:
    """The shard a key lives in (a hash independent of the filter's own)."""
    return hashlib.blake2b(key.encode(), digest_size=2, person=b"shard").digest()[0] % SHARDS


def empty() -> Bloom:
    """A new shard filter."""
    return Bloom(SHARD_CAPACITY, FALSE_POSITIVE_RATE, _hash)


def _pk(tenant: str, day: int) -> str:
    return f"{tenant}#access#{day}"


def _table() -> str:
    return str(UsageItem.Meta.table_name)


def _client() -> Any:
    return connection().client


# What this process has written: (tenant, day, key). Bounded: forgetting costs one read.
_written: set[tuple[str, int, str]] = set()
_written_lock = threading.Lock()
WRITTEN_MAX = 200_000


def forget_written() -> None:
    """Forget what this process wrote (tests; a new process starts empty anyway)."""
    with _written_lock:
        _written.clear()


def _remember(tenant: str, day: int, keys: Iterable[str]) -> None:
    with _written_lock:
        if len(_written) > WRITTEN_MAX:
            _written.clear()
        _written.update((tenant, day, k) for k in keys)


@guarded
def add(tenant: str, day: int, keys: Iterable[str]) -> int:
    """Add keys to the tenant's filter of day (days since the epoch, UTC); the number of
    shards written. Returns only once every key is stored."""
    with _written_lock:
        todo = {k for k in keys if (tenant, day, k) not in _written}
    by_shard: dict[int, list[str]] = {}
    for key in todo:
        by_shard.setdefault(shard_of(key), []).append(key)
    written = 0
    for shard, shard_keys in sorted(by_shard.items()):
        written += _add_to_shard(tenant, day, shard, shard_keys)
        _remember(tenant, day, shard_keys)
    return written


def _add_to_shard(tenant: str, day: int, shard: int, keys: list[str]) -> int:
    """OR keys into one shard with a write conditioned on the shard's write count (see the
    module docstring); 1 when it wrote, 0 when every key was there already."""
    client, key = _client(), {"pk": {"S": _pk(tenant, day)}, "sk": {"S": f"{shard:02d}"}}
    expires = (day + 1 + RETENTION_DAYS) * DAY_S
    for attempt in range(ATTEMPTS):
        item = client.get_item(TableName=_table(), Key=key, ConsistentRead=True).get("Item")
        bloom = Bloom.load_bytes(bytes(item["b"]["B"]), _hash) if item else empty()
        if all(k in bloom for k in keys):
            return 0
        for k in keys:
            bloom.add(k)
        count = int(item["w"]["N"]) if item else 0
        condition = "w = :was" if item else "attribute_not_exists(pk)"
        values: dict[str, Any] = {":was": {"N": str(count)}} if item else {}
        try:
            client.put_item(
                TableName=_table(),
                Item={
                    **key,
                    "b": {"B": bloom.save_bytes()},
                    "w": {"N": str(count + 1)},
                    "expires": {"N": str(expires)},
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
            return 1
        except client.exceptions.ConditionalCheckFailedException:
            time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))  # another writer won: merge again
    raise Unavailable("Access filter write lost every race: try again", shard=shard, attempts=ATTEMPTS)


@guarded
def load(tenant: str, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Bloom]:
    """The tenant's filter shards named by (day, shard), read with BatchGetItem (100 keys a
    call, unprocessed keys retried); absent shards are absent: nothing recorded there."""
    keys = [{"pk": {"S": _pk(tenant, day)}, "sk": {"S": f"{shard:02d}"}} for day, shard in sorted(set(wanted))]
    found: dict[tuple[int, int], Bloom] = {}
    client, table = _client(), _table()
    for start in range(0, len(keys), 100):
        pending: list[dict[str, Any]] = keys[start : start + 100]
        for attempt in range(ATTEMPTS):
            answer = client.batch_get_item(RequestItems={table: {"Keys": pending, "ConsistentRead": True}})
            for item in answer.get("Responses", {}).get(table, []):
                day = int(item["pk"]["S"].rsplit("#", 1)[1])
                found[(day, int(item["sk"]["S"]))] = Bloom.load_bytes(bytes(item["b"]["B"]), _hash)
            pending = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys") or []
            if not pending:
                break
            time.sleep(min(1.0, 0.05 * 2**attempt))
        else:
            raise Unavailable("Access filter read left keys unprocessed: try again", keys=len(pending))
    return found


def holds(shards: dict[tuple[int, int], Bloom], day: int, key: str) -> bool:
    """Whether the day's filter (of load's answer) may hold key: False means never recorded."""
    bloom = shards.get((day, shard_of(key)))
    return bloom is not None and key in bloom
