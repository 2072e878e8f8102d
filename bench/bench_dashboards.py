"""Dashboard sizes and listings on moto in-process (`make bench`).

Prints figures; asserts nothing (timings are not tests). Measures what a dashboard's size
costs through the full request pipeline: saves and loads of a small, a large compressible and
a large incompressible dashboard (inline, zlib in the item, S3), the peak Python memory of a
multi-MB save and load, and listings (Grafana search and tag counts read heads only; the
Wavefront search reads whole documents).

    .venv/bin/python bench/bench_dashboards.py [--n 200] [--mb 4]
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import tracemalloc
from typing import Any

import bench_repository  # noqa: F401 - sets the environment before chalicelib is imported
from bench_repository import Figures, installation


def panels(count: int, text: str) -> list[dict[str, Any]]:
    """count timeseries panels, each carrying text in its description."""
    return [
        {
            "id": i,
            "type": "timeseries",
            "title": f"panel {i}",
            "description": text,
            "gridPos": {"x": 0, "y": i * 8, "w": 24, "h": 8},
            "targets": [{"refId": "A", "expr": f"rate(http_requests_total{{code='{i}'}}[5m])"}],
        }
        for i in range(count)
    ]


def dashboard(uid: str, size: int, *, random_text: bool, rng: random.Random) -> dict[str, Any]:
    """A Grafana dashboard of about size bytes of JSON."""
    count = max(1, size // 20_000)
    per = size // count
    if random_text:
        text = "".join(rng.choices(string.ascii_letters + string.digits, k=per))
    else:
        text = ("cpu load on the web tier " * (per // 25 + 1))[:per]
    return {"uid": uid, "title": f"dash {uid}", "tags": ["bench"], "panels": panels(count, text), "schemaVersion": 39}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="dashboards listed and searched")
    parser.add_argument("--mb", type=float, default=4.0, help="size of the large dashboards, in MB")
    args = parser.parse_args()

    from chalice.test import Client

    with installation() as (_inst, token):
        from app import app

        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        figures = Figures()
        rng = random.Random(11)
        large = int(args.mb * 1024 * 1024)

        with Client(app) as client:

            def save(dash: dict[str, Any]) -> None:
                resp = client.http.post("/api/dashboards/db", headers=headers, body=json.dumps({"dashboard": dash}))
                if resp.status_code != 200:
                    raise SystemExit(f"save failed: {resp.status_code} {resp.body[:200]!r}")

            def load(uid: str) -> None:
                resp = client.http.get(f"/api/dashboards/uid/{uid}", headers=headers)
                if resp.status_code != 200:
                    raise SystemExit(f"load failed: {resp.status_code}")

            cases = (
                ("20 KB", 20_000, False),
                (f"{args.mb:g} MB compressible (zlib in the item)", large, False),
                (f"{args.mb:g} MB incompressible (S3)", large, True),
            )
            for label, size, random_text in cases:
                uid = f"size{size}{int(random_text)}"
                body = dashboard(uid, size, random_text=random_text, rng=rng)
                figures.measure(f"save {label}", 5, lambda i, b=body: save(dict(b, version=i)))
                figures.measure(f"load {label}", 5, lambda i, u=uid: load(u))

            body = dashboard("memory", large, random_text=True, rng=rng)
            tracemalloc.start()
            save(body)
            load("memory")
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            payload = len(json.dumps(body))

            for i in range(args.n):
                save(dashboard(f"list{i:05d}", 30_000, random_text=False, rng=rng))
            figures.measure(
                f"GET /api/search (heads of {args.n + 4} dashboards)",
                10,
                lambda i: client.http.get("/api/search?query=dash&limit=100", headers=headers),
            )
            figures.measure(
                "GET /api/dashboards/tags", 10, lambda i: client.http.get("/api/dashboards/tags", headers=headers)
            )
            search = json.dumps(
                {"limit": 100, "query": [{"key": "name", "value": "dash", "matchingMethod": "CONTAINS"}]}
            )
            figures.measure(
                f"POST /api/v2/search/dashboard (whole documents of {args.n + 4})",
                10,
                lambda i: client.http.post("/api/v2/search/dashboard", headers=headers, body=search),
            )

    print(f"opsplane dashboards bench: moto in-process, {args.n} listed dashboards, large = {args.mb:g} MB")
    figures.print()
    print(f"peak Python memory, save + load of a {payload / 1e6:.1f} MB dashboard: {peak / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
