"""SQS queues: what the API hands to workers (chalicelib/workers), and how workers get it.

A queue has a short name ("ingest"); its SQS name is the settings' prefix + name
(opsplane-<stage>-ingest), its dead-letter queue the same + "-dlq". infra/ creates them in
production (with the redrive policy); `create_queues` does it locally and in tests.

Messages are text. A body larger than SQS takes (INLINE_LIMIT) goes to the blobs bucket and
the message carries its key instead (the claim-check pattern): `unwrap` gives the body back,
whichever way it travelled. Blobs of consumed messages are removed by `release`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import StoreError
from chalicelib.store import aws, blobs
from chalicelib.store.failures import guarded

INLINE_LIMIT = 240 * 1024  # SQS takes 256 KiB per message and per SendMessageBatch
SEND_BATCH = 10  # SendMessageBatch's limit
CLAIM = "opsplane-claim:"
MAX_RECEIVES = 5  # deliveries before a message goes to the dead-letter queue
MAX_DELAY_SECONDS = 900  # SQS's limit on a message's delay


@dataclass(frozen=True)
class Target:
    prefix: str = "opsplane-dev-"
    endpoint: str | None = None
    region: str = "us-east-1"


@dataclass(frozen=True)
class Message:
    """A received message: id, receipt handle, body (claim checks resolved: `unwrap`), and how
    many times it has been received."""

    id: str
    receipt: str
    body: str
    receives: int


_state: dict[str, Any] = {"target": Target(), "urls": {}}
_lock = threading.Lock()
# Long polls wait up to 20 s: the read timeout is longer.
_client = aws.Client(
    "sqs", lambda _: {"connect_timeout": 5, "read_timeout": 25, "retries": {"max_attempts": 3, "mode": "standard"}}
)


def bind(prefix: str, *, endpoint: str | None = None, region: str = "us-east-1") -> None:
    """Point the queues at a name prefix and endpoint (and forget the client and URLs)."""
    with _lock:
        _state.update(target=Target(prefix, endpoint, region), urls={})
    _client.bind(endpoint=endpoint, region=region)


def name_of(queue: str) -> str:
    """The SQS name of a queue."""
    target: Target = _state["target"]
    return f"{target.prefix}{queue}"


def url_of(queue: str) -> str:
    """The queue's URL (asked once per process)."""
    urls: dict[str, str] = _state["urls"]
    found = urls.get(queue)
    if found is None:
        found = urls[queue] = str(_client().get_queue_url(QueueName=name_of(queue))["QueueUrl"])
    return found


@guarded
def send(queue: str, bodies: Iterable[str], *, delay_seconds: int = 0) -> int:
    """Send every body (ten a call); bodies past INLINE_LIMIT travel as claim checks. The
    number sent. A body SQS refuses is a StoreError (nothing is dropped silently). A delay
    (at most MAX_DELAY_SECONDS) keeps the messages invisible that long (a retry's backoff)."""
    url, sent, size = url_of(queue), 0, 0
    batch: list[str] = []
    for body in bodies:
        if len(body.encode()) > INLINE_LIMIT:
            key = f"queue/{queue}/{uuid.uuid4().hex}"
            blobs.put(key, body.encode())
            body = CLAIM + key
        length = len(body.encode())
        if batch and (len(batch) == SEND_BATCH or size + length > INLINE_LIMIT):
            sent += _send_batch(url, batch, delay_seconds)
            batch, size = [], 0
        batch.append(body)
        size += length
    if batch:
        sent += _send_batch(url, batch, delay_seconds)
    return sent


def _send_batch(url: str, bodies: Sequence[str], delay_seconds: int = 0) -> int:
    delay = max(0, min(MAX_DELAY_SECONDS, delay_seconds))
    entries = [{"Id": str(i), "MessageBody": body, "DelaySeconds": delay} for i, body in enumerate(bodies)]
    answer = _client().send_message_batch(QueueUrl=url, Entries=entries)
    failed = answer.get("Failed") or []
    if failed:
        raise StoreError("Queue refused messages", queue=url, failed=[f.get("Code", "") for f in failed])
    return len(entries)


def unwrap(body: str) -> str:
    """The body a message carries, fetched from the blobs bucket when it is a claim check."""
    if body.startswith(CLAIM):
        return blobs.get(body[len(CLAIM) :]).decode()
    return body


def release(body: str) -> None:
    """Remove the blob behind a consumed claim check (nothing for an inline body)."""
    if body.startswith(CLAIM):
        blobs.delete([body[len(CLAIM) :]])


@guarded
def receive(queue: str, *, limit: int = 10, wait_seconds: int = 0, visibility: int | None = None) -> list[Message]:
    """Up to limit messages (bodies as sent: claim checks are resolved by the worker)."""
    request: dict[str, Any] = {
        "QueueUrl": url_of(queue),
        "MaxNumberOfMessages": max(1, min(10, limit)),
        "WaitTimeSeconds": wait_seconds,
        "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
    }
    if visibility is not None:
        request["VisibilityTimeout"] = visibility
    answer = _client().receive_message(**request)
    return [
        Message(
            m["MessageId"],
            m["ReceiptHandle"],
            m["Body"],
            int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
        )
        for m in answer.get("Messages", [])
    ]


@guarded
def delete(queue: str, receipts: Sequence[str]) -> None:
    """Delete consumed messages (ten a call)."""
    url = url_of(queue)
    for start in range(0, len(receipts), SEND_BATCH):
        chunk = receipts[start : start + SEND_BATCH]
        _client().delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)]
        )


@guarded
def retry_later(queue: str, receipt: str, seconds: int) -> None:
    """Make a message visible again after seconds (a failed message's backoff)."""
    _client().change_message_visibility(QueueUrl=url_of(queue), ReceiptHandle=receipt, VisibilityTimeout=seconds)


@guarded
def depth(queue: str) -> int:
    """Messages waiting or in flight (approximate, as SQS counts)."""
    answer = _client().get_queue_attributes(
        QueueUrl=url_of(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    attributes = answer.get("Attributes", {})
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


@guarded
def create_queues(queues: Iterable[str], *, visibility: int = 30) -> None:
    """Create each queue and its dead-letter queue (after MAX_RECEIVES deliveries) if missing:
    local runs and tests; production uses infra/."""
    client = _client()
    for queue in queues:
        dlq_url = client.create_queue(QueueName=name_of(queue) + "-dlq")["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
        client.create_queue(
            QueueName=name_of(queue),
            Attributes={"VisibilityTimeout": str(visibility), "RedrivePolicy": redrive},
        )
