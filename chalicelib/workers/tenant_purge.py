"""The purge of deleted tenants (identity/purge.py): one step per message, and the next step
sent from here, so a purge runs as a chain of bounded messages that a failure interrupts
and a redelivery resumes."""

from __future__ import annotations

import json

from chalicelib.identity import purge, tenants
from chalicelib.workers import Record, Worker


def purge_step(record: Record) -> None:
    """Run the step a message names, then send the next one (if any)."""
    body = json.loads(record.body)
    tenant, step = str(body["tenant"]), int(body["step"])
    following = purge.run(tenant, step, redelivered=record.receives > 1)
    if following is not None:
        tenants.enqueue_purge(tenant, following)


WORKER = Worker(queue=tenants.PURGE_QUEUE, handle=purge_step, batch_size=1, timeout=120)
