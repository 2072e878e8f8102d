"""Per-request telemetry: one EMF blob per request (Powertools Metrics), printed on stdout
where CloudWatch would read it, and the AWS calls each request made.

POWERTOOLS_METRICS_DISABLED=false asks for the EMF line outside Lambda (Powertools' own
switch); capsys reads it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functional.test_alert import ALERT, new_alert


@pytest.fixture
def emf(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """The EMF blobs printed since the last call."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "opsplane-test")
    capsys.readouterr()

    def printed() -> list[dict[str, Any]]:
        lines = capsys.readouterr().out.splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"_aws"')]

    return printed


def test_can_emit_one_emf_blob_per_request(api, emf):
    # GIVEN an alert
    alert = new_alert(api)
    emf()
    # WHEN it is read, and a missing one is asked for
    assert api.call("GET", f"{ALERT}/{alert['id']}").status_code == 200
    assert api.call("GET", f"{ALERT}/1700000000000000000").status_code == 404
    # THEN one blob per request, each with the route template, never the path
    ok, missing = emf()
    for blob in (ok, missing):
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "opsplane-test"
        assert directive["Dimensions"] == [["service", "route", "method"]]
        names = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
        assert names == {
            "latency": "Milliseconds",
            "status_2xx": "Count",
            "status_4xx": "Count",
            "status_5xx": "Count",
            "aws_calls": "Count",
        }
        assert (blob["service"], blob["route"], blob["method"]) == ("opsplane", "/api/v2/alert/{id}", "GET")
        # the tenant is a property of the blob, not a dimension
        assert blob["tenant"] == api.root and blob["category"] == "alert"
        # Powertools writes each metric's values as a list
        assert blob["latency"][0] > 0 and blob["aws_calls"][0] >= 1
    assert (ok["status_2xx"], ok["status_4xx"], ok["status_5xx"], ok["status"]) == ([1.0], [0.0], [0.0], 200)
    assert (missing["status_2xx"], missing["status_4xx"], missing["status"]) == ([0.0], [1.0], 404)


def test_can_count_the_aws_calls_of_each_request(api, emf, monkeypatch):
    from chalicelib.settings import reset_settings

    # GIVEN an alert, and the rate limiter on
    alert = new_alert(api)
    monkeypatch.setenv("OPSPLANE_RATE_LIMIT_ENABLED", "true")
    reset_settings()
    emf()
    # WHEN the alert is read
    try:
        resp = api.call("GET", f"{ALERT}/{alert['id']}")
    finally:
        reset_settings()
    assert resp.headers["X-RateLimit-Limit"] == "500"
    (blob,) = emf()
    # THEN the blob counts the calls that request made (authorization's and the read's), by operation
    operations = blob["aws_operations"]
    assert blob["aws_calls"] == [float(sum(operations.values()))]
    assert operations.get("dynamodb.GetItem", 0) >= 1
    # AND the rate limiter made none of them (no UpdateItem: it counts in memory)
    assert "dynamodb.UpdateItem" not in operations


def test_can_report_an_unknown_route_without_its_path_or_a_tenant(api, emf):
    api.call("GET", "/api/v2/no/such/thing")
    (blob,) = emf()
    assert blob["route"] == "unknown" and blob["tenant"] is None
    assert blob["status_4xx"] == [1.0] and blob["aws_calls"] == [0.0]


def test_can_print_a_readable_line_in_development_mode(api, monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_DEV", "1")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    capsys.readouterr()
    api.call("GET", "/api/health", token="")
    out = capsys.readouterr().out
    assert "metrics GET /api/health -> 200" in out
    assert '"_aws"' not in out


def test_can_print_nothing_locally_by_default(api, monkeypatch, capsys):
    for name in ("POWERTOOLS_DEV", "POWERTOOLS_METRICS_DISABLED", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    api.call("GET", "/api/health", token="")
    assert "_aws" not in capsys.readouterr().out


def test_can_count_calls_per_thread_only(aws):
    import threading

    from chalicelib.store import calls, usage

    def call() -> None:
        usage.add("t#rate#alert#get", "0", 1, expires=2_000_000_000)

    call()  # (a partition's first write in a process also records it in the tenant's registry)
    # GIVEN a counting block WHEN this thread and another each make one call
    with calls.counted() as mine:
        call()
        other = threading.Thread(target=call)
        other.start()
        other.join()
    call()  # and one more outside any block
    # THEN the block counted its own thread's call only
    assert mine.operations == {"dynamodb.UpdateItem": 1}
    assert mine.total == 1
