"""The timeseries table (store/series.py): keys, dedupe, index, reads, and the AWS calls they cost."""

from __future__ import annotations

import math

import pytest

from chalicelib.store import series
from chalicelib.store.series import DAY_MS, Histogram, SeriesKey

pytestmark = pytest.mark.usefixtures("aws")

T0 = 1_700_000_000_000 - (1_700_000_000_000 % DAY_MS) + DAY_MS - 120_000  # two minutes before a day ends
EXPIRES = 2_000_000_000


@pytest.fixture(autouse=True)
def _fresh_index():
    series.forget_noted()
    yield
    series.forget_noted()


def cpu(source: str = "web-1", **tags: str) -> SeriesKey:
    return SeriesKey.of("metric", "cpu.load", source, tags)


def test_points_round_trip_across_a_day_boundary_in_time_order():
    key = cpu(env="prod")
    points = [(key, T0 + i * 60_000, v) for i, v in enumerate([1.5, -2.0, 1e300, 5e-324])]
    written = series.write_points("t1", points, expires=EXPIRES)
    assert written.items == 4
    assert written.noted == [key]
    got = series.read_points("t1", [key], T0, T0 + 3 * 60_000)[key]
    assert got == [(t, v) for _, t, v in points]
    assert series.read_points("t1", [key], T0 + 60_000, T0 + 120_000)[key] == [(t, v) for _, t, v in points[1:3]]


def test_the_same_series_and_timestamp_is_one_point_the_later_value_wins():
    key = cpu()
    series.write_points("t1", [(key, T0, 1.0), (key, T0, 2.0)], expires=EXPIRES)
    series.write_points("t1", [(key, T0, 3.0)], expires=EXPIRES)
    assert series.read_points("t1", [key], T0 - 1, T0 + 1)[key] == [(T0, 3.0)]


def test_series_differ_by_source_and_tags_and_tenants_never_mix():
    a, b, c = cpu("web-1"), cpu("web-2"), cpu("web-1", env="dev")
    series.write_points("t1", [(a, T0, 1.0), (b, T0, 2.0), (c, T0, 3.0)], expires=EXPIRES)
    series.write_points("t2", [(a, T0, 9.0)], expires=EXPIRES)
    got = series.read_points("t1", [a, b, c], T0, T0)
    assert {k: [v for _, v in p] for k, p in got.items()} == {a: [1.0], b: [2.0], c: [3.0]}
    assert series.read_points("t2", [a], T0, T0)[a] == [(T0, 9.0)]
    found = {i.key for i in series.find_series("t1", "metric", "cpu.load")}
    assert found == {a, b, c}
    assert {i.key for i in series.find_series("t2", "metric", "cpu.load")} == {a}
    assert series.find_series("t3", "metric", "cpu.load") == []


def test_index_keeps_first_and_last_seen_and_names_by_prefix(aws_calls):
    key = cpu()
    series.write_points("t1", [(key, T0, 1.0)], expires=EXPIRES)
    series.write_points("t1", [(key, T0 + 1000, 1.0)], expires=EXPIRES)  # within the refresh: no index write
    assert aws_calls.counts().get("UpdateItem") == 2  # the series and its name, once
    series.write_points("t1", [(key, T0 + series.INDEX_REFRESH_MS, 1.0)], expires=EXPIRES)
    (info,) = series.find_series("t1", "metric", "cpu.load")
    assert (info.first_seen, info.last_seen) == (T0, T0 + series.INDEX_REFRESH_MS)
    series.forget_noted()  # another process, behind in time: last seen only moves forward
    series.write_points("t1", [(key, T0 - 5000, 1.0)], expires=EXPIRES)
    (info,) = series.find_series("t1", "metric", "cpu.load")
    assert info.last_seen == T0 + series.INDEX_REFRESH_MS
    series.write_points("t1", [(SeriesKey.of("metric", "cpu.idle", "h", {}), T0, 1.0)], expires=EXPIRES)
    series.write_points("t1", [(SeriesKey.of("metric", "disk.free", "h", {}), T0, 1.0)], expires=EXPIRES)
    assert [m.name for m in series.metric_names("t1", "metric", "cpu.")] == ["cpu.idle", "cpu.load"]
    assert [m.name for m in series.metric_names("t1", "metric")] == ["cpu.idle", "cpu.load", "disk.free"]
    assert list(series.metric_names("t1", "histogram")) == []


def test_points_are_written_25_to_a_call(aws_calls):
    key = cpu()
    series.write_points("t1", [(key, T0 + i, float(i)) for i in range(60)], expires=EXPIRES)
    assert aws_calls.counts().get("BatchWriteItem") == 3
    assert len(series.read_points("t1", [key], T0, T0 + 59)[key]) == 60


def test_histograms_and_spans():
    key = SeriesKey.of("histogram", "latency.m", "web-1", {"env": "prod"})
    h = Histogram(T0, ((1.5, 3), (10.0, 1)))
    series.write_histograms("t1", [(key, h)], expires=EXPIRES)
    assert series.read_histograms("t1", [key], T0, T0)[key] == [h]
    assert [m.name for m in series.metric_names("t1", "histogram")] == ["latency.m"]
    series.write_spans(
        "t1", [("trace-1", "span-a", {"name": "get"}), ("trace-1", "span-a#logs", {"logs": []})], expires=EXPIRES
    )
    assert series.read_trace("t1", "trace-1") == {"span-a": {"name": "get"}, "span-a#logs": {"logs": []}}
    assert series.read_trace("t2", "trace-1") == {}


def test_values_are_exact_doubles():
    key = cpu()
    values = [0.1, -0.0, math.pi, 1.7976931348623157e308]
    series.write_points("t1", [(key, T0 + i, v) for i, v in enumerate(values)], expires=EXPIRES)
    assert [v for _, v in series.read_points("t1", [key], T0, T0 + 10)[key]] == values
