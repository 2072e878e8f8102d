"""Content-Encoding on JSON routes: gzip and deflate bodies are inflated by the edge within
the route's body limit (a small gzip bomb is 413, nothing written), corrupt ones are 400,
other codings 415; and wavefront-sdk-python's send_event, whose plain JSON body is labelled
gzip, creates its event (its exact bytes and headers, sent by the SDK's own session)."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import requests
from wavefront_sdk.client import WavefrontClient

from chalicelib.settings import get_settings

EVENT = "/api/v2/event"
T0 = 1_700_000_000_000
BODY = {"name": "deploy web", "startTime": T0, "annotations": {"severity": "info"}}


def post(api: Any, raw: bytes, encoding: str) -> tuple[int, Any]:
    return api.json("POST", EVENT, raw=raw, headers={"Content-Encoding": encoding})


def event_ids(api: Any) -> list[str]:
    status, answer = api.json(
        "GET", f"{EVENT}?earliestStartTimeEpochMillis={T0 - 1}&latestStartTimeEpochMillis={T0 + 10**9}"
    )
    assert status == 200, answer
    return [e["id"] for e in answer["response"]["items"]]


def test_can_accept_a_gzip_json_body(api):
    status, answer = post(api, gzip.compress(json.dumps(BODY).encode()), "gzip")
    assert status == 200, answer
    assert answer["response"]["name"] == "deploy web"


def test_can_accept_a_deflate_json_body(api):
    status, answer = post(api, zlib.compress(json.dumps(BODY).encode()), "deflate")
    assert status == 200, answer


def test_can_refuse_a_json_gzip_bomb_and_write_nothing(api):
    # GIVEN a valid event padded with spaces to just past the body limit, gzipped to a few KB
    limit = get_settings().max_body_bytes
    padded = json.dumps(BODY).encode() + b" " * limit
    bomb = gzip.compress(padded)
    assert len(bomb) < limit // 100

    # WHEN it is posted THEN it is 413 naming the limit, and no event exists
    status, answer = post(api, bomb, "gzip")
    assert status == 413, answer
    assert f"exceeds {limit} bytes once decompressed" in answer["status"]["message"]
    assert event_ids(api) == []


def test_can_refuse_a_corrupt_body_and_an_unknown_coding(api):
    status, answer = post(api, gzip.compress(json.dumps(BODY).encode())[:-12], "gzip")
    assert status == 400 and "Malformed compressed body" in answer["status"]["message"]
    status, answer = post(api, json.dumps(BODY).encode(), "br")
    assert status == 415 and "'br' is not supported" in answer["status"]["message"]
    assert event_ids(api) == []


class _Chalice(requests.adapters.BaseAdapter):
    """A requests transport into chalice.test.Client: what the SDK's session sends, byte
    for byte (a str body goes out as ISO-8859-1, as http.client sends it)."""

    def __init__(self, api: Any) -> None:
        super().__init__()
        self.api = api
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        self.sent.append(request)
        body = request.body.encode("iso-8859-1") if isinstance(request.body, str) else request.body
        answer = self.api.client.http.request(
            request.method, request.path_url, headers=dict(request.headers), body=body
        )
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.body
        response.request, response.url = request, request.url or ""
        return response

    def close(self) -> None:
        pass


def test_can_create_the_event_wavefront_sdk_python_sends(api):
    # GIVEN the SDK's direct-ingestion client, its session wired to the app
    client = WavefrontClient(
        "http://opsplane.test", api.token, flush_interval_seconds=3600, enable_internal_metrics=False
    )
    transport = _Chalice(api)
    client._session.mount("http://", transport)
    try:
        # WHEN it sends an event
        client.send_event("deploy sdk", T0, T0 + 60_000, "web-1", ["env.prod"], {"severity": "info", "type": "deploy"})
        client.flush_now()
    finally:
        client.close()

    # THEN it posted plain JSON labelled gzip to /api/v2/event ...
    [request] = transport.sent
    assert request.path_url == EVENT and request.headers["Content-Encoding"] == "gzip"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {api.token}"
    assert not request.body.startswith("\x1f\x8b")
    # ... and the event exists as sent
    [event_id] = event_ids(api)
    status, answer = api.json("GET", f"{EVENT}/{event_id}")
    assert status == 200, answer
    event = answer["response"]
    assert (event["name"], event["startTime"], event["endTime"]) == ("deploy sdk", T0, T0 + 60_000)
    assert event["hosts"] == ["web-1"] and event["tags"] == ["env.prod"]
    assert event["annotations"] == {"severity": "info", "type": "deploy"}


def test_can_create_every_event_of_one_sdk_flush(api):
    # GIVEN the SDK buffering three events (one flush posts them as JSON lines)
    client = WavefrontClient(
        "http://opsplane.test", api.token, flush_interval_seconds=3600, enable_internal_metrics=False
    )
    transport = _Chalice(api)
    client._session.mount("http://", transport)
    try:
        for i in range(3):
            client.send_event(f"deploy {i}", T0 + i, T0 + 60_000, "web-1", [], {"severity": "info"})
        client.flush_now()
    finally:
        client.close()

    # THEN one request made three events
    [request] = transport.sent
    assert request.body.count("\n") == 3
    names = set()
    for event_id in event_ids(api):
        status, answer = api.json("GET", f"{EVENT}/{event_id}")
        names.add(answer["response"]["name"])
    assert names == {"deploy 0", "deploy 1", "deploy 2"}


def test_can_refuse_a_batch_with_one_bad_line_and_write_nothing(api):
    good = json.dumps(BODY)
    status, answer = api.json("POST", EVENT, raw=f'{good}\n{{"name": 5}}\n'.encode())
    assert status == 400 and answer["status"]["message"].startswith("line 2:"), answer
    status, answer = api.json("POST", EVENT, raw=("\n".join([good] * 101)).encode())
    assert status == 400 and "at most 100" in answer["status"]["message"]
    assert event_ids(api) == []
    status, answer = api.json("POST", EVENT, raw=f"{good}\n{good}\n".encode())
    assert status == 200 and len(answer["response"]["items"]) == 2
