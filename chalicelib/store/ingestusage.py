"""Ingestion usage in the usage table: points counted per tenant, account and ingestion
policy per hour, each message exactly once (chalicelib/domain/ingestion.py decides what).

    counter   pk "<tenant>#ingest#<dimension>"   sk "<hour start, epoch s:010d>"   count, expires
    marker    pk "<tenant>#ingest#counted"       sk "<batch>#<part>"                expires

A dimension is "<kind>:t" (the tenant), "<kind>:a:<account>" or "p:<policy id>". A message's
counts and its marker are one TransactWriteItems whose marker Put is conditional on the
marker's absence: a message counted once is never counted again, whoever redelivers it, and
a transaction that fails leaves neither. Throttling and outages leave as Unavailable.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store.failures import guarded
from chalicelib.store.models import UsageItem, transaction_connection

# Counters answer a month of hours in the usage CSV, and a year of history besides.
COUNTER_DAYS = 400
# Markers outlive every redelivery (SQS keeps a message 4 days here, 14 at most) and the
# window in which a client resends a batch under the same Idempotency-Key.
MARKER_DAYS = 14
CONFLICT_RETRIES = 8
DAY_S = 86_400


def _pk(tenant: str, dimension: str) -> str:
    return f"{tenant}#ingest#{dimension}"


def _sk(hour: int) -> str:
    return f"{hour:010d}"


def _expiry(days: int) -> datetime:
    return datetime.fromtimestamp(time.time() + days * DAY_S, tz=UTC)


def _reasons(exc: TransactWriteError) -> set[str]:
    return {str(r.code) for r in getattr(exc, "cancellation_reasons", None) or [] if r is not None and r.code}


@guarded
def count_once(tenant: str, marker: str, hour: int, counts: Mapping[str, int]) -> bool:
    """Add counts to their dimensions' rows of hour, and write marker, in one transaction;
    False (nothing added) when the marker exists already. A transaction cancelled only by a
    concurrent one (every message of a tenant adds to its tenant row) is run again."""
    counter_expiry, marker_expiry = _expiry(COUNTER_DAYS), _expiry(MARKER_DAYS)
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(
                    UsageItem(_pk(tenant, "counted"), marker, expires=marker_expiry),
                    condition=UsageItem.pk.does_not_exist(),
                )
                for dimension, n in sorted(counts.items()):
                    tx.update(
                        UsageItem(_pk(tenant, dimension), _sk(hour)),
                        actions=[UsageItem.hits.add(n), UsageItem.expires.set(counter_expiry)],
                    )
            return True
        except TransactWriteError as exc:
            reasons = _reasons(exc)
            if "ConditionalCheckFailed" in reasons:
                return False
            if attempt == CONFLICT_RETRIES or reasons - {"None"} != {"TransactionConflict"}:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    return False  # not reached: the last attempt raises


@guarded
def current(tenant: str, dimensions: Sequence[str], hour: int) -> dict[str, int]:
    """The counts of some dimensions in one hour (one BatchGetItem)."""
    keys = [(_pk(tenant, d), _sk(hour)) for d in dict.fromkeys(dimensions)]
    prefix = len(_pk(tenant, ""))
    return {item.pk[prefix:]: int(item.hits or 0) for item in UsageItem.batch_get(keys)}


@guarded
def hours(tenant: str, dimension: str, first: int, last: int) -> dict[int, int]:
    """One dimension's counts per hour from first to last (epoch s, inclusive): one Query."""
    condition = UsageItem.sk.between(_sk(first), _sk(last))
    return {int(item.sk): int(item.hits or 0) for item in UsageItem.query(_pk(tenant, dimension), condition)}
