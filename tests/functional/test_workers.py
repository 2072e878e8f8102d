"""Queues and the worker machinery (store/queues.py, chalicelib/workers) on moto's SQS."""

from __future__ import annotations

import json

import pytest

from chalicelib.store import blobs, queues
from chalicelib.workers import Record, Worker, registry
from chalicelib.workers.local import run_once
from chalicelib.workers.runtime import handle_sqs_event, worker_for

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def queue() -> str:
    queues.create_queues(["jobs"], visibility=30)
    return "jobs"


def collecting(fail: set[str] | None = None) -> tuple[Worker, list[Record]]:
    seen: list[Record] = []

    def handle(record: Record) -> None:
        if record.body in (fail or set()):
            raise ValueError(f"cannot do {record.body}")
        seen.append(record)

    return Worker(queue="jobs", handle=handle), seen


def test_failed_records_are_reported_and_kept_the_rest_deleted(queue, aws_calls):
    worker, seen = collecting(fail={"b"})
    assert queues.send(queue, ["a", "b", "c"]) == 3
    assert aws_calls.counts().get("SendMessageBatch") == 1
    done = run_once(worker)
    assert (done.handled, done.failed) == (2, 1)
    assert sorted(r.body for r in seen) == ["a", "c"]
    assert queues.depth(queue) == 1  # b waits for its retry (then, after 5 deliveries, the DLQ)


def test_a_body_past_sqs_size_travels_through_the_bucket_and_is_removed_once_done(queue):
    worker, seen = collecting()
    big = json.dumps({"points": "x" * (queues.INLINE_LIMIT + 10)})
    queues.send(queue, [big, "small"])
    received = queues.receive(queue, limit=10)
    assert sorted(m.body.startswith(queues.CLAIM) for m in received) == [False, True]
    assert len(_keys()) == 1
    for message in received:  # not consumed: visible again
        queues.retry_later(queue, message.receipt, 0)
    for _ in range(3):
        run_once(worker)
    assert sorted(len(r.body) for r in seen) == [5, len(big)]
    assert _keys() == []


def _keys() -> list[str]:
    answer = blobs._client().list_objects_v2(Bucket=blobs.bucket(), Prefix="queue/")
    return [o["Key"] for o in answer.get("Contents", [])]


def test_lambda_event_names_its_worker_by_queue_arn():
    event = {"Records": [{"eventSourceARN": f"arn:aws:sqs:us-east-1:1:{queues.name_of('nope')}"}]}
    with pytest.raises(ValueError, match="no worker"):
        worker_for(event)
    for name, worker in registry().items():
        event = {"Records": [{"eventSourceARN": f"arn:aws:sqs:us-east-1:1:{queues.name_of(name)}"}]}
        assert worker_for(event) is worker


def test_handle_sqs_event_answers_partial_batch_failures():
    worker, seen = collecting(fail={"bad"})
    records = [
        {
            "messageId": f"m{i}",
            "receiptHandle": f"r{i}",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "2"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
            "awsRegion": "us-east-1",
        }
        for i, body in enumerate(["ok", "bad", "fine"])
    ]
    answer = handle_sqs_event({"Records": records}, worker=worker)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert [(r.id, r.body, r.receives) for r in seen] == [("m0", "ok", 2), ("m2", "fine", 2)]
