"""Notification delivery against the live server (`make run`): the unmodified Wavefront
client tests an alert target, the server's deliver worker POSTs the signed ALERT_TESTING
notification to a receiver this test runs on loopback, and the receiver verifies the
signature with the secret the target was given; the delivery log records it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
import wavefront_api_client as wf

from tests.e2e.clients import raw_json, unique, wavefront
from tests.e2e.receivers import verified

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 30


def test_can_deliver_a_signed_test_notification_the_receiver_verifies(server, fresh, receiver):
    url, got, arrived = receiver
    client = wavefront(server.url, fresh.token)
    targets = wf.NotificantApi(client)
    # GIVEN a webhook alert target pointing at the receiver, and its signing secret
    body = wf.Notificant(
        title=unique("hook"),
        description="the test's receiver",
        method="WEBHOOK",
        recipient=url,
        template='{"alert": "{{#jsonEscape}}{{{name}}}{{/jsonEscape}}", "why": "{{reason}}", "id": "{{notificationId}}"}',
        triggers=["ALERT_OPENED"],
        content_type="application/json",
        custom_http_headers={"X-Team": "ops"},
    )
    target = targets.create_notificant(body=body).response
    auth = {"Authorization": f"Bearer {fresh.token}"}
    answer = requests.post(f"{server.url}/api/v2/notificant/{target.id}/secret", json={}, headers=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    secret = answer.json()["response"]["secret"]
    # WHEN the client tests the target
    tested = raw_json(lambda **kw: targets.test_notificant(target.id, **kw))["response"]
    # THEN the receiver gets the ALERT_TESTING notification, signed with that secret
    assert arrived.wait(WAIT_SECONDS), server.output()[-2000:]
    headers, sent = got[0]
    assert verified(secret, headers["x-opsplane-signature"], sent)
    assert not verified("not-the-secret-at-all", headers["x-opsplane-signature"], sent)
    assert json.loads(sent) == {
        "alert": "Sample alert: cpu.load high",
        "why": "ALERT_TESTING",
        "id": tested["notificationId"],
    }
    assert sent.decode() == tested["template"]
    assert headers["x-opsplane-notification-id"] == tested["notificationId"] and headers["x-team"] == "ops"
    # AND the client's call answers a Notificant it can read
    again = targets.test_notificant(target.id).response
    assert again.id == target.id and "ALERT_TESTING" in again.template
    # AND the delivery log shows the delivered attempt
    deadline = time.monotonic() + WAIT_SECONDS
    log: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        resp = requests.get(f"{server.url}/api/v2/notificant/{target.id}/deliveries", headers=auth, timeout=30)
        assert resp.status_code == 200, resp.text
        log = resp.json()["response"]
        if any(e["notificationId"] == tested["notificationId"] for e in log):
            break
        time.sleep(0.5)
    entry = next(e for e in log if e["notificationId"] == tested["notificationId"])
    assert (entry["result"], entry["status"], entry["attempt"], entry["trigger"]) == (
        "delivered",
        204,
        1,
        "ALERT_TESTING",
    )
