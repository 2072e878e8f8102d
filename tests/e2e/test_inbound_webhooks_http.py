"""Inbound webhooks against the live server: a hook made over the API, a GitHub-style
delivery signed as GitHub signs it and posted with `requests` (no credentials), retried,
and the one event it made read back through the unmodified wavefront-api-client's EventApi;
then the generic signed header, and refusals."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest
import requests
import wavefront_api_client as wf

from tests.e2e.clients import wavefront

pytestmark = pytest.mark.e2e

# A trimmed real `deployment_status` payload, as GitHub sends it.
DEPLOYMENT_STATUS = {
    "action": "created",
    "deployment_status": {
        "id": 1,
        "state": "success",
        "description": "Deployment finished successfully.",
        "environment": "production",
        "target_url": "https://example.com/deployment/42/output",
        "created_at": "2024-05-01T12:00:00Z",
        "updated_at": "2024-05-01T12:00:00Z",
    },
    "deployment": {
        "id": 42,
        "sha": "a10867b14bb761a232cd80139fbd4c0d33264240",
        "ref": "main",
        "task": "deploy",
        "environment": "production",
        "created_at": "2024-05-01T11:58:00Z",
    },
    "repository": {"id": 1296269, "name": "Hello-World", "full_name": "octocat/Hello-World"},
    "sender": {"login": "octocat", "id": 1},
}


def hooks(server, person, method: str, path: str = "", **kw) -> dict:
    answer = requests.request(
        method,
        f"{server.url}/api/v2/inboundwebhook{path}",
        headers={"Authorization": f"Bearer {person.token}"},
        timeout=30,
        **kw,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["response"]


def test_can_turn_a_signed_github_delivery_into_one_event(server, fresh):
    # GIVEN a GitHub hook whose secret the server generated
    hook = hooks(server, fresh, "POST", json={"name": "octocat deploys", "kind": "github"})
    secret = hook["secret"]
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc123",
        "X-GitHub-Event": "deployment_status",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    url = f"{server.url}{hook['deliveryPath']}"
    # WHEN GitHub delivers it, and redelivers it twice
    answers = [requests.post(url, data=body, headers=headers, timeout=30) for _ in range(3)]
    # THEN each answer is 200 with the same event
    assert [a.status_code for a in answers] == [200, 200, 200], answers[0].text
    event_ids = {a.json()["response"]["eventId"] for a in answers}
    assert len(event_ids) == 1
    # AND the real client reads that one event
    events = wf.EventApi(wavefront(server.url, fresh.token))
    found = events.get_all_events_with_time_range(
        earliest_start_time_epoch_millis=1_714_564_000_000, latest_start_time_epoch_millis=1_714_566_000_000
    ).response.items
    assert [e.id for e in found] == list(event_ids)
    assert found[0].name == "Deployment of octocat/Hello-World to production: success"
    assert found[0].annotations["type"] == "deployment_status"
    # AND the hook lists the delivery once
    listed = hooks(server, fresh, "GET", f"/{hook['id']}/deliveries")
    assert [(d["id"], d["status"]) for d in listed] == [(headers["X-GitHub-Delivery"], "created")]
    # AND a wrong signature is refused, writing nothing
    forged = {**headers, "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert requests.post(url, data=body, headers=forged, timeout=30).status_code == 401
    assert len(hooks(server, fresh, "GET", f"/{hook['id']}/deliveries")) == 1


def test_can_verify_the_generic_signed_header(server, fresh):
    secret = "ci-secret-0123456789"
    mapping = {"name": "{{{service}}} {{{version}}} deployed", "annotations": {"type": "deploy"}}
    hook = hooks(server, fresh, "POST", json={"name": "ci", "kind": "generic", "secret": secret, "mapping": mapping})
    body = json.dumps({"service": "web", "version": "1.4.2"}).encode()
    url = f"{server.url}{hook['deliveryPath']}"

    def signed(at: int) -> dict[str, str]:
        v1 = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Opsplane-Signature": f"t={at},v1={v1}", "Idempotency-Key": "b-1"}

    stale = requests.post(url, data=body, headers=signed(int(time.time()) - 600), timeout=30)
    assert stale.status_code == 401
    fresh_answer = requests.post(url, data=body, headers=signed(int(time.time())), timeout=30)
    assert fresh_answer.status_code == 200, fresh_answer.text
    event = wf.EventApi(wavefront(server.url, fresh.token)).get_event(fresh_answer.json()["response"]["eventId"])
    assert event.response.name == "web 1.4.2 deployed"
