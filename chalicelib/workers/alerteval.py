"""The alert evaluation: every minute the schedule (`fan_out`) reads the registry of
tenants with alerts (store/alerting.py, one Query, no Scan) and sends one message per
tenant (at most MAX_PER_MESSAGE alerts a message) naming the tick it evaluates, the
minute's start. The worker (`handle`) evaluates each alert of its message at that tick
(categories/alert_evaluation.py): once per alert and tick, whatever SQS delivers twice.

Only a failure of opsplane's own store fails the message (SQS delivers it again, and the
alerts evaluated already skip the tick); an alert that cannot be evaluated is INVALID.
"""

from __future__ import annotations

import json

from chalicelib.categories import alert, alert_evaluation
from chalicelib.domain.context import Context
from chalicelib.domain.notifications import QUEUE as NOTIFY_QUEUE
from chalicelib.settings import get_settings
from chalicelib.store import alerting, queues
from chalicelib.workers import MINUTE, Record, Schedule, Worker

QUEUE = "alert-evaluation"
MAX_PER_MESSAGE = 25  # alerts evaluated by one message: its work stays within the timeout


def tick(now: int) -> int:
    """The start of the evaluation period holding now: the minute (OPSPLANE_SCHEDULE_SECONDS
    under make run)."""
    period = (get_settings().schedule_seconds or MINUTE) * 1000
    return now - now % period


def fan_out(now: int) -> int:
    """Send one message per tenant with alerts (MAX_PER_MESSAGE alerts a message)."""
    at = tick(now)
    bodies = [
        json.dumps({"tenant": tenant, "alerts": ids[i : i + MAX_PER_MESSAGE], "at": at})
        for tenant, ids in alerting.enlisted()
        for i in range(0, len(ids), MAX_PER_MESSAGE)
    ]
    return queues.send(QUEUE, bodies) if bodies else 0


def handle(record: Record) -> None:
    """Evaluate every alert the message names at its tick."""
    message = json.loads(record.body)
    ctx = Context.service(str(message["tenant"]), "alert-evaluation")
    ids = [str(i) for i in message["alerts"]]
    alert_evaluation.run(ctx, ids, int(message["at"]), kind=alert.ALERT, wire=alert.to_wire)


WORKER = Worker(queue=QUEUE, handle=handle, batch_size=5, timeout=300, sends=(NOTIFY_QUEUE,))
SCHEDULE = Schedule(every_seconds=MINUTE, run=fan_out)
