"""Counting AWS calls deterministically: a botocore `before-call` handler on the clients the
store uses (every PynamoDB connection, the transaction connection, the blobs client) records
each call's operation and table. Nothing is patched; the handler only looks.

    calls = AwsCalls().attach()
    entities.load(ctx, ALERT, alert_id)
    assert calls.counts() == {"GetItem": 1}
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

HANDLER_ID = "opsplane-test-aws-calls"


@dataclass(frozen=True)
class Call:
    """One AWS call: service, operation, table (or bucket), and the partition keys it names."""

    service: str
    operation: str
    table: str
    keys: tuple[str, ...] = ()
    # Items DynamoDB read for it (a Query's ScannedCount, a GetItem's 1), set when it answers.
    read: int = 0
    # Whether it asked for some attributes only (a ProjectionExpression).
    projected: bool = False


def _partitions(body: dict[str, Any]) -> tuple[str, ...]:
    """The `pk` values a DynamoDB request names (its key, its items, its Query condition)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "pk" and isinstance(inner, dict) and "S" in inner:
                    found.append(inner["S"])
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(body)
    if "KeyConditionExpression" in body:  # a Query names its partition as a value
        found += [v["S"] for v in (body.get("ExpressionAttributeValues") or {}).values() if "S" in v]
    return tuple(dict.fromkeys(found))


def _table(body: dict[str, Any]) -> str:
    if "TableName" in body:
        return str(body["TableName"])
    for item in body.get("TransactItems") or []:
        for action in item.values():
            return str(action.get("TableName", ""))
    return ",".join(sorted(body.get("RequestItems") or {}))


@dataclass
class AwsCalls:
    """Records the AWS calls of the store's clients while attached."""

    calls: list[Call] = field(default_factory=list)
    clients: list[Any] = field(default_factory=list)

    def attach(self) -> AwsCalls:
        """Start recording (the clients are created here if they were not yet)."""
        from chalicelib.store import blobs, queues
        from chalicelib.store.models import MODELS, transaction_connection

        connections = [model._get_connection().connection for model in MODELS]  # type: ignore[attr-defined]
        clients = [c.client for c in [*connections, transaction_connection()]]
        clients.append(blobs._client())
        clients.append(queues._client())
        for client in clients:
            if any(client is known for known in self.clients):
                continue
            client.meta.events.register("before-call", self._record, unique_id=HANDLER_ID)
            client.meta.events.register("after-call", self._answered, unique_id=f"{HANDLER_ID}-after")
            self.clients.append(client)
        return self

    def detach(self) -> None:
        """Stop recording."""
        for client in self.clients:
            client.meta.events.unregister("before-call", unique_id=HANDLER_ID)
            client.meta.events.unregister("after-call", unique_id=f"{HANDLER_ID}-after")
        self.clients.clear()

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        if service in ("s3", "sqs"):
            self.calls.append(Call(service, model.name, service))
            return
        raw = params.get("body") or b"{}"
        body = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        projected = "ProjectionExpression" in body
        self.calls.append(Call(service, model.name, _table(body), _partitions(body), projected=projected))

    def _answered(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if not self.calls or self.calls[-1].operation != model.name:
            return
        read = parsed.get("ScannedCount")
        if read is None:
            read = 1 if parsed.get("Item") else 0
            read += sum(len(v) for v in (parsed.get("Responses") or {}).values())
        last = self.calls[-1]
        self.calls[-1] = Call(last.service, last.operation, last.table, last.keys, int(read), last.projected)

    def items_read(self, *, table: str | None = None) -> int:
        """Items DynamoDB read for the recorded calls (on table, when given)."""
        return sum(c.read for c in self.calls if table is None or c.table == table)

    def reset(self) -> None:
        """Forget what was recorded so far."""
        self.calls.clear()

    def counts(self, *, table: str | None = None) -> dict[str, int]:
        """Calls per operation (only those on table, when given)."""
        return dict(Counter(c.operation for c in self.calls if table is None or c.table == table))

    def total(self) -> int:
        """How many calls were recorded."""
        return len(self.calls)

    @contextmanager
    def counting(self) -> Iterator[AwsCalls]:
        """Record only the calls made inside the block."""
        self.reset()
        yield self
