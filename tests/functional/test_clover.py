"""CloverDX monitors (/clover/api/rest/v1): a monitor is an alert attached to a dashboard,
written in one dialect and read and changed in the other; the Monitoring permission; the
CSRF rule of the base path (global setting and per-tenant switch); errors in CloverDX's shape."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.conftest import ADMIN_PASSWORD
from tests.functional.test_dashboard import new_dashboard

BASE = "/clover/api/rest/v1"
MONITORS = f"{BASE}/dashboards/ops-overview/monitors"
ALERT = "/api/v2/alert"
CLI = {"X-Requested-By": "cli"}
MONITOR = {"name": "rows rejected", "condition": "ts(clover.rejected) > 10", "minutes": 5, "severity": "SEVERE"}


def clover(api, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None, **kw: Any):
    """A CloverDX call as its scripts make it (X-Requested-By unless headers say otherwise)."""
    return api.json(method, path, body, headers=CLI if headers is None else headers, **kw)


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


@pytest.fixture
def board(api) -> str:
    return new_dashboard(api)["id"]


def new_monitor(api, **fields: Any) -> dict[str, Any]:
    status, body = clover(api, "POST", MONITORS, {**MONITOR, **fields})
    assert status == 201, body
    return body


@pytest.fixture
def clover_csrf_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("OPSPLANE_CLOVER_CSRF", "false")
    reset_settings()
    yield
    monkeypatch.delenv("OPSPLANE_CLOVER_CSRF")
    reset_settings()


def test_can_create_a_monitor_that_is_an_alert_of_the_dashboard(api, board):
    created = new_monitor(api, description="nightly load")
    assert created["dashboardId"] == board
    assert created["name"] == "rows rejected" and created["severity"] == "SEVERE" and created["minutes"] == 5
    assert created["enabled"] is True and created["state"] == "CHECKING" and created["version"] == 1
    assert created["created"].endswith("Z")
    # THEN the Wavefront dialect reads the same object as an alert attached to the dashboard
    status, alert = api.json("GET", f"{ALERT}/{created['id']}")
    assert status == 200
    alert = alert["response"]
    assert alert["alertTriageDashboards"] == [{"dashboardId": board}]
    assert alert["additionalInformation"] == "nightly load" and alert["condition"] == MONITOR["condition"]
    status, listed = clover(api, "GET", MONITORS)
    assert status == 200 and [m["id"] for m in listed["monitors"]] == [created["id"]]


def test_can_change_a_monitor_in_either_dialect(api, board):
    created = new_monitor(api)
    # WHEN the Wavefront dialect renames the alert THEN CloverDX reads the new name
    status, alert = api.json("GET", f"{ALERT}/{created['id']}")
    native = {**alert["response"], "name": "renamed natively"}
    status, _ = api.json("PUT", f"{ALERT}/{created['id']}", native)
    assert status == 200
    status, got = clover(api, "GET", f"{MONITORS}/{created['id']}")
    assert status == 200 and got["name"] == "renamed natively" and got["version"] == 2
    # WHEN CloverDX changes it THEN the alert changes, its native-only fields kept
    status, changed = clover(api, "PUT", f"{MONITORS}/{created['id']}", {**got, "minutes": 15, "enabled": False})
    assert status == 200, changed
    assert changed["minutes"] == 15 and changed["enabled"] is False and changed["state"] == "SNOOZED"
    status, alert = api.json("GET", f"{ALERT}/{created['id']}")
    assert alert["response"]["minutes"] == 15 and alert["response"]["snoozed"] == -1
    # AND enabling it again ends the snooze
    status, again = clover(api, "PUT", f"{MONITORS}/{created['id']}", {**changed, "enabled": True})
    assert again["enabled"] is True and again["state"] == "CHECKING"


def test_can_refuse_a_stale_version_with_409_and_write_nothing(api, board):
    created = new_monitor(api)
    clover(api, "PUT", f"{MONITORS}/{created['id']}", {**created, "name": "first"})
    status, body = clover(api, "PUT", f"{MONITORS}/{created['id']}", {**created, "name": "stale"})
    assert status == 409 and body["status"] == 409 and body["error"] == "Conflict"
    assert clover(api, "GET", f"{MONITORS}/{created['id']}")[1]["name"] == "first"


def test_can_notify_through_alert_targets(api, board):
    status, target = api.json(
        "POST",
        "/api/v2/notificant",
        {
            "title": "ops mail",
            "description": "d",
            "method": "EMAIL",
            "recipient": "ops@example.com",
            "template": "{{alertId}}",
            "triggers": ["ALERT_OPENED"],
        },
    )
    assert status == 200, target
    target_id = target["response"]["id"]
    created = new_monitor(api, alertTargetIds=[target_id])
    assert created["alertTargetIds"] == [target_id]
    status, alert = api.json("GET", f"{ALERT}/{created['id']}")
    assert alert["response"]["target"] == f"target:{target_id}"
    # An unknown target is a 400 naming the field, and nothing is written
    status, body = clover(api, "POST", MONITORS, {**MONITOR, "alertTargetIds": ["nope"]})
    assert status == 400 and "alertTargetIds" in body["message"]
    assert len(clover(api, "GET", MONITORS)[1]["monitors"]) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"severity": "LOUD"}, "severity"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"condition": None}, "condition"),
        ({"minutes": "5"}, "minutes"),
        ({"minutes": 0}, "minutes"),
        ({"enabled": "yes"}, "enabled"),
        ({"alertTargetIds": ["a"] * 21}, "alertTargetIds"),
        ({"description": "x" * 4097}, "description"),
    ],
)
def test_can_refuse_a_bad_body_naming_the_field(api, board, change, field):
    status, body = clover(api, "POST", MONITORS, {**MONITOR, **change})
    assert status == 400 and field in body["message"], body
    assert clover(api, "GET", MONITORS)[1]["monitors"] == []


def test_can_answer_404_for_unknown_dashboards_monitors_and_other_tenants(api, board, make_tenant, make_user):
    created = new_monitor(api)
    assert clover(api, "GET", f"{BASE}/dashboards/nope/monitors")[0] == 404
    status, body = clover(api, "GET", f"{MONITORS}/1234")
    assert status == 404 and body["error"] == "Not Found" and body["message"]
    # A monitor is found on its own dashboard only
    new_dashboard(api, "other-board", name="Other board")
    assert clover(api, "GET", f"{BASE}/dashboards/other-board/monitors/{created['id']}")[0] == 404
    # An alert that is no monitor is not one
    status, plain = api.json("POST", ALERT, {"name": "plain", "condition": "ts(x) > 1", "minutes": 1})
    assert clover(api, "GET", f"{MONITORS}/{plain['response']['id']}")[0] == 404
    # Another tenant sees neither the dashboard nor the monitor
    elsewhere = make_user(["#"], tenant=make_tenant("elsewhere"))
    assert clover(api, "GET", f"{MONITORS}/{created['id']}", token=elsewhere.token)[0] == 404
    assert clover(api, "DELETE", f"{MONITORS}/{created['id']}", token=elsewhere.token)[0] == 404


def test_can_delete_a_monitor_into_the_alert_trash(api, board):
    created = new_monitor(api)
    status, body = clover(api, "DELETE", f"{MONITORS}/{created['id']}")
    assert status == 204
    assert clover(api, "GET", MONITORS)[1]["monitors"] == []
    status, trashed = api.json("GET", f"{ALERT}/{created['id']}")
    assert trashed["response"]["inTrash"] is True
    status, _ = api.json("POST", f"{ALERT}/{created['id']}/undelete")
    assert status == 200
    assert [m["id"] for m in clover(api, "GET", MONITORS)[1]["monitors"]] == [created["id"]]


def test_can_require_the_monitoring_permission(api, board, make_user):
    created = new_monitor(api)
    alerts_only = make_user(["alert.#", "dashboard.#"])
    for method, path in (("GET", MONITORS), ("GET", f"{MONITORS}/{created['id']}"), ("GET", f"{BASE}/dashboards")):
        status, body = clover(api, method, path, token=alerts_only.token)
        assert status == 403 and "monitor." in body["message"]
    assert clover(api, "POST", MONITORS, MONITOR, token=alerts_only.token)[0] == 403
    monitoring = make_user(["monitor.#"])
    assert clover(api, "GET", f"{MONITORS}/{created['id']}", token=monitoring.token)[0] == 200
    assert clover(api, "POST", MONITORS, MONITOR, token=monitoring.token)[0] == 201
    # Monitoring reaches monitors, not the alerts API
    assert api.json("GET", f"{ALERT}/{created['id']}", token=monitoring.token)[0] == 403
    readers = make_user(["monitor.read", "monitor.*.read"])
    assert clover(api, "DELETE", f"{MONITORS}/{created['id']}", token=readers.token)[0] == 403


def test_can_list_the_dashboards_monitors_attach_to(api, board):
    status, body = clover(api, "GET", f"{BASE}/dashboards")
    assert status == 200 and [d["id"] for d in body["dashboards"]] == [board]
    status, one = clover(api, "GET", f"{BASE}/dashboards/{board}")
    assert status == 200 and one["name"]


def test_can_require_x_requested_by_on_every_request_of_the_base(api, board):
    # GIVEN the default setting WHEN any request lacks the header THEN 403 naming it, nothing written
    for method, path, body in (
        ("GET", MONITORS, None),
        ("POST", MONITORS, MONITOR),
        ("GET", f"{BASE}/dashboards", None),
    ):
        status, answer = clover(api, method, path, body, headers={})
        assert status == 403 and "X-Requested-By" in answer["message"], (method, path)
    assert clover(api, "GET", MONITORS)[1]["monitors"] == []
    # An empty value is no value
    assert clover(api, "GET", MONITORS, headers={"X-Requested-By": " "})[0] == 403
    # Without credentials the answer is still 401
    assert clover(api, "GET", MONITORS, headers={}, token="")[0] == 401


def test_can_accept_basic_auth_as_curl_sends_it(api, board):
    headers = {**basic("admin", ADMIN_PASSWORD), **CLI, "Accept": "application/json"}
    status, body = api.json("POST", MONITORS, MONITOR, token="", headers=headers)
    assert status == 201, body
    status, body = api.json("POST", MONITORS, MONITOR, token="", headers=basic("admin", ADMIN_PASSWORD))
    assert status == 403


def test_can_turn_the_rule_off_globally_and_keep_it_per_tenant(api, board, clover_csrf_off):
    from chalicelib.identity import tenants

    assert clover(api, "GET", MONITORS, headers={})[0] == 200
    assert clover(api, "POST", MONITORS, MONITOR, headers={})[0] == 201
    # WHEN the tenant's own switch is on THEN the header is required again
    tenants.update_tenant(api.root, {"csrf_strict": True}, by="test")
    assert clover(api, "GET", MONITORS, headers={})[0] == 403
    assert clover(api, "GET", MONITORS)[0] == 200


def test_can_refuse_to_edit_a_threshold_alert_as_a_monitor(api, board):
    status, alert = api.json(
        "POST",
        ALERT,
        {
            "name": "thresholds",
            "alertType": "THRESHOLD",
            "conditions": {"warn": "ts(x) > 1", "severe": "ts(x) > 2"},
            "minutes": 1,
            "alertTriageDashboards": [{"dashboardId": board}],
        },
    )
    assert status == 200, alert
    monitor_id = alert["response"]["id"]
    status, got = clover(api, "GET", f"{MONITORS}/{monitor_id}")
    assert status == 200 and got["condition"] == "ts(x) > 2"
    status, body = clover(api, "PUT", f"{MONITORS}/{monitor_id}", {**got, "name": "x"})
    assert status == 400 and "THRESHOLD" in body["message"]


def test_can_list_the_clover_routes_under_their_own_tag(api):
    status, doc = api.json("GET", "/api/v2/swagger.json", token="")
    assert {"name": "clover"} in doc["tags"]
    ops = doc["paths"][f"{BASE}/dashboards/{{dashboardId}}/monitors"]
    assert ops["get"]["tags"] == ["clover"] and ops["post"]["tags"] == ["clover"]
