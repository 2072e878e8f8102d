"""wavefront-sdk-python's direct-ingestion WavefrontClient sends an event (send_event: plain
JSON labelled Content-Encoding: gzip) to the live server, and the unmodified
wavefront-api-client's EventApi reads it back."""

from __future__ import annotations

import time

import pytest
import wavefront_api_client as wf
from wavefront_sdk.client import WavefrontClient

from tests.e2e.clients import unique, wavefront

pytestmark = pytest.mark.e2e


def test_can_create_an_event_sent_by_the_sdk(server, fresh):
    # GIVEN the SDK's client pointed at the server with a tenant admin's bearer token
    name = unique("sdk-deploy")
    start = int(time.time() * 1000) - 60_000
    client = WavefrontClient(server.url, fresh.token, flush_interval_seconds=3600, enable_internal_metrics=False)
    try:
        # WHEN it sends an event and flushes
        client.send_event(name, start, start + 30_000, "web-1", ["env.prod"], {"severity": "info", "type": "deploy"})
        client.flush_now()
    finally:
        client.close()

    # THEN no report failed, and EventApi finds the event as sent
    assert client.get_failure_count() == 0
    events = wf.EventApi(wavefront(server.url, fresh.token))
    page = events.get_all_events_with_time_range(
        earliest_start_time_epoch_millis=start - 1, latest_start_time_epoch_millis=start + 1
    )
    [event] = [e for e in page.response.items if e.name == name]
    assert (event.start_time, event.end_time, event.hosts, event.tags) == (
        start,
        start + 30_000,
        ["web-1"],
        ["env.prod"],
    )
    assert event.annotations == {"severity": "info", "type": "deploy"}
    assert events.get_event(event.id).response.name == name
