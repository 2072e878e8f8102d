"""A DataSource held in memory: what the engine's unit tests query, and a reference for
what a store-backed source must answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chalicelib.query.data import (
    Centroid,
    EventRecord,
    HistogramPoint,
    Kind,
    Point,
    QueryTooLarge,
    SeriesKey,
    glob_match,
)


@dataclass
class MemorySource:
    """Series, histograms, source tags and events added by the caller."""

    metrics: dict[SeriesKey, dict[int, float]] = field(default_factory=dict)
    histogram_series: dict[SeriesKey, dict[int, tuple[Centroid, ...]]] = field(default_factory=dict)
    tags_of_sources: dict[str, frozenset[str]] = field(default_factory=dict)
    event_records: list[EventRecord] = field(default_factory=list)

    def add(self, metric: str, source: str, points: Sequence[Point], tags: Mapping[str, str] | None = None) -> None:
        """Points of one series (the same timestamp twice is one point: the last wins)."""
        series = self.metrics.setdefault(SeriesKey.of(metric, source, tags), {})
        series.update((int(t), float(v)) for t, v in points)

    def add_histogram(
        self, metric: str, source: str, points: Sequence[HistogramPoint], tags: Mapping[str, str] | None = None
    ) -> None:
        series = self.histogram_series.setdefault(SeriesKey.of(metric, source, tags), {})
        series.update((int(t), tuple(c)) for t, c in points)

    def tag_source(self, source: str, *tags: str) -> None:
        self.tags_of_sources[source] = self.tags_of_sources.get(source, frozenset()) | set(tags)

    def add_event(self, event: EventRecord) -> None:
        self.event_records.append(event)

    # ---- the DataSource protocol ----------------------------------------------------------

    def find(self, metric_glob: str, kind: Kind, limit: int) -> list[SeriesKey]:
        held = self.metrics if kind == "metric" else self.histogram_series
        return sorted(k for k in held if glob_match(metric_glob, k.metric))[: limit + 1]

    def points(self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int, limit: int) -> dict[SeriesKey, list[Point]]:
        out = {k: sorted(p for p in self.metrics.get(k, {}).items() if start_ms <= p[0] < end_ms) for k in keys}
        if sum(len(p) for p in out.values()) > limit:
            raise QueryTooLarge(f"the query reads more than {limit} points")
        return out

    def histograms(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int, limit: int
    ) -> dict[SeriesKey, list[HistogramPoint]]:
        return {
            k: sorted(p for p in self.histogram_series.get(k, {}).items() if start_ms <= p[0] < end_ms) for k in keys
        }

    def source_tags(self, sources: Sequence[str]) -> dict[str, frozenset[str]]:
        return {s: self.tags_of_sources[s] for s in sources if s in self.tags_of_sources}

    def events(self, start_ms: int, end_ms: int, limit: int) -> list[EventRecord]:
        found = [e for e in self.event_records if start_ms <= e.start < end_ms]
        return sorted(found, key=lambda e: (e.start, e.id))[: limit + 1]
