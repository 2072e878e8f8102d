"""AWS calls per request on moto in-process (`make bench`): GET by id, a list page,
create, update and dashboard history, counted by botocore's event system (tests/calls.py),
next to the target of "Foundation v2, part 2" item 3.

Through the domain functions (a service Context: no authorization, no rate limit), then
through HTTP (chalice.test.Client) split into the entities table (the operation itself) and
everything else (authorization and rate limiting, which other work removes).

    .venv/bin/python bench/bench_calls.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_repository import installation  # noqa: E402  (fixes the environment first)

ALERT_BODY = {"name": "cpu high", "condition": "ts(cpu.load) > 4", "minutes": 5, "severity": "WARN"}
ALERTS = 50
# operation -> (target calls, why)
TARGETS = {
    "GET alert": (1, "1 GetItem"),
    "GET dashboard": (2, "1 GetItem + the caller's star (1 GetItem)"),
    "list page offset=0 limit=10 (50 alerts)": (1, "1 Query: counter row + page + 1"),
    "list page offset=20 limit=10 (50 alerts)": (1, "1 Query of offset+limit+1 items (no index)"),
    "create alert": (1, "1 TransactWrite"),
    # The issue asks 1; a read-modify-write needs the stored item first (docs/architecture.md).
    "update alert (PUT with version)": (
        1,
        "1 TransactWrite; not met: GetItem + TransactWrite, see docs/architecture.md",
    ),
    "dashboard history (Wavefront)": (2, "head GetItem + history Query, no documents"),
}


def _summary(calls: Any, table: str | None = None) -> str:
    counted = Counter(c.operation for c in calls.calls if table is None or c.table == table)
    return ", ".join(f"{op} {n}" for op, n in sorted(counted.items())) or "-"


def main() -> int:
    from tests.calls import AwsCalls

    with installation() as (inst, token):
        from chalice.test import Client

        from app import app
        from chalicelib.categories.alert import ALERT
        from chalicelib.categories.alert_views import AlertBody
        from chalicelib.categories.dashboard import DASHBOARD
        from chalicelib.dashboards import store
        from chalicelib.domain import entities
        from chalicelib.domain.context import Context
        from chalicelib.settings import get_settings

        ctx = Context.service(inst.root_tenant, "bench")
        made = [entities.create(ctx, ALERT, AlertBody(**dict(ALERT_BODY, name=f"a{i}"))) for i in range(ALERTS)]
        dash = store.create_wavefront(ctx, "bench-dash", {"name": "Bench", "url": "bench-dash"}, None)
        for i in range(3):
            store.update_wavefront(
                ctx, dash.id, {"name": f"Bench {i}", "url": "bench-dash"}, None, expected_version=None
            )
        calls = AwsCalls().attach()
        entities.list_page(ctx, ALERT, offset=0, limit=10)  # counts the partition once (see the note below)
        first_listing = (calls.total(), calls.items_read(), _summary(calls))

        def fresh() -> Context:
            return Context.service(inst.root_tenant, "bench")

        domain: dict[str, Callable[[], Any]] = {
            "GET alert": lambda: entities.wire(ctx, ALERT, entities.load(fresh(), ALERT, made[0].id)),
            "GET dashboard": lambda: entities.wire(
                (c := fresh()), DASHBOARD, entities.load(c, DASHBOARD, dash.id, include_deleted=True)
            ),
            "list page offset=0 limit=10 (50 alerts)": lambda: entities.list_page(fresh(), ALERT, offset=0, limit=10),
            "list page offset=20 limit=10 (50 alerts)": lambda: entities.list_page(fresh(), ALERT, offset=20, limit=10),
            "create alert": lambda: entities.create(fresh(), ALERT, AlertBody(**dict(ALERT_BODY, name="new"))),
            "update alert (PUT with version)": lambda: entities.replace(
                fresh(),
                ALERT,
                made[1].id,
                AlertBody(**dict(ALERT_BODY, name="b")),
            ),
            "dashboard history (Wavefront)": lambda: entities.history(fresh(), DASHBOARD, dash.id, offset=0, limit=10),
        }
        print(f"{'through the domain (Context.service)':<44} {'now':>4} {'target':>6} {'items':>5}  calls")
        for name, run in domain.items():
            if name.startswith("update"):
                version = entities.load(fresh(), ALERT, made[1].id).version
                run = lambda v=version: entities.replace(  # noqa: E731
                    fresh(), ALERT, made[1].id, AlertBody(**dict(ALERT_BODY, name=f"b{v}", version=v))
                )
            calls.reset()
            run()
            target, why = TARGETS[name]
            read = calls.items_read()
            verdict = "ok" if calls.total() <= target else "MISSED"
            print(f"{name:<44} {calls.total():>4} {target:>6} {read:>5}  {_summary(calls)}   {verdict} (target: {why})")

        total, read, summary = first_listing
        print(
            f"(once per tenant and kind: the first listing counts the partition and stores the counts: "
            f"{total} calls, {read} items, {summary})"
        )

        table = get_settings().entities_table
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with Client(app) as client:
            http: dict[str, tuple[str, str, Any]] = {
                "GET alert": ("GET", f"/api/v2/alert/{made[0].id}", None),
                "GET dashboard": ("GET", f"/api/v2/dashboard/{dash.id}", None),
                "list page offset=0 limit=10 (50 alerts)": ("GET", "/api/v2/alert?offset=0&limit=10", None),
                "list page offset=20 limit=10 (50 alerts)": ("GET", "/api/v2/alert?offset=20&limit=10", None),
                "create alert": ("POST", "/api/v2/alert", dict(ALERT_BODY, name="http")),
                "update alert (PUT with version)": ("PUT", f"/api/v2/alert/{made[2].id}", None),
                "dashboard history (Wavefront)": ("GET", f"/api/v2/dashboard/{dash.id}/history", None),
            }
            print()
            print(f"{'through HTTP (chalice.test.Client)':<44} {'all':>4} {'own':>6}  own calls | auth + rate limit")
            for name, (method, path, body) in http.items():
                if name.startswith("update"):
                    version = entities.load(fresh(), ALERT, made[2].id).version
                    body = dict(ALERT_BODY, name=f"c{version}", version=version)
                client.http.request(method, path, headers=headers, body=json.dumps(body) if body else None)
                if name.startswith("update"):  # the first PUT moved the version on
                    version = entities.load(fresh(), ALERT, made[2].id).version
                    body = dict(ALERT_BODY, name=f"c{version}", version=version)
                calls.reset()
                resp = client.http.request(method, path, headers=headers, body=json.dumps(body) if body else None)
                assert resp.status_code == 200, (name, resp.status_code, resp.body)
                own = sum(1 for c in calls.calls if c.table == table and not _auth_row(c.keys))
                others = [c for c in calls.calls if c.table != table or _auth_row(c.keys)]
                print(
                    f"{name:<44} {calls.total():>4} {own:>6}  "
                    f"{_summary(_Only([c for c in calls.calls if c not in others]))} | {_summary(_Only(others))}"
                )
        calls.detach()
    return 0


AUTH_KINDS = ("#account", "#tenant", "#group", "#policy", "#counter")


def _auth_row(keys: tuple[str, ...]) -> bool:
    """Does a call touch only the rows authorization reads (accounts, tenants, groups, policies)?"""
    return bool(keys) and all(k.endswith(AUTH_KINDS) for k in keys)


class _Only:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls


if __name__ == "__main__":
    raise SystemExit(main())
