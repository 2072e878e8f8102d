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
