"""The query engine over an in-memory source: one table of hand-computed answers per
function (interpolation, missing points, group-by, wildcards, filters), then the refusals
and bounds.

Times below are seconds after T0 (an hour boundary); answers list (second, value)."""

from __future__ import annotations

import pytest

from chalicelib.errors import Invalid
from chalicelib.query import engine
from chalicelib.query.data import EventRecord, QueryTooLarge
from chalicelib.query.engine import Limits
from chalicelib.query.memory import MemorySource

T0 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000
HOUR_S = 3600


def at(seconds: float) -> int:
    return T0 + int(seconds * 1000)


@pytest.fixture(scope="module")
def data() -> MemorySource:
    src = MemorySource()
    src.add("cpu.load", "web-1", [(at(0), 1), (at(60), 2), (at(120), 3), (at(180), 4)], {"env": "prod"})
    src.add("cpu.load", "web-2", [(at(30), 10), (at(150), 20)], {"env": "dev"})
    src.add("cpu.idle", "web-1", [(at(0), 5), (at(120), 7)], {"env": "prod"})
    src.add("mem.used", "web-1", [(at(0), 10), (at(180), 40)], {"env": "prod"})
    src.add("mem.used", "web-2", [(at(30), 5), (at(150), 5)], {"env": "dev"})
    src.add("mem.used", "web-3", [(at(0), 1)])
    src.add("req", "web-1", [(at(0), 100), (at(60), 160), (at(120), 40), (at(180), 100)])
    src.add("early", "db-1", [(at(-120), 1), (at(-60), 2), (at(0), 3), (at(60), 4)])
    src.tag_source("web-1", "prod-tier")
    src.add_histogram("lat", "web-1", [(at(0), ((1.0, 2), (5.0, 2), (10.0, 1))), (at(60), ((3.0, 1),))])
    src.add_event(EventRecord("e1", "deploy web", at(10), at(20), ("web-1",), ("release",), (("type", "deploy"),)))
    src.add_event(
        EventRecord("e2", "disk full", at(70), None, ("db-1",), (), (("type", "alert"), ("severity", "warn")))
    )
    src.add_event(EventRecord("e3", "old", at(-10), at(-5)))
    return src


def run(data: MemorySource, text: str, g: str = "s", seconds: int = HOUR_S, **options) -> dict:
    """{(metric, source, tags): [(second, value)]} of the answer."""
    result = engine.query(text, data, start=at(0), end=at(seconds), granularity=g, **options)
    return {
        (s.key.metric, s.key.source, s.key.tags): [((t - T0) / 1000, v) for t, v in s.points] for s in result.series
    }


PROD, DEV = (("env", "prod"),), (("env", "dev"),)
WEB1, WEB2 = ("cpu.load", "web-1", PROD), ("cpu.load", "web-2", DEV)
WEB1_RAW = [(0, 1), (60, 2), (120, 3), (180, 4)]

