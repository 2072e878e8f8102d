"""Inbound webhooks: what the shared contract suite does not cover. The write-only secret
(generated and answered once, kept across updates, rotated), mapping templates checked on
save, deliveries verified by HMAC (GitHub's X-Hub-Signature-256, the generic signed header
with its 5-minute replay window), exactly one event per delivery id however often and
however concurrently it is retried, the GitHub defaults, the event filter, the delivery
listing, and nothing written on any refusal."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import boto3
import pytest

from chalicelib.categories import inboundwebhook
from tests.functional.test_alert_concurrency import race

HOOKS = "/api/v2/inboundwebhook"
EVENT = "/api/v2/event"
SECRET = "s3cret-s3cret-s3cret"
GITHUB: dict[str, Any] = {"name": "github deploys", "kind": "github", "secret": SECRET}
GENERIC: dict[str, Any] = {
    "name": "ci",
    "kind": "generic",
    "secret": SECRET,
    "mapping": {
        "name": "{{{pipeline}}} deployed {{{version}}}",
        "annotations": {"details": "by {{{who}}}", "type": "deploy"},
        "tags": ["ci", "{{{service}}}"],
        "hosts": ["{{{host}}}"],
        "startTime": "{{{at}}}",
    },
}
DEPLOYMENT_STATUS: dict[str, Any] = {
    "action": "created",
    "deployment_status": {
        "state": "success",
        "description": "Deployed & live",
        "target_url": "https://ci.example.com/1",
        "created_at": "2024-05-01T12:00:00Z",
    },
    "deployment": {"environment": "production", "ref": "main", "sha": "abc123"},
    "repository": {"full_name": "acme/web"},
    "sender": {"login": "octocat"},
}


def new_hook(api: Any, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    status, answer = api.json("POST", HOOKS, body, token=token)
    assert status == 200, answer
    return answer["response"]


def github_headers(body: bytes, *, event: str = "deployment_status", delivery: str | None = None) -> dict[str, str]:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": signature,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "Content-Type": "application/json",
    }


def generic_headers(body: bytes, *, at: int | None = None, key: str | None = None, secret: str = SECRET) -> dict:
    stamp = str(int(time.time()) if at is None else at)
    v1 = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "X-Opsplane-Signature": f"t={stamp},v1={v1}",
        "Idempotency-Key": key or str(uuid.uuid4()),
        "Content-Type": "application/json",
    }


def post(api: Any, hook: dict[str, Any], body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    return api.json("POST", hook["deliveryPath"], raw=body, headers=headers, token="")


def events_of(api: Any) -> list[dict[str, Any]]:
    status, answer = api.json("GET", EVENT)
    assert status == 200, answer
    return answer["response"]["items"]


def tables() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (moto): what 'nothing written' compares."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    return {
        name: sorted(json.dumps(i, sort_keys=True) for i in client.scan(TableName=name)["Items"])
        for name in client.list_tables()["TableNames"]
    }


def refused_writing_nothing(api: Any, hook: dict[str, Any], body: bytes, headers: dict[str, str], code: int) -> str:
    before = tables()
    status, answer = post(api, hook, body, headers)
    assert status == code, answer
    assert tables() == before
    return str(answer["status"]["message"])


# ---- the hook and its secret -------------------------------------------------------------


def test_can_generate_a_secret_answer_it_once_and_never_again(api):
    # GIVEN a hook created without a secret
    hook = new_hook(api, {"name": "gh", "kind": "github"})
    # THEN the creating answer holds a generated secret, and the delivery path
    assert len(hook["secret"]) >= 32 and hook["deliveryPath"] == f"/hooks/{api.root}/{hook['id']}"
    # AND no other answer ever does
    assert "secret" not in api.json("GET", f"{HOOKS}/{hook['id']}")[1]["response"]
    assert all("secret" not in h for h in api.json("GET", HOOKS)[1]["response"]["items"])
    updated = api.json("PUT", f"{HOOKS}/{hook['id']}", {"name": "gh 2", "kind": "github"})[1]["response"]
    assert "secret" not in updated and updated["name"] == "gh 2"
    # AND the kept secret still verifies deliveries after the update
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    headers = github_headers(body)
    headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert post(api, hook, body, headers)[0] == 200


def test_can_rotate_the_secret_by_update(api):
    hook = new_hook(api, GITHUB)
    assert "secret" not in hook  # given, not generated: not echoed
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    # WHEN the secret is rotated
    status, answer = api.json("PUT", f"{HOOKS}/{hook['id']}", {**GITHUB, "secret": None, "rotateSecret": True})
    assert status == 200, answer
    new = answer["response"]["secret"]
    assert new != SECRET
    # THEN the old secret no longer verifies, the new one does
    assert post(api, hook, body, github_headers(body))[0] == 401
    headers = github_headers(body)
    headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(new.encode(), body, hashlib.sha256).hexdigest()
    assert post(api, hook, body, headers)[0] == 200


@pytest.mark.parametrize(
    "mapping, field",
    [
        ({"name": "{{#open}}never closed"}, "name"),
        ({"annotations": {"details": "{{/nope}}"}}, "annotations.details"),
        ({"tags": ["ok", "{{bad"]}, "tags[1]"),
        ({"startTime": "{{#a}}"}, "startTime"),
    ],
)
def test_can_refuse_a_bad_mapping_template_on_create_with_400(api, mapping, field):
    before = api.json("GET", HOOKS)[1]["response"]["totalItems"]
    status, answer = api.json("POST", HOOKS, {**GITHUB, "mapping": mapping})
    assert status == 400, answer
    assert field in answer["status"]["message"] and "Mustache" in answer["status"]["message"]
    assert api.json("GET", HOOKS)[1]["response"]["totalItems"] == before


def test_can_require_a_name_template_for_a_generic_hook(api):
    status, answer = api.json("POST", HOOKS, {"name": "ci", "kind": "generic"})
    assert status == 400 and "mapping.name" in answer["status"]["message"]


def test_can_refuse_a_short_secret(api):
    status, answer = api.json("POST", HOOKS, {**GITHUB, "secret": "short"})
    assert status == 400 and "secret" in answer["status"]["message"]


def test_can_manage_hooks_only_with_the_events_permission(api, make_user):
    events_admin = make_user(["event.#", "inboundwebhook.#"])
    alerts_admin = make_user(["alert.#"])
    hook = new_hook(api, GITHUB, token=events_admin.token)
    assert api.json("GET", f"{HOOKS}/{hook['id']}", token=alerts_admin.token)[0] == 403
    from chalicelib.auth.permissions import patterns_of

    assert "inboundwebhook.#" in patterns_of(["events_management"])


# ---- GitHub deliveries --------------------------------------------------------------------


def test_can_turn_a_signed_github_delivery_into_one_event(api):
    hook = new_hook(api, GITHUB)
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    status, answer = post(api, hook, body, github_headers(body, delivery="d-1"))
    assert status == 200, answer
    found = answer["response"]
    assert found["status"] == "created" and found["deliveryId"] == "d-1"
    # THEN the event, made with the deployment_status defaults, is in /api/v2/event
    event = api.json("GET", f"{EVENT}/{found['eventId']}")[1]["response"]
    assert event["name"] == "Deployment of acme/web to production: success"
    assert event["annotations"]["details"] == "Deployed & live https://ci.example.com/1"  # raw, not HTML-escaped
    assert event["annotations"]["type"] == "deployment_status"
    assert event["startTime"] == 1_714_564_800_000 and event["endTime"] == event["startTime"] + 1
    assert event["tags"] == ["github", "github.deployment_status"]
    assert event["creatorId"] == f"inboundwebhook-{hook['id']}"
    # AND the delivery is listed
    listed = api.json("GET", f"{HOOKS}/{hook['id']}/deliveries")[1]["response"]
    assert [(d["id"], d["status"], d["eventId"], d["event"]) for d in listed] == [
        ("d-1", "created", found["eventId"], "deployment_status")
    ]


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.update({"X-Hub-Signature-256": "sha256=" + "0" * 64}),
        lambda h: h.pop("X-Hub-Signature-256"),
        lambda h: h.update({"X-Hub-Signature-256": h["X-Hub-Signature-256"].replace("sha256=", "sha1=")}),
        lambda h: h.update({"X-Hub-Signature-256": "sha256=é"}),
    ],
)
def test_can_refuse_a_bad_github_signature_with_401_writing_nothing(api, change):
    hook = new_hook(api, GITHUB)
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    headers = github_headers(body)
    change(headers)
    message = refused_writing_nothing(api, hook, body, headers, 401)
    assert message == inboundwebhook.NOT_VERIFIED


def test_can_refuse_a_body_changed_after_signing(api):
    hook = new_hook(api, GITHUB)
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    headers = github_headers(body)
    refused_writing_nothing(api, hook, body.replace(b"production", b"staging"), headers, 401)


def test_can_answer_404_for_an_unknown_hook_or_another_tenants_writing_nothing(api, make_tenant):
    hook = new_hook(api, GITHUB)
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    other = make_tenant("other")
    for path in (f"/hooks/{api.root}/nope", f"/hooks/{other}/{hook['id']}", f"/hooks/no-such-tenant/{hook['id']}"):
        message = refused_writing_nothing(api, {"deliveryPath": path}, body, github_headers(body), 404)
        assert message == inboundwebhook.NO_HOOK


def test_can_refuse_a_payload_that_is_not_json_with_400_writing_nothing(api):
    hook = new_hook(api, GITHUB)
    for body in (b"not json", b"[1, 2]", b""):
        message = refused_writing_nothing(api, hook, body, github_headers(body), 400)
        assert "JSON" in message


def test_can_require_the_delivery_id(api):
    hook = new_hook(api, GITHUB)
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    headers = github_headers(body)
    del headers["X-GitHub-Delivery"]
    assert "X-GitHub-Delivery" in refused_writing_nothing(api, hook, body, headers, 400)


def test_can_answer_a_retried_delivery_with_the_same_event_three_times(api):
    hook = new_hook(api, GITHUB)
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    headers = github_headers(body, delivery="same")
    answers = [post(api, hook, body, headers) for _ in range(3)]
    assert [s for s, _ in answers] == [200, 200, 200]
    assert len({a["response"]["eventId"] for _, a in answers}) == 1
    assert len(events_of(api)) == 1
    assert len(api.json("GET", f"{HOOKS}/{hook['id']}/deliveries")[1]["response"]) == 1


def test_can_refuse_a_delivery_id_reused_with_another_payload(api):
    hook = new_hook(api, GITHUB)
    first = json.dumps(DEPLOYMENT_STATUS).encode()
    assert post(api, hook, first, github_headers(first, delivery="d"))[0] == 200
    other = json.dumps({**DEPLOYMENT_STATUS, "action": "other"}).encode()
    refused_writing_nothing(api, hook, other, github_headers(other, delivery="d"), 409)


def test_can_make_one_event_from_concurrent_retries(api):
    # GIVEN one delivery retried from 6 threads at once (the domain call, as chalice's test
    # client cannot serve threads)
    hook = new_hook(api, GITHUB)
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    headers = {k.lower(): v for k, v in github_headers(body, delivery="race").items()}
    calls = [lambda: inboundwebhook.deliver(api.root, hook["id"], headers, body) for _ in range(6)]
    results = race(calls)
    # THEN every one answers the same event, and there is one event
    assert all(isinstance(r, dict) for r in results), results
    assert len({r["eventId"] for r in results}) == 1
    assert len(events_of(api)) == 1


def test_can_keep_one_event_when_the_idempotency_record_is_gone(api):
    # GIVEN a delivery whose Powertools record expired (deleted here)
    hook = new_hook(api, GITHUB)
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    headers = github_headers(body, delivery="late")
    first = post(api, hook, body, headers)[1]["response"]
    client = boto3.client("dynamodb", region_name="us-east-1")
    usage = next(t for t in client.list_tables()["TableNames"] if t.endswith("usage"))
    client.delete_item(
        TableName=usage,
        Key={
            "pk": {"S": f"{api.root}#idempotency"},
            "sk": next(
                i["sk"] for i in client.scan(TableName=usage)["Items"] if i["pk"]["S"] == f"{api.root}#idempotency"
            ),
        },
    )
    # WHEN it is retried THEN the delivery record answers: the same event, still one
    again = post(api, hook, body, headers)[1]["response"]
    assert again["eventId"] == first["eventId"] and len(events_of(api)) == 1


def test_can_ignore_events_the_filter_leaves_out_and_githubs_ping(api):
    hook = new_hook(api, {**GITHUB, "events": ["release"]})
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    status, answer = post(api, hook, body, github_headers(body, delivery="skip"))
    assert status == 200 and answer["response"] == {"deliveryId": "skip", "status": "ignored"}
    ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    assert post(api, hook, ping, github_headers(ping, event="ping"))[1]["response"]["status"] == "ignored"
    assert events_of(api) == []
    statuses = [d["status"] for d in api.json("GET", f"{HOOKS}/{hook['id']}/deliveries")[1]["response"]]
    assert statuses == ["ignored", "ignored"]


@pytest.mark.parametrize(
    "event, payload, name",
    [
        (
            "push",
            {
                "ref": "refs/heads/main",
                "after": "abc",
                "head_commit": {"message": "fix", "timestamp": "2024-05-01T12:00:00+02:00"},
                "pusher": {"name": "o"},
                "repository": {"full_name": "acme/web"},
            },  # noqa: E501
            "Push to acme/web refs/heads/main",
        ),
        (
            "release",
            {
                "action": "published",
                "release": {"tag_name": "v1.2", "name": "v1.2", "published_at": None},
                "repository": {"full_name": "acme/web"},
            },  # noqa: E501
            "Release v1.2 of acme/web published",
        ),
        (
            "workflow_run",
            {
                "action": "completed",
                "workflow_run": {"name": "CI", "conclusion": "failure", "run_started_at": "2024-05-01T12:00:00Z"},
                "repository": {"full_name": "acme/web"},
            },  # noqa: E501
            "Workflow CI completed on acme/web: failure",
        ),
        (
            "deployment",
            {
                "deployment": {"environment": "prod", "created_at": "2024-05-01T12:00:00Z"},
                "repository": {"full_name": "acme/web"},
            },  # noqa: E501
            "Deployment of acme/web to prod",
        ),
    ],
)
def test_can_map_each_default_github_event(api, event, payload, name):
    hook = new_hook(api, GITHUB)
    body = json.dumps(payload).encode()
    status, answer = post(api, hook, body, github_headers(body, event=event))
    assert status == 200, answer
    got = api.json("GET", f"{EVENT}/{answer['response']['eventId']}")[1]["response"]
    assert got["name"] == name and got["annotations"]["type"] == event


# ---- generic deliveries -------------------------------------------------------------------


def test_can_turn_a_generic_signed_delivery_into_an_event(api):
    hook = new_hook(api, GENERIC)
    payload = {
        "pipeline": "web",
        "version": "1.2",
        "who": "ci",
        "service": "web api",
        "host": "web-1",
        "at": 1_700_000_000,
    }
    body = json.dumps(payload).encode()
    status, answer = post(api, hook, body, generic_headers(body, key="build-42"))
    assert status == 200, answer
    event = api.json("GET", f"{EVENT}/{answer['response']['eventId']}")[1]["response"]
    assert event["name"] == "web deployed 1.2" and event["annotations"] == {"details": "by ci", "type": "deploy"}
    assert event["tags"] == ["ci", "web-api"] and event["hosts"] == ["web-1"]
    assert event["startTime"] == 1_700_000_000_000


@pytest.mark.parametrize("skew", [-302, 302, -3600])
def test_can_refuse_a_generic_timestamp_more_than_5_minutes_away(api, skew):
    hook = new_hook(api, GENERIC)
    body = json.dumps({"pipeline": "web"}).encode()
    message = refused_writing_nothing(api, hook, body, generic_headers(body, at=int(time.time()) + skew), 401)
    assert "seconds from now" in message


@pytest.mark.parametrize(
    "headers",
    [
        lambda b: generic_headers(b, secret="another-secret-entirely"),
        lambda b: {**generic_headers(b), "X-Opsplane-Signature": "v1=" + "0" * 64},
        lambda b: {k: v for k, v in generic_headers(b).items() if k != "X-Opsplane-Signature"},
        lambda b: {**generic_headers(b), "X-Opsplane-Signature": "t=abc,v1=def"},
    ],
)
def test_can_refuse_a_bad_generic_signature_writing_nothing(api, headers):
    hook = new_hook(api, GENERIC)
    body = json.dumps({"pipeline": "web"}).encode()
    assert refused_writing_nothing(api, hook, body, headers(body), 401) == inboundwebhook.NOT_VERIFIED


def test_can_refuse_a_payload_the_mapping_renders_blank(api):
    hook = new_hook(api, {**GENERIC, "mapping": {"name": "{{{pipeline}}}"}})
    body = json.dumps({"other": 1}).encode()
    message = refused_writing_nothing(api, hook, body, generic_headers(body), 400)
    assert "mapping.name" in message


def test_can_refuse_a_rendered_time_that_is_no_time(api):
    hook = new_hook(api, GENERIC)
    body = json.dumps({"pipeline": "web", "at": "yesterday"}).encode()
    assert "startTime" in refused_writing_nothing(api, hook, body, generic_headers(body), 400)


def test_can_answer_generic_retries_with_one_event(api):
    hook = new_hook(api, GENERIC)
    body = json.dumps({"pipeline": "web", "version": "2"}).encode()
    headers = generic_headers(body, key="k-1")
    ids = {post(api, hook, body, headers)[1]["response"]["eventId"] for _ in range(3)}
    assert len(ids) == 1 and len(events_of(api)) == 1


def test_can_stop_deliveries_to_a_deleted_hook(api):
    hook = new_hook(api, GITHUB)
    assert api.json("DELETE", f"{HOOKS}/{hook['id']}")[0] == 200
    body = json.dumps(DEPLOYMENT_STATUS).encode()
    refused_writing_nothing(api, hook, body, github_headers(body), 404)


def test_can_read_githubs_form_encoded_payload(api):
    # GIVEN GitHub's other content type: the JSON in the form field `payload`, signed as sent
    from urllib.parse import urlencode

    hook = new_hook(api, GITHUB)
    body = urlencode({"payload": json.dumps(DEPLOYMENT_STATUS)}).encode()
    headers = {**github_headers(body), "Content-Type": "application/x-www-form-urlencoded"}
    status, answer = post(api, hook, body, headers)
    assert status == 200, answer
    event = api.json("GET", f"{EVENT}/{answer['response']['eventId']}")[1]["response"]
    assert event["name"] == "Deployment of acme/web to production: success"
