"""Ingestion throughput and memory on moto in-process (`make bench`).

1. Points per second through POST /report (gzip body as wavefront-sdk-python sends it:
   decode, parse, validate, pack, queue) and the ingest worker (drain: write points,
   index series, record sources, count usage), against raw boto3 `batch_writer` putting the
   same points, keyed the same way, into a table of the same kind, in the same run. The
   issue's target: ratio >= 0.8.
2. Peak Python memory (tracemalloc) and the process's peak RSS while /report takes a 50 MB
   (uncompressed) batch. Target: < 256 MB.

Prints figures; asserts nothing (timings are not tests).

    .venv/bin/python bench/bench_ingest.py [--points 20000] [--series 200] [--batch-mb 50]
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import struct
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

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
        "OPSPLANE_RATE_LIMIT_WRITE": "100000000",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)
for _name in ("OPSPLANE_DYNAMODB_ENDPOINT", "OPSPLANE_S3_ENDPOINT", "OPSPLANE_SQS_ENDPOINT"):
    os.environ.pop(_name, None)

PASSWORD = "bench-password-1"
START = 1_700_000_000_000
SDK_BATCH = 10_000  # wavefront-sdk-python's default batch size: lines per /report


def lines(points: int, series: int, start: int = START) -> list[str]:
    """points lines over `series` series (sources), one second apart per series."""
    return [
        f'"bench.cpu.load" {i * 0.5} {(start + (i // series) * 1000) // 1000} source="host-{i % series}" "env"="bench"'
        for i in range(points)
    ]


def throughput(points: int, series: int) -> None:
    import boto3
    from chalice.test import Client

    from app import app
    from chalicelib.auth import apitokens
    from chalicelib.identity.bootstrap import bootstrap
    from chalicelib.store import series as store_series
    from chalicelib.workers import local

    installation = bootstrap(PASSWORD)
    secret, _ = apitokens.create(installation.root_tenant, installation.admin_uuid, "bench")
    text = lines(points, series)
    bodies = [gzip.compress(("\n".join(text[i : i + SDK_BATCH]) + "\n").encode()) for i in range(0, points, SDK_BATCH)]
    headers = {
        "Authorization": f"Bearer {secret}",
        "Content-Type": "application/octet-stream",
        "Content-Encoding": "gzip",
    }

    # The raw baseline: the same items (same keys, same binary values) put by batch_writer.
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    raw = dynamodb.create_table(
        TableName="opsplane-bench-raw-points",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    keys = [
        store_series.SeriesKey.of("metric", "bench.cpu.load", f"host-{i % series}", {"env": "bench"})
        for i in range(series)
    ]
    started = time.perf_counter()
    with raw.batch_writer() as writer:
        for i in range(points):
            ts = START + (i // series) * 1000
            writer.put_item(
                Item={
                    "pk": f"{installation.root_tenant}#p#{keys[i % series].id}#{ts // 86_400_000}",
                    "sk": f"{ts:013d}",
                    "v": struct.pack(">d", i * 0.5),
                    "x": 2_000_000_000,
                }
            )
    raw_seconds = time.perf_counter() - started

    def pipeline(batches: list[bytes]) -> tuple[float, float]:
        """Seconds to queue the batches, and to queue and write them all."""
        with Client(app) as client:
            started = time.perf_counter()
            for body in batches:
                answer = client.http.post("/report?f=wavefront", headers=headers, body=body)
                assert answer.status_code == 202, answer.body
            queued = time.perf_counter() - started
            drained = local.drain("ingest")
            assert drained.failed == 0
            return queued, time.perf_counter() - started

    # First sight: every series is new to the index and every source gets its Source record.
    _, first_seconds = pipeline(bodies)
    # Steady state: the same series' next points (known to the index and as sources, whose
    # last-seen times are refreshed once per 10 minutes each), the way a tenant's data keeps
    # arriving.
    later = lines(points, series, START + (points // series + 1) * 1000)
    steady = [gzip.compress(("\n".join(later[i : i + SDK_BATCH]) + "\n").encode()) for i in range(0, points, SDK_BATCH)]
    queued, pipeline_seconds = pipeline(steady)

    raw_rate, pipeline_rate = points / raw_seconds, points / pipeline_seconds
    print(f"ingest throughput ({points} points, {series} series, {len(bodies)} requests of <= {SDK_BATCH} lines)")
    print(f"  raw boto3 batch_writer          {raw_rate:10.0f} points/s  ({raw_seconds:.2f} s)")
    print(f"  /report + worker, steady state  {pipeline_rate:10.0f} points/s  ({pipeline_seconds:.2f} s)")
    print(f"    of which /report (queued)     {points / queued:10.0f} points/s  ({queued:.2f} s)")
    print(f"  ratio                           {pipeline_rate / raw_rate:10.2f}x  (target >= 0.8x)")
    print(
        f"  first sight of {series} series     {points / first_seconds:10.0f} points/s  ({first_seconds:.2f} s: "
        "index entries and Source records once per new series and source)"
    )


def memory(batch_mb: int) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.auth import apitokens
    from chalicelib.identity.bootstrap import bootstrap

    installation = bootstrap(PASSWORD)
    secret, _ = apitokens.create(installation.root_tenant, installation.admin_uuid, "bench-memory")
    # Built in pieces and compressed as it grows: the plain batch never sits in memory here.
    compressor = gzip.compress
    target, parts, size, i = batch_mb * 1_000_000, [], 0, 0
    while size < target:
        chunk = "\n".join(
            f"bench.mem.m{j % 50} {j * 0.25} {START // 1000 + j} source=host-{j % 500} env=bench"
            for j in range(i, i + 50_000)
        )
        parts.append(compressor((chunk + "\n").encode()))
        size += len(chunk) + 1
        i += 50_000
    body = b"".join(parts)  # gzip members one after another: one valid gzip body
    del parts
    headers = {
        "Authorization": f"Bearer {secret}",
        "Content-Type": "application/octet-stream",
        "Content-Encoding": "gzip",
    }
    with Client(app) as client:
        tracemalloc.start()
        started = time.perf_counter()
        answer = client.http.post("/report?f=wavefront", headers=headers, body=body)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert answer.status_code == 202, answer.body[:500]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ingest memory ({size / 1e6:.0f} MB uncompressed, {len(body) / 1e6:.1f} MB gzip, {i} lines)")
    print(f"  /report took {seconds:.1f} s; {answer.body.decode()[:80]}")
    print(f"  peak Python allocations (tracemalloc)  {peak / 2**20:8.1f} MB  (target < 256 MB)")
    print(f"  peak RSS of this process (all of it)   {rss_mb:8.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--batch-mb", type=int, default=50)
    args = parser.parse_args()

    from moto import mock_aws

    with mock_aws():
        from chalicelib.settings import get_settings
        from chalicelib.store import models
        from chalicelib.workers.local import create_queues

        models.bind(get_settings())
        models.create_tables()
        create_queues()
        throughput(args.points, args.series)
    with mock_aws():
        models.bind(get_settings())
        models.create_tables()
        create_queues()
        memory(args.batch_mb)


if __name__ == "__main__":
    main()
