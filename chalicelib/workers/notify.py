"""The notify worker: one alert trigger (the evaluator's NotifyJob) becomes one delivery per
target on the deliver queue (chalicelib/domain/notifications.py `plan`), so that each
target is retried on its own. Repeating it (a redelivered or duplicated job) queues the
same deliveries again, with the same notificationId: the deliver worker skips a target
that received it already.
"""

from __future__ import annotations

from chalicelib.domain import notifications
from chalicelib.domain.context import Context
from chalicelib.domain.notifications import NotifyJob
from chalicelib.workers import Record, Worker


def handle(message: Record) -> None:
    """Plan one job's deliveries and queue them."""
    job = NotifyJob.parse(message.body)
    ctx = Context.service(job.tenant, "notifier")
    notifications.queue_deliveries(notifications.plan(ctx, job))


WORKER = Worker(
    queue=notifications.NOTIFY_QUEUE, handle=handle, batch_size=10, timeout=60, sends=(notifications.DELIVER_QUEUE,)
)
