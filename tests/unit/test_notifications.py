"""Notification building blocks without I/O: template variables, signatures, the backoff
schedule (Retry-After included), the SSRF address check, target planning's parsing."""

from __future__ import annotations

import ipaddress
import json

import pytest

from chalicelib.domain import templates
from chalicelib.domain.delivery import Outcome, pagerduty_event
from chalicelib.domain.notifications import (
    Delivery,
    NotifyJob,
    backoff_seconds,
    named_targets,
    retry_after_seconds,
    signature,
    variables,
    verify,
)
from chalicelib.store.outbound import forbidden

SERIES = {"host": "web-1", "tags": {"env": "prod", "az": "a"}, "label": "cpu", "observed": 3.5}


def a_job(**fields) -> NotifyJob:
    values = {
        "tenant": "t",
        "notificationId": "n-1",
        "trigger": "ALERT_OPENED",
        "alertId": "a1",
        "alert": {
            "name": "cpu <high>",
            "condition": "ts(cpu) > 1",
            "displayExpression": "ts(cpu)",
            "additionalInformation": "runbook",
            "createdEpochMillis": 1_700_000_000_000,
            "tags": {"customerTags": ["team"]},
            "target": "target:x, oncall@example.com ,pd:0123",
        },
        "severity": "SEVERE",
        "reason": "",
        "startedTime": 1_700_000_060_000,
        "endedTime": 1_700_000_120_000,
        "evaluatedAt": 1_700_000_180_000,
        "failingAlertSeries": [SERIES],
        "newlyFailingAlertSeries": [SERIES],
        "recoveredAlertSeries": [{**SERIES, "host": "web-2"}],
        "inMaintenanceAlertSeries": [{**SERIES, "host": "web-3", "observed": None}],
        **fields,
    }
    return NotifyJob(**values)


# Every variable and iterator the docs list, and what it renders to for a_job().
EXPECTED = {
    "{{alertId}}": "a1",
    "{{notificationId}}": "n-1",
    "{{reason}}": "ALERT_OPENED",
    "{{{name}}}": "cpu <high>",
    "{{name}}": "cpu &lt;high&gt;",
    "{{severity}}": "SEVERE",
    "{{severityShort}}": "SEVR",
    "{{condition}}": "ts(cpu) &gt; 1",
    "{{displayExpression}}": "ts(cpu)",
    "{{additionalInformation}}": "runbook",
    "{{{subject}}}": "[SEVERE] OPENED: cpu <high>",
    "{{#alertTags}}{{.}};{{/alertTags}}": "team;",
    "{{url}}": "http://opsplane.test/api/v2/alert/a1",
    "{{createdTime}}": "2023-11-14 22:13:20.000 +0000",
    "{{startedTime}}": "2023-11-14 22:14:20.000 +0000",
    "{{sinceTime}}": "2023-11-14 22:14:20.000 +0000",
    "{{endedTime}}": "2023-11-14 22:15:20.000 +0000",
    "{{evaluatedTime}}": "2023-11-14 22:16:20.000 +0000",
    "{{errorMessage}}": "",
    "{{hostsFailingMessage}}": "web-1",
    "{{#failingAlertSeries}}{{host}} {{label}} {{observed}} {{stats.last}}{{/failingAlertSeries}}": "web-1 cpu 3.5 3.5",
    "{{#failingAlertSeries}}{{#tags}}{{key}}={{value}},{{/tags}}{{/failingAlertSeries}}": "az=a,env=prod,",
    "{{#newlyFailingAlertSeries}}{{host}}{{/newlyFailingAlertSeries}}": "web-1",
    "{{#recoveredAlertSeries}}{{host}}{{/recoveredAlertSeries}}": "web-2",
    "{{#inMaintenanceAlertSeries}}{{host}}:{{observed}}{{/inMaintenanceAlertSeries}}": "web-3:",
    "{{#failingSeries}}{{host}}/{{label}}{{/failingSeries}}": "web-1/cpu",
    "{{#newlyFailingSeries}}{{host}}{{/newlyFailingSeries}}": "web-1",
    "{{#recoveredSeries}}{{host}}{{/recoveredSeries}}": "web-2",
    "{{#inMaintenanceSeries}}{{host}}{{/inMaintenanceSeries}}": "web-3",
    "{{#failingHosts}}{{.}}{{/failingHosts}}": "web-1",
    "{{#newlyFailingHosts}}{{.}}{{/newlyFailingHosts}}": "web-1",
    "{{#recoveredHosts}}{{.}}{{/recoveredHosts}}": "web-2",
    "{{#inMaintenanceHosts}}{{.}}{{/inMaintenanceHosts}}": "web-3",
    '{{#jsonEscape}}{{{name}}} "q"{{/jsonEscape}}': 'cpu <high> \\"q\\"',
    "{{#xmlEscape}}{{{name}}}{{/xmlEscape}}": "cpu &lt;high&gt;",
    "{{#trimTrailingComma}}{{#failingHosts}}{{.}},{{/failingHosts}}{{/trimTrailingComma}}": "web-1",
}


