"""The derived metric evaluation: every minute the schedule (`fan_out`) reads the registry
of tenants with live derived metrics (one Query, no Scan) and sends one message per tenant
(at most MAX_PER_MESSAGE derived metrics a message) naming the tick, the minute's start.
The worker (`handle`) runs each derived metric of its message that is due at that tick
(categories/derivedmetric_evaluation.py) and writes its result series as points: once per
derived metric and tick, whatever SQS delivers twice.

Only a failure of opsplane's own store fails the message (SQS delivers it again); a query
that cannot run makes its derived metric INVALID.
"""

from __future__ import annotations

import json

from chalicelib.categories import derivedmetric, derivedmetric_evaluation
from chalicelib.domain.context import Context
from chalicelib.store import queues
from chalicelib.workers import MINUTE, Record, Schedule, Worker
from chalicelib.workers.alerteval import tick

QUEUE = "derived-metric-evaluation"
MAX_PER_MESSAGE = 25  # derived metrics run by one message: its work stays within the timeout


def fan_out(now: int) -> int:
    """Send one message per tenant with live derived metrics (MAX_PER_MESSAGE a message)."""
    at = tick(now)
    bodies = [
        json.dumps({"tenant": tenant, "metrics": ids[i : i + MAX_PER_MESSAGE], "at": at})
        for tenant, ids in derivedmetric_evaluation.enlisted()
        for i in range(0, len(ids), MAX_PER_MESSAGE)
    ]
    return queues.send(QUEUE, bodies) if bodies else 0


def handle(record: Record) -> None:
    """Run every derived metric the message names that is due at its tick."""
    message = json.loads(record.body)
    ctx = Context.service(str(message["tenant"]), "derived-metric-evaluation")
    ids = [str(i) for i in message["metrics"]]
    derivedmetric_evaluation.run(ctx, ids, int(message["at"]), kind=derivedmetric.DERIVED_METRIC)


WORKER = Worker(queue=QUEUE, handle=handle, batch_size=5, timeout=300)
SCHEDULE = Schedule(every_seconds=MINUTE, run=fan_out)
