"""What queries read, and whether an entity was read: the access endpoint's rules.

A query records what it read as (kind, name, source) triples: each becomes two keys in the
tenant's filter of the day (store/accessfilters.py), the name alone and the name with its
source, so that "was cpu.load read?" and "was cpu.load of web-01 read?" are both one
look-up. A Bloom filter never forgets a key: "not accessed" is certain, "accessed" is
right but for the filter's false-positive rate.

`hostPrefix` is answered over the hosts the series index knows for the name (store/series:
at most MAX_HOSTS of them, else 400: be more specific) and the prefix itself as a whole host
name. A host whose series left the index (past the tier's retention) is found only by its
whole name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from chalicelib.domain.context import Context
from chalicelib.errors import Invalid
from chalicelib.store import accessfilters, series

Kind = Literal["metric", "histogram", "span"]
KINDS: tuple[str, ...] = get_args(Kind)
Read = tuple[str, str, str]  # (kind, name, source); source "" when the read named none
DAY_MS = 86_400_000
MAX_DAYS = 90
DEFAULT_DAYS = 7
MAX_HOSTS = 1000
MAX_NAME = 256
MAX_PREFIX = 128


def _key(kind: str, name: str, source: str = "") -> str:
    return f"{kind}\x00{name}\x00{source}" if source else f"{kind}\x00{name}"


def keys_of(reads: Iterable[Read]) -> set[str]:
    """The filter keys of some reads: each name, and each name with its source."""
    keys = set()
    for kind, name, source in reads:
        if kind not in KINDS:
            raise ValueError(f"Unknown kind of read {kind!r}")
        keys.add(_key(kind, name))
        if source:
            keys.add(_key(kind, name, source))
    return keys


def record(ctx: Context, reads: Iterable[Read]) -> int:
    """Record what a query read, in the tenant's filter of today (UTC); the number of
    filter shards written (0 when everything was recorded before). Returns once stored."""
    keys = keys_of(reads)
    return accessfilters.add(ctx.tenant, ctx.now() // DAY_MS, keys) if keys else 0


@dataclass(frozen=True)
class Day:
    """Whether the entity was read on one day (UTC)."""

    day: int  # days since the epoch

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.day * 86_400, tz=UTC).strftime("%Y-%m-%d")


def hosts(ctx: Context, kind: str, name: str, prefix: str) -> list[str]:
    """The hosts a prefix names: the index's hosts of the name starting with it, and the
    prefix itself (400 past MAX_HOSTS)."""
    found = {info.key.source for info in series.find_series(ctx.tenant, kind, name)}  # type: ignore[arg-type]
    matching = sorted({h for h in found if h.startswith(prefix)} | {prefix})
    if len(matching) > MAX_HOSTS:
        raise Invalid(f"hostPrefix {prefix!r} matches more than {MAX_HOSTS} hosts of {name}: be more specific")
    return matching


def accessed(
    ctx: Context, kind: str, name: str, *, host_prefix: str | None = None, days: int = DEFAULT_DAYS
) -> list[tuple[Day, bool]]:
    """For each of the last `days` days (oldest first, today included), whether the entity
    (of a host the prefix names, when given) may have been read: False is certain."""
    if kind not in KINDS:
        raise Invalid(f"entity must be one of {', '.join(KINDS)}, not {kind!r}")
    if not name or len(name) > MAX_NAME:
        raise Invalid(f"name: 1 to {MAX_NAME} characters")
    if host_prefix is not None and (not host_prefix or len(host_prefix) > MAX_PREFIX):
        raise Invalid(f"hostPrefix: 1 to {MAX_PREFIX} characters")
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"usageThresholdDays must be between 1 and {MAX_DAYS}")
    wanted = [_key(kind, name, h) for h in hosts(ctx, kind, name, host_prefix)] if host_prefix else [_key(kind, name)]
    today = ctx.now() // DAY_MS
    window = range(today - days + 1, today + 1)
    shards = accessfilters.load(ctx.tenant, [(d, accessfilters.shard_of(k)) for d in window for k in wanted])
    return [(Day(d), any(accessfilters.holds(shards, d, k) for k in wanted)) for d in window]
