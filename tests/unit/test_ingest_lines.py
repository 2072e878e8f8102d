"""The Wavefront line parsers: tricky lines, timestamp units, limits, wavefront-sdk-python's
own lines, and properties (hypothesis): a valid record rendered to a line parses back
equal; no input raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wavefront_sdk.common import utils as sdk

from chalicelib.errors import Invalid
from chalicelib.ingest import lines as L
from chalicelib.ingest.lines import HistogramPoint, Point, Rejected, Span, SpanLog, SpanLogs

NOW = 1_700_000_000_000
DEFAULT = "default-host"
TRACE = "7b3bf470-9456-11e8-9eb6-529269fb1459"
SPAN = "0313bafe-9457-11e8-9eb6-529269fb1459"
PARENT = "2f64e538-9457-11e8-9eb6-529269fb1459"


def one(parser, line: str | bytes):
    results = list(parser([line], now_ms=NOW, default_source=DEFAULT))
    assert len(results) == 1
    return results[0]


def reason(parser, line: str | bytes) -> str:
    result = one(parser, line)
    assert isinstance(result, Rejected), result
    return result.reason


# ---- points: a table of tricky lines -------------------------------------------------------

POINTS = [
    ("request.count 1001 source=test.wavefront.com", Point("request.count", 1001.0, NOW, "test.wavefront.com")),
    (
        "system.cpu.loadavg.1m 0.03 1382754475 source=test1.wavefront.com",
        Point("system.cpu.loadavg.1m", 0.03, 1382754475000, "test1.wavefront.com"),
    ),
    (
        'new-york.power.usage 42422 source=localhost datacenter="dc1"',
        Point("new-york.power.usage", 42422.0, NOW, "localhost", (("datacenter", "dc1"),)),
    ),
    ('"a/b,c" -1.5e-3 source="web 1"', Point("a/b,c", -0.0015, NOW, "web 1")),
    ("m +2E+2 host=h", Point("m", 200.0, NOW, "h")),
    ("m .5 source=a", Point("m", 0.5, NOW, "a")),
    ("m 7", Point("m", 7.0, NOW, DEFAULT)),
    ("m\t7\tsource=a\t z=1  a=2 ", Point("m", 7.0, NOW, "a", (("a", "2"), ("z", "1")))),
    ('m 1 source=s k="say \\"hi\\""', Point("m", 1.0, NOW, "s", (("k", 'say "hi"'),))),
    ('m 1 source=s k="C:\\dir\\x"', Point("m", 1.0, NOW, "s", (("k", "C:\\dir\\x"),))),
    ('m 1 source=s "quoted.key"="v v"', Point("m", 1.0, NOW, "s", (("quoted.key", "v v"),))),
    ("m 1 source=s k=a=b", Point("m", 1.0, NOW, "s", (("k", "a=b"),))),
    ("m 1 host=h source=s", Point("m", 1.0, NOW, "s", (("host", "h"),))),
    ("~internal.metric 1 source=s", Point("~internal.metric", 1.0, NOW, "s")),
    ("∆delta.counter 3 source=s", Point("∆delta.counter", 3.0, NOW, "s")),
    ("Δ~delta.internal 3 source=s", Point("Δ~delta.internal", 3.0, NOW, "s")),
    ("m 1 source=s\r", Point("m", 1.0, NOW, "s")),
    ("m 1 source=s k=ünïcødé", Point("m", 1.0, NOW, "s", (("k", "ünïcødé"),))),
]


@pytest.mark.parametrize(("line", "expected"), POINTS)
def test_can_parse_tricky_point_lines(line, expected):
    assert one(L.points, line) == expected


REJECTED_POINTS = [
    ("system.cpu.load# 0.03 source=a", "metric name: invalid character '#'"),
    ('"my metric" 1 source=a', "metric name: invalid character ' '"),
    ("bad!name 1 source=a", "metric name: invalid character '!'"),
    ("system.cpu.loadavg source=a", "value: missing"),
    ("m", "expected <metric> <value>"),
    ("m abc source=a", "value: not a number 'abc'"),
    ("m nan source=a", "value: not a number 'nan'"),
    ("m inf source=a", "value: not a number 'inf'"),
    ("m 1_000 source=a", "value: not a number"),
    ("m 1e999 source=a", "value: out of range"),
    ("∆d 0 source=a", "delta counter's value must be positive"),
    ("~ 1 source=a", "metric name: nothing after the prefix"),
    ('m 1 source="a', "malformed token"),
    ('m 1 source=a k="v\\"', "malformed token"),
    ('m 1 source=a k="v"x', "malformed token"),
    ("m 1 source=a k=", "point tag 'k': empty value"),
    ('m 1 source=a k="  "', "point tag 'k': empty value"),
    ("m 1 source=a k=1 k=2", "point tag 'k': given twice"),
    ("m 1 source=a b@d=1", "point tag key 'b@d': invalid character '@'"),
    ("m 1 source=a loose", "expected key=value, got 'loose'"),
    ("m 1 123 456 source=a", "expected key=value, got '456'"),
    ('m 1 source=""', "source: empty"),
    ("m 1 source=a k=\x01", "control character"),
    ("m -1 source=a", None),  # a negative value is fine
]


@pytest.mark.parametrize(("line", "why"), REJECTED_POINTS)
def test_can_reject_bad_point_lines_naming_the_problem(line, why):
    if why is None:
        assert isinstance(one(L.points, line), Point)
    else:
        assert why in reason(L.points, line)


# ---- timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1533531013", 1533531013000),  # seconds
        ("1533531013.25", 1533531013250),  # fractional seconds
        ("1533531013.", 1533531013000),
        ("99999999999", 99999999999000),  # the largest count of seconds
        ("100000000000", 100000000000),  # the smallest count of milliseconds (1973)
        ("1533531013123", 1533531013123),  # milliseconds
        ("1533531013123456", 1533531013123),  # microseconds
        ("1533531013123456789", 1533531013123),  # nanoseconds
        ("0", 0),
    ],
)
def test_can_read_timestamps_in_seconds_milliseconds_microseconds_and_nanoseconds(text, ms):
    assert L.timestamp_ms(text) == ms
    assert one(L.points, f"m 1 {text} source=a").timestamp_ms == ms


@pytest.mark.parametrize("text", ["-1533531013", "1e9", "1533531013123.5", "10000000000000000000", "now"])
def test_can_reject_timestamps_of_no_unit(text):
    assert "timestamp:" in reason(L.points, f"m 1 {text} source=a") or "expected key=value" in reason(
        L.points, f"m 1 {text} source=a"
    )


def test_can_use_now_for_a_missing_timestamp():
    assert one(L.points, "m 1 source=a").timestamp_ms == NOW


# ---- limits --------------------------------------------------------------------------------


def test_can_enforce_the_metric_name_length():
    assert isinstance(one(L.points, f"{'m' * 256} 1 source=a"), Point)
    assert reason(L.points, f"{'m' * 257} 1 source=a") == "metric name: 257 characters, at most 256"


def test_can_enforce_the_source_length():
    assert isinstance(one(L.points, f"m 1 source={'s' * 128}"), Point)
    assert reason(L.points, f"m 1 source={'s' * 129}") == "source: 129 characters, at most 128"


def test_can_enforce_the_point_tag_count():
    tags = " ".join(f"k{i}=v" for i in range(20))
    assert len(one(L.points, f"m 1 source=a {tags}").tags) == 20
    assert reason(L.points, f"m 1 source=a {tags} k20=v") == "point tags: 21, at most 20"


def test_can_enforce_the_point_tag_lengths():
    assert isinstance(one(L.points, f"m 1 source=a {'k' * 64}={'v' * 190}"), Point)
    assert "key and value of 255 characters, at most 254" in reason(L.points, f"m 1 source=a {'k' * 64}={'v' * 191}")
    assert "at most 64" in reason(L.points, f"m 1 source=a {'k' * 65}=v")
    assert "at most 255" in reason(L.points, f"m 1 source=a k={'v' * 256}")


def test_can_reject_an_overlong_or_undecodable_line():
    assert reason(L.points, b"m" * (L.MAX_LINE_BYTES + 1)) == f"line longer than {L.MAX_LINE_BYTES} bytes"
    assert reason(L.points, b"m 1 source=\xff") == "not UTF-8 (byte 12)"


def test_can_number_lines_and_skip_blank_ones():
    results = list(L.points([b"a 1", b"", b"  ", b"bad!", b"b 2"], now_ms=NOW, default_source=DEFAULT))
    assert [type(r).__name__ for r in results] == ["Point", "Rejected", "Point"]
    assert results[1].line_no == 4


def test_can_parse_lazily():
    def endless():
        while True:
            yield b"m 1 source=a"

    parsed = L.points(endless(), now_ms=NOW, default_source=DEFAULT)
    assert [next(parsed) for _ in range(3)] == [Point("m", 1.0, NOW, "a")] * 3


def test_can_choose_the_parser_by_format_and_refuse_an_unknown_one():
    assert isinstance(next(L.parse("wavefront", [b"m 1"], now_ms=NOW, default_source=DEFAULT)), Point)
    with pytest.raises(Invalid, match="f must be one of wavefront, histogram, trace, spanLogs"):
        L.parse("graphite", [], now_ms=NOW, default_source=DEFAULT)


# ---- histograms ----------------------------------------------------------------------------


def test_can_parse_histograms():
    line = "!M 1533531013 #20 30.0 #10 5.1 request.latency source=appServer1 region=us-west"
    assert one(L.histograms, line) == HistogramPoint(
        "M", 1533531013000, ((30.0, 20), (5.1, 10)), "request.latency", "appServer1", (("region", "us-west"),)
    )
    assert one(L.histograms, "!D #1 -2e1 h").granularity == "D"
    assert one(L.histograms, "!H #0 1 #3 2 h host=x") == HistogramPoint("H", NOW, ((1.0, 0), (2.0, 3)), "h", "x")


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("!S 1 #1 2 h", "expected !M, !H or !D first"),
        ("M #1 2 h", "expected !M, !H or !D first"),
        ("!M h source=a", "no centroid"),
        ("!M #1 h source=a", "centroid mean: not a number 'h'"),
        ("!M #1.5 2 h", "centroid count: not a whole number"),
        ("!M #-1 2 h", "centroid count: not a whole number"),
        ("!M #0 2 #0 3 h", "histogram: empty"),
        ("!M #1 2", "histogram name: missing"),
        (f"!M #1 2 {'h' * 129}", "histogram name: 129 characters, at most 128"),
        ("!M #1 2 h source=a x", "expected key=value"),
    ],
)
def test_can_reject_bad_histograms(line, why):
    assert why in reason(L.histograms, line)


# ---- spans and span logs -------------------------------------------------------------------


def test_can_parse_spans():
    line = (
        f'"getAllUsers" source="localhost" traceId={TRACE} spanId={SPAN} parent={PARENT} '
        f'followsFrom={PARENT.upper()} "application"="Wavefront" "http.method"="GET" 1533531013 343500'
    )
    assert one(L.spans, line) == Span(
        "getAllUsers",
        "localhost",
        TRACE,
        SPAN,
        (PARENT,),
        (PARENT,),
        (("application", "Wavefront"), ("http.method", "GET")),
        1533531013000,
        343500,
    )
    assert one(L.spans, f"op traceId={TRACE} spanId={SPAN} 1533531013123 0").source == DEFAULT


def test_can_cut_long_span_tag_values_as_wavefront_does():
    span = one(L.spans, f"op traceId={TRACE} spanId={SPAN} url={'u' * 300} 1533531013123 5")
    assert span.tags == (("url", "u" * 128),)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (f"op traceId={TRACE} 1 2", "spanId: missing"),
        (f"op traceId=abc spanId={SPAN} 1 2", "traceId: not a UUID 'abc'"),
        (f"op traceId={TRACE} spanId={SPAN} parent=x 1 2", "parent: not a UUID"),
        (f"op traceId={TRACE} traceId={TRACE} spanId={SPAN} 1 2", "traceId: given twice"),
        (f"op* traceId={TRACE} spanId={SPAN} 1 2", "span name: invalid character '*'"),
        (f"op traceId={TRACE} spanId={SPAN} 1", "expected <start> <duration> last"),
        (f"op traceId={TRACE} spanId={SPAN} 1 -2", "duration: not a whole number"),
        (f"op traceId={TRACE} spanId={SPAN} k= 1 2", "span tag 'k': empty value"),
        (f"op traceId={TRACE} spanId={SPAN} stray 1 2", "expected key=value"),
        (f'"" traceId={TRACE} spanId={SPAN} 1 2', "span name: empty"),
        (" ".join(["op", f"traceId={TRACE}", f"spanId={SPAN}", *[f"k{i}=v" for i in range(21)], "1 2"]), "at most 20"),
    ],
)
def test_can_reject_bad_spans(line, why):
    assert why in reason(L.spans, line)


def test_can_parse_span_logs():
    line = json.dumps(
        {
            "traceId": TRACE,
            "spanId": SPAN,
            "logs": [{"timestamp": 1533531013000000, "fields": {"event": "error", "code": 7}}],
            "span": f"op traceId={TRACE} spanId={SPAN} 1 2\n",
            "_scrambler": "x",
        }
    )
    assert one(L.span_logs, line) == SpanLogs(
        TRACE,
        SPAN,
        (SpanLog(1533531013000000, (("event", "error"), ("code", "7"))),),
        f"op traceId={TRACE} spanId={SPAN} 1 2",
    )


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("{", "not JSON"),
        ("[]", "expected a JSON object"),
        (json.dumps({"spanId": SPAN, "logs": []}), "traceId: missing"),
        (json.dumps({"traceId": TRACE, "spanId": SPAN}), "logs: expected a list"),
        (json.dumps({"traceId": TRACE, "spanId": SPAN, "logs": [{"timestamp": "x"}]}), "logs[0].timestamp"),
        (json.dumps({"traceId": TRACE, "spanId": SPAN, "logs": [{"timestamp": 1, "fields": {"a": [1]}}]}), "fields.a"),
        ('{"traceId": NaN}', "not JSON"),
    ],
)
def test_can_reject_bad_span_logs(line, why):
    assert why in reason(L.span_logs, line)


# ---- what wavefront-sdk-python writes ------------------------------------------------------


def test_can_parse_every_line_wavefront_sdk_python_writes():
    # GIVEN the lines the SDK's WavefrontClient sends (its own line builders, unchanged)
    metric = sdk.metric_to_line_data("req.latency", 12.5, 1533531013, "web 1", {"env": 'p "q"'}, DEFAULT)
    internal = sdk.metric_to_line_data("~sdk.python.core.sender.direct.points.valid", 3, None, "", {"v": "x"}, DEFAULT)
    histogram = sdk.histogram_to_line_data(
        "req.hist", [(30.0, 20), (5.1, 10)], {"!M", "!H"}, 1533531013, "h", None, DEFAULT
    )
    span = sdk.tracing_span_to_line_data(
        "getAllUsers", 1533531013123, 343, "h", TRACE, SPAN, [PARENT], None, [("application", "app")], None, DEFAULT
    )
    span_log = sdk.span_log_to_line_data(TRACE, SPAN, [{"timestamp": 1533531013123000, "fields": {"k": "v"}}], span)

    # WHEN they are parsed THEN every one is kept, as sent
    assert one(L.points, metric.rstrip("\n")) == Point("req.latency", 12.5, 1533531013000, "web 1", (("env", 'p "q"'),))
    assert one(L.points, internal.rstrip("\n")).source == DEFAULT
    assert sorted(r.granularity for r in L.histograms(histogram.splitlines(), now_ms=NOW, default_source=DEFAULT)) == [
        "H",
        "M",
    ]
    parsed_span = one(L.spans, span.rstrip("\n"))
    assert (parsed_span.start_ms, parsed_span.duration_ms, parsed_span.parents) == (1533531013123, 343, (PARENT,))
    assert one(L.span_logs, span_log.rstrip("\n")).logs == (SpanLog(1533531013123000, (("k", "v"),)),)


# ---- properties ----------------------------------------------------------------------------

NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/,-"
names = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(["", "~", "∆", "Δ", "∆~"]),
    st.text(NAME_CHARS, min_size=1, max_size=200),
)
texts = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=60).filter(
    lambda s: s.strip() and not s.endswith("\\")
)
keys = st.text(NAME_CHARS, min_size=1, max_size=40).filter(lambda k: k not in ("source", "host"))
tag_maps = st.dictionaries(keys, texts, max_size=20)
values = st.floats(allow_nan=False, allow_infinity=False)
millis = st.integers(min_value=10**11, max_value=10**14 - 1)


def quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def render_tags(tags) -> str:
    return "".join(f" {quote(k)}={quote(v)}" for k, v in tags)


@given(names, values, millis, texts, tag_maps)
def test_can_read_back_any_valid_point(metric, value, ms, source, tags):
    if metric[0] in "∆Δ":
        value = abs(value) or 1.0
    point = Point(metric, value, ms, source, tuple(sorted(tags.items())))
    line = f"{quote(metric)} {value!r} {ms} source={quote(source)}{render_tags(point.tags)}"
    assert one(L.points, line.encode()) == point


@given(
    st.sampled_from("MHD"),
    millis,
    st.lists(st.tuples(values, st.integers(1, 10**6)), min_size=1, max_size=20),
    st.text(NAME_CHARS, min_size=1, max_size=128),
    texts,
    tag_maps,
)
def test_can_read_back_any_valid_histogram(granularity, ms, centroids, metric, source, tags):
    histogram = HistogramPoint(granularity, ms, tuple(centroids), metric, source, tuple(sorted(tags.items())))
    body = " ".join(f"#{count} {mean!r}" for mean, count in centroids)
    line = f"!{granularity} {ms} {body} {quote(metric)} source={quote(source)}{render_tags(histogram.tags)}"
    assert one(L.histograms, line) == histogram


@given(
    texts.filter(lambda s: "*" not in s),
    texts,
    st.uuids(),
    st.uuids(),
    st.lists(st.uuids(), max_size=3),
    st.lists(st.tuples(keys, texts), max_size=20),
    millis,
    st.integers(0, 10**9),
)
def test_can_read_back_any_valid_span(name, source, trace, span_id, parents, tags, start, duration):
    span = Span(name, source, str(trace), str(span_id), tuple(map(str, parents)), (), tuple(tags), start, duration)
    parent_text = "".join(f" parent={p}" for p in span.parents)
    line = (
        f"{quote(name)} source={quote(source)} traceId={trace} spanId={span_id}{parent_text}"
        f"{render_tags(tags)} {start} {duration}"
    )
    assert one(L.spans, line) == span


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)), st.sampled_from(sorted(L.FORMATS)))
def test_can_take_any_input_without_raising(line, fmt):
    for result in L.parse(fmt, [line, line.strip()], now_ms=NOW, default_source=DEFAULT):
        assert isinstance(result, (Point, HistogramPoint, Span, SpanLogs, Rejected))
        if isinstance(result, Rejected):
            assert result.reason and len(result.reason) <= L.MAX_REASON_CHARS


@given(st.lists(st.sampled_from(['"', "\\", "=", " ", "a", "1", "#", "!M", "source", "\t", "."]), max_size=40))
def test_can_take_any_mix_of_quotes_escapes_and_separators(parts):
    line = "".join(parts)
    for fmt in L.FORMATS:
        list(L.parse(fmt, [line], now_ms=NOW, default_source=DEFAULT))
