"""Alert evaluation in process: points ingested through /report and the ingest worker, the
schedule's fan-out, the alert-evaluation worker (workers.local.drain), the state on the
alert through the API, the firing event, the notification jobs on the notify queue;
duplicate messages, a crash between the state write and the send, maintenance, preview."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from chalicelib.auth import apitokens
from chalicelib.auth.permissions import patterns
from chalicelib.domain import ingestion, notifications
from chalicelib.store import alerting, queues, series
from chalicelib.workers import alerteval, ingest, local
from tests.functional.test_alert import client_reads
from tests.functional.test_ingest import point as line
from tests.functional.test_ingest import post

MINUTE = 60_000
T = 1_700_000_000_000 - 1_700_000_000_000 % MINUTE  # a minute's start: an evaluation tick
ALERT = "/api/v2/alert"
CONDITION = "ts(app.latency) > 100"


@pytest.fixture(autouse=True)
def fresh() -> None:
    """Nothing a previous test's process memory holds (the index, sources, policies)."""
    series.forget_noted()
    ingest.forget_sources()
    ingestion.forget_policies()


@pytest.fixture
def sender(api, make_user):
    """An API token of an account holding Direct Data Ingestion."""

    def make() -> tuple[None, str]:
        user = make_user(patterns("ingestion"))
        secret, _ = apitokens.create(user.tenant, user.uuid, "user")
        return None, secret

    return make


def send_points(api, token: str, source: str, values: list[tuple[int, float]]) -> None:
    """Ingest (t ms, value) points of app.latency through /report and the ingest worker."""
    status, answer = post(api, token, [line("app.latency", v, source, ts=t) for t, v in values])
    assert status == 202, answer
    local.drain("ingest")


def notified() -> list[dict[str, Any]]:
    """Every job on the notify queue (consumed)."""
    found = []
    while True:
        batch = queues.receive(notifications.QUEUE, limit=10)
        if not batch:
            return found
        found.extend(json.loads(m.body) for m in batch)
        queues.delete(notifications.QUEUE, [m.receipt for m in batch])


def evaluate(at: int, *, times: int = 1) -> None:
    """The schedule's run at `at` (times times: duplicates), then the worker."""
    for _ in range(times):
        alerteval.fan_out(at)
    local.drain(alerteval.QUEUE)


def get_alert(api, alert_id: str) -> dict[str, Any]:
    status, body = api.json("GET", f"{ALERT}/{alert_id}")
    assert status == 200, body
    client_reads(body, "ResponseContainerAlert")
    return body["response"]


@pytest.fixture
def firing_alert(api, sender):
    """An alert over app.latency (2-minute window) and the token that feeds it."""
    _, token = sender()
    body = {"name": "latency", "condition": CONDITION, "minutes": 2, "evaluateRealtimeData": True}
    status, created = api.json("POST", ALERT, body)
    assert status == 200, created
    return created["response"]["id"], token


def test_can_fire_notify_once_record_the_event_and_resolve(api, firing_alert):
    alert_id, token = firing_alert
    # GIVEN two minutes of points above the threshold on web-1, below on web-2
    send_points(api, token, "web-1", [(T - 110_000, 150), (T - 50_000, 180)])
    send_points(api, token, "web-2", [(T - 110_000, 20), (T - 50_000, 30)])
    # WHEN the schedule runs twice for the same minute (a duplicate) and the worker drains
    evaluate(T, times=2)
    # THEN the alert is FIRING with web-1 failing, and its firing event is open
    alert = get_alert(api, alert_id)
    assert alert["status"] == ["FIRING"]
    assert [(p["host"], p["label"]) for p in alert["failingHostLabelPairs"]] == [("web-1", "app.latency")]
    assert alert["lastProcessedMillis"] == T and alert["pointsScannedAtLastQuery"] == 4
    event_id = alert["event"]["id"]
    status, details = api.json("GET", f"/api/v2/event/{event_id}/alertFiringDetails")
    assert status == 200 and [d["host"] for d in details["response"]] == ["web-1"]
    status, firings = api.json("GET", f"/api/v2/event/alertFirings?alertId={alert_id}")
    assert [e["id"] for e in firings["response"]["items"]] == [event_id]
    # AND exactly one ALERT_OPENED job was sent, in the agreed shape
    (job,) = notified()
    assert job["notificationId"] == f"{alert_id}-ALERT_OPENED-{T}" and job["trigger"] == "ALERT_OPENED"
    assert job["tenant"] == api.root and job["alertId"] == alert_id and job["alert"]["status"] == ["FIRING"]
    assert job["failingAlertSeries"] == [
        {"host": "web-1", "tags": {}, "label": "app.latency", "observed": 1.0}
    ]  # the condition
    assert job["newlyFailingAlertSeries"] == job["failingAlertSeries"] and job["recoveredAlertSeries"] == []
    assert job["startedTime"] == T and job["endedTime"] is None and job["severity"] == "WARN"
    # AND the system event refuses delete
    status, _ = api.json("DELETE", f"/api/v2/event/{event_id}")
    assert status == 400

    # WHEN the points recover for the whole window THEN it resolves, the event ends
    later = T + 3 * MINUTE
    send_points(api, token, "web-1", [(later - 100_000, 10), (later - 40_000, 12)])
    evaluate(later)
    alert = get_alert(api, alert_id)
    assert alert["status"] == ["CHECKING"] and alert["failingHostLabelPairs"] == []
    (job,) = notified()
    assert job["trigger"] == "ALERT_RESOLVED" and job["endedTime"] == later
    assert [s["host"] for s in job["recoveredAlertSeries"]] == ["web-1"]
    status, event = api.json("GET", f"/api/v2/event/{event_id}")
    assert event["response"]["endTime"] == later and event["response"]["runningState"] == "ENDED"


