"""Repository and edge throughput on moto in-process (`make bench`).

Prints figures; asserts nothing (timings are not tests). Everything runs in this process
against moto's in-memory DynamoDB, so the numbers compare code paths with each other (the
repository's own cost, what the edge adds per request), not with DynamoDB's latency.

    .venv/bin/python bench/bench_repository.py [--n 150] [--pages 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Settings come from the environment: fix it before anything imports chalicelib.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "OPSPLANE_STATE_DIR": tempfile.mkdtemp(prefix="opsplane-bench-"),
        "OPSPLANE_STAGE": "bench",
        # The limiter stays on (its in-memory count and occasional flush are part of the edge's cost), out of reach.
        "OPSPLANE_RATE_LIMIT_GET": "100000000",
        "OPSPLANE_RATE_LIMIT_GET_PAGED": "100000000",
        "OPSPLANE_RATE_LIMIT_WRITE": "100000000",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)
os.environ.pop("OPSPLANE_DYNAMODB_ENDPOINT", None)
os.environ.pop("OPSPLANE_S3_ENDPOINT", None)


class Figures:
    """Collects one row per measured operation and prints them as a table."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, float, float, float]] = []

    def measure(self, name: str, count: int, op: Callable[[int], Any]) -> list[float]:
        """Run op(i) count times; record ops/s, mean and p95 latency."""
        samples = []
        started = time.perf_counter()
        for i in range(count):
            t0 = time.perf_counter()
            op(i)
            samples.append(time.perf_counter() - t0)
        total = time.perf_counter() - started
        p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
        self.rows.append((name, count, count / total, statistics.mean(samples) * 1000, p95 * 1000))
        return samples

    def note(self, name: str, mean_ms: float) -> None:
        self.rows.append((name, 0, 1000 / mean_ms if mean_ms > 0 else 0.0, mean_ms, float("nan")))

    def print(self) -> None:
        print(f"{'operation':<52} {'n':>6} {'ops/s':>9} {'mean ms':>9} {'p95 ms':>9}")
        for name, count, rate, mean, p95 in self.rows:
            n = str(count) if count else "-"
            p95_text = f"{p95:9.2f}" if p95 == p95 else f"{'-':>9}"
            print(f"{name:<52} {n:>6} {rate:9.1f} {mean:9.2f} {p95_text}")


# The bootstrap admin's password in every benchmark installation.
PASSWORD = "bench-password-1"


@contextmanager
def installation() -> Iterator[tuple[Any, str]]:
    """moto in-process with the tables, a bootstrapped installation and its admin's token."""
    from moto import mock_aws

    with mock_aws():
        from chalicelib.auth import sessions
        from chalicelib.identity.bootstrap import bootstrap
        from chalicelib.settings import get_settings
        from chalicelib.store import models

        models.bind(get_settings())
        models.create_tables()
        inst = bootstrap(PASSWORD)
        token, _ = sessions.issue(
            sub=inst.admin_uuid, tenant=inst.root_tenant, name="admin", kind="user", method="jwt", ttl=3600
        )
        yield inst, token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=150, help="objects created / read / updated")
    parser.add_argument("--pages", type=int, default=20, help="page and search requests")
    args = parser.parse_args()

    from chalice.test import Client

    with installation() as (inst, token):
        from app import app
        from chalicelib.auth.keys import keyring
        from chalicelib.store.repository import Repository

        figures = Figures()
        rng = random.Random(7)
        n = args.n

        # --- repository ---------------------------------------------------------------
        repo = Repository(inst.root_tenant, "benchdoc", cursor_secret=keyring().cursor_secret, history=True)
        doc = {"name": "cpu high", "condition": "ts(cpu.load) > 4", "minutes": 5, "severity": "WARN"}
        figures.measure("repository.create", n, lambda i: repo.create(f"doc{i:06d}", dict(doc, n=i), by="bench"))
        figures.measure("repository.get", n, lambda i: repo.get(f"doc{rng.randrange(n):06d}"))

        def bump(i: int) -> None:
            def change(e: Any) -> None:
                e.doc["minutes"] = e.doc["minutes"] + 1

            repo.update(f"doc{rng.randrange(n):06d}", change, by="bench")

        figures.measure("repository.update (conditional, with history)", n, bump)
        figures.measure("repository.page limit=100 offset=0", args.pages, lambda i: repo.page(limit=100))
        figures.measure(
            f"repository.page limit=100 offset={n // 2}", args.pages, lambda i: repo.page(limit=100, offset=n // 2)
        )

        # --- the edge (full request pipeline through chalice.test.Client) ---------------
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with Client(app) as client:
            ids = []

            def create_alert(i: int) -> None:
                body = json.dumps(dict(doc, name=f"cpu high {i}" if i % 2 else f"disk full {i}"))
                resp = client.http.post("/api/v2/alert", headers=headers, body=body)
                ids.append(json.loads(resp.body)["response"]["id"])

            figures.measure("edge POST /api/v2/alert", n, create_alert)
            alert_repo = Repository(inst.root_tenant, "alert", cursor_secret=keyring().cursor_secret)
            direct = figures.measure("  repository.get of an alert (no edge)", n, lambda i: alert_repo.get(ids[i]))
            routed = figures.measure(
                "edge GET /api/v2/alert/{id} (JWT, ACL, limiter)",
                n,
                lambda i: client.http.get(f"/api/v2/alert/{ids[i]}", headers=headers),
            )
            figures.note(
                "  => edge overhead per authenticated GET",
                statistics.mean(routed) * 1000 - statistics.mean(direct) * 1000,
            )
            figures.measure("edge GET /api/health (public)", n, lambda i: client.http.get("/api/health"))
            figures.measure(
                "edge GET /api/v2/alert?offset=0&limit=100",
                args.pages,
                lambda i: client.http.get("/api/v2/alert?offset=0&limit=100", headers=headers),
            )
            search = json.dumps(
                {"limit": 100, "query": [{"key": "name", "value": "cpu", "matchingMethod": "CONTAINS"}]}
            )
            figures.measure(
                "edge POST /api/v2/search/alert (CONTAINS name)",
                args.pages,
                lambda i: client.http.post("/api/v2/search/alert", headers=headers, body=search),
            )

    print(f"opsplane bench: moto in-process, {n} objects, {args.pages} page/search requests each")
    figures.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
