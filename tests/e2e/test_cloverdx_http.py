"""CloverDX monitors over plain HTTP against the live server, as the seed's curl calls them:
`-u username:password` and `X-Requested-By` on every request (CONTRACTS.md §5, docs/cloverdx.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests

from tests.e2e.clients import TIMEOUT, new_person, new_tenant_admin, ok, unique

pytestmark = pytest.mark.e2e

BASE = "/clover/api/rest/v1"
CLI = {"X-Requested-By": "arbitrary_value", "Accept": "application/json"}


def curl(*args: str) -> tuple[int, str]:
    """Run curl as the seed does; (HTTP status, body)."""
    done = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


@pytest.fixture
def monitoring(server, admin_token):
    """A tenant with a dashboard, and a user of it holding the Monitoring permission only."""
    boss = new_tenant_admin(server.url, admin_token)
    board = unique("board")
    ok(
        requests.post(
            server.url + "/api/v2/dashboard",
            headers={"Authorization": f"Bearer {boss.token}"},
            json={"id": board, "name": board, "url": board, "sections": []},
            timeout=TIMEOUT,
        )
    )
    user = new_person(server.url, boss.token, ["monitor.#"], tenant=boss.tenant)
    return boss, user, board


def test_can_create_a_monitor_with_the_seeds_curl_call(server, monitoring, tmp_path: Path):
    boss, user, board = monitoring
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"name": "rows rejected", "condition": "ts(clover.rejected) > 10", "minutes": 5}))
    url = f"{server.url}{BASE}/dashboards/{board}/monitors"
    status, body = curl(
        "-X", "POST", url,
        "-H", "Accept: application/json",
        "-H", "Content-Type: application/json",
        "-H", "X-Requested-By: arbitrary_value",
        "-u", f"{user.username}:{user.password}",
        "-d", f"@{request}",
    )  # fmt: skip
    assert status == 201, body
    monitor = json.loads(body)
    assert monitor["dashboardId"] == board and monitor["state"] == "CHECKING" and monitor["enabled"] is True
    # The same call without X-Requested-By is refused, naming the header
    status, body = curl(
        "-X",
        "POST",
        url,
        "-H",
        "Content-Type: application/json",
        "-u",
        f"{user.username}:{user.password}",
        "-d",
        f"@{request}",
    )
    assert status == 403 and "X-Requested-By" in json.loads(body)["message"]
    # And a GET without it too: CloverDX's rule covers every request of the base path
    status, body = curl(url, "-u", f"{user.username}:{user.password}")
    assert status == 403
    # The monitor is an alert of the tenant, read through the Wavefront dialect
    alert = ok(
        requests.get(
            f"{server.url}/api/v2/alert/{monitor['id']}",
            headers={"Authorization": f"Bearer {boss.token}"},
            timeout=TIMEOUT,
        )
    )
    assert alert["response"]["alertTriageDashboards"] == [{"dashboardId": board}]


def test_can_drive_every_monitor_operation_over_basic_auth(server, monitoring):
    boss, user, board = monitoring
    auth = (user.username, user.password)
    monitors = f"{server.url}{BASE}/dashboards/{board}/monitors"

    dashboards = ok(requests.get(f"{server.url}{BASE}/dashboards", auth=auth, headers=CLI, timeout=TIMEOUT))
    assert [d["id"] for d in dashboards["dashboards"]] == [board]
    assert (
        ok(requests.get(f"{server.url}{BASE}/dashboards/{board}", auth=auth, headers=CLI, timeout=TIMEOUT))["id"]
        == board
    )

    created = ok(
        requests.post(
            monitors, auth=auth, headers=CLI, json={"name": "late", "condition": "ts(job.late) > 0"}, timeout=TIMEOUT
        ),
        201,
    )
    listed = ok(requests.get(monitors, auth=auth, headers=CLI, timeout=TIMEOUT))
    assert [m["id"] for m in listed["monitors"]] == [created["id"]]
    one = f"{monitors}/{created['id']}"
    got = ok(requests.get(one, auth=auth, headers=CLI, timeout=TIMEOUT))
    changed = ok(
        requests.put(one, auth=auth, headers=CLI, json={**got, "enabled": False, "severity": "INFO"}, timeout=TIMEOUT)
    )
    assert changed["enabled"] is False and changed["state"] == "SNOOZED" and changed["version"] == 2
    # A stale version loses with 409
    stale = requests.put(one, auth=auth, headers=CLI, json={**got, "name": "stale"}, timeout=TIMEOUT)
    assert stale.status_code == 409 and stale.json()["status"] == 409
    assert requests.delete(one, auth=auth, headers=CLI, timeout=TIMEOUT).status_code == 204
    assert requests.get(one, auth=auth, headers=CLI, timeout=TIMEOUT).status_code == 404


def test_can_refuse_monitors_to_a_user_without_the_monitoring_permission(server, monitoring):
    boss, _, board = monitoring
    alerts_only = new_person(server.url, boss.token, ["alert.#", "dashboard.#"], tenant=boss.tenant)
    resp = requests.get(
        f"{server.url}{BASE}/dashboards/{board}/monitors",
        auth=(alerts_only.username, alerts_only.password),
        headers=CLI,
        timeout=TIMEOUT,
    )
    assert resp.status_code == 403 and resp.json()["error"] == "Forbidden"
    assert (
        requests.get(f"{server.url}{BASE}/dashboards/{board}/monitors", headers=CLI, timeout=TIMEOUT).status_code == 401
    )