@pytest.mark.parametrize(("template", "expected"), list(EXPECTED.items()))
def test_can_render_every_documented_variable(template, expected):
    assert templates.render(template, variables(a_job(), "http://opsplane.test/")) == expected


def test_can_list_every_variable_in_the_docs():
    from pathlib import Path

    page = Path(__file__).resolve().parents[2].joinpath("docs", "notifications.md").read_text()
    names = [k for k, v in variables(a_job(), "http://x").items()]
    missing = [n for n in names if f"`{n}`" not in page]
    assert missing == []


def test_can_name_the_problem_of_invalid_and_no_data_notifications():
    data = variables(a_job(trigger="ALERT_INVALID", reason="query failed: no such function"), "http://x")
    assert data["errorMessage"] == "query failed: no such function" and data["reasonMessage"] == data["errorMessage"]


def test_can_read_targets_per_severity_and_once_each():
    job = a_job()
    assert named_targets(job) == ["target:x", "oncall@example.com", "pd:0123"]
    threshold = a_job(alert={"targets": {"WARN": "target:w", "SEVERE": "target:s,target:s"}}, severity="SEVERE")
    assert named_targets(threshold) == ["target:s"]
    assert named_targets(a_job(alert=threshold.alert, severity="")) == ["target:w", "target:s"]


def test_can_carry_a_delivery_through_its_message():
    delivery = Delivery(target="target:x", attempt=3, job=a_job())
    again = Delivery.parse(delivery.body())
    assert again == delivery and again.log_key() == "x"
    assert Delivery(target="email:a@b.c", job=a_job()).log_key() == "email:a@b.c"


# ---- signatures ---------------------------------------------------------------------------


def test_can_sign_timestamp_and_body_and_verify_it():
    body = b'{"a": 1}'
    header = signature("s3cret", 1_700_000_000, body)
    # the documented construction: HMAC-SHA256 over "<t>.<body>"
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify("s3cret", header, body, now=1_700_000_100)
    assert not verify("s3cret", header, body + b" ", now=1_700_000_100)  # body changed
    assert not verify("other", header, body, now=1_700_000_100)  # wrong secret
    assert not verify("s3cret", header, body, now=1_700_000_000 + 301)  # too old: replay
    assert not verify("s3cret", "t=x,v1=00", body, now=0)


# ---- backoff -----------------------------------------------------------------------------------


def test_can_back_off_exponentially_with_jitter_capped_by_sqs():
    lowest = [backoff_seconds(n, base=10, rand=lambda: 0.0) for n in range(1, 7)]
    highest = [backoff_seconds(n, base=10, rand=lambda: 1.0) for n in range(1, 7)]
    assert highest == [10, 40, 160, 640, 900, 900]
    assert lowest == [5, 20, 80, 320, 450, 450]
    assert all(lo <= backoff_seconds(n, base=10) <= hi for n, lo, hi in zip(range(1, 7), lowest, highest, strict=True))
    assert backoff_seconds(3, base=0) == 0  # tests and fast local runs


def test_can_honour_retry_after_in_seconds_or_as_a_date():
    assert retry_after_seconds("120", now=0) == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert retry_after_seconds("soon", now=0) is None and retry_after_seconds(None, now=0) is None
    # never sooner than asked, never past SQS's longest delay
    assert backoff_seconds(1, base=10, retry_after=120, rand=lambda: 1.0) == 120
    assert backoff_seconds(4, base=10, retry_after=5, rand=lambda: 1.0) == 640
    assert backoff_seconds(1, base=10, retry_after=10_000) == 900


# ---- SSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the EC2 / ECS metadata service
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "private"),  # EC2's IPv6 metadata service
        ("100.64.0.1", "non-global"),  # carrier-grade NAT
        ("0.0.0.0", "private"),
        ("224.0.0.1", "multicast"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_can_refuse_private_loopback_link_local_and_metadata_addresses(address, reason):
    assert forbidden(ipaddress.ip_address(address), allow_loopback=False) == reason


def test_can_allow_loopback_only_when_told():
    assert forbidden(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert forbidden(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) == "private"


# ---- PagerDuty -------------------------------------------------------------------------------------


def test_can_shape_pagerduty_events_v2():
    job = a_job()
    data = variables(job, "http://x")
    event = pagerduty_event("k" * 32, Delivery(target="pd:k", job=job), data, json.dumps({"why": "cpu"}))
    assert event["event_action"] == "trigger" and event["dedup_key"] == "a1"
    assert event["payload"]["severity"] == "critical" and event["payload"]["custom_details"] == {"why": "cpu"}
    assert event["payload"]["timestamp"] == "2023-11-14T22:16:20Z"
    resolved = a_job(trigger="ALERT_RESOLVED")
    assert pagerduty_event("k", Delivery(target="pd:k", job=resolved), data, "x") == {
        "routing_key": "k",
        "event_action": "resolve",
        "dedup_key": "a1",
    }


def test_can_say_whether_an_attempt_is_retried():
    first, last = Delivery(target="t", job=a_job()), Delivery(target="t", attempt=6, job=a_job())
    assert Outcome(False, retryable=True).retried(first) and not Outcome(False, retryable=True).retried(last)
    assert not Outcome(False).retried(first) and not Outcome(True).retried(first)
