"""What the query engine reads, and the protocol through which it reads it.

The engine (engine.py) knows nothing of DynamoDB: it asks a `DataSource` for the series
keys a `ts()` / `hs()` names, for their points or histograms in a window, for the tags of
sources and for events. The store-backed source lives in chalicelib/domain/metrics.py; an
in-memory one (memory.py) serves the unit tests. Times are epoch milliseconds, windows are
half-open [start, end).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol

from chalicelib.errors import Invalid

Point = tuple[int, float]  # (t_ms, value)
Centroid = tuple[float, int]  # (mean, count)
HistogramPoint = tuple[int, tuple[Centroid, ...]]  # (t_ms, centroids)
Kind = Literal["metric", "histogram"]


class QueryTooLarge(Invalid):
    """The query would read or answer more than the engine's bounds allow (400)."""


@dataclass(frozen=True, order=True)
class SeriesKey:
    """What tells one series from another: metric, source and point tags (sorted pairs).
    The results of aggregates reuse it as their label (metric "" when they mix metrics)."""

    metric: str
    source: str
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, metric: str, source: str, tags: Mapping[str, str] | None = None) -> SeriesKey:
        return cls(metric, source, tuple(sorted((tags or {}).items())))

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True)
class EventRecord:
    """An event as events() shows it: annotations carry its type, severity and details."""

    id: str
    name: str
    start: int
    end: int | None = None
    hosts: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = field(default=())
    ephemeral: bool = False

    @property
    def annotation_map(self) -> dict[str, str]:
        return dict(self.annotations)


class DataSource(Protocol):
    """What the engine reads. `limit` bounds the answer: a source may stop early and raise
    QueryTooLarge once past it (the engine checks again either way)."""

    def find(self, metric_glob: str, kind: Kind, limit: int) -> list[SeriesKey]:
        """The keys of the series whose metric matches the glob (`*`: any characters)."""
        ...

    def points(self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int, limit: int) -> dict[SeriesKey, list[Point]]:
        """Each key's points in [start, end), in time order (one per timestamp)."""
        ...

    def histograms(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int, limit: int
    ) -> dict[SeriesKey, list[HistogramPoint]]:
        """Each key's histogram points in [start, end), in time order."""
        ...

    def source_tags(self, sources: Sequence[str]) -> dict[str, frozenset[str]]:
        """The tags ("host tags") of each named source that has any."""
        ...

    def events(self, start_ms: int, end_ms: int, limit: int) -> list[EventRecord]:
        """The events that start in [start, end)."""
        ...


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def glob_match(pattern: str, text: str) -> bool:
    """Whether text matches a Wavefront wildcard pattern (`*` is any run of characters)."""
    if "*" not in pattern:
        return pattern == text
    return _glob(pattern).fullmatch(text) is not None
