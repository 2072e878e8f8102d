"""DynamoDB throttling that survives botocore's retries answers 503 with Retry-After in the
caller's dialect, and writes nothing.

The failure is injected at the botocore level: a `before-call` handler on the PynamoDB
connections' clients answers chosen calls with DynamoDB's error, before moto (or any
retry) sees them. Nothing of ours is patched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from tests.functional.test_alert import ALERT, BODY, new_alert

W = "/api/auth/0.1"
HANDLER_ID = "opsplane-test-outage"


class Outage:
    """Answers the DynamoDB calls that match with an error, on every PynamoDB connection."""

    def __init__(self) -> None:
        self.clients: list[Any] = []
        self.failed: list[str] = []
        self.rule: Callable[[str, dict[str, Any]], dict[str, Any] | None] = lambda op, body: None

    def attach(self) -> None:
        from chalicelib.store.models import MODELS, transaction_connection

        connections = [model._get_connection().connection for model in MODELS]  # type: ignore[attr-defined]
        for connection in [*connections, transaction_connection()]:
            client = connection.client
            client.meta.events.register_first("before-call.dynamodb", self._answer, unique_id=HANDLER_ID)
            self.clients.append(client)

    def detach(self) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call.dynamodb", unique_id=HANDLER_ID)

    def fail(self, operation: str, code: str, *, touching: str, **extra: Any) -> None:
        """Fail `operation` calls whose request mentions `touching` (a key fragment) with code."""

        def rule(op: str, body: dict[str, Any]) -> dict[str, Any] | None:
            if op != operation or touching not in json.dumps(body):
                return None
            return {"Error": {"Code": code, "Message": "injected"}, **extra}

        self.rule = rule

    def heal(self) -> None:
        self.rule = lambda op, body: None

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        body = json.loads(params.get("body") or b"{}")
        error = self.rule(model.name, body)
        if error is None:
            return None
        self.failed.append(model.name)
        status = 500 if error["Error"]["Code"] == "InternalServerError" else 400
        error["ResponseMetadata"] = {"HTTPStatusCode": status, "HTTPHeaders": {}}
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", status, {}, None), error


@pytest.fixture
def outage(api: Any) -> Iterator[Outage]:
    injected = Outage()
    injected.attach()
    yield injected
    injected.detach()


def _retry_after(resp: Any) -> int:
    return int(resp.headers["Retry-After"])


def test_can_answer_503_in_the_wavefront_envelope_when_a_read_is_throttled(api, outage):
    # GIVEN an alert, and DynamoDB throttling reads of alerts
    alert = new_alert(api)
    outage.fail("GetItem", "ProvisionedThroughputExceededException", touching="#alert")
    # WHEN the alert is read
    resp = api.call("GET", f"{ALERT}/{alert['id']}")
    # THEN 503 with Retry-After, in the Wavefront envelope
    assert resp.status_code == 503
    assert _retry_after(resp) >= 1
    body = json.loads(resp.body)
    assert body["status"] == {"result": "ERROR", "code": 503, "message": body["status"]["message"]}
    assert set(body) == {"status"}  # the envelope alone: no other dialect's fields
    assert outage.failed == ["GetItem"]
    # AND the same read passes once DynamoDB recovers
    outage.heal()
    assert api.json("GET", f"{ALERT}/{alert['id']}")[0] == 200


def test_can_answer_503_and_write_nothing_when_a_single_write_is_throttled(api, outage):
    # GIVEN DynamoDB throttling updates of the tenant's counters (an event's number is one
    # UpdateItem, taken before the event's transaction; an API token's rename, once such a
    # single write, is a transaction with its audit record now)
    outage.fail("UpdateItem", "ThrottlingException", touching="#counter")
    # WHEN an event is created
    resp = api.call("POST", "/api/v2/event", {"name": "deploy", "startTime": 1_700_000_000_000, "annotations": {}})
    # THEN 503 with Retry-After, and no event exists
    assert resp.status_code == 503, resp.body
    assert _retry_after(resp) >= 1
    assert json.loads(resp.body)["status"]["code"] == 503
    outage.heal()
    status, listing = api.json(
        "GET", "/api/v2/event?earliestStartTimeEpochMillis=0&latestStartTimeEpochMillis=2000000000000"
    )
    assert status == 200 and listing["response"]["items"] == [], listing


def test_can_answer_503_and_write_nothing_when_a_transaction_is_throttled(api, outage):
    # GIVEN DynamoDB cancelling transactions that write alerts, one item throttled
    before = api.json("GET", ALERT)[1]["response"]["totalItems"]
    outage.fail(
        "TransactWriteItems",
        "TransactionCanceledException",
        touching="#alert",
        CancellationReasons=[{"Code": "ThrottlingError", "Message": "injected"}, {"Code": "None"}],
    )
    # WHEN an alert is created (the live item and its first version, in one transaction)
    resp = api.call("POST", ALERT, BODY)
    # THEN 503 with Retry-After in the Wavefront envelope, and no alert exists
    assert resp.status_code == 503, resp.body
    assert _retry_after(resp) >= 1
    assert json.loads(resp.body)["status"]["result"] == "ERROR"
    assert outage.failed == ["TransactWriteItems"]
    outage.heal()
    assert api.json("GET", ALERT)[1]["response"]["totalItems"] == before


def test_can_answer_503_and_write_nothing_when_an_api_token_transaction_is_throttled(api, outage):
    # GIVEN DynamoDB throttling the transaction that creates an API token and counts it
    outage.fail("TransactWriteItems", "ProvisionedThroughputExceededException", touching="apitoken")
    # WHEN a token is created
    resp = api.call("POST", "/api/v2/apitoken", {"tokenName": "lost"})
    # THEN 503, and the account has no token
    assert resp.status_code == 503, resp.body
    assert _retry_after(resp) >= 1
    outage.heal()
    assert api.json("GET", "/api/v2/apitoken")[1]["response"] == []


def test_can_answer_503_in_the_wazo_shape_when_a_user_creation_is_throttled(api, outage):
    # GIVEN DynamoDB failing the transaction that creates an account and reserves its username
    before = api.json("GET", f"{W}/users")[1]["total"]
    outage.fail("TransactWriteItems", "InternalServerError", touching="#account")
    # WHEN a Wazo client creates a user
    resp = api.call("POST", f"{W}/users", {"username": "bob", "password": "long-enough-1"})
    # THEN 503 with Retry-After, in Wazo's bare error body
    assert resp.status_code == 503, resp.body
    assert _retry_after(resp) >= 1
    body = json.loads(resp.body)
    assert body["error_id"] == "unavailable"
    assert body["status_code"] == 503
    assert body["reason"] == [body["message"]]
    assert "status" not in body  # Wazo's shape alone, never the native envelope
    # AND neither the user nor its username was written
    outage.heal()
    assert api.json("GET", f"{W}/users")[1]["total"] == before
    status, user = api.json("POST", f"{W}/users", {"username": "bob", "password": "long-enough-1"})
    assert status == 200, user


def test_can_raise_unavailable_and_write_nothing_when_s3_slows_down(aws):
    # GIVEN S3 answering SlowDown to every PutObject (a document too large for the item)
    from chalicelib.errors import Unavailable
    from chalicelib.store import blobs
    from chalicelib.store.repository import Repository
    from tests.functional.test_repository_blobs import random_doc

    def slow_down(model: Any, **_: Any) -> Any:
        if model.name != "PutObject":
            return None
        error = {"Error": {"Code": "SlowDown", "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 503}}
        return AWSResponse("https://s3.us-east-1.amazonaws.com/", 503, {}, None), error

    events = blobs._client().meta.events
    events.register_first("before-call.s3", slow_down, unique_id=HANDLER_ID)
    repo = Repository("t1", "dashboard", cursor_secret=b"s" * 32, history=True)
    try:
        # WHEN a large document is created THEN Unavailable, and the object does not exist
        with pytest.raises(Unavailable) as caught:
            repo.create("big", random_doc(200 * 1024))
    finally:
        events.unregister("before-call.s3", unique_id=HANDLER_ID)
    assert caught.value.context["error"] == "SlowDown"
    assert repo.find("big") is None


def test_can_log_unavailable_as_a_warning_without_a_traceback(api, outage, caplog):
    # GIVEN DynamoDB throttling the listing of alerts
    outage.fail("Query", "ThrottlingException", touching="#alert")
    caplog.clear()
    # WHEN alerts are listed
    assert api.call("GET", ALERT).status_code == 503
    # THEN the log says so at WARNING, and holds no traceback
    warnings = [r for r in caplog.records if r.getMessage() == "store unavailable"]
    assert [r.levelname for r in warnings] == ["WARNING"]
    assert not any(r.exc_info for r in caplog.records)
    assert not any(r.levelname in ("ERROR", "CRITICAL") for r in caplog.records)


def test_can_answer_503_in_the_wazo_shape_when_the_tenant_tree_is_throttled(api, outage, make_tenant):
    # GIVEN child tenants, and DynamoDB throttling the batched read of their records
    make_tenant("c1")
    make_tenant("c2")
    outage.fail("BatchGetItem", "ProvisionedThroughputExceededException", touching="#tenant")
    # WHEN a Wazo client lists the tenants
    resp = api.call("GET", f"{W}/tenants")
    # THEN 503 with Retry-After, in Wazo's shape; and the listing passes once DynamoDB recovers
    assert resp.status_code == 503, resp.body
    assert json.loads(resp.body)["error_id"] == "unavailable"
    assert outage.failed == ["BatchGetItem"]
    outage.heal()
    assert api.json("GET", f"{W}/tenants")[1]["total"] == 3