def test_can_send_a_pending_notification_again_after_a_crash(api, firing_alert):
    alert_id, token = firing_alert
    send_points(api, token, "web-1", [(T - 60_000, 500)])
    # GIVEN the notify queue cannot be reached (the send after the state write fails)
    url = queues.url_of(notifications.QUEUE)
    queues._client().delete_queue(QueueUrl=url)
    alerteval.fan_out(T)
    with pytest.raises(BatchProcessingError):  # every record of the batch failed
        local.drain(alerteval.QUEUE)
    # THEN the state was written with the job pending
    state = alerting.load(api.root, alert_id).doc
    assert state["status"] == "FIRING" and [j["trigger"] for j in state["pending"]] == ["ALERT_OPENED"]
    # WHEN the queue is back and the message comes again (as SQS redelivers it)
    queues._state["urls"].clear()
    local.create_queues()
    evaluate(T)
    # THEN the same notification is sent (same id), nothing is evaluated twice
    (job,) = notified()
    assert job["notificationId"] == f"{alert_id}-ALERT_OPENED-{T}"
    assert alerting.load(api.root, alert_id).doc["pending"] == []
    status, firings = api.json("GET", f"/api/v2/event/alertFirings?alertId={alert_id}")
    assert len(firings["response"]["items"]) == 1


def test_can_go_no_data_then_invalid(api, firing_alert):
    alert_id, _ = firing_alert
    evaluate(T)
    assert get_alert(api, alert_id)["status"] == ["NO_DATA"]
    assert [j["trigger"] for j in notified()] == ["ALERT_NO_DATA"]
    # WHEN its condition uses what the engine refuses THEN it is INVALID, saying why
    status, _ = api.json("PUT", f"{ALERT}/{alert_id}", {"name": "x", "condition": "hideAfter(ts(a))", "minutes": 2})
    assert status == 200
    evaluate(T + MINUTE)
    alert = get_alert(api, alert_id)
    assert alert["status"][0] == "INVALID" and "hideAfter" in alert["lastErrorMessage"]
    assert [j["trigger"] for j in notified()] == ["ALERT_INVALID"]


def test_can_suppress_notifications_in_a_maintenance_window(api, firing_alert):
    alert_id, token = firing_alert
    send_points(api, token, "web-1", [(T - 60_000, 500)])
    api.json("PUT", f"{ALERT}/{alert_id}/tag/team-web")
    window = {
        "title": "deploy",
        "reason": "release",
        "startTimeInSeconds": (T - MINUTE) // 1000,
        "endTimeInSeconds": (T + MINUTE) // 1000,
        "relevantCustomerTags": ["team-web"],
        "relevantHostNames": ["web-1"],
    }
    status, created = api.json("POST", "/api/v2/maintenancewindow", window)
    assert status == 200, created
    evaluate(T)
    alert = get_alert(api, alert_id)
    assert alert["status"] == ["CHECKING", "IN_MAINTENANCE"]
    assert alert["activeMaintenanceWindows"] == [created["response"]["id"]]
    assert [p["host"] for p in alert["inMaintenanceHostLabelPairs"]] == ["web-1"]
    (job,) = notified()
    assert job["trigger"] == "ALERT_MAINTENANCE" and [s["host"] for s in job["inMaintenanceAlertSeries"]] == ["web-1"]


def test_can_leave_trashed_alerts_out_of_the_schedule(api, firing_alert):
    alert_id, _ = firing_alert
    assert dict(alerting.enlisted()) == {api.root: [alert_id]}
    api.json("DELETE", f"{ALERT}/{alert_id}")
    assert dict(alerting.enlisted()) == {}
    assert alerteval.fan_out(T) == 0


def test_can_preview_an_alert_body_without_saving_it(api, sender):
    _, token = sender()
    send_points(api, token, "web-9", [(T - 30_000, 900)])
    target = {
        "title": "ops hook",
        "description": "the ops webhook",
        "method": "WEBHOOK",
        "recipient": "https://hooks.example.com/x",
        "template": "{{name}}: {{reason}} ({{severity}})",
        "triggers": ["ALERT_OPENED"],
    }
    status, made = api.json("POST", "/api/v2/notificant", target)
    assert status == 200, made
    body = {
        "name": "preview me",
        "condition": CONDITION,
        "minutes": 1,
        "evaluateRealtimeData": True,
        "target": f"target:{made['response']['id']},ops@example.com",
    }
    # The clock of a request is the real one: preview over points made for "now".
    send_points(api, token, "web-9", [(now_ms() - 20_000, 900)])
    status, answer = api.json("POST", f"{ALERT}/preview", body)
    assert status == 200, answer
    client_reads(answer, "ResponseContainerListNotificationMessages")
    messages = answer["response"]
    assert [(m["method"], m["name"]) for m in messages] == [("WEBHOOK", "ops hook"), ("EMAIL", "ops@example.com")]
    assert messages[0]["content"] == "preview me: Alert Opened (WARN)"
    status, listed = api.json("GET", ALERT)
    assert listed["response"]["items"] == []  # nothing saved
    assert notified() == []  # nothing sent
    status, bad = api.json("POST", f"{ALERT}/preview", {"name": "x", "minutes": 1})
    assert status == 400


def now_ms() -> int:
    import time

    return int(time.time() * 1000)
