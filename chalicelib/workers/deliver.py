"""The deliver worker: one attempt of one notification to one target (chalicelib/domain/
delivery.py). Retries are new messages delayed by the backoff, not redeliveries, so the
message is deleted once the attempt is recorded; an attempt that crashes before that
raises and comes back (after MAX_RECEIVES, to the dead-letter queue).

Each attempt emits one EMF blob (Powertools Metrics, where http/telemetry.py emits them):
`notifications_delivered`, `notifications_retried`, `notifications_failed`, 1 for the
attempt's result and 0 for the others (Sum counts, Average is a rate), dimensions service
and worker only. infra/ alarms on the failure rate.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from chalicelib.domain import delivery
from chalicelib.domain.notifications import DELIVER_QUEUE, Delivery
from chalicelib.http import telemetry
from chalicelib.workers import Record, Worker

RESULTS = ("delivered", "retried", "failed")


def handle(message: Record) -> None:
    """Attempt one delivery, and count its result."""
    parsed = Delivery.parse(message.body)
    outcome = delivery.deliver(parsed)
    if outcome is not None:
        result = "delivered" if outcome.delivered else ("retried" if outcome.retried(parsed) else "failed")
        report(result)


def blob(result: str) -> dict[str, Any]:
    """The EMF blob of one attempt's result."""
    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or telemetry.SERVICE
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or telemetry.SERVICE
    metrics = EphemeralMetrics(namespace=namespace, service=service)
    metrics.add_dimension(name="service", value=service)
    metrics.add_dimension(name="worker", value=DELIVER_QUEUE)
    for name in RESULTS:
        metrics.add_metric(name=f"notifications_{name}", unit=MetricUnit.Count, value=1 if name == result else 0)
    return dict(metrics.serialize_metric_set())


def report(result: str) -> None:
    """Emit the attempt's metrics where this process emits them."""
    if telemetry.emits_emf():
        print(json.dumps(blob(result), separators=(",", ":"), default=str), flush=True)


# An attempt waits at most outbound.TIMEOUT_SECONDS per request; ten of them a batch.
WORKER = Worker(
    queue=DELIVER_QUEUE,
    handle=handle,
    batch_size=10,
    timeout=180,
    sends=(DELIVER_QUEUE, f"{DELIVER_QUEUE}-dlq"),  # the next attempt; a delivery given up
    actions=("ses:SendEmail",),
)
