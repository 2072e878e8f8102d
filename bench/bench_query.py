"""Query cost against reading the same points raw, on moto in-process (`make bench`).

A 1-day, 1-minute `sum(ts(bench.cpu), sources)` over 100 series (144,000 points) through
the engine and the store-backed DataSource (index lookup, reads, evaluation, bucketing),
against the same points read with plain boto3 Query calls (one per series partition,
paged, values decoded, one after another) in the same run. Prints both and the ratio
(target <= 1.5x). moto answers a Query slowly (a 100-series run takes minutes), hence one
round by default. Asserts nothing (timings are not tests).

    .venv/bin/python bench/bench_query.py [--series 100] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "OPSPLANE_STATE_DIR": tempfile.mkdtemp(prefix="opsplane-bench-"),
        "OPSPLANE_STAGE": "bench",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)
os.environ.pop("OPSPLANE_DYNAMODB_ENDPOINT", None)

DAY_MS, MINUTE_MS = 86_400_000, 60_000
TENANT = "bench-tenant"
METRIC = "bench.cpu"
DOUBLE = struct.Struct(">d")


def seed(series_count: int, day: int) -> list[Any]:
    """series_count series of one point a minute for one day; their store keys."""
    from chalicelib.store import series

    keys = [series.SeriesKey.of("metric", METRIC, f"host-{n:03d}", {"env": "bench"}) for n in range(series_count)]
    start = day * DAY_MS
    points = (
        (k, start + m * MINUTE_MS, float(n + m % 7)) for n, k in enumerate(keys) for m in range(DAY_MS // MINUTE_MS)
    )
    series.write_points(TENANT, points, expires=4_000_000_000)
    series.note_series(TENANT, dict.fromkeys(keys, start + DAY_MS - MINUTE_MS), expires=4_000_000_000)
    return keys


def through_engine(start: int) -> int:
    """The query through the engine and the store-backed source: points answered."""
    from chalicelib.domain import metrics
    from chalicelib.domain.context import Context
    from chalicelib.query import engine

    ctx = Context.service(TENANT, "bench")
    result = engine.query(
        f"sum(ts({METRIC}), sources)", metrics.data(ctx), start=start, end=start + DAY_MS, granularity="m"
    )
    return sum(len(s.points) for s in result.series)


def raw_boto3(keys: list[Any], start: int) -> int:
    """The same points read with boto3 Query, one partition per series and day: points read."""
    import boto3

    from chalicelib.store.models import TimeseriesItem

    client = boto3.client("dynamodb", region_name="us-east-1")
    table = str(TimeseriesItem.Meta.table_name)
    read = 0
    for key in keys:
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"{TENANT}#p#{key.id}#{start // DAY_MS}"},
                ":a": {"S": f"{start:013d}"},
                ":b": {"S": f"{start + DAY_MS - 1:013d}"},
            },
            "ProjectionExpression": "sk, v",
        }
        while True:
            answer = client.query(**request)
            points = [(int(i["sk"]["S"]), DOUBLE.unpack(i["v"]["B"])[0]) for i in answer["Items"]]
            read += len(points)
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return read


def timed(op: Callable[[], int], rounds: int) -> tuple[float, int]:
    samples, out = [], 0
    for _ in range(rounds):
        began = time.perf_counter()
        out = op()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    from moto import mock_aws

    from chalicelib.settings import get_settings
    from chalicelib.store import models

    with mock_aws():
        models.bind(get_settings())
        models.create_tables()
        day = int(time.time() * 1000) // DAY_MS - 1
        began = time.perf_counter()
        keys = seed(args.series, day)
        print(f"seeded {args.series} series x 1440 points in {time.perf_counter() - began:.1f} s")
        start = day * DAY_MS
        raw_s, raw_points = timed(lambda: raw_boto3(keys, start), args.rounds)
        query_s, answered = timed(lambda: through_engine(start), args.rounds)
        print(f"{'raw boto3 Query (points read)':<44} {raw_points:>8} {raw_s * 1000:10.1f} ms")
        print(f"{'sum(ts(...), sources) (points answered)':<44} {answered:>8} {query_s * 1000:10.1f} ms")
        print(f"query / raw: {query_s / raw_s:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
