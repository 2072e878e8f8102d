"""Wavefront's line formats, parsed one line at a time.

    points(lines, now_ms=, default_source=)      f=wavefront   <metric> <value> [<ts>] source=<s> [k=v ...]
    histograms(lines, now_ms=, default_source=)  f=histogram   !M|!H|!D [<ts>] #<count> <mean> ... <name> source=<s> [k=v ...]
    spans(lines, now_ms=, default_source=)       f=trace       <name> source=<s> traceId=<uuid> spanId=<uuid> [parent=..] [k=v ...] <start> <duration_ms>
    span_logs(lines)                             f=spanLogs    one JSON object a line (wavefront-sdk-python's span_log_to_line_data)
    parse(fmt, lines, ...)                       the one of these the query string's `f` names

Each takes an iterable of lines (bytes, as body.lines yields them, or str) and yields, lazily
and in order, one result per non-blank line: the parsed record, or Rejected(line_no, reason)
(line_no counts from 1, blank lines included). A bad line never stops the batch, and no
input raises. The rules and limits are Wavefront's (its proxy's Validation and
ValidationConfiguration defaults); docs/ingestion.md lists them.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from chalicelib.errors import Invalid
from chalicelib.ingest.body import MAX_LINE_BYTES

Tags = tuple[tuple[str, str], ...]

# Wavefront's defaults (ValidationConfiguration): characters, after unquoting.
MAX_METRIC_CHARS = 256
MAX_HISTOGRAM_NAME_CHARS = 128
MAX_SPAN_NAME_CHARS = 128
MAX_SOURCE_CHARS = 128
MAX_POINT_TAGS = 20
MAX_TAG_KEY_CHARS = 64
MAX_TAG_VALUE_CHARS = 255
MAX_TAG_CHARS = 254  # key + value: "k=v" stays under 256
MAX_SPAN_TAGS = 20  # besides traceId, spanId, source, parent and followsFrom
MAX_SPAN_TAG_KEY_CHARS = 128
MAX_SPAN_TAG_VALUE_CHARS = 128  # longer values are cut to this, as Wavefront does
MAX_CENTROIDS = 1000
MAX_SPAN_LOGS = 1000
MAX_SPAN_LOG_FIELDS = 100
MAX_SPAN_LOG_FIELD_CHARS = 4096
MAX_REASON_CHARS = 200

# Timestamps below these are seconds, milliseconds, microseconds; at or above, nanoseconds.
_SECONDS_BELOW = 10**11  # year 5138 in seconds, 1973 in milliseconds
_MILLIS_BELOW = 10**14
_MICROS_BELOW = 10**17
_NANOS_BELOW = 10**19

# One token: a key (bare or quoted) with an optional =value (bare or quoted), followed by
# a space, a tab or the end; anything else non-blank is a malformed token. Inside quotes `\"`
# is a quote and any other backslash is itself (so a quoted string cannot end with one).
_QUOTED = r'"((?:\\"|[^"\\]|\\(?!"))*)"'
_TOKEN = re.compile(
    rf"(?:{_QUOTED}|([^ \t\"=]+))(?:(=)(?:{_QUOTED}|([^ \t\"]*)))?(?=[ \t]|$)|([^ \t]+)",
)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TIMESTAMP = re.compile(r"\d+(?:\.\d*)?")
_COUNT = re.compile(r"#(\d+)")
_NAME_OK = re.compile(r"[a-zA-Z0-9._/,-]+")  # Wavefront's charactersAreValid, after any prefix
_DELTAS = ("\u2206", "\u0394")  # ∆ INCREMENT, Δ GREEK CAPITAL LETTER DELTA
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a tab separates tokens
_SOURCE_KEYS = ("source", "host")
_GRANULARITIES = {"!M": "M", "!H": "H", "!D": "D"}


@dataclass(frozen=True)
class Point:
    """One metric point. tags: (key, value) pairs sorted by key."""

    metric: str
    value: float
    timestamp_ms: int
    source: str
    tags: Tags = ()


@dataclass(frozen=True)
class HistogramPoint:
    """One histogram (a distribution over a minute, hour or day). centroids: (mean, count)
    pairs as sent; tags: (key, value) pairs sorted by key."""

    granularity: Literal["M", "H", "D"]
    timestamp_ms: int
    centroids: tuple[tuple[float, int], ...]
    metric: str
    source: str
    tags: Tags = ()


@dataclass(frozen=True)
class Span:
    """One tracing span. trace_id, span_id, parents and follows: canonical lower-case UUIDs;
    tags: (key, value) pairs in the order sent (a key may repeat)."""

    name: str
    source: str
    trace_id: str
    span_id: str
    parents: tuple[str, ...]
    follows: tuple[str, ...]
    tags: Tags
    start_ms: int
    duration_ms: int


@dataclass(frozen=True)
class SpanLog:
    """One log of a span: its timestamp as sent (Wavefront's are microseconds) and fields."""

    timestamp: int
    fields: Tags


@dataclass(frozen=True)
class SpanLogs:
    """The logs of one span. span: the span's own line as the SDK repeats it ("" if absent)."""

    trace_id: str
    span_id: str
    logs: tuple[SpanLog, ...]
    span: str = ""


@dataclass(frozen=True)
class Rejected:
    """A line that was not kept, and why (short, naming the problem)."""

    line_no: int
    reason: str


Record = Point | HistogramPoint | Span | SpanLogs
Result = Record | Rejected


class _Bad(Exception):
    """A line's problem, raised inside one line's parse and turned into Rejected."""


# ---- the four formats ---------------------------------------------------------------------


def points(lines: Iterable[bytes | str], *, now_ms: int, default_source: str) -> Iterator[Point | Rejected]:
    """f=wavefront: `<metric> <value> [<timestamp>] source=<source> [<key>=<value> ...]`.
    A missing timestamp is now_ms, a missing source default_source."""
    return _each(lines, lambda text: _point(text, now_ms, default_source))


def histograms(
    lines: Iterable[bytes | str], *, now_ms: int, default_source: str
) -> Iterator[HistogramPoint | Rejected]:
    """f=histogram: `!M|!H|!D [<timestamp>] #<count> <mean> [#<count> <mean> ...] <name>
    source=<source> [<key>=<value> ...]`."""
    return _each(lines, lambda text: _histogram(text, now_ms, default_source))


def spans(lines: Iterable[bytes | str], *, now_ms: int, default_source: str) -> Iterator[Span | Rejected]:
    """f=trace: `<name> source=<source> traceId=<uuid> spanId=<uuid> [parent=<uuid> ...]
    [followsFrom=<uuid> ...] [<key>=<value> ...] <start> <duration_ms>`. now_ms is unused
    (a span always carries its start) but accepted so every format is called alike."""
    return _each(lines, lambda text: _span(text, default_source))


def span_logs(lines: Iterable[bytes | str], **_: Any) -> Iterator[SpanLogs | Rejected]:
    """f=spanLogs: one JSON object a line, {"traceId", "spanId", "logs": [{"timestamp",
    "fields"}], "span"} (extra keys such as "_scrambler" are ignored)."""
    return _each(lines, _span_logs)


Parser = Callable[..., Iterator[Any]]
FORMATS: dict[str, Parser] = {"wavefront": points, "histogram": histograms, "trace": spans, "spanLogs": span_logs}


def parse(fmt: str, lines: Iterable[bytes | str], *, now_ms: int, default_source: str) -> Iterator[Result]:
    """The parser the `f` query parameter names (Invalid, 400, for an unknown one)."""
    parser = FORMATS.get(fmt)
    if parser is None:
        raise Invalid(f"Query parameter f must be one of {', '.join(FORMATS)}, got {fmt[:40]!r}")
    return parser(lines, now_ms=now_ms, default_source=default_source)


def _each(lines: Iterable[bytes | str], one: Callable[[str], Any]) -> Iterator[Any]:
    for line_no, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE_BYTES:
            yield Rejected(line_no, f"line longer than {MAX_LINE_BYTES} bytes")
            continue
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Rejected(line_no, f"not UTF-8 (byte {exc.start + 1})")
                continue
        else:
            text = raw
        text = text.strip(" \t\r\n")
        if not text:
            continue
        try:
            yield one(text)
        except _Bad as exc:
            yield Rejected(line_no, str(exc)[:MAX_REASON_CHARS])


# ---- tokens --------------------------------------------------------------------------------


class _Token(NamedTuple):
    key: str  # unquoted
    value: str | None  # None: a bare token (no "=")

    @property
    def text(self) -> str:
        """The token, roughly as written, for reasons."""
        return self.key if self.value is None else f"{self.key}={self.value}"


def _tokens(text: str) -> list[_Token]:
    if _CONTROL.search(text):
        raise _Bad("control character in line")
    out = []
    for quoted_key, key, eq, quoted_value, value, junk in _TOKEN.findall(text):
        if junk:
            raise _Bad(f"malformed token {_shown(junk)} (unbalanced quotes?)")
        if quoted_key:
            key = _unquote(quoted_key)
        if not eq:
            out.append(_Token(key, None))
        else:
            out.append(_Token(key, _unquote(quoted_value) if quoted_value else value))
    return out


def _unquote(text: str) -> str:
    return text.replace('\\"', '"') if "\\" in text else text


def _shown(text: str) -> str:
    """A token quoted for a reason, cut short."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


# ---- fields --------------------------------------------------------------------------------


def _name(what: str, name: str, limit: int) -> str:
    """A metric, histogram or tag-key name by Wavefront's rules: [a-zA-Z0-9._/,-], after an
    optional ~, ∆, Δ, ∆~ or Δ~ prefix (delta counters and internal metrics)."""
    if not name:
        raise _Bad(f"{what}: empty")
    if len(name) > limit:
        raise _Bad(f"{what}: {len(name)} characters, at most {limit}")
    body = name
    if body[0] in _DELTAS:
        body = body[1:]
    if body[:1] == "~":
        body = body[1:]
    if not body:
        raise _Bad(f"{what}: nothing after the prefix")
    if not _NAME_OK.fullmatch(body):
        bad = next(c for c in body if not _NAME_OK.fullmatch(c))
        raise _Bad(f"{what}: invalid character {bad!r}")
    return name


def _number(what: str, text: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise _Bad(f"{what}: not a number {_shown(text)}")
    value = float(text)
    if not math.isfinite(value):
        raise _Bad(f"{what}: out of range {_shown(text)}")
    return value


def timestamp_ms(text: str) -> int:
    """Epoch milliseconds from a timestamp in seconds (fractions allowed), milliseconds,
    microseconds or nanoseconds, told apart by magnitude (ValueError otherwise)."""
    if not _TIMESTAMP.fullmatch(text):
        raise ValueError(f"not a timestamp {_shown(text)}")
    whole, _, fraction = text.partition(".")
    number = int(whole)
    if number < _SECONDS_BELOW:
        return number * 1000 + int((fraction + "000")[:3])
    if fraction:
        raise ValueError(f"a fraction of a millisecond or less {_shown(text)}")
    if number < _MILLIS_BELOW:
        return number
    if number < _MICROS_BELOW:
        return number // 1000
    if number < _NANOS_BELOW:
        return number // 1_000_000
    raise ValueError(f"out of range {_shown(text)}")


def _timestamp(what: str, text: str) -> int:
    try:
        return timestamp_ms(text)
    except ValueError as exc:
        raise _Bad(f"{what}: {exc}") from None


def _source(value: str) -> str:
    if not value.strip():
        raise _Bad("source: empty")
    if len(value) > MAX_SOURCE_CHARS:
        raise _Bad(f"source: {len(value)} characters, at most {MAX_SOURCE_CHARS}")
    return value


def _point_tags(tokens: list[_Token], default_source: str) -> tuple[str, Tags]:
    """The source and the sorted point tags of key=value tokens (Wavefront's point rules)."""
    found: dict[str, str] = {}
    tags: dict[str, str] = {}
    for token in tokens:
        if token.value is None:
            raise _Bad(f"expected key=value, got {_shown(token.text)}")
        key, value = token.key, token.value
        if key in _SOURCE_KEYS and key not in found:
            found[key] = value
            continue
        if key in tags:
            raise _Bad(f"point tag {_shown(key)}: given twice")
        _name(f"point tag key {_shown(key)}", key, MAX_TAG_KEY_CHARS)
        if not value.strip():
            raise _Bad(f"point tag {_shown(key)}: empty value")
        if len(value) > MAX_TAG_VALUE_CHARS:
            raise _Bad(f"point tag {_shown(key)}: value of {len(value)} characters, at most {MAX_TAG_VALUE_CHARS}")
        if len(key) + len(value) > MAX_TAG_CHARS:
            raise _Bad(
                f"point tag {_shown(key)}: key and value of {len(key) + len(value)} characters, at most {MAX_TAG_CHARS}"
            )
        tags[key] = value
    # source= wins over host=; with both, host stays a point tag.
    if "source" in found and "host" in found:
        if "host" in tags:
            raise _Bad("point tag 'host': given twice")
        tags["host"] = found.pop("host")
    source = found.get("source", found.get("host"))
    if len(tags) > MAX_POINT_TAGS:
        raise _Bad(f"point tags: {len(tags)}, at most {MAX_POINT_TAGS}")
    return _source(source) if source is not None else default_source, tuple(sorted(tags.items()))


# ---- one line of each format -------------------------------------------------------------


def _point(text: str, now_ms: int, default_source: str) -> Point:
    tokens = _tokens(text)
    if len(tokens) < 2 or tokens[0].value is not None:
        raise _Bad("expected <metric> <value> [<timestamp>] source=<source> [tags]")
    metric = _name("metric name", tokens[0].key, MAX_METRIC_CHARS)
    if tokens[1].value is not None:
        raise _Bad(f"value: missing (got {_shown(tokens[1].text)})")
    value = _number("value", tokens[1].key)
    if metric[0] in _DELTAS and value <= 0:
        raise _Bad("value: a delta counter's value must be positive")
    rest = tokens[2:]
    when = now_ms
    if rest and rest[0].value is None:
        when = _timestamp("timestamp", rest[0].key)
        rest = rest[1:]
    source, tags = _point_tags(rest, default_source)
    return Point(metric, value, when, source, tags)


def _histogram(text: str, now_ms: int, default_source: str) -> HistogramPoint:
    tokens = _tokens(text)
    if not tokens or tokens[0].value is not None or tokens[0].key not in _GRANULARITIES:
        raise _Bad("expected !M, !H or !D first")
    granularity = _GRANULARITIES[tokens[0].key]
    i, when = 1, now_ms
    if i < len(tokens) and tokens[i].value is None and tokens[i].key[:1].isdigit():
        when = _timestamp("timestamp", tokens[i].key)
        i += 1
    centroids: list[tuple[float, int]] = []
    while i < len(tokens) and tokens[i].value is None and tokens[i].key.startswith("#"):
        count = _COUNT.fullmatch(tokens[i].key)
        if count is None:
            raise _Bad(f"centroid count: not a whole number {_shown(tokens[i].key)}")
        if i + 1 >= len(tokens) or tokens[i + 1].value is not None:
            raise _Bad("centroid: a count without its mean")
        centroids.append((_number("centroid mean", tokens[i + 1].key), int(count.group(1))))
        i += 2
    if not centroids:
        raise _Bad("histogram: no centroid (#<count> <mean>)")
    if len(centroids) > MAX_CENTROIDS:
        raise _Bad(f"histogram: {len(centroids)} centroids, at most {MAX_CENTROIDS}")
    if not any(count for _, count in centroids):
        raise _Bad("histogram: empty (every count is 0)")
    if i >= len(tokens) or tokens[i].value is not None:
        raise _Bad("histogram name: missing")
    metric = _name("histogram name", tokens[i].key, MAX_HISTOGRAM_NAME_CHARS)
    source, tags = _point_tags(tokens[i + 1 :], default_source)
    return HistogramPoint(granularity, when, tuple(centroids), metric, source, tags)  # type: ignore[arg-type]


def _uuid(what: str, text: str) -> str:
    """A UUID (32 hex digits, dashed or not) in its canonical lower-case form."""
    if len(text) in (32, 36):
        try:
            return str(uuid.UUID(text))
        except ValueError:
            pass
    raise _Bad(f"{what}: not a UUID {_shown(text)}")


def _span(text: str, default_source: str) -> Span:
    tokens = _tokens(text)
    if len(tokens) < 3 or tokens[0].value is not None:
        raise _Bad("expected <name> source=<source> traceId=<uuid> spanId=<uuid> [tags] <start> <duration>")
    name = tokens[0].key
    if not name.strip():
        raise _Bad("span name: empty")
    if len(name) > MAX_SPAN_NAME_CHARS:
        raise _Bad(f"span name: {len(name)} characters, at most {MAX_SPAN_NAME_CHARS}")
    if "*" in name:
        raise _Bad("span name: invalid character '*'")
    start_token, duration_token = tokens[-2], tokens[-1]
    if start_token.value is not None or duration_token.value is not None:
        raise _Bad("expected <start> <duration> last")
    start = _timestamp("start", start_token.key)
    if not duration_token.key.isdigit():
        raise _Bad(f"duration: not a whole number of milliseconds {_shown(duration_token.key)}")
    duration = int(duration_token.key)
    ids: dict[str, str] = {}
    sources: dict[str, str] = {}
    parents: list[str] = []
    follows: list[str] = []
    tags: list[tuple[str, str]] = []
    for token in tokens[1:-2]:
        key, value = token.key, token.value
        if value is None:
            raise _Bad(f"expected key=value, got {_shown(token.text)}")
        if key in ("traceId", "spanId"):
            if key in ids:
                raise _Bad(f"{key}: given twice")
            ids[key] = _uuid(key, value)
        elif key == "parent":
            parents.append(_uuid(key, value))
        elif key == "followsFrom":
            follows.append(_uuid(key, value))
        elif key in _SOURCE_KEYS and key not in sources:
            sources[key] = value
        else:
            _name(f"span tag key {_shown(key)}", key, MAX_SPAN_TAG_KEY_CHARS)
            if not value.strip():
                raise _Bad(f"span tag {_shown(key)}: empty value")
            tags.append((key, value[:MAX_SPAN_TAG_VALUE_CHARS]))
    for key in ("traceId", "spanId"):
        if key not in ids:
            raise _Bad(f"{key}: missing")
    if "source" in sources and "host" in sources:
        tags.append(("host", sources.pop("host")[:MAX_SPAN_TAG_VALUE_CHARS]))
    if len(tags) > MAX_SPAN_TAGS:
        raise _Bad(f"span tags: {len(tags)}, at most {MAX_SPAN_TAGS}")
    source = sources.get("source", sources.get("host"))
    return Span(
        name=name,
        source=_source(source) if source is not None else default_source,
        trace_id=ids["traceId"],
        span_id=ids["spanId"],
        parents=tuple(parents),
        follows=tuple(follows),
        tags=tuple(tags),
        start_ms=start,
        duration_ms=duration,
    )


def _span_logs(text: str) -> SpanLogs:
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _Bad(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise _Bad("expected a JSON object")
    ids = {}
    for key in ("traceId", "spanId"):
        value = data.get(key)
        if not isinstance(value, str):
            raise _Bad(f"{key}: missing")
        ids[key] = _uuid(key, value)
    raw_logs = data.get("logs")
    if not isinstance(raw_logs, list):
        raise _Bad("logs: expected a list")
    if len(raw_logs) > MAX_SPAN_LOGS:
        raise _Bad(f"logs: {len(raw_logs)}, at most {MAX_SPAN_LOGS}")
    logs = tuple(_span_log(i, entry) for i, entry in enumerate(raw_logs))
    span = data.get("span", "")
    if not isinstance(span, str):
        raise _Bad("span: expected a string")
    return SpanLogs(ids["traceId"], ids["spanId"], logs, span.strip())


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _span_log(i: int, entry: Any) -> SpanLog:
    if not isinstance(entry, dict):
        raise _Bad(f"logs[{i}]: expected an object")
    when = entry.get("timestamp")
    if not isinstance(when, int) or isinstance(when, bool) or when < 0:
        raise _Bad(f"logs[{i}].timestamp: expected a whole number")
    fields = entry.get("fields", {})
    if not isinstance(fields, dict):
        raise _Bad(f"logs[{i}].fields: expected an object")
    if len(fields) > MAX_SPAN_LOG_FIELDS:
        raise _Bad(f"logs[{i}].fields: {len(fields)}, at most {MAX_SPAN_LOG_FIELDS}")
    pairs = []
    for key, value in fields.items():
        if isinstance(value, (dict, list)):
            raise _Bad(f"logs[{i}].fields.{key[:40]}: expected a string or a number")
        text = value if isinstance(value, str) else json.dumps(value)
        if len(key) + len(text) > MAX_SPAN_LOG_FIELD_CHARS:
            raise _Bad(f"logs[{i}].fields.{key[:40]}: longer than {MAX_SPAN_LOG_FIELD_CHARS} characters")
        pairs.append((key, text))
    return SpanLog(when, tuple(pairs))
