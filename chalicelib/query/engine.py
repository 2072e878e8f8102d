"""Evaluate a chart query over a window, at a granularity, against a DataSource.

    result = engine.query("sum(ts(cpu.*, env=prod), sources)", source, start=s, end=e, granularity="m")

The interpreter walks the parser's tree (ast.py). A value is a constant, a list of series
or (for a whole query only) a list of events. Functions run on the points as stored; the
answer is then cut to [start, end) and summed up per granularity bucket with the
summarization (MEAN by default). Each function asks its operand for the window it needs
(mavg(5m, ...) reads 5 minutes before the start, lag(1h, ...) an hour earlier).

Anything outside the supported subset is refused with an Invalid naming it, never
answered approximately. The work is bounded (series per query, points read, buckets
answered, events): past a bound, QueryTooLarge (400) says which and what to change.
The evaluation records what it read, (kind, metric, source), for the access records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from chalicelib.errors import Invalid
from chalicelib.query import ast, functions
from chalicelib.query.data import DataSource, EventRecord, Kind, QueryTooLarge, SeriesKey, glob_match
from chalicelib.query.parser import parse

SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
GRANULARITIES = {"s": SECOND, "m": MINUTE, "h": HOUR, "d": DAY}
DURATION_UNITS = {"s": SECOND, "m": MINUTE, "h": HOUR, "d": DAY, "w": 7 * DAY}
SUMMARIZATIONS = tuple(functions.SUMMARIES)

MAX_RAW_WINDOW = DAY  # the longest window /chart/raw reads
RATE_LOOKBACK = 5 * MINUTE  # rate()/deriv() read this much before the window (or a bucket)

AGGREGATES = tuple(functions.AGGREGATES)
GROUP_SOURCES, GROUP_METRICS = "sources", "metrics"
SOURCE_KEYS = ("source", "host")
EVENT_KEYS = ("name", "type", "severity", "tag", "source", "host")


@dataclass(frozen=True)
class Limits:
    """The bounds of one query's work (docs/queries.md states them)."""

    series: int = 1000  # series one ts()/hs() may match, and series one operation makes
    points: int = 2_000_000  # points (and histogram points) one query may read
    buckets: int = 10_000  # buckets per series in the answer: (end - start) / granularity
    events: int = 1000  # events one events() may answer


LIMITS = Limits()


