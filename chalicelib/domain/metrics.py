"""The tenant's time series as the query engine reads them: a DataSource
(chalicelib/query/data.py) over the timeseries table (store/series.py), the source records
(their tags) and the events.

Metric wildcards are resolved on the index: the names that start with the pattern's
literal prefix (one Query), matched against the whole pattern, then each matching name's
series (one Query per name). Windows are half-open here and inclusive in the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.domain import events as event_domain
from chalicelib.domain.context import Context
from chalicelib.query.data import EventRecord, HistogramPoint, Kind, Point, QueryTooLarge, SeriesKey, glob_match
from chalicelib.store import series as store
from chalicelib.store.repository import Entity

SOURCE_KIND = "source"
EVENT_PAGE = 1000
READ_CHUNK = 32  # series read together (the store reads each chunk in parallel)


def _key(key: store.SeriesKey) -> SeriesKey:
    return SeriesKey(key.metric, key.source, key.tags)


def _stored(kind: Kind, key: SeriesKey) -> store.SeriesKey:
    return store.SeriesKey(kind, key.metric, key.source, key.tags)


def _event(entity: Entity) -> EventRecord:
    doc = entity.doc
    annotations = doc.get("annotations") or {}
    return EventRecord(
        id=entity.id,
        name=str(doc.get("name", "")),
        start=int(doc["startTime"]),
        end=int(doc["endTime"]) if doc.get("endTime") is not None else None,
        hosts=tuple(doc.get("hosts") or ()),
        tags=tuple(sorted(entity.tags)),
        annotations=tuple(sorted((str(k), str(v)) for k, v in annotations.items())),
        ephemeral=bool(doc.get("isEphemeral", False)),
    )


class TenantData:
    """One tenant's series, source tags and events, read through store/ and the domain."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def find(self, metric_glob: str, kind: Kind, limit: int) -> list[SeriesKey]:
        tenant = self.ctx.tenant
        if "*" in metric_glob:
            prefix = metric_glob.split("*", 1)[0]
            names = [m.name for m in store.metric_names(tenant, kind, prefix) if glob_match(metric_glob, m.name)]
        else:
            names = [metric_glob]
        found: list[SeriesKey] = []
        for name in names:
            found.extend(_key(info.key) for info in store.find_series(tenant, kind, name))
            if len(found) > limit:
                break
        return sorted(found)[: limit + 1]

    def points(self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int, limit: int) -> dict[SeriesKey, list[Point]]:
        if not keys:
            return {}
        out: dict[SeriesKey, list[Point]] = {}
        read = 0
        for n in range(0, len(keys), READ_CHUNK):  # a chunk at a time, to stop soon past the limit
            chunk = [_stored("metric", k) for k in keys[n : n + READ_CHUNK]]
            for key, points in store.read_points(self.ctx.tenant, chunk, start_ms, end_ms - 1).items():
                out[_key(key)] = points
                read += len(points)
            if read > limit:
                raise QueryTooLarge(f"the query reads more than {limit} points")
        return out

    def histograms(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int, limit: int
    ) -> dict[SeriesKey, list[HistogramPoint]]:
        if not keys:
            return {}
        stored = [_stored("histogram", k) for k in keys]
        read = store.read_histograms(self.ctx.tenant, stored, start_ms, end_ms - 1)
        out = {_key(k): [(h.timestamp, h.centroids) for h in found] for k, found in read.items()}
        if sum(len(h) for h in out.values()) > limit:
            raise QueryTooLarge(f"the query reads more than {limit} histogram points")
        return out

    def source_tags(self, sources: Sequence[str]) -> dict[str, frozenset[str]]:
        records = self.ctx.repo(SOURCE_KIND).get_many(list(sources)) if sources else []
        return {r.id: frozenset(r.tags) for r in records if r.tags}

    def events(self, start_ms: int, end_ms: int, limit: int) -> list[EventRecord]:
        found: list[Any] = []
        cursor = None
        while len(found) <= limit:
            page = event_domain.window(self.ctx, start_ms, end_ms - 1, limit=EVENT_PAGE, cursor=cursor)
            found.extend(page.items)
            cursor = page.cursor
            if not cursor:
                break
        return sorted((_event(e) for e in found[: limit + 1]), key=lambda e: (e.start, e.id))


def data(ctx: Context) -> TenantData:
    """The tenant's data, as the query engine reads it."""
    return TenantData(ctx)
