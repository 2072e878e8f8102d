"""The alerting loop against the live server (`make run`, its schedules every 2 s through
OPSPLANE_SCHEDULE_SECONDS): wavefront-sdk-python sends points above an alert's threshold,
the unmodified wavefront-api-client sees the alert FIRING with its failing series and its
firing event, and a webhook receiver this test runs gets the signed ALERT_OPENED
notification and verifies it; the points recover, the alert resolves, the event ends and the
receiver gets ALERT_RESOLVED. (`make run` lets notifications reach loopback receivers.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import wavefront_api_client as wf
from wavefront_sdk.client import WavefrontClient

from tests.e2e.clients import new_tenant_admin, unique, wavefront
from tests.e2e.conftest import GENEROUS_LIMITS
from tests.e2e.receivers import verified

pytestmark = pytest.mark.e2e

TICK_SECONDS = 2
# Firing needs one evaluation; resolving needs the window to hold only recovered points
# (one minute) and the next evaluation (processRateMinutes: one minute).
FIRE_WITHIN = 30.0
RESOLVE_WITHIN = 150.0


def wait_for(what: str, check: Callable[[], Any], within: float) -> Any:
    """check()'s first truthy answer, polled, or a failure naming what did not happen."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1.0)
    raise AssertionError(f"{what} did not happen within {within:.0f} s")


def send(client: WavefrontClient, host: str, values: list[float]) -> None:
    """Points of e2e.latency, one a second ending now, flushed."""
    now = time.time()
    for i, value in enumerate(values):
        client.send_metric("e2e.latency", value, int((now - len(values) + i + 1) * 1000), host, {"env": "e2e"})
    client.flush_now()
    assert client.get_failure_count() == 0


def test_can_fire_and_resolve_an_alert_from_points_the_sdk_sends(spawn_server, receiver):
    # GIVEN the live server with its schedules every 2 s, a tenant admin and an API token
    server = spawn_server(env={**GENEROUS_LIMITS, "OPSPLANE_SCHEDULE_SECONDS": str(TICK_SECONDS)})
    person = new_tenant_admin(server.url, server.token())
    api = wavefront(server.url, person.token)
    token = str(wf.ApiTokenApi(api).create_token().response[-1].token_id)
    sdk = WavefrontClient(server.url, token, flush_interval_seconds=3600, enable_internal_metrics=False)
    host = unique("e2e-host")
    alerts, events = wf.AlertApi(api), wf.EventApi(api)
    url, got, _ = receiver
    # AND a webhook alert target at the receiver, told of openings and resolutions, signed
    target = (
        wf.NotificantApi(api)
        .create_notificant(
            body=wf.Notificant(
                title=unique("pager"),
                description="the test's receiver",
                method="WEBHOOK",
                recipient=url,
                template='{"trigger": "{{notificationId}}", "name": "{{#jsonEscape}}{{{name}}}{{/jsonEscape}}"}',
                triggers=["ALERT_OPENED", "ALERT_RESOLVED"],
                content_type="application/json",
            )
        )
        .response
    )
    auth = {"Authorization": f"Bearer {person.token}"}
    answer = requests.post(f"{server.url}/api/v2/notificant/{target.id}/secret", json={}, headers=auth, timeout=30)
    secret = answer.json()["response"]["secret"]
    try:
        # WHEN it sends latency above the threshold, and an alert watches it
        send(sdk, host, [250.0, 260.0, 270.0])
        alert = alerts.create_alert(
            body=wf.Alert(
                name=unique("latency"),
                condition=f'ts(e2e.latency, source="{host}") > 200',
                minutes=1,
                resolve_after_minutes=1,
                evaluate_realtime_data=True,
                severity="SEVERE",
                target=f"target:{target.id}",
            )
        ).response

        # THEN the client sees it FIRING, with the failing series and the firing event
        def firing() -> Any:
            got = alerts.get_alert(alert.id).response
            return got if "FIRING" in (got.status or []) else None

        fired = wait_for("the firing", firing, FIRE_WITHIN)
        assert [(p.host, p.label, p.tags) for p in fired.failing_host_label_pairs] == [
            (host, "e2e.latency", {"env": "e2e"})
        ]
        assert fired.event is not None and fired.event.creator_type == ["ALERT"]
        found = events.get_alert_firing_events(alert.id, earliest_start_time_epoch_millis=0).response
        (event,) = found.items
        assert event.id == fired.event.id and event.running_state == "ONGOING"
        details = events.get_alert_firing_details(event.id).response
        assert [d.host for d in details] == [host]
        # AND the receiver got the opening, signed with the target's secret
        opened = wait_for("the ALERT_OPENED webhook", lambda: _delivered(got, "ALERT_OPENED"), FIRE_WITHIN)
        assert opened["name"] == alert.name

        # WHEN the points recover (and keep coming, as a live service's do)
        send(sdk, host, [50.0, 40.0])

        # THEN it resolves, and its firing event ends
        def resolved() -> Any:
            send(sdk, host, [45.0])
            now = alerts.get_alert(alert.id).response
            return now if "FIRING" not in (now.status or []) else None

        done = wait_for("the resolution", resolved, RESOLVE_WITHIN)
        assert done.status[0] == "CHECKING" and not done.failing_host_label_pairs
        ended = events.get_event(event.id).response
        assert ended.running_state == "ENDED" and ended.end_time >= ended.start_time
        # AND the receiver is told, signed too
        wait_for("the ALERT_RESOLVED webhook", lambda: _delivered(got, "ALERT_RESOLVED"), FIRE_WITHIN)
        assert all(verified(secret, headers["x-opsplane-signature"], body) for headers, body in got)
    finally:
        sdk.close()


def _delivered(got: list[tuple[dict[str, str], bytes]], trigger: str) -> dict[str, Any] | None:
    """The first notification of a trigger the receiver got (its notificationId names it)."""
    for _, body in list(got):
        sent = json.loads(body)
        if f"-{trigger}-" in sent["trigger"]:
            return dict(sent)
    return None