@dataclass
class Series:
    """A labelled series: key (metric, source, point tags) and its points in time order."""

    key: SeriesKey
    points: list[tuple[int, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Events:
    """The value of events(): only a whole query may be one."""

    items: list[EventRecord]


Value = float | list[Series] | Events


@dataclass(frozen=True)
class Window:
    """Half-open [start, end) in epoch milliseconds."""

    start: int
    end: int

    def shift(self, before: int = 0, *, by: int = 0) -> Window:
        return Window(self.start - before - by, self.end - by)


@dataclass
class Result:
    """A query's answer: series bucketed at granularity_ms, or events; what it read."""

    series: list[Series]
    events: list[EventRecord]
    granularity_ms: int
    accessed: set[tuple[str, str, str]]  # (kind 'metric' | 'histogram', metric, source)
    keys: int = 0  # series read
    points: int = 0  # points (and histogram points) read

    @property
    def metrics(self) -> set[str]:
        return {name for _, name, _ in self.accessed}

    @property
    def sources(self) -> set[str]:
        return {source for _, _, source in self.accessed}


def unsupported(name: str) -> Invalid:
    return Invalid(f"function '{name}' is not supported", function=name)


def granularity_ms(g: str) -> int:
    """'s' | 'm' | 'h' | 'd' -> milliseconds (400 otherwise)."""
    if g not in GRANULARITIES:
        raise Invalid("g: the granularity must be one of s, m, h, d")
    return GRANULARITIES[g]


def check_window(start: int, end: int) -> None:
    if start < 0 or end <= start:
        raise Invalid("s, e: the window must end after it starts (epoch milliseconds)")


def bucket_size(start: int, end: int, granularity: int, max_points: int | None, limits: Limits = LIMITS) -> int:
    """The answer's bucket: the granularity, widened to a multiple of it when max_points
    (the client's `p`) asks for fewer buckets; 400 past the limit."""
    size = granularity
    if max_points is not None:
        if max_points < 1:
            raise Invalid("p: the number of points must be at least 1")
        size = granularity * max(1, math.ceil((end - start) / max_points / granularity))
    if (end - start) / size > limits.buckets:
        raise QueryTooLarge(
            f"the window holds more than {limits.buckets} buckets at this granularity: choose a coarser one or a shorter window"
        )
    return size


def query(
    text: str,
    data: DataSource,
    *,
    start: int,
    end: int,
    granularity: str = "m",
    summarization: str = "MEAN",
    max_points: int | None = None,
    strict: bool = False,
    limits: Limits = LIMITS,
) -> Result:
    """Evaluate query text over [start, end) and bucket the answer (see the module doc)."""
    check_window(start, end)
    step = granularity_ms(granularity)
    if summarization not in functions.SUMMARIES:
        raise Invalid(f"summarization: one of {', '.join(SUMMARIZATIONS)}")
    size = bucket_size(start, end, step, max_points, limits)
    evaluation = Evaluation(data, step, limits)
    window = Window(start, end)
    value = evaluation.eval(parse(text).tree, window)
    if isinstance(value, Events):
        return Result([], value.items, size, evaluation.accessed, evaluation.keys, evaluation.points)
    series = evaluation.series_of(value, window)
    low = start if strict else start - start % size
    answer = []
    for s in series:
        inside = [p for p in s.points if start <= p[0] < end]
        points = [p for p in functions.buckets(inside, size, summarization) if p[0] >= low]
        if points:
            answer.append(Series(s.key, points))
    answer.sort(key=lambda s: s.key)
    return Result(answer, [], size, evaluation.accessed, evaluation.keys, evaluation.points)


def raw(
    data: DataSource, metric: str, source: str | None, *, start: int, end: int, limits: Limits = LIMITS
) -> list[Series]:
    """The points of one metric (of one source, or all), averaged per second: the raw
    view /api/v2/chart/raw answers."""
    if "*" in metric:
        raise Invalid("metric: wildcards are not allowed")
    if source is not None and "*" in source:
        raise Invalid("source: wildcards are not allowed")
    check_window(start, end)
    if end - start > MAX_RAW_WINDOW:
        raise QueryTooLarge("the raw window must be at most one day")
    keys = [k for k in data.find(metric, "metric", limits.series) if k.metric == metric]
    if source is not None:
        keys = [k for k in keys if k.source == source]
    if len(keys) > limits.series:
        raise QueryTooLarge(f"the metric has more than {limits.series} series: name a source")
    read = data.points(keys, start, end, limits.points)
    if sum(len(p) for p in read.values()) > limits.points:
        raise QueryTooLarge(f"the window holds more than {limits.points} points: shorten it")
    out = [Series(k, functions.buckets(read.get(k, []), SECOND, "MEAN")) for k in keys]
    return [s for s in out if s.points]


# ---- the interpreter -------------------------------------------------------------------


class Evaluation:
    """One query's evaluation: the data it reads, the granularity (default() fills at it),
    and the counts and records of what it read."""

    def __init__(self, data: DataSource, step: int, limits: Limits = LIMITS) -> None:
        self.data = data
        self.step = step
        self.limits = limits
        self.accessed: set[tuple[str, str, str]] = set()
        self.keys = 0
        self.points = 0

    # ---- values ---------------------------------------------------------------------------

    def eval(self, node: ast.Node, window: Window) -> Value:
        """The value of node over window."""
        if isinstance(node, ast.Number):
            return float(node.text)
        if isinstance(node, ast.Series):
            if node.function == "hs":
                raise Invalid("hs() is supported only inside percentile(p, hs(...))")
            return self.read(node, window)
        if isinstance(node, ast.Events):
            return Events(self.events(node, window))
        if isinstance(node, ast.Negate):
            return self.binary("*", -1.0, self.eval(node.operand, window))
        if isinstance(node, ast.Not):
            return self.binary("=", self.eval(node.operand, window), 0.0)
        if isinstance(node, ast.Binary):
            return self.binary(node.op.lower(), self.eval(node.left, window), self.eval(node.right, window))
        if isinstance(node, ast.Call):
            handler = CALLS.get(node.name.lower())
            if handler is None:
                raise unsupported(node.name)
            return handler(self, node, window)
        if isinstance(node, ast.Duration):
            raise Invalid(f"a duration ({node.text}) is only a function's time window")
        if isinstance(node, ast.Variable):
            raise Invalid(f"variables (${{{node.name}}}) are not supported in chart queries")
        raise Invalid(f"{node.render()} is not a value a chart query can compute")

    def series_of(self, value: Value, window: Window) -> list[Series]:
        """A value as series: a constant becomes one series with a point per granularity
        step of the window."""
        if isinstance(value, Events):
            raise Invalid("events() can only be a whole query, not an operand")
        if isinstance(value, float):
            first = window.start - window.start % self.step
            return [Series(SeriesKey("", ""), [(t, value) for t in range(first, window.end, self.step)])]
        return value

    def operand(self, node: ast.Node, window: Window, function: str) -> list[Series]:
        """node's value as series, for a function that needs series."""
        value = self.eval(node, window)
        if isinstance(value, Events):
            raise Invalid("events() can only be a whole query, not an operand")
        if isinstance(value, float):
            raise Invalid(f"{function}() needs a series expression, not a constant")
        return value

    # ---- reading -----------------------------------------------------------------------

    def matching(self, node: ast.Series | ast.Events, kind: Kind) -> list[SeriesKey]:
        keys = self.data.find(node.metric_name, kind, self.limits.series) if isinstance(node, ast.Series) else []
        if len(keys) > self.limits.series:
            raise QueryTooLarge(
                f"{node.render()} matches more than {self.limits.series} series: narrow it with filters"
            )
        if node.filter is None:
            return keys
        check_filter(node.filter)
        tags_of: dict[str, frozenset[str]] = {}
        if any(isinstance(n, ast.TagFilter) and n.key.lower() == "tag" for n in node.filter.walk()):
            tags_of = self.data.source_tags(sorted({k.source for k in keys}))
        return [k for k in keys if series_filter(node.filter, k, tags_of.get(k.source, frozenset()))]

    def too_many_points(self) -> QueryTooLarge:
        return QueryTooLarge(f"the query reads more than {self.limits.points} points: shorten the window or narrow it")

    def read(self, node: ast.Series, window: Window) -> list[Series]:
        keys = self.matching(node, "metric")
        try:
            found = self.data.points(keys, window.start, window.end, self.limits.points - self.points)
        except QueryTooLarge as exc:  # the source stopped early: say it with the query's bound
            raise self.too_many_points() from exc
        self.count("metric", keys, sum(len(p) for p in found.values()))
        return [Series(k, found.get(k, [])) for k in keys]

    def histograms(self, node: ast.Series, window: Window, p: float) -> list[Series]:
        keys = self.matching(node, "histogram")
        try:
            found = self.data.histograms(keys, window.start, window.end, self.limits.points - self.points)
        except QueryTooLarge as exc:
            raise self.too_many_points() from exc
        self.count("histogram", keys, sum(len(h) for h in found.values()))
        out = []
        for key in keys:
            points = [(t, functions.percentile(c, p)) for t, c in found.get(key, [])]
            out.append(Series(key, [(t, v) for t, v in points if v is not None]))
        return out

    def count(self, kind: str, keys: Sequence[SeriesKey], points: int) -> None:
        self.keys += len(keys)
        self.points += points
        self.accessed.update((kind, k.metric, k.source) for k in keys)
        if self.points > self.limits.points:
            raise self.too_many_points()

    def events(self, node: ast.Events, window: Window) -> list[EventRecord]:
        if node.filter is not None:
            check_event_filter(node.filter)
        found = self.data.events(window.start, window.end, self.limits.events)
        if len(found) > self.limits.events:
            raise QueryTooLarge(f"more than {self.limits.events} events start in the window: shorten it")
        return [e for e in found if node.filter is None or event_filter(node.filter, e)]

    # ---- operators ------------------------------------------------------------------------

    def binary(self, op: str, left: Value, right: Value) -> Value:
        """op between constants and series. Between two lists of series: with one series on
        a side, it meets every series of the other; else series meet those with the same
        source and point tags (the metric may differ), and the others are left out."""
        if isinstance(left, Events) or isinstance(right, Events):
            raise Invalid("events() can only be a whole query, not an operand")
        if isinstance(left, float) and isinstance(right, float):
            value = functions.OPERATORS[op](left, right)
            if value is None:
                raise Invalid("the query divides a constant by zero")
            return value
        if isinstance(right, float):
            assert not isinstance(left, float)
            return [Series(s.key, functions.with_constant(s.points, op, right, constant_first=False)) for s in left]
        if isinstance(left, float):
            return [Series(s.key, functions.with_constant(s.points, op, left, constant_first=True)) for s in right]
        if len(right) == 1:
            return [Series(s.key, functions.between(s.points, right[0].points, op)) for s in left]
        if len(left) == 1:
            return [Series(s.key, functions.between(left[0].points, s.points, op)) for s in right]
        by_label: dict[tuple[str, tuple[tuple[str, str], ...]], list[Series]] = {}
        for s in right:
            by_label.setdefault((s.key.source, s.key.tags), []).append(s)
        out = []
        for a in left:
            for b in by_label.get((a.key.source, a.key.tags), []):
                out.append(Series(a.key, functions.between(a.points, b.points, op)))
        if len(out) > self.limits.series:
            raise QueryTooLarge(f"the operation makes more than {self.limits.series} series")
        return out


# ---- filters ---------------------------------------------------------------------------


def check_filter(node: ast.Node) -> None:
    """400 for filter keys this engine does not implement."""
    for n in node.walk():
        if isinstance(n, ast.TagFilter) and (n.key.startswith("~") or n.key.lower() == "tagpath"):
            raise Invalid(f"the filter key {n.key!r} is not supported")


def series_filter(node: ast.Node, key: SeriesKey, source_tags: frozenset[str]) -> bool:
    """Whether the series passes the filter: source= / host= match its source, tag= one
    of its source's tags, any other key its point tag of that name (absent: no match)."""
    if isinstance(node, ast.FilterBinary):
        left = series_filter(node.left, key, source_tags)
        if node.op == "and":
            return left and series_filter(node.right, key, source_tags)
        return left or series_filter(node.right, key, source_tags)
    if isinstance(node, ast.FilterNot):
        return not series_filter(node.operand, key, source_tags)
    assert isinstance(node, ast.TagFilter)
    name, pattern = node.key.lower(), node.value_text
    if name in SOURCE_KEYS:
        matched = glob_match(pattern, key.source)
    elif name == "tag":
        matched = any(glob_match(pattern, t) for t in source_tags)
    else:
        value = key.tag_map.get(node.key)
        matched = value is not None and glob_match(pattern, value)
    return matched if node.op == "=" else not matched


def check_event_filter(node: ast.Node) -> None:
    for n in node.walk():
        if isinstance(n, ast.TagFilter) and n.key.lower() not in EVENT_KEYS:
            raise Invalid(f"events() filters by {', '.join(EVENT_KEYS)}; {n.key!r} is not supported")


def event_filter(node: ast.Node, event: EventRecord) -> bool:
    """Whether the event passes: name, type and severity (its annotations), tag (one of its
    tags), source / host (one of its hosts)."""
    if isinstance(node, ast.FilterBinary):
        left = event_filter(node.left, event)
        return (
            (left and event_filter(node.right, event))
            if node.op == "and"
            else (left or event_filter(node.right, event))
        )
    if isinstance(node, ast.FilterNot):
        return not event_filter(node.operand, event)
    assert isinstance(node, ast.TagFilter)
    name, pattern = node.key.lower(), node.value_text
    candidates: Sequence[str]
    if name == "name":
        candidates = [event.name]
    elif name == "tag":
        candidates = event.tags
    elif name in SOURCE_KEYS:
        candidates = event.hosts
    else:
        annotation = event.annotation_map.get(name)
        candidates = [] if annotation is None else [annotation]
    matched = any(glob_match(pattern, c) for c in candidates)
    return matched if node.op == "=" else not matched


# ---- functions -------------------------------------------------------------------------


def _arity(node: ast.Call, *counts: int) -> None:
    if len(node.args) not in counts:
        wanted = " or ".join(str(c) for c in counts)
        raise Invalid(f"{node.name}() takes {wanted} arguments, not {len(node.args)}")


def duration_ms(node: ast.Node, function: str) -> int:
    if not isinstance(node, ast.Duration):
        raise Invalid(f"{function}(): the time window must be a duration such as 5m")
    amount, unit = int(node.text[:-1]), node.text[-1]
    if amount < 1:
        raise Invalid(f"{function}(): the time window must be at least 1{unit}")
    return amount * DURATION_UNITS[unit]


def number(node: ast.Node, function: str) -> float:
    if isinstance(node, ast.Number):
        return float(node.text)
    if isinstance(node, ast.Negate) and isinstance(node.operand, ast.Number):
        return -float(node.operand.text)
    raise Invalid(f"{function}(): expected a number, not {node.render()}")


def _group_key(series: Series, by: Sequence[str]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    tags = series.key.tag_map
    metric = series.key.metric if GROUP_METRICS in by else ""
    source = series.key.source if GROUP_SOURCES in by else ""
    kept = tuple((k, tags[k]) for k in sorted(set(by) - {GROUP_METRICS, GROUP_SOURCES}) if k in tags)
    return metric, source, kept


def _aggregate(evaluation: Evaluation, node: ast.Call, window: Window) -> Value:
    """sum avg min max count and raw*: (expression, group-by...)."""
    if not node.args:
        raise Invalid(f"{node.name}() needs a series expression")
    name = node.name.lower()
    how, interpolate = (name[3:], False) if name.startswith("raw") else (name, True)
    by = []
    for arg in node.args[1:]:
        if isinstance(arg, ast.Ident):
            by.append(arg.name if arg.name.lower() not in (GROUP_SOURCES, GROUP_METRICS) else arg.name.lower())
        elif isinstance(arg, ast.String):
            by.append(arg.value)
        else:
            raise Invalid(f"{node.name}(): group by sources, metrics or point tag keys, not {arg.render()}")
    members = evaluation.operand(node.args[0], window, node.name)
    groups: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Series]] = {}
    for s in members:
        groups.setdefault(_group_key(s, by), []).append(s)
    out = []
    for (metric, source, tags), group in groups.items():
        if not metric:  # one metric in the group labels it
            metrics = {s.key.metric for s in group}
            metric = metrics.pop() if len(metrics) == 1 else ""
        points = functions.aggregate([s.points for s in group], how, interpolate=interpolate)
        out.append(Series(SeriesKey(metric, source, tags), points))
    return out


def _map(
    change: Callable[[list[tuple[int, float]]], list[tuple[int, float]]],
) -> Callable[[list[Series]], list[Series]]:
    return lambda series: [replace(s, points=change(s.points)) for s in series]


def _rate(evaluation: Evaluation, node: ast.Call, window: Window) -> Value:
    _arity(node, 1)
    members = evaluation.operand(node.args[0], window.shift(max(RATE_LOOKBACK, evaluation.step)), node.name)
    negative = node.name.lower() == "deriv"
    return _map(lambda p: functions.rate(p, negative=negative))(members)


def _abs(evaluation: Evaluation, node: ast.Call, window: Window) -> Value:
    _arity(node, 1)
    members = evaluation.operand(node.args[0], window, node.name)
    return _map(lambda p: [(t, abs(v)) for t, v in p])(members)


def _lag(evaluation: Evaluation, node: ast.Call, window: Window) -> Value:
    _arity(node, 2)
    by = duration_ms(node.args[0], node.name)
    members = evaluation.operand(node.args[1], window.shift(by=by), node.name)
    return _map(lambda p: [(t + by, v) for t, v in p])(members)


def _align(evaluation: Evaluation, node: ast.Call, window: Window) -> Value:
    _arity(node, 2, 3)
    size = duration_ms(node.args[0], node.name)
    how = "MEAN"
    if len(node.args) == 3:
        summary = node.args[1]
        if not isinstance(summary, ast.Ident) or summary.name.upper() not in functions.SUMMARIES:
            raise Invalid(f"align(): the summarization is one of {', '.join(s.lower() for s in SUMMARIZATIONS)}")
        how = summary.name.upper()
    members = evaluation.operand(node.args[-1], window.shift(window.start % size), node.name)
    return _map(lambda p: functions.buckets(p, size, how))(members)


def _moving(evaluation: Evaluation, node: ast.Call, window: Window) -> Value:
    _arity(node, 2)
    size = duration_ms(node.args[0], node.name)
    how = node.name.lower()[1:]
    members = evaluation.operand(node.args[1], window.shift(size), node.name)
    return _map(lambda p: functions.moving(p, size, how))(members)


def _default(evaluation: Evaluation, node: ast.Call, window: Window) -> Value:
    _arity(node, 2, 3)
    within = duration_ms(node.args[0], node.name) if len(node.args) == 3 else None
    value = number(node.args[-2], node.name)
    looked = window.shift(within or 0)
    members = evaluation.operand(node.args[-1], looked, node.name)
    step = evaluation.step
    grid = range(window.start - window.start % step + (step if window.start % step else 0), window.end, step)
    return _map(lambda p: functions.fill(p, value, grid, step, within))(members)


def _percentile(evaluation: Evaluation, node: ast.Call, window: Window) -> Value:
    _arity(node, 2)
    p = number(node.args[0], node.name)
    if not 0 <= p <= 100:
        raise Invalid("percentile(): p must be between 0 and 100")
    target = node.args[1]
    if not (isinstance(target, ast.Series) and target.function == "hs"):
        raise Invalid("percentile() is supported over hs(...) only")
    return evaluation.histograms(target, window, p)


Handler = Callable[[Evaluation, ast.Call, Window], Value]
CALLS: dict[str, Handler] = {
    **{name: _aggregate for name in AGGREGATES},
    **{"raw" + name: _aggregate for name in AGGREGATES},
    "rate": _rate,
    "deriv": _rate,
    "abs": _abs,
    "lag": _lag,
    "align": _align,
    "default": _default,
    **{"m" + name: _moving for name in AGGREGATES},
    "percentile": _percentile,
}
SUPPORTED = ("ts", "hs", "events", *CALLS)
