"""The local server under a burst: 64 clients at once, each on its own connection, as a
Grafana instance saving dashboards does. `chalice local` listens with a backlog of 5 and
resets such a burst; `make run` (scripts/chalice_local.py) must serve every one of them,
without a 5xx, and keep Grafana's rule that of concurrent saves of one version one wins.

Loopback only, bounded: CLIENTS requests per round, each with a timeout, the threads
released together by a barrier. The figures (slowest answer, errors) are printed (-s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from tests.e2e.clients import Person, new_tenant_admin, unique
from tests.e2e.conftest import LocalServer

pytestmark = pytest.mark.e2e

CLIENTS = 64
TIMEOUT = 60
DB = "/api/dashboards/db"
CHANGED = {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}


@dataclass
class Outcome:
    """What one client got: a response, or the exception its connection raised."""

    status: int | None
    body: object
    seconds: float
    error: str | None = None


def burst(call: Callable[[requests.Session, int], requests.Response]) -> list[Outcome]:
    """Run call(session, n) in CLIENTS threads at once, each with its own session (connection)."""
    barrier = threading.Barrier(CLIENTS, timeout=TIMEOUT)

    def client(n: int) -> Outcome:
        with requests.Session() as session:
            barrier.wait()
            started = time.perf_counter()
            try:
                resp = call(session, n)
            except requests.RequestException as exc:
                return Outcome(None, None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
            try:
                body: object = resp.json()
            except ValueError:
                body = resp.text
            return Outcome(resp.status_code, body, time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        outcomes = list(pool.map(client, range(CLIENTS)))
    errors = [o.error for o in outcomes if o.error]
    print(
        f"\n{CLIENTS} clients: slowest {max(o.seconds for o in outcomes):.2f}s, "
        f"{len(errors)} connection errors, {sum(1 for o in outcomes if (o.status or 0) >= 500)} 5xx"
    )
    return outcomes


def assert_all_served(outcomes: list[Outcome]) -> None:
    """No connection error (reset, refused, timeout) and no 5xx."""
    errors = [o.error for o in outcomes if o.error]
    assert not errors, f"{len(errors)} of {CLIENTS} clients failed to connect or read: {errors[:3]}"
    failed = [(o.status, o.body) for o in outcomes if (o.status or 0) >= 500]
    assert not failed, f"{len(failed)} answers were 5xx: {failed[:3]}"


@pytest.fixture(scope="module")
def grafana_user(server: LocalServer, admin_token: str) -> Person:
    """A user who may do anything in a tenant of this module's own."""
    return new_tenant_admin(server.url, admin_token)


def _headers(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}", "Content-Type": "application/json"}


def test_can_serve_64_concurrent_clients_reading_and_saving(server: LocalServer, grafana_user: Person) -> None:
    # GIVEN a dashboard to read
    headers = _headers(grafana_user)
    seed = requests.post(
        server.url + DB, json={"dashboard": {"title": unique("load-read")}}, headers=headers, timeout=TIMEOUT
    )
    assert seed.status_code == 200, seed.text
    uid = seed.json()["uid"]

    # WHEN 64 clients at once each read it (half) or save a dashboard of their own (half)
    def read_or_save(session: requests.Session, n: int) -> requests.Response:
        if n % 2:
            return session.get(f"{server.url}/api/dashboards/uid/{uid}", headers=headers, timeout=TIMEOUT)
        body = {"dashboard": {"title": unique(f"load-{n}"), "panels": [{"type": "text", "title": str(n)}]}}
        return session.post(server.url + DB, json=body, headers=headers, timeout=TIMEOUT)

    outcomes = burst(read_or_save)

    # THEN every client is answered, none with a reset or a 5xx, and every read and save succeeds
    assert_all_served(outcomes)
    assert [o.status for o in outcomes] == [200] * CLIENTS, [o.body for o in outcomes if o.status != 200][:3]
    reads = [o.body for n, o in enumerate(outcomes) if n % 2]
    assert all(isinstance(b, dict) and b["dashboard"]["uid"] == uid for b in reads)
    saved = {o.body["uid"] for n, o in enumerate(outcomes) if not n % 2 and isinstance(o.body, dict)}
    assert len(saved) == CLIENTS // 2


def test_can_let_exactly_one_of_64_concurrent_saves_of_a_version_win(server: LocalServer, grafana_user: Person) -> None:
    # GIVEN a dashboard at version 1
    headers = _headers(grafana_user)
    title = unique("load-race")
    created = requests.post(server.url + DB, json={"dashboard": {"title": title}}, headers=headers, timeout=TIMEOUT)
    assert created.status_code == 200 and created.json()["version"] == 1, created.text
    uid = created.json()["uid"]

    # WHEN 64 clients at once save their own change of version 1
    def save(session: requests.Session, n: int) -> requests.Response:
        body = {"dashboard": {"uid": uid, "title": title, "version": 1, "panels": [{"type": "text", "title": str(n)}]}}
        return session.post(server.url + DB, json=body, headers=headers, timeout=TIMEOUT)

    outcomes = burst(save)

    # THEN all are answered: exactly one wins (version 2), the other 63 get 412 version-mismatch
    assert_all_served(outcomes)
    statuses = sorted(o.status or 0 for o in outcomes)
    assert statuses == [200] + [412] * (CLIENTS - 1), statuses
    (winner,) = [o for o in outcomes if o.status == 200]
    assert isinstance(winner.body, dict) and winner.body["version"] == 2
    assert all(o.body == CHANGED for o in outcomes if o.status == 412)
    # AND the stored dashboard is the winner's, at version 2
    got = requests.get(f"{server.url}/api/dashboards/uid/{uid}", headers=headers, timeout=TIMEOUT).json()
    assert got["meta"]["version"] == 2
