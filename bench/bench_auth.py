"""What authorizing a warm request costs, on moto in-process (`make bench`).

Prints, from one run: warm authorize() of a JWT and of an API token, each as a ratio to a
bare `jwt.decode` of the same JWT (its public key already parsed) measured in the same run
(target <= 1.2x), and the AWS calls of a warm authorized GET /api/v2/alert/{id} (target: the
alert's own GetItem; the rate limiter's write to the usage table is counted apart).
Asserts nothing: timings are not tests.

    .venv/bin/python bench/bench_auth.py [--n 3000]
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_repository import PASSWORD, installation  # noqa: E402 - sets the environment before chalicelib is imported

ROUNDS = 5


def per_call(n: int, op: Callable[[], Any]) -> float:
    """Best of ROUNDS rounds of n calls: seconds per call (the least disturbed round)."""
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(n):
            op()
        rounds.append((time.perf_counter() - started) / n)
    return min(rounds)


class Calls:
    """DynamoDB operations of the PynamoDB clients, seen through botocore's before-call event."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        from chalicelib.store.models import MODELS, transaction_connection

        connections = [m._get_connection().connection for m in MODELS]  # type: ignore[attr-defined]
        # The models share one client (store/aws.py): register once per distinct client.
        clients = {id(c.client): c.client for c in [*connections, transaction_connection()]}
        for client in clients.values():
            client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params.get("body") or b"{}")
        tables = sorted(body.get("RequestItems") or {}) or [str(body.get("TableName", ""))]
        self.seen.append((model.name, "+".join(t.rsplit("-", 1)[-1] for t in tables)))

    def during(self, act: Callable[[], Any]) -> list[tuple[str, str]]:
        start = len(self.seen)
        act()
        return self.seen[start:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="calls per timing round")
    args = parser.parse_args()

    import jwt
    from chalice.test import Client

    with installation() as (inst, token):
        from chalicelib.auth import apitokens, sessions
        from chalicelib.auth.keys import ALGORITHM, keyring
        from chalicelib.identity.authorize import authorize
        from chalicelib.settings import get_settings

        settings = get_settings()
        secret, _ = apitokens.create(inst.root_tenant, inst.admin_uuid, "user")
        public = keyring().active.private_key().public_key()

        def bare_decode() -> Any:
            return jwt.decode(token, public, algorithms=[ALGORITHM], issuer=sessions.ISSUER)

        jwt_headers = {"Authorization": f"Bearer {token}"}
        api_headers = {"Authorization": f"Bearer {secret}"}
        authorize(jwt_headers, "GET")  # warm both
        authorize(api_headers, "GET")
        decode_s = per_call(args.n, bare_decode)
        jwt_s = per_call(args.n, lambda: authorize(jwt_headers, "GET"))
        api_s = per_call(args.n, lambda: authorize(api_headers, "GET"))

        from app import app

        calls = Calls()
        with Client(app) as client:

            def get(path: str, headers: dict[str, str]) -> Any:
                resp = client.http.request("GET", path, headers=headers)
                assert resp.status_code == 200, resp.body
                return resp

            body = {"name": "cpu", "condition": "ts(cpu) > 1", "minutes": 5, "severity": "WARN"}
            created = client.http.request(
                "POST",
                "/api/v2/alert",
                headers={**jwt_headers, "Content-Type": "application/json"},
                body=json.dumps(body),
            )
            alert = f"/api/v2/alert/{json.loads(created.body)['response']['id']}"
            basic = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
            requests = {"JWT": jwt_headers, "API token": api_headers, "Basic": basic}
            counted = {}
            for label, headers in requests.items():
                get(alert, headers)  # cold
                counted[label] = calls.during(lambda h=headers: get(alert, h))  # type: ignore[misc]

    cache = getattr(settings, "auth_cache_seconds", None)
    print(f"auth cache: {cache if cache is not None else 'none'} s; n={args.n} x {ROUNDS} rounds (best round)")
    print(f"{'operation':<40} {'us/call':>9} {'x jwt.decode':>13}")
    for label, seconds in (("bare jwt.decode (same JWT)", decode_s), ("warm authorize() JWT", jwt_s)):
        print(f"{label:<40} {seconds * 1e6:9.1f} {seconds / decode_s:12.2f}x")
    print(f"{'warm authorize() API token':<40} {api_s * 1e6:9.1f} {api_s / decode_s:12.2f}x")
    print()
    print("AWS calls of a warm authorized GET /api/v2/alert/{id}:")
    for label, seen in counted.items():
        usage = [c for c in seen if c[1] == "usage"]
        others = [c for c in seen if c[1] != "usage"]
        listed = ", ".join(f"{op}({table})" for op, table in others) or "none"
        print(f"  {label:<10} {len(others)} besides the rate limiter's {len(usage)}: {listed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
