"""AWS calls the rate limiter adds to authorized requests (`make bench`).

Runs the whole edge in-process on moto, with the Limiter on a simulated clock, at several
request rates for one tenant and key. For each rate it prints how many requests made a call
to the usage table (target: none but the flushing ones), the most calls one request made
(at most 1), and the amortised flush cost per request. Before the limiter counted in
memory, every authorized request made one UpdateItem (1.0 per request).

    .venv/bin/python bench/bench_limiter.py [--n 300]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_repository import installation  # noqa: E402 - sets the environment before chalicelib is imported

START = 1_800_000_000
RATES = (0.2, 1.0, 10.0, 100.0)  # requests a second, one tenant, one key


class Clock:
    def __init__(self) -> None:
        self.now = float(START)

    def __call__(self) -> float:
        return self.now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300, help="requests per rate")
    args = parser.parse_args()

    from chalice import Chalice
    from chalice.test import Client

    with installation() as (_inst, token):
        from chalicelib.api import routers
        from chalicelib.http.edge import Edge
        from chalicelib.http.limits import Limiter
        from chalicelib.settings import get_settings
        from chalicelib.store.models import UsageItem

        settings = get_settings()
        usage_calls: list[str] = []

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            if json.loads(params.get("body") or b"{}").get("TableName") == settings.usage_table:
                usage_calls.append(model.name)

        UsageItem._get_connection().connection.client.meta.events.register(  # type: ignore[attr-defined]
            "before-call.dynamodb", record, unique_id="bench-usage"
        )
        print(
            f"flush every {settings.rate_limit_flush_hits} hits or {settings.rate_limit_flush_seconds} s "
            f"(OPSPLANE_RATE_LIMIT_FLUSH_HITS / _SECONDS); {args.n} authorized GETs per rate"
        )
        print(f"{'req/s':>7} {'requests with a call':>21} {'max calls/request':>18} {'calls/request':>14}")
        for rate in RATES:
            clock = Clock()
            app = Chalice(app_name="bench-limiter")
            Edge(app, routers(()), limiter=Limiter(clock=clock)).register()
            per_request = []
            with Client(app) as client:
                for _ in range(args.n):
                    before = len(usage_calls)
                    resp = client.http.get("/api/auth/0.1/users", headers={"Authorization": f"Bearer {token}"})
                    assert resp.status_code == 200, resp.body
                    per_request.append(len(usage_calls) - before)
                    clock.now += 1 / rate
            with_call = sum(1 for c in per_request if c)
            print(f"{rate:>7g} {with_call:>21} {max(per_request):>18} {sum(per_request) / args.n:>14.3f}")
        print("before: every authorized request made 1 UpdateItem (1.000 per request)")


if __name__ == "__main__":
    main()