CASES = [
    # ts() with wildcards and filters
    ("ts(cpu.load)", {WEB1: WEB1_RAW, WEB2: [(30, 10), (150, 20)]}),
    ("ts(cpu.load, source=web-1)", {WEB1: WEB1_RAW}),
    ("ts(cpu.load, host=web-*, env=dev)", {WEB2: [(30, 10), (150, 20)]}),
    ("ts(cpu.load, not env=prod)", {WEB2: [(30, 10), (150, 20)]}),
    ("ts(cpu.load, env!=prod)", {WEB2: [(30, 10), (150, 20)]}),
    ("ts(cpu.load, source=web-2 or (env=prod and tag=prod-tier))", {WEB1: WEB1_RAW, WEB2: [(30, 10), (150, 20)]}),
    ("ts(cpu.*, tag=prod-*)", {WEB1: WEB1_RAW, ("cpu.idle", "web-1", PROD): [(0, 5), (120, 7)]}),
    ("ts(mem.used, region=eu)", {}),  # a point tag the series do not have
    ("ts(nothing.*)", {}),
    # aggregates interpolate between a series' points, only inside its first..last point
    ("sum(ts(cpu.load))", {("cpu.load", "", ()): [(0, 1), (30, 11.5), (60, 14.5), (120, 20.5), (150, 23.5), (180, 4)]}),
    (
        "avg(ts(cpu.load))",
        {("cpu.load", "", ()): [(0, 1), (30, 5.75), (60, 7.25), (120, 10.25), (150, 11.75), (180, 4)]},
    ),
    ("min(ts(cpu.load))", {("cpu.load", "", ()): [(0, 1), (30, 1.5), (60, 2), (120, 3), (150, 3.5), (180, 4)]}),
    ("max(ts(cpu.load))", {("cpu.load", "", ()): [(0, 1), (30, 10), (60, 12.5), (120, 17.5), (150, 20), (180, 4)]}),
    ("count(ts(cpu.load))", {("cpu.load", "", ()): [(0, 1), (30, 2), (60, 2), (120, 2), (150, 2), (180, 1)]}),
    # raw aggregates use the points that are there
    ("rawsum(ts(cpu.load))", {("cpu.load", "", ()): [(0, 1), (30, 10), (60, 2), (120, 3), (150, 20), (180, 4)]}),
    ("rawcount(ts(cpu.load))", {("cpu.load", "", ()): [(t, 1) for t in (0, 30, 60, 120, 150, 180)]}),
    ("rawavg(ts(mem.used))", {("mem.used", "", ()): [(0, 5.5), (30, 5), (150, 5), (180, 40)]}),
    ("rawmax(ts(mem.used))", {("mem.used", "", ()): [(0, 10), (30, 5), (150, 5), (180, 40)]}),
    ("rawmin(ts(mem.used))", {("mem.used", "", ()): [(0, 1), (30, 5), (150, 5), (180, 40)]}),
    # group by sources, point tags, metrics
    (
        "sum(ts(cpu.*), sources)",
        {("", "web-1", ()): [(0, 6), (60, 8), (120, 10), (180, 4)], ("cpu.load", "web-2", ()): [(30, 10), (150, 20)]},
    ),
    ("max(ts(cpu.load), env)", {("cpu.load", "", PROD): WEB1_RAW, ("cpu.load", "", DEV): [(30, 10), (150, 20)]}),
    (
        "sum(ts(cpu.*, source=web-1), metrics)",
        {("cpu.load", "", ()): WEB1_RAW, ("cpu.idle", "", ()): [(0, 5), (120, 7)]},
    ),
    (
        "count(ts(mem.used), env)",
        {
            ("mem.used", "", PROD): [(0, 1), (180, 1)],
            ("mem.used", "", DEV): [(30, 1), (150, 1)],
            ("mem.used", "", ()): [(0, 1)],
        },
    ),
    # arithmetic and comparison: constants, one series against many, matched series
    ("ts(cpu.load, source=web-1) * 2", {WEB1: [(0, 2), (60, 4), (120, 6), (180, 8)]}),
    ("10 - ts(cpu.load, source=web-1)", {WEB1: [(0, 9), (60, 8), (120, 7), (180, 6)]}),
    ("ts(cpu.load, source=web-1) / 0", {}),  # no point where it divides by zero
    ("ts(req) % 50", {("req", "web-1", ()): [(0, 0), (60, 10), (120, 40), (180, 0)]}),
    ("ts(cpu.load) - ts(cpu.idle)", {WEB1: [(0, -4), (60, -4), (120, -4)], WEB2: [(30, 4.5), (120, 10.5)]}),
    ("ts(cpu.load) + ts(mem.used)", {WEB1: [(0, 11), (60, 22), (120, 33), (180, 44)], WEB2: [(30, 15), (150, 25)]}),
    ("ts(cpu.load, source=web-1) > 2", {WEB1: [(0, 0), (60, 0), (120, 1), (180, 1)]}),
    (
        "ts(cpu.load, source=web-1) >= 2 and ts(cpu.load, source=web-1) < 4",
        {WEB1: [(0, 0), (60, 1), (120, 1), (180, 0)]},
    ),
    ("ts(cpu.load, source=web-1) = 1 or ts(cpu.load, source=web-1) = 4", {WEB1: [(0, 1), (60, 0), (120, 0), (180, 1)]}),
    ("not (ts(cpu.load, source=web-1) != 3)", {WEB1: [(0, 0), (60, 0), (120, 1), (180, 0)]}),
    ("-ts(cpu.load, source=web-2)", {WEB2: [(30, -10), (150, -20)]}),
    # rate (no point at a counter reset) and deriv, reading before the window
    ("rate(ts(req))", {("req", "web-1", ()): [(60, 1), (180, 1)]}),
    ("deriv(ts(req))", {("req", "web-1", ()): [(60, 1), (120, -2), (180, 1)]}),
    ("rate(ts(early))", {("early", "db-1", ()): [(0, 1 / 60), (60, 1 / 60)]}),
    ("lag(1m, ts(early))", {("early", "db-1", ()): [(0, 2), (60, 3), (120, 4)]}),
    ("abs(-ts(cpu.load, source=web-2))", {WEB2: [(30, 10), (150, 20)]}),
    ("align(2m, ts(cpu.load, source=web-1))", {WEB1: [(0, 1.5), (120, 3.5)]}),
    ("align(2m, sum, ts(cpu.load, source=web-1))", {WEB1: [(0, 3), (120, 7)]}),
    ("align(1h, count, ts(cpu.load))", {WEB1: [(0, 4)], WEB2: [(0, 2)]}),
    # moving windows (t - window, t], with points before the window start
    ("mavg(2m, ts(early))", {("early", "db-1", ()): [(0, 2.5), (60, 3.5)]}),
    ("msum(2m, ts(early))", {("early", "db-1", ()): [(0, 5), (60, 7)]}),
    ("mmin(2m, ts(early))", {("early", "db-1", ()): [(0, 2), (60, 3)]}),
    ("mmax(3m, ts(early))", {("early", "db-1", ()): [(0, 3), (60, 4)]}),
    ("mcount(3m, ts(early))", {("early", "db-1", ()): [(0, 3), (60, 3)]}),
    # percentiles of histograms (nearest rank over centroids)
    ("percentile(50, hs(lat))", {("lat", "web-1", ()): [(0, 5), (60, 3)]}),
    ("percentile(90, hs(lat, source=web-1))", {("lat", "web-1", ()): [(0, 10), (60, 3)]}),
    ("percentile(0, hs(lat))", {("lat", "web-1", ()): [(0, 1), (60, 3)]}),
    ("percentile(50, hs(lat, source=db-*))", {}),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_can_compute_each_function_by_hand(data, text, expected):
    answer = run(data, text)
    assert answer.keys() == expected.keys()
    for key, points in expected.items():
        assert [t for t, _ in answer[key]] == [t for t, _ in points], key
        assert [v for _, v in answer[key]] == pytest.approx([v for _, v in points]), key


DEFAULT_CASES = [
    # default() fills empty granularity buckets; with a window, only that long after a point
    ("default(0, ts(cpu.idle))", 240, {("cpu.idle", "web-1", PROD): [(0, 5), (60, 0), (120, 7), (180, 0)]}),
    ("default(1m, 9, ts(cpu.idle))", 300, {("cpu.idle", "web-1", PROD): [(0, 5), (60, 9), (120, 7), (180, 9)]}),
    ("sum(default(0, ts(mem.used, source=web-3)))", 180, {("mem.used", "", ()): [(0, 1), (60, 0), (120, 0)]}),
    ("1 + 2", 180, {("", "", ()): [(0, 3), (60, 3), (120, 3)]}),
]


@pytest.mark.parametrize(("text", "seconds", "expected"), DEFAULT_CASES, ids=[c[0] for c in DEFAULT_CASES])
def test_can_fill_minute_buckets_with_defaults_and_constants(data, text, seconds, expected):
    assert run(data, text, g="m", seconds=seconds) == expected


@pytest.mark.parametrize(
    ("summarization", "value"),
    [("MEAN", 2.5), ("SUM", 10), ("COUNT", 4), ("LAST", 4), ("FIRST", 1), ("MAX", 4), ("MEDIAN", 2.5)],
)
def test_can_summarize_each_bucket(data, summarization, value):
    assert run(data, "ts(cpu.load, source=web-1)", g="h", summarization=summarization) == {WEB1: [(0, value)]}


def test_can_widen_buckets_to_answer_about_p_points(data):
    assert run(data, "ts(cpu.load, source=web-1)", g="m", seconds=240, max_points=2) == {WEB1: [(0, 1.5), (120, 3.5)]}


def test_can_keep_or_drop_the_bucket_that_starts_before_the_window(data):
    # GIVEN a window starting at 30 s, hourly buckets: the first bucket starts before it
    def ask(strict: bool) -> list:
        result = engine.query(
            "ts(cpu.load, source=web-1)", data, start=at(30), end=at(HOUR_S), granularity="h", strict=strict
        )
        return [s.points for s in result.series]

    # THEN only points inside the window count, and strict leaves the early bucket out
    assert ask(False) == [[(T0, 3.0)]]
    assert ask(True) == []


def test_can_answer_events_with_filters(data):
    def names(text: str) -> list[str]:
        result = engine.query(text, data, start=at(0), end=at(HOUR_S), granularity="m")
        assert result.series == []
        return [e.name for e in result.events]

    assert names("events()") == ["deploy web", "disk full"]
    assert names("events(type=deploy)") == ["deploy web"]
    assert names("events(severity=warn or tag=release)") == ["deploy web", "disk full"]
    assert names('events(name="disk*", source=db-1)') == ["disk full"]
    assert names("events(not type=alert)") == ["deploy web"]


def test_can_record_what_the_query_read(data):
    result = engine.query(
        "sum(ts(cpu.*, source=web-1)) + percentile(50, hs(lat))", data, start=at(0), end=at(600), granularity="m"
    )
    assert result.accessed == {
        ("metric", "cpu.load", "web-1"),
        ("metric", "cpu.idle", "web-1"),
        ("histogram", "lat", "web-1"),
    }
    assert (result.keys, result.points) == (3, 8)
    assert result.metrics == {"cpu.load", "cpu.idle", "lat"}


def test_can_answer_raw_points_averaged_per_second():
    src = MemorySource()
    src.add("m", "a", [(at(0), 1), (at(0.5), 3), (at(2), 5)], {"k": "v"})
    src.add("m", "b", [(at(1), 7)])
    series = engine.raw(src, "m", "a", start=at(0), end=at(60))
    assert [(s.key.source, s.points) for s in series] == [("a", [(at(0), 2.0), (at(2), 5.0)])]
    assert len(engine.raw(src, "m", None, start=at(0), end=at(60))) == 2
    with pytest.raises(Invalid, match="wildcards"):
        engine.raw(src, "m*", None, start=at(0), end=at(60))
    with pytest.raises(QueryTooLarge, match="one day"):
        engine.raw(src, "m", None, start=at(0), end=at(2 * 86_400))


REFUSED = [
    ("hideafter(5m, ts(cpu.load))", "function 'hideafter' is not supported"),
    ("ts(cpu.load) + foo(1)", "function 'foo' is not supported"),
    ("percentile(50, ts(cpu.load))", r"percentile\(\) is supported over hs\(...\) only"),
    ("hs(lat)", r"only inside percentile"),
    ("${x} > 1", "variables"),
    ("events() + 1", "whole query"),
    ("sum(events())", "whole query"),
    ("rate(1)", "needs a series"),
    ("mavg(5, ts(x))", "duration"),
    ("lag(ts(x))", "takes 2 arguments"),
    ("align(1m, middle, ts(x))", "summarization"),
    ("sum(ts(x), 1)", "group by"),
    ("ts(x, tagpath=a.b)", "not supported"),
    ("events(color=red)", "not supported"),
    ("default(1m, 2m, 0, ts(x))", "takes 2 or 3 arguments"),
    ("percentile(120, hs(lat))", "between 0 and 100"),
    ("1 / 0", "divides a constant by zero"),
    ("ts(x,", "Syntax error"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_can_refuse_what_it_does_not_support(data, text, message):
    with pytest.raises(Invalid, match=message):
        engine.query(text, data, start=at(0), end=at(HOUR_S), granularity="m")


def test_can_refuse_bad_parameters(data):
    with pytest.raises(Invalid, match="granularity"):
        engine.query("ts(x)", data, start=at(0), end=at(60), granularity="w")
    with pytest.raises(Invalid, match="summarization"):
        engine.query("ts(x)", data, start=at(0), end=at(60), summarization="AVERAGE")
    with pytest.raises(Invalid, match="window"):
        engine.query("ts(x)", data, start=at(60), end=at(0))


@pytest.mark.parametrize(
    ("text", "g", "limits", "message"),
    [
        ("ts(cpu.load)", "s", Limits(buckets=100), "more than 100 buckets"),
        ("ts(cpu.*)", "m", Limits(series=1), "matches more than 1 series"),
        ("ts(cpu.load)", "m", Limits(points=5), "more than 5 points"),
        ("ts(cpu.load) + ts(cpu.load) * 0", "m", Limits(points=8), "more than 8 points"),
        ("events()", "m", Limits(events=1), "more than 1 events"),
    ],
)
def test_can_bound_the_work_with_clear_refusals(data, text, g, limits, message):
    with pytest.raises(QueryTooLarge, match=message):
        engine.query(text, data, start=at(0), end=at(HOUR_S), granularity=g, limits=limits)
