"""The deliver worker: one attempt of one notification to one target (chalicelib/domain/
delivery.py). Retries are new messages delayed by the backoff, not redeliveries, so the
message is deleted once the attempt is recorded; an attempt that crashes before that
raises and comes back (after MAX_RECEIVES, to the dead-letter queue).
"""

from __future__ import annotations

from chalicelib.domain import delivery
from chalicelib.domain.notifications import DELIVER_QUEUE, Delivery
from chalicelib.workers import Record, Worker


def handle(message: Record) -> None:
    """Attempt one delivery."""
    delivery.deliver(Delivery.parse(message.body))


# An attempt waits at most outbound.TIMEOUT_SECONDS per request; ten of them a batch.
WORKER = Worker(queue=DELIVER_QUEUE, handle=handle, batch_size=10, timeout=180)
