"""Notification delivery (docs/notifications.md): notify jobs become deliveries per target,
delivered to a real HTTP receiver on loopback, signed, retried, dead-lettered, logged; e-mail
on moto's SES; PagerDuty's Events API v2 shape; the SSRF guard."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.domain import messages
from chalicelib.domain.notifications import DELIVER_QUEUE, NOTIFY_QUEUE, NotifyJob, verify
from chalicelib.settings import reset_settings
from chalicelib.store import queues
from chalicelib.workers.local import drain

TARGETS = "/api/v2/notificant"
PAGER_KEY = "0123456789abcdef0123456789abcdef"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server: each path answers its script of statuses (the last one repeats)."""

    url: str
    scripts: dict[str, list[int]] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.got if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            box.got.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            script = box.scripts.get(self.path, [200])
            status = script.pop(0) if len(script) > 1 else script[0]
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(b'{"ok": %s}' % (b"true" if status < 300 else b"false"))

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def local_delivery(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Iterator[None]:
    """What make run sets: loopback allowed, no backoff wait; PagerDuty is the receiver."""
    monkeypatch.setenv("OPSPLANE_WEBHOOK_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("OPSPLANE_DELIVERY_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("OPSPLANE_PAGERDUTY_URL", f"{receiver.url}/pagerduty")
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def sender(api) -> str:
    from chalicelib.settings import get_settings
    from chalicelib.store import mail

    mail.verify_sender(get_settings().email_sender)
    return get_settings().email_sender


def new_target(api, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "hook",
        "description": "d",
        "method": "WEBHOOK",
        "recipient": "https://example.com/hook",
        "template": '{"alert": "{{{name}}}", "id": "{{notificationId}}", "why": "{{reason}}"}',
        "triggers": ["ALERT_OPENED", "ALERT_RESOLVED"],
        "contentType": "application/json",
        "customHttpHeaders": {"X-Team": "compute"},
        **fields,
    }
    status, answer = api.json("POST", TARGETS, body)
    assert status == 200, answer
    return answer["response"]


def secret_of(api, target_id: str) -> str:
    status, answer = api.json("POST", f"{TARGETS}/{target_id}/secret", {})
    assert status == 200, answer
    return answer["response"]["secret"] if "response" in answer else answer["secret"]


def job(api, target: str, trigger: str = "ALERT_OPENED", notification: str = "n-1", **fields: Any) -> NotifyJob:
    alert = {"id": "a1", "name": "cpu high", "condition": "ts(cpu) > 1", "severity": "WARN", "target": target}
    values: dict[str, Any] = {
        "tenant": api.root,
        "notificationId": notification,
        "trigger": trigger,
        "alertId": "a1",
        "alert": alert,
        "severity": "WARN",
        "reason": "",
        "startedTime": 1_700_000_000_000,
        "endedTime": None,
        "evaluatedAt": 1_700_000_060_000,
        "failingAlertSeries": [{"host": "web-1", "tags": {"env": "prod"}, "label": "cpu", "observed": 3.5}],
        **fields,
    }
    return NotifyJob(**values)


def notify(*jobs: NotifyJob) -> None:
    queues.send(NOTIFY_QUEUE, [j.body() for j in jobs])
    drain(NOTIFY_QUEUE)
    drain(DELIVER_QUEUE)


def log_of(api, target_id: str, **kw: Any) -> list[dict[str, Any]]:
    status, answer = api.json("GET", f"{TARGETS}/{target_id}/deliveries", **kw)
    assert status == 200, answer
    return answer["response"] if isinstance(answer, dict) and "response" in answer else answer


def dead_letters() -> int:
    return queues.depth(f"{DELIVER_QUEUE}-dlq")


def admin_messages(api) -> list[Any]:
    return messages.shown(api.root, api.admin, now=int(time.time() * 1000), unread_only=False)


# ---- webhooks -------------------------------------------------------------------------------


def test_can_deliver_a_signed_webhook_after_two_failures(api, receiver):
    # GIVEN a webhook whose receiver answers 503 twice, then 200
    receiver.scripts["/flaky"] = [503, 503, 200]
    target = new_target(api, recipient=f"{receiver.url}/flaky")
    secret = secret_of(api, target["id"])
    # WHEN an alert naming it opens
    notify(job(api, f"target:{target['id']}"))
    # THEN the third attempt delivered it, the same notification each time
    got = receiver.on("/flaky")
    assert len(got) == 3
    assert {r.headers["x-opsplane-notification-id"] for r in got} == {"n-1"}
    assert [r.headers["x-opsplane-delivery-attempt"] for r in got] == ["1", "2", "3"]
    # AND it is signed with the target's secret, with its content type and headers
    last = got[-1]
    assert verify(secret, last.headers["x-opsplane-signature"], last.body, now=int(time.time()))
    assert not verify("another-secret-value", last.headers["x-opsplane-signature"], last.body, now=int(time.time()))
    assert last.headers["content-type"] == "application/json" and last.headers["x-team"] == "compute"
    assert json.loads(last.body) == {"alert": "cpu high", "id": "n-1", "why": "ALERT_OPENED"}
    # AND the log holds every attempt, newest first
    log = log_of(api, target["id"])
    assert [(e["attempt"], e["result"], e["status"]) for e in log] == [
        (3, "delivered", 200),
        (2, "retrying", 503),
        (1, "retrying", 503),
    ]
    assert log[0]["response"] == '{"ok": true}' and log[0]["latencyMs"] >= 0 and log[0]["method"] == "WEBHOOK"
    assert dead_letters() == 0


def test_can_dead_letter_a_delivery_that_always_fails_and_tell_the_administrators(api, receiver):
    # GIVEN a receiver that always answers 500
    receiver.scripts["/down"] = [500]
    target = new_target(api, recipient=f"{receiver.url}/down", title="down hook")
    # WHEN an alert naming it opens
    notify(job(api, f"target:{target['id']}"))
    # THEN six attempts were made, the last one failed
    assert len(receiver.on("/down")) == 6
    log = log_of(api, target["id"])
    assert [e["result"] for e in log] == ["failed"] + ["retrying"] * 5
    # AND the delivery is in the dead-letter queue, and the administrators were told
    assert dead_letters() == 1
    told = [m for m in admin_messages(api) if "down hook" in m.doc["title"]]
    assert len(told) == 1 and told[0].doc["severity"] == "SEVERE"


def test_can_retry_429_but_never_other_4xx(api, receiver):
    # GIVEN a receiver that refuses with 400, and another that throttles once
    receiver.scripts["/bad"] = [400]
    receiver.scripts["/busy"] = [429, 200]
    bad = new_target(api, recipient=f"{receiver.url}/bad", title="bad")
    busy = new_target(api, recipient=f"{receiver.url}/busy", title="busy")
    # WHEN an alert naming both opens
    notify(job(api, f"target:{bad['id']},target:{busy['id']}"))
    # THEN the 400 was tried once and dead-lettered, the 429 retried and delivered
    assert len(receiver.on("/bad")) == 1 and len(receiver.on("/busy")) == 2
    assert [(e["result"], e["status"]) for e in log_of(api, bad["id"])] == [("failed", 400)]
    assert [e["result"] for e in log_of(api, busy["id"])] == ["delivered", "retrying"]
    assert dead_letters() == 1


def test_can_refuse_loopback_and_private_addresses_when_not_allowed(api, receiver, monkeypatch):
    # GIVEN the production setting: loopback not allowed
    monkeypatch.setenv("OPSPLANE_WEBHOOK_ALLOW_LOOPBACK", "false")
    reset_settings()
    target = new_target(api, recipient=f"{receiver.url}/ssrf")
    private = new_target(api, recipient="http://169.254.169.254/latest/meta-data/", title="metadata")
    # WHEN an alert naming them opens
    notify(job(api, f"target:{target['id']},target:{private['id']}"))
    # THEN nothing was sent, each refused once (not retried) and logged
    assert receiver.got == []
    (entry,) = log_of(api, target["id"])
    assert entry["result"] == "failed" and "loopback" in entry["error"] and entry["status"] is None
    (entry,) = log_of(api, private["id"])
    assert entry["result"] == "failed" and "link-local" in entry["error"]
    assert dead_letters() == 2


def test_can_notify_only_targets_whose_triggers_include_the_trigger(api, receiver):
    # GIVEN a target told about resolutions only
    target = new_target(api, recipient=f"{receiver.url}/resolved", triggers=["ALERT_RESOLVED"])
    # WHEN the alert opens, then resolves
    notify(job(api, f"target:{target['id']}", notification="open"))
    assert receiver.got == []
    notify(job(api, f"target:{target['id']}", "ALERT_RESOLVED", notification="resolve", endedTime=1_700_000_120_000))
    # THEN only the resolution arrived
    (got,) = receiver.on("/resolved")
    assert json.loads(got.body)["why"] == "ALERT_RESOLVED"


def test_can_deliver_a_duplicated_job_once_with_its_notification_id(api, receiver):
    # GIVEN a webhook
    target = new_target(api, recipient=f"{receiver.url}/dup")
    # WHEN the same job arrives twice
    notify(
        job(api, f"target:{target['id']}", notification="same"), job(api, f"target:{target['id']}", notification="same")
    )
    notify(job(api, f"target:{target['id']}", notification="same"))
    # THEN the receiver got it once (at least once: the id lets it de-duplicate the rare repeat)
    got = receiver.on("/dup")
    assert len(got) == 1 and got[0].headers["x-opsplane-notification-id"] == "same"


def test_can_use_threshold_targets_of_the_severity(api, receiver):
    # GIVEN a THRESHOLD alert with a target per severity
    warn = new_target(api, recipient=f"{receiver.url}/warn", title="warn")
    severe = new_target(api, recipient=f"{receiver.url}/severe", title="severe")
    targets = {"WARN": f"target:{warn['id']}", "SEVERE": f"target:{severe['id']}"}
    the_job = job(api, "", severity="SEVERE")
    the_job.alert.update({"alertType": "THRESHOLD", "targets": targets})
    the_job.alert.pop("target")
    # WHEN it opens at SEVERE
    notify(the_job)
    # THEN only the SEVERE target is told
    assert len(receiver.on("/severe")) == 1 and receiver.on("/warn") == []


# ---- e-mail and PagerDuty -----------------------------------------------------------------


def sent_mail() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_can_send_email_through_ses(api, sender):
    # GIVEN an EMAIL target, and an address the alert names directly
    target = new_target(
        api,
        method="EMAIL",
        recipient="oncall@example.com",
        template="{{name}} is {{reason}} on {{#failingAlertSeries}}{{host}}{{/failingAlertSeries}}",
        emailSubject="[{{severity}}] {{name}}",
        isHtmlContent=False,
        contentType=None,
        customHttpHeaders=None,
    )
    # WHEN the alert opens
    notify(job(api, f"target:{target['id']},direct@example.com"))
    # THEN SES sent both, from the configured sender
    mails = {m.destinations["ToAddresses"][0]: m for m in sent_mail()}
    assert set(mails) == {"oncall@example.com", "direct@example.com"}
    assert mails["oncall@example.com"].subject == "[WARN] cpu high"
    assert mails["oncall@example.com"].body == "cpu high is ALERT_OPENED on web-1"
    assert mails["oncall@example.com"].source == sender
    assert "cpu high" in mails["direct@example.com"].body
    (entry,) = log_of(api, target["id"])
    assert entry["result"] == "delivered" and entry["method"] == "EMAIL" and entry["response"].startswith("SES")


def test_can_refuse_email_ses_will_not_send(api):
    # GIVEN no verified sender (SES refuses the message)
    target = new_target(api, method="EMAIL", recipient="oncall@example.com", contentType=None, customHttpHeaders=None)
    notify(job(api, f"target:{target['id']}"))
    # THEN the attempt failed for good: logged, dead-lettered
    (entry,) = log_of(api, target["id"])
    assert entry["result"] == "failed" and "MessageRejected" in entry["error"]
    assert dead_letters() == 1


def test_can_trigger_and_resolve_in_pagerduty_events_v2(api, receiver):
    # GIVEN a PAGERDUTY target
    target = new_target(
        api, method="PAGERDUTY", recipient=PAGER_KEY, template="", contentType=None, customHttpHeaders=None
    )
    # WHEN the alert opens, then resolves
    notify(job(api, f"target:{target['id']}", notification="p-open"))
    notify(job(api, f"target:{target['id']}", "ALERT_RESOLVED", notification="p-resolve"))
    # THEN PagerDuty got a trigger and a resolve, deduplicated by the alert id
    opened, resolved = (json.loads(r.body) for r in receiver.on("/pagerduty"))
    assert opened["routing_key"] == PAGER_KEY and opened["event_action"] == "trigger" and opened["dedup_key"] == "a1"
    assert opened["payload"]["severity"] == "warning" and opened["payload"]["source"] == "opsplane"
    assert opened["payload"]["summary"] == "[WARN] OPENED: cpu high"
    assert opened["payload"]["custom_details"]["notificationId"] == "p-open"
    assert resolved == {"routing_key": PAGER_KEY, "event_action": "resolve", "dedup_key": "a1"}


# ---- the test route and the log -----------------------------------------------------------


def test_can_send_a_real_test_notification(api, receiver):
    # GIVEN a webhook that is not told about tests by its triggers
    target = new_target(api, recipient=f"{receiver.url}/test", triggers=["ALERT_OPENED"])
    secret = secret_of(api, target["id"])
    # WHEN it is tested
    status, answer = api.json("POST", f"{TARGETS}/test/{target['id']}")
    assert status == 200, answer
    tested = answer["response"]
    drain(DELIVER_QUEUE)
    # THEN the receiver got the ALERT_TESTING notification the answer shows, signed
    (got,) = receiver.on("/test")
    assert got.body.decode() == tested["template"]
    assert json.loads(got.body)["why"] == "ALERT_TESTING"
    assert got.headers["x-opsplane-notification-id"] == tested["notificationId"]
    assert verify(secret, got.headers["x-opsplane-signature"], got.body, now=int(time.time()))


def test_can_read_the_log_of_own_targets_only(api, receiver, make_tenant, make_user):
    # GIVEN a delivered notification
    target = new_target(api, recipient=f"{receiver.url}/log")
    notify(job(api, f"target:{target['id']}"))
    assert len(log_of(api, target["id"], token=None)) == 1
    assert len(log_of(api, target["id"] + "", token=None)) == 1
    # THEN another tenant's administrator gets 404 for it, and a bad limit is a 400
    other = make_user(["#"], tenant=make_tenant("other"))
    status, _ = api.json("GET", f"{TARGETS}/{target['id']}/deliveries", token=other.token)
    assert status == 404
    status, _ = api.json("GET", f"{TARGETS}/{target['id']}/deliveries?limit=1000")
    assert status == 400
    # AND a secret is write-only: never in the target's answers
    secret_of(api, target["id"])
    got = api.json("GET", f"{TARGETS}/{target['id']}")[1]["response"]
    assert "secret" not in got and "_secret" not in got
