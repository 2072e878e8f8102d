"""Run a worker over an SQS event, as Lambda delivers it (and as local.Runner builds it).

Powertools' BatchProcessor calls the worker once per record and reports the records that
raised as `batchItemFailures`: SQS deletes the others and delivers the failed ones again
(after the queue's visibility timeout; after MAX_RECEIVES, to the dead-letter queue). The
event source mapping must set ReportBatchItemFailures (infra/ does).

The same function is also the target of its module's schedule (an EventBridge rule whose
input is `schedule_event(queue)`): `handle_schedule_event` runs the schedule, which only
sends messages to the queue that feeds this function.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from chalicelib.store import audit, queues
from chalicelib.workers import Record, Worker, registry, schedules

logger = logging.getLogger("opsplane.workers")

# The key of the input an EventBridge rule hands the function: {SCHEDULE_KEY: "<queue>"}.
SCHEDULE_KEY = "opsplaneSchedule"


def worker_for(event: dict[str, Any]) -> Worker:
    """The worker of the queue an event's records came from (the ARN's last part, less the prefix)."""
    records = event.get("Records") or []
    if not records:
        raise ValueError("an SQS event without records")
    name = str(records[0].get("eventSourceARN", "")).rsplit(":", 1)[-1]
    prefix = queues.name_of("")
    queue = name[len(prefix) :] if name.startswith(prefix) else name
    found = registry().get(queue)
    if found is None:
        raise ValueError(f"no worker for queue {name!r}")
    return found


def handle_sqs_event(event: dict[str, Any], context: Any = None, worker: Worker | None = None) -> dict[str, Any]:
    """Run the worker over every record; {"batchItemFailures": [...]} names those that failed."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    chosen = worker or worker_for(event)

    def record_handler(record: Any) -> None:
        raw = str(record.body)
        receives = int(record.attributes.approximate_receive_count or 1)
        # Changes are audited as the worker's unless it acts as someone (Context.acting()).
        with audit.acting(audit.Actor(principal_name=f"worker:{chosen.queue}", credential="worker")):
            chosen.handle(Record(id=str(record.message_id), body=queues.unwrap(raw), receives=receives))
        queues.release(raw)

    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )


def schedule_event(queue: str) -> dict[str, str]:
    """The input of the rule that runs the schedule of queue's worker (infra/ sets it)."""
    return {SCHEDULE_KEY: queue}


def is_schedule_event(event: Any) -> bool:
    """Whether a Lambda event is a schedule's (not SQS records)."""
    return isinstance(event, dict) and SCHEDULE_KEY in event


def handle_schedule_event(event: dict[str, Any], context: Any = None, *, now: int | None = None) -> dict[str, Any]:
    """Run the schedule the event names; the answer says how many messages it sent. A
    failure raises: EventBridge's asynchronous invocation tries it again."""
    name = str(event.get(SCHEDULE_KEY))
    schedule = schedules().get(name)
    if schedule is None:
        raise ValueError(f"no schedule for queue {name!r}")
    sent = schedule.run(now if now is not None else int(time.time() * 1000))
    logger.info("schedule %s sent %d messages", name, sent)
    return {"schedule": name, "sent": sent}
