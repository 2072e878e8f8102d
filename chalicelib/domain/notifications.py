"""Notification jobs: what the alert evaluation hands the delivery side, one per trigger.

The evaluation sends each job to the QUEUE queue (store/queues.py) as JSON:

    {"tenant", "notificationId": "<alertId>-<trigger>-<evaluation time ms>", "trigger",
     "alertId", "alert": <the alert's wire object at evaluation>, "severity", "reason",
     "startedTime", "endedTime", "evaluatedAt", "failingAlertSeries",
     "newlyFailingAlertSeries", "recoveredAlertSeries", "inMaintenanceAlertSeries"}

each series {"host", "tags", "label", "observed"}. The delivery side picks the alert's
targets and keeps those whose triggers include the job's. Delivery is at least once: the
same notificationId may arrive twice (after a crash between the evaluation's write and its
send), and receivers de-duplicate by it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.store import queues

QUEUE = "notify"


def notification_id(alert_id: str, trigger: str, at: int) -> str:
    """Stable per alert, trigger and evaluation: the receivers' de-duplication key."""
    return f"{alert_id}-{trigger}-{at}"


def wire_series(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Series records of the state as a job lists them."""
    return [
        {
            "host": str(r.get("host", "")),
            "tags": dict(r.get("tags") or {}),
            "label": str(r.get("label", "")),
            "observed": None if r.get("observed") is None else float(r["observed"]),
        }
        for r in records
    ]


def send(jobs: Iterable[Mapping[str, Any]]) -> int:
    """Send jobs to the delivery queue; how many were sent."""
    bodies = [json.dumps(job, separators=(",", ":"), sort_keys=True) for job in jobs]
    return queues.send(QUEUE, bodies) if bodies else 0
