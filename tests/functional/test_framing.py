"""HTTP framing at the edge: HEAD answers without a body (success and error), unknown methods
answer 405 in the dialect, and no credential reaches a log line."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator

import pytest

from chalicelib.http.redact import REDACTED, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """What the edge's Logger writes (INFO and up) while the test runs."""
    from chalicelib.http.edge import logger

    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    level = logger.log_level
    logger.setLevel("INFO")
    try:
        yield stream
    finally:
        logger.setLevel(level)
        handler.setStream(previous)  # type: ignore[attr-defined]


def test_can_answer_head_with_the_get_status_and_length_but_no_body(api):
    get = api.call("GET", "/api/v2/alert")
    head = api.call("HEAD", "/api/v2/alert")

    assert head.status_code == get.status_code == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(get.body))


def test_can_answer_a_head_error_without_a_body(api):
    # GIVEN a token the Wazo check does not know, and a path nothing routes
    for path in ("/api/auth/0.1/token/" + JWT, "/api/v2/no/such/thing"):
        # WHEN both are asked with GET and with HEAD
        get = api.call("GET", path, token="")
        head = api.call("HEAD", path, token="")

        # THEN HEAD has the GET's status and length, and no body at all
        assert get.status_code >= 400 and get.body, path
        assert head.status_code == get.status_code, path
        assert head.body == b"", path
        # (an error body holds a request id and a timestamp: its length may vary by a digit or two)
        assert abs(int(head.headers["Content-Length"]) - len(get.body)) <= 4, path


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "FOO"])
def test_can_answer_unknown_methods_with_405_in_the_dialect(api, method):
    native = api.call(method, "/api/v2/alert")
    wazo = api.call(method, "/api/auth/0.1/token", token="")

    assert native.status_code == 405
    assert json.loads(native.body)["status"]["code"] == 405
    assert set(native.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert wazo.status_code == 405
    assert json.loads(wazo.body)["status_code"] == 405
    assert "POST" in wazo.headers["Allow"]


def test_can_answer_the_wazo_token_head_check_with_204_and_no_length(api):
    resp = api.call("HEAD", "/api/auth/0.1/token/" + api.token, token="")
    assert resp.status_code == 204
    assert resp.body == b""
    assert "Content-Length" not in resp.headers


def test_can_list_the_route_methods_in_allow_on_a_405(api):
    resp = api.call("DELETE", "/api/health", token="")
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "GET, HEAD"


def test_can_keep_credentials_out_of_the_logs(api, log):
    from chalicelib.http.edge import logger

    api_token = str(uuid.uuid4())
    # WHEN credentials travel in the path, the query, the headers and a body
    api.call("GET", "/api/auth/0.1/token/" + api.token, token="")
    api.call("HEAD", "/api/auth/0.1/token/" + JWT, token="")
    api.call("GET", f"/api/v2/alert?token={api_token}", token="")
    api.call("GET", "/api/v2/alert", token="", headers={"X-AUTH-TOKEN": api_token, "Cookie": f"session={JWT}"})
    api.call("GET", "/api/v2/alert", token=api_token)
    api.call("POST", "/auth/oauth/token", token="", raw=f"grant_type=client_credentials&client_secret={api_token}")
    # ... and a record carries them in its context, as an error log might
    logger.error(
        "server error",
        extra={"context": {"headers": {"authorization": f"Bearer {api_token}", "x-auth-token": JWT}}},
    )
    logger.info(f"body {json.dumps({'password': 'hunter2-pw', 'client_secret': api_token})}")

    # THEN no log line holds any of them
    text = log.getvalue()
    assert '"request"' in text and REDACTED in text
    for secret in (api.token, JWT, api_token, "hunter2-pw"):
        assert secret not in text


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f'"GET /api/auth/0.1/token/{JWT} HTTP/1.1" 200 -', JWT),
        ("GET /api/v2/alert?a=1&token=0b6f4e3c-8c9e-4d2a-9a51-1b7d0c6f7e21 HTTP/1.1", "0b6f4e3c"),
        ("DELETE /api/auth/0.1/token/0b6f4e3c-8c9e-4d2a-9a51-1b7d0c6f7e21 HTTP/1.1", "0b6f4e3c"),
        ("{'Authorization': 'Bearer 0b6f4e3c-8c9e-4d2a-9a51-1b7d0c6f7e21'}", "0b6f4e3c"),
        ("Authorization: Basic YWRtaW46c2VjcmV0", "YWRtaW46c2VjcmV0"),
        ('{"X-AUTH-TOKEN":"abc-secret-xyz"}', "abc-secret-xyz"),
        ('{"tokenID": "abc-secret-xyz"}', "abc-secret-xyz"),
        ("client_id=grafana&client_secret=abc-secret-xyz", "abc-secret-xyz"),
        ("Cookie: a=1; session=abc-secret-xyz", "abc-secret-xyz"),
        ('{"new_password":"abc-secret-xyz"}', "abc-secret-xyz"),
    ],
)
def test_can_redact_every_credential_shape(line, secret):
    assert secret not in redact(line)
    assert REDACTED in redact(line)


def test_can_leave_route_templates_and_ids_readable():
    line = '{"route":"/api/auth/0.1/token/{token}","method":"GET","tenant":"0b6f4e3c-8c9e-4d2a-9a51-1b7d0c6f7e21"}'
    assert redact(line) == line
