"""The timeseries table: points, histograms, spans, and the index that finds series.

One table, string keys, every key beginning with the tenant (docs/architecture.md, "Time
series", has the arithmetic behind these choices):

    point         pk "<tenant>#p#<series id>#<day>"          sk "<t ms:013d>"   v (8-byte double)
    histogram     pk "<tenant>#h#<series id>#<day>"          sk "<t ms:013d>"   c (doubles: mean, count, ...)
    span          pk "<tenant>#t#<trace id>"                 sk "<span id>"     d (JSON)
    span logs     pk "<tenant>#t#<trace id>"                 sk "<span id>#logs" d (JSON)
    trace         pk "<tenant>#r#<shard 0-f>"                sk "<trace id>"    (the tenant's traces)
    metric name   pk "<tenant>#c#<kind>"                     sk "<metric>"      f, l (first/last seen ms)
    series        pk "<tenant>#i#<kind>#<metric>"            sk "<series id>"   s (source), g (tags JSON), f, l

- A series is (kind, metric, source, point tags); its id is a 64-bit hash of them. A point's
  key is its series, day and timestamp: the same series and timestamp written twice is one
  point (the second write replaces the first), whatever retried it.
- A partition holds one series for one day: a series is written at most as often as it has
  points (Wavefront's finest resolution is 1 s), far below a partition's 1,000 writes/s, and
  a tenant's load spreads over as many partitions as it has series. No hot partition grows
  with the tenant's rate.
- The index (metric names, series) is written when a series is new or its last-seen time is
  old (INDEX_REFRESH_MS), not with every point: this process remembers what it wrote. Its
  partitions are per tenant and kind (names) and per metric (series).
- The trace index lists a tenant's traces (16 partitions by a hash of the trace id, so a
  tenant's new traces spread as its spans do): deleting a tenant finds its spans by key.
- Every item carries `x`, its expiry (epoch s, DynamoDB TTL): the caller's retention.
- Values are IEEE doubles in binary: every float the data format allows round-trips, and
  no decimal conversion is paid on the hot path.

Writes of points, histograms and spans are BatchWriteItem (25 items a call, unprocessed items
retried with backoff); reads are Query. No Scan. Throttling and outages leave as Unavailable
(503: store/failures.py).
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from chalicelib.errors import StoreError
from chalicelib.store.failures import guarded
from chalicelib.store.models import TimeseriesItem, connection

Kind = Literal["metric", "histogram", "span"]
DAY_MS = 86_400_000
BATCH = 25  # BatchWriteItem's limit
BATCH_ATTEMPTS = 8
# How old a series' last-seen time may grow before a write refreshes it (and its metric's).
INDEX_REFRESH_MS = 10 * 60 * 1000
# Parallel Queries of one read (botocore clients are thread-safe).
READ_THREADS = 8
_DOUBLE = struct.Struct(">d")
TRACE_SHARDS = 16


def _table() -> str:
    return str(TimeseriesItem.Meta.table_name)


def _client() -> Any:
    return connection().client


@dataclass(frozen=True)
class SeriesKey:
    """One series: kind, metric name, source and point tags (sorted (key, value) pairs)."""

    kind: Kind
    metric: str
    source: str
    tags: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def of(kind: Kind, metric: str, source: str, tags: Mapping[str, str] | None = None) -> SeriesKey:
        return SeriesKey(kind, metric, source, tuple(sorted((tags or {}).items())))

    @property
    def id(self) -> str:
        """A 64-bit hash of the series, hex: the point partitions' middle part."""
        text = "\x00".join([self.kind, self.metric, self.source, *(f"{k}={v}" for k, v in self.tags)])
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True)
class SeriesInfo:
    """A series as the index knows it: when it was first and last seen (epoch ms)."""

    key: SeriesKey
    first_seen: int
    last_seen: int


@dataclass(frozen=True)
class MetricName:
    """A metric (or histogram, or span) name of a tenant, and when it was first and last seen."""

    name: str
    first_seen: int
    last_seen: int


@dataclass(frozen=True)
class Histogram:
    """One histogram point: (mean, count) centroids."""

    timestamp: int
    centroids: tuple[tuple[float, int], ...]


