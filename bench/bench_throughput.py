"""Authorized GETs per second against a floor, on one moto in-process (`make bench`).

The floor is a one-route Chalice app whose view does one PynamoDB GetItem on the same moto
tables; the measured path is a warm authorized GET /api/v2/alert/{id} through the whole
edge (parse, authorize, tenant, rate limit, route, repository, render, telemetry), with an
API token and with a session JWT. Both are served by chalice.test.Client in this process,
measured side by side in rounds; the figure is requests/s of the app over requests/s of the
floor (target >= 0.7). Asserts nothing: timings are not tests.

    .venv/bin/python bench/bench_throughput.py [--n 400] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_repository import installation  # noqa: E402  (sets the environment first)

TARGET = 0.7


def rate(n: int, op: Callable[[], Any]) -> float:
    """Requests per second of n calls of op."""
    started = time.perf_counter()
    for _ in range(n):
        op()
    return n / (time.perf_counter() - started)


def floor_app(pk: str) -> Any:
    """One route, one GetItem (of an item of partition pk): what any Chalice + PynamoDB app
    pays per request."""
    from chalice import Chalice

    from chalicelib.store.models import EntityItem

    app = Chalice(app_name="floor")

    @app.route("/item/{sk}")
    def get_item(sk: str) -> dict[str, Any]:
        item = EntityItem.get(pk, sk, consistent_read=True)
        return {"id": item.entity_id, "doc": item.doc}

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="requests per round and path")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from chalice.test import Client

    with installation() as (inst, jwt_token):
        from app import app

        with Client(app) as client:
            json_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {jwt_token}"}
            body = b'{"name": "cpu", "condition": "ts(cpu) > 1", "minutes": 5, "severity": "WARN"}'
            created = client.http.post("/api/v2/alert", headers=json_headers, body=body)
            alert_id = __import__("json").loads(created.body)["response"]["id"]
            token = client.http.post("/api/v2/apitoken", headers=json_headers, body=b"{}")
            api_token = __import__("json").loads(token.body)["response"][0]["tokenID"]
            path = f"/api/v2/alert/{alert_id}"
            floor = Client(floor_app(f"{inst.root_tenant}#alert"))

            paths: dict[str, Callable[[], Any]] = {
                "floor: one route, one GetItem": lambda: floor.http.get(f"/item/{alert_id}"),
                "GET alert, API token": lambda: client.http.get(path, headers={"X-AUTH-TOKEN": api_token}),
                "GET alert, JWT": lambda: client.http.get(path, headers={"Authorization": f"Bearer {jwt_token}"}),
            }
            for op in paths.values():  # warm every cache and connection first
                answer = op()
                assert answer.status_code == 200, answer.body[:300]
            best = dict.fromkeys(paths, 0.0)
            for _ in range(args.rounds):  # interleaved, so load on the machine hits all alike
                for name, op in paths.items():
                    best[name] = max(best[name], rate(args.n, op))

    floor_rate = best["floor: one route, one GetItem"]
    print(f"authorized GETs per second, best of {args.rounds} interleaved rounds of {args.n} (moto in-process)")
    print(f"{'path':<34} {'req/s':>8} {'x floor':>8} {'target':>7}")
    for name, value in best.items():
        ratio = value / floor_rate
        target = "" if name.startswith("floor") else f">= {TARGET}"
        flag = "" if name.startswith("floor") else ("  ok" if ratio >= TARGET else "  MISSED")
        print(f"{name:<34} {value:8.0f} {ratio:8.2f} {target:>7}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
