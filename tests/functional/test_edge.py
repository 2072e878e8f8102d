"""The edge: health, unknown routes, wrong methods, credentials, dialect shapes."""

from __future__ import annotations


def test_can_answer_health_without_credentials(api):
    status, body = api.json("GET", "/api/health", token="")
    assert status == 200
    assert body["status"] == "ok"


def test_can_answer_unknown_route_with_native_404(api):
    status, body = api.json("GET", "/api/v2/nothing-here/at/all")
    assert status == 404
    assert body["status"]["result"] == "ERROR"
    assert body["status"]["code"] == 404


def test_can_answer_wrong_method_with_405_in_dialect(api):
    status, body = api.json("DELETE", "/api/health")
    assert status == 405
    assert "message" in body


def test_can_refuse_missing_garbage_and_tampered_credentials(api):
    for token in ("", "garbage", api.token[:-4] + "AAAA"):
        status, body = api.json("GET", "/api/v2/nothing", token=token)
        assert status in (401, 404)


def test_can_refuse_an_oversized_body_with_413(api, monkeypatch):
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("OPSPLANE_MAX_BODY_BYTES", "1000")
    reset_settings()
    try:
        status, body = api.json("POST", "/api/auth/0.1/users", raw="x" * 2000)
    finally:
        reset_settings()
    assert status == 413
    assert "1000" in body["message"]


def test_can_answer_errors_in_each_dialect(api):
    status, body = api.json("GET", "/api/v2/unknown")
    assert status == 404 and body["status"]["result"] == "ERROR"
    status, body = api.json("GET", "/api/auth/0.1/unknown")
    assert status == 404 and "reason" in body and "error_id" in body
    status, body = api.json("GET", "/api/dashboards/unknown/x/y/z")
    assert status == 404 and set(body) == {"message"}
    status, body = api.json("GET", "/auth/oauth/nope")
    assert status == 404 and "error" in body


def test_can_carry_a_request_id_on_every_answer(api):
    resp = api.call("GET", "/api/health", token="")
    assert len(resp.headers["X-Request-Id"]) >= 16
    resp = api.call("GET", "/api/v2/missing")
    assert resp.headers["X-Request-Id"]


def test_can_log_structured_json_without_secrets(api):
    import io

    from chalicelib.http.edge import logger

    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)
    logger.setLevel("INFO")
    try:
        api.call("GET", "/api/auth/0.1/token/" + api.token, token="")
        api.call("GET", "/api/v2/missing", headers={"X-AUTH-TOKEN": "secret-value-123"})
    finally:
        logger.setLevel("WARNING")
        handler.setStream(previous)
    text = stream.getvalue()
    lines = [line for line in text.splitlines() if '"request"' in line]
    assert lines, text
    import json as _json

    record = _json.loads(lines[0])
    assert record["request_id"] and record["status"]
    assert api.token not in text
    assert "secret-value-123" not in text
