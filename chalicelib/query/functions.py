"""The arithmetic of the query functions, over plain point lists (no parsing, no I/O).

A series' points are [(t_ms, value)] in time order, one per timestamp. Two rules from
Wavefront recur: an *interpolating* operation (an aggregate, arithmetic between series)
gives a series a value at a timestamp where it has no point by drawing a line between the
points around it, and only inside its own first..last point; a *raw* one uses the points
that are there.
"""

from __future__ import annotations

import math
import operator
import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence

from chalicelib.query.data import Centroid, Point

Summarize = Callable[[Sequence[float]], float]


def _last(values: Sequence[float]) -> float:
    return values[-1]


def _first(values: Sequence[float]) -> float:
    return values[0]


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


# How a bucket (align(), the answer's granularity) sums up the points that fall in it.
SUMMARIES: dict[str, Summarize] = {
    "MEAN": _mean,
    "MEDIAN": statistics.median,
    "MIN": min,
    "MAX": max,
    "SUM": math.fsum,
    "COUNT": lambda values: float(len(values)),
    "LAST": _last,
    "FIRST": _first,
}

# What an aggregate does with the values the series of a group have at one timestamp.
AGGREGATES: dict[str, Summarize] = {
    "sum": math.fsum,
    "avg": _mean,
    "min": min,
    "max": max,
    "count": lambda values: float(len(values)),
}


def values_at(points: Sequence[Point], times: Sequence[int]) -> list[float | None]:
    """The series' value at each of times (sorted): its point, a linear interpolation
    between the points around it, or None outside its first..last point."""
    out: list[float | None] = [None] * len(times)
    if not points:
        return out
    first, last = points[0][0], points[-1][0]
    lo, hi = bisect_left(times, first), bisect_right(times, last)
    i = 0
    for n in range(lo, hi):
        t = times[n]
        while points[i][0] < t:
            i += 1
        pt, pv = points[i]
        if pt == t:
            out[n] = pv
        else:  # points[i-1] < t < points[i]
            (t0, v0), (t1, v1) = points[i - 1], points[i]
            out[n] = v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return out


def aggregate(members: Sequence[Sequence[Point]], how: str, *, interpolate: bool) -> list[Point]:
    """One series from many: at each timestamp where any member has a point, `how`
    (sum avg min max count) over the members' values there (interpolated or raw)."""
    summarize = AGGREGATES[how]
    live = [m for m in members if m]
    if len(live) == 1 and how != "count":
        return list(live[0])
    if not interpolate:
        columns: dict[int, list[float]] = {}
        for member in live:
            for t, v in member:
                columns.setdefault(t, []).append(v)
        return [(t, summarize(columns[t])) for t in sorted(columns)]
    times = sorted({t for member in live for t, _ in member})
    rows: list[list[float]] = [[] for _ in times]
    for member in live:
        for row, value in zip(rows, values_at(member, times), strict=True):
            if value is not None:
                row.append(value)
    return [(t, summarize(row)) for t, row in zip(times, rows, strict=True) if row]


def _divide(a: float, b: float) -> float | None:
    return a / b if b else None


def _modulo(a: float, b: float) -> float | None:
    return math.fmod(a, b) if b else None


def _truth(test: Callable[[float, float], bool]) -> Callable[[float, float], float]:
    return lambda a, b: 1.0 if test(a, b) else 0.0


# Binary operators: None means "no point" (division by zero).
OPERATORS: dict[str, Callable[[float, float], float | None]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": _modulo,
    ">": _truth(operator.gt),
    "<": _truth(operator.lt),
    ">=": _truth(operator.ge),
    "<=": _truth(operator.le),
    "=": _truth(operator.eq),
    "!=": _truth(operator.ne),
    "and": _truth(lambda a, b: bool(a) and bool(b)),
    "or": _truth(lambda a, b: bool(a) or bool(b)),
}


def with_constant(points: Iterable[Point], op: str, constant: float, *, constant_first: bool) -> list[Point]:
    """op between each point and a constant (on the side it was written)."""
    apply = OPERATORS[op]
    out = []
    for t, v in points:
        value = apply(constant, v) if constant_first else apply(v, constant)
        if value is not None:
            out.append((t, value))
    return out


def between(left: Sequence[Point], right: Sequence[Point], op: str) -> list[Point]:
    """op between two series, at every timestamp of either where both have a value
    (interpolated)."""
    apply = OPERATORS[op]
    times = sorted({t for t, _ in left} | {t for t, _ in right})
    out = []
    for t, a, b in zip(times, values_at(left, times), values_at(right, times), strict=True):
        if a is not None and b is not None:
            value = apply(a, b)
            if value is not None:
                out.append((t, value))
    return out


def rate(points: Sequence[Point], *, negative: bool) -> list[Point]:
    """Per-second change between adjacent points, at the later one; without `negative`
    (rate) a fall (a counter reset) gives no point, with it (deriv) a negative one."""
    out = []
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        change = (v1 - v0) / ((t1 - t0) / 1000)
        if negative or change >= 0:
            out.append((t1, change))
    return out


def moving(points: Sequence[Point], window_ms: int, how: str) -> list[Point]:
    """At each point, `how` (sum avg min max count) over the points in (t - window, t]."""
    summarize = AGGREGATES[how]
    times = [t for t, _ in points]
    values = [v for _, v in points]
    out = []
    for n, t in enumerate(times):
        first = bisect_right(times, t - window_ms, 0, n + 1)
        out.append((t, summarize(values[first : n + 1])))
    return out


def buckets(points: Iterable[Point], size_ms: int, how: str) -> list[Point]:
    """Points summed up (SUMMARIES[how]) per bucket of size_ms aligned to the epoch, at the
    bucket's start."""
    summarize = SUMMARIES[how]
    grouped: dict[int, list[float]] = {}
    for t, v in points:
        grouped.setdefault(t - t % size_ms, []).append(v)
    return [(t, summarize(grouped[t])) for t in sorted(grouped)]


def fill(
    points: Sequence[Point], value: float, grid: Iterable[int], step_ms: int, within_ms: int | None
) -> list[Point]:
    """default(): a point of `value` at each grid time whose bucket [t, t + step) holds no
    point; with within_ms, only where the series had a point at most that long before."""
    times = [t for t, _ in points]
    added = []
    for t in grid:
        n = bisect_left(times, t)
        if n < len(times) and times[n] < t + step_ms:
            continue  # the bucket has a point
        if within_ms is not None and (n == 0 or t - times[n - 1] > within_ms):
            continue
        added.append((t, value))
    return sorted([*points, *added])


def percentile(centroids: Sequence[Centroid], p: float) -> float | None:
    """The p-th percentile of a histogram (nearest rank over its centroids: the smallest
    mean whose cumulative count reaches p% of the total)."""
    ordered = sorted(c for c in centroids if c[1] > 0)
    total = sum(count for _, count in ordered)
    if not total:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for mean, count in ordered:
        seen += count
        if seen >= rank:
            return mean
    return ordered[-1][0]