@dataclass
class Written:
    """What a write stored: items written, series whose index it refreshed."""

    items: int = 0
    noted: list[SeriesKey] = field(default_factory=list)


def _prefix(kind: Kind) -> str:
    return {"metric": "p", "histogram": "h", "span": "t"}[kind]


def _data_pk(tenant: str, key: SeriesKey, day: int) -> str:
    return data_partition(tenant, key.kind, key.id, day)


def data_partition(tenant: str, kind: Kind, series_id: str, day: int) -> str:
    """The partition of one series' points (or histograms) of one day (epoch ms // DAY_MS)."""
    return f"{tenant}#{_prefix(kind)}#{series_id}#{day}"


def _sk(timestamp: int) -> str:
    return f"{timestamp:013d}"


# ---- writing -----------------------------------------------------------------------------


def _write_batch(requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem, retrying what DynamoDB leaves unprocessed (backoff; StoreError at last)."""
    client, table, pending = _client(), _table(), requests
    for attempt in range(BATCH_ATTEMPTS):
        answer = client.batch_write_item(RequestItems={table: pending})
        pending = answer.get("UnprocessedItems", {}).get(table) or []
        if not pending:
            return
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise StoreError("Time series write left items unprocessed", items=len(pending))


def _put_all(items: Iterable[dict[str, Any]]) -> int:
    """Put items in batches of 25. Items with the same key within one batch are not allowed
    by DynamoDB: the later one wins, as a later write would."""
    count = 0
    chunk: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        chunk[(item["pk"]["S"], item["sk"]["S"])] = item
        if len(chunk) == BATCH:
            _write_batch([{"PutRequest": {"Item": i}} for i in chunk.values()])
            count += len(chunk)
            chunk = {}
    if chunk:
        _write_batch([{"PutRequest": {"Item": i}} for i in chunk.values()])
        count += len(chunk)
    return count


@guarded
def write_points(tenant: str, points: Iterable[tuple[SeriesKey, int, float]], *, expires: int) -> Written:
    """Store (series, timestamp ms, value) points that vanish at expires (epoch s), and
    refresh the index of their series (`note_series`)."""
    seen: dict[SeriesKey, int] = {}
    earliest: dict[SeriesKey, int] = {}
    x = {"N": str(expires)}

    def items() -> Iterator[dict[str, Any]]:
        for key, timestamp, value in points:
            if seen.get(key, -1) < timestamp:
                seen[key] = timestamp
            if earliest.get(key, timestamp) >= timestamp:
                earliest[key] = timestamp
            yield {
                "pk": {"S": _data_pk(tenant, key, timestamp // DAY_MS)},
                "sk": {"S": _sk(timestamp)},
                "v": {"B": _DOUBLE.pack(value)},
                "x": x,
            }

    written = Written(items=_put_all(items()))
    written.noted = note_series(tenant, seen, expires=expires, first_seen=earliest)
    return written


@guarded
def write_histograms(tenant: str, points: Iterable[tuple[SeriesKey, Histogram]], *, expires: int) -> Written:
    """Store histogram points (the key's kind must be "histogram"); as write_points."""
    seen: dict[SeriesKey, int] = {}
    earliest: dict[SeriesKey, int] = {}
    x = {"N": str(expires)}

    def items() -> Iterator[dict[str, Any]]:
        for key, histogram in points:
            if seen.get(key, -1) < histogram.timestamp:
                seen[key] = histogram.timestamp
            if earliest.get(key, histogram.timestamp) >= histogram.timestamp:
                earliest[key] = histogram.timestamp
            flat = [number for mean, count in histogram.centroids for number in (mean, float(count))]
            yield {
                "pk": {"S": _data_pk(tenant, key, histogram.timestamp // DAY_MS)},
                "sk": {"S": _sk(histogram.timestamp)},
                "c": {"B": struct.pack(f">{len(flat)}d", *flat)},
                "x": x,
            }

    written = Written(items=_put_all(items()))
    written.noted = note_series(tenant, seen, expires=expires, first_seen=earliest)
    return written


def trace_index(tenant: str, shard: int) -> str:
    """One of the partitions listing a tenant's traces."""
    return f"{tenant}#r#{shard:x}"


def _trace_shard(trace: str) -> int:
    return hashlib.blake2b(trace.encode(), digest_size=1).digest()[0] % TRACE_SHARDS


@guarded
def write_spans(tenant: str, spans: Iterable[tuple[str, str, Mapping[str, Any]]], *, expires: int) -> int:
    """Store span documents (trace id, span id, document); a span id ending in "#logs" holds
    that span's logs. The same trace and span written twice is one span. Each trace is
    listed in the trace index in the same batches. The number of spans written."""
    x = {"N": str(expires)}
    traces: set[str] = set()

    def items() -> Iterator[dict[str, Any]]:
        for trace, span, doc in spans:
            traces.add(trace)
            yield {
                "pk": {"S": f"{tenant}#t#{trace}"},
                "sk": {"S": span},
                "d": {"S": json.dumps(doc, separators=(",", ":"), sort_keys=True)},
                "x": x,
            }

    def listed() -> Iterator[dict[str, Any]]:
        yield from items()
        for trace in sorted(traces):
            yield {"pk": {"S": trace_index(tenant, _trace_shard(trace))}, "sk": {"S": trace}, "x": x}

    return _put_all(listed()) - len(traces)


# What this process wrote to the index lately: (tenant, series id) -> last-seen written.
_noted: dict[tuple[str, str], int] = {}
_noted_names: dict[tuple[str, str, str], int] = {}
_noted_lock = threading.Lock()
NOTED_MAX = 200_000  # entries kept before the memory is cleared (the index tolerates repeats)


def forget_noted() -> None:
    """Forget what the index was told (tests; a new process starts empty anyway)."""
    with _noted_lock:
        _noted.clear()
        _noted_names.clear()


def _stale(memory: dict[Any, int], key: Any, last_seen: int) -> bool:
    """Whether the index should hear of key's last-seen time (not told within the refresh)."""
    with _noted_lock:
        known = memory.get(key)
        return known is None or last_seen >= known + INDEX_REFRESH_MS


def _told(memory: dict[Any, int], key: Any, last_seen: int) -> None:
    """Remember that the index was told (after the write succeeded)."""
    with _noted_lock:
        if len(memory) > NOTED_MAX:
            memory.clear()
        memory[key] = max(last_seen, memory.get(key, last_seen))


def _touch(
    pk: str, sk: str, last_seen: int, expires: int, extra: Mapping[str, Any], first_seen: int | None = None
) -> None:
    """Set first seen (once: the earliest point of the first write), last seen (only
    forward), expiry and extra attributes."""
    names = {"#f": "f", "#l": "l", "#x": "x"}
    first = last_seen if first_seen is None else min(first_seen, last_seen)
    values: dict[str, Any] = {":t": {"N": str(last_seen)}, ":x": {"N": str(expires)}, ":f": {"N": str(first)}}
    sets = ["#f = if_not_exists(#f, :f)", "#l = :t", "#x = :x"]
    for i, (name, value) in enumerate(extra.items()):
        names[f"#e{i}"] = name
        values[f":e{i}"] = value
        sets.append(f"#e{i} = :e{i}")
    try:
        _client().update_item(
            TableName=_table(),
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_not_exists(#l) OR #l < :t",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except _client().exceptions.ConditionalCheckFailedException:
        pass  # already seen later: last seen only moves forward


@guarded
def note_series(
    tenant: str,
    last_seen: Mapping[SeriesKey, int],
    *,
    expires: int,
    first_seen: Mapping[SeriesKey, int] | None = None,
) -> list[SeriesKey]:
    """Record series (and their metric names) in the index with their last-seen times (and,
    for a new series, the earliest time of the points written with it: a tenant's purge
    reads its days from there); only what this process has not written within
    INDEX_REFRESH_MS. The series written."""
    noted = []
    for key, seen in last_seen.items():
        if not _stale(_noted, (tenant, key.id), seen):
            continue
        tags = json.dumps(dict(key.tags), separators=(",", ":"), sort_keys=True)
        extra = {"s": {"S": key.source}, "g": {"S": tags}}
        first = (first_seen or {}).get(key)
        _touch(f"{tenant}#i#{key.kind}#{key.metric}", key.id, seen, expires, extra, first)
        name = (tenant, key.kind, key.metric)
        if _stale(_noted_names, name, seen):
            _touch(f"{tenant}#c#{key.kind}", key.metric, seen, expires, {})
            _told(_noted_names, name, seen)
        _told(_noted, (tenant, key.id), seen)
        noted.append(key)
    return noted


# ---- reading -----------------------------------------------------------------------------


def _query(**request: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query, page after page."""
    client = _client()
    while True:
        answer = client.query(TableName=_table(), **request)
        yield from answer.get("Items", [])
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


@guarded
def metric_names(tenant: str, kind: Kind = "metric", prefix: str = "") -> Iterator[MetricName]:
    """The tenant's names of a kind starting with prefix, in name order."""
    condition = "pk = :pk" + (" AND begins_with(sk, :p)" if prefix else "")
    values: dict[str, Any] = {":pk": {"S": f"{tenant}#c#{kind}"}}
    if prefix:
        values[":p"] = {"S": prefix}
    for item in _query(KeyConditionExpression=condition, ExpressionAttributeValues=values):
        yield MetricName(item["sk"]["S"], int(item["f"]["N"]), int(item["l"]["N"]))


@guarded
def find_series(tenant: str, kind: Kind, metric: str) -> list[SeriesInfo]:
    """Every series of one metric name the index knows."""
    found = []
    values = {":pk": {"S": f"{tenant}#i#{kind}#{metric}"}}
    for item in _query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values):
        tags = json.loads(item["g"]["S"])
        key = SeriesKey.of(kind, metric, item["s"]["S"], tags)
        found.append(SeriesInfo(key, int(item["f"]["N"]), int(item["l"]["N"])))
    return found


def _days(start: int, end: int) -> range:
    return range(start // DAY_MS, end // DAY_MS + 1)


def _read_one(tenant: str, key: SeriesKey, start: int, end: int, attribute: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for day in _days(start, end):
        items.extend(
            _query(
                KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":pk": {"S": _data_pk(tenant, key, day)},
                    ":a": {"S": _sk(max(start, day * DAY_MS))},
                    ":b": {"S": _sk(min(end, day * DAY_MS + DAY_MS - 1))},
                },
                ProjectionExpression=f"sk, {attribute}",
            )
        )
    return items


def _read(tenant: str, keys: Sequence[SeriesKey], start: int, end: int, attribute: str) -> list[list[dict[str, Any]]]:
    if len(keys) <= 1:
        return [_read_one(tenant, k, start, end, attribute) for k in keys]
    with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(keys))) as pool:
        return list(pool.map(lambda k: _read_one(tenant, k, start, end, attribute), keys))


@guarded
def read_points(
    tenant: str, keys: Sequence[SeriesKey], start: int, end: int
) -> dict[SeriesKey, list[tuple[int, float]]]:
    """The points of each series with start <= timestamp <= end (epoch ms), in time order."""
    read = _read(tenant, keys, start, end, "v")
    return {
        key: [(int(i["sk"]["S"]), _DOUBLE.unpack(i["v"]["B"])[0]) for i in items]
        for key, items in zip(keys, read, strict=True)
    }


@guarded
def read_histograms(tenant: str, keys: Sequence[SeriesKey], start: int, end: int) -> dict[SeriesKey, list[Histogram]]:
    """The histogram points of each series in [start, end] (epoch ms), in time order."""
    read = _read(tenant, keys, start, end, "c")
    out: dict[SeriesKey, list[Histogram]] = {}
    for key, items in zip(keys, read, strict=True):
        histograms = []
        for item in items:
            raw = bytes(item["c"]["B"])
            flat = struct.unpack(f">{len(raw) // 8}d", raw)
            centroids = tuple((flat[i], int(flat[i + 1])) for i in range(0, len(flat), 2))
            histograms.append(Histogram(int(item["sk"]["S"]), centroids))
        out[key] = histograms
    return out


@guarded
def read_trace(tenant: str, trace_id: str) -> dict[str, dict[str, Any]]:
    """The spans (and span logs, under "<span id>#logs") of one trace, by span id."""
    values = {":pk": {"S": f"{tenant}#t#{trace_id}"}}
    return {
        item["sk"]["S"]: json.loads(item["d"]["S"])
        for item in _query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values)
    }
