"""Notifications: what the evaluator hands to delivery, one job per alert trigger.

The evaluator (chalicelib/workers/evaluate.py) sends a `NotifyJob` to the NOTIFY queue each
time an alert changes state (a trigger); the notify worker resolves the alert's targets and
hands one `Delivery` per (notification, target) to the DELIVER queue, whose worker renders
and sends it (docs/notifications.md). `notificationId` is stable for one trigger of one
alert: a duplicated job, or a redelivered message, carries the same id, so receivers can
de-duplicate (delivery is at least once).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from chalicelib.store import queues
from chalicelib.wire import Model

NOTIFY_QUEUE = "notify"
DELIVER_QUEUE = "deliver"

Trigger = Literal[
    "ALERT_OPENED",
    "ALERT_UPDATED",
    "ALERT_RESOLVED",
    "ALERT_MAINTENANCE",
    "ALERT_SNOOZED",
    "ALERT_INVALID",
    "ALERT_NO_LONGER_INVALID",
    "ALERT_NO_DATA",
    "ALERT_NO_DATA_RESOLVED",
    "ALERT_SEVERITY_UPDATE",
    "ALERT_TESTING",
]

MAX_SERIES = 1000  # series per list in one job (the rest are counted in the reason, not listed)


class AlertSeries(Model):
    """One series of an alert: its source, point tags, label (the metric) and observed value."""

    model_config = ConfigDict(extra="ignore")

    host: StrictStr = ""
    tags: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    label: StrictStr = ""
    observed: StrictFloat | StrictInt | None = None


class NotifyJob(Model):
    """One alert trigger to notify the alert's targets about (the `notify` queue's message)."""

    model_config = ConfigDict(extra="ignore")

    tenant: StrictStr = Field(min_length=1)
    notificationId: StrictStr = Field(min_length=1, max_length=256)
    trigger: Trigger
    alertId: StrictStr = Field(min_length=1)
    alert: dict[str, object] = Field(description="The alert as the API answers it (its wire document)")
    severity: StrictStr = ""
    reason: StrictStr = ""
    startedTime: StrictInt | None = None
    endedTime: StrictInt | None = None
    evaluatedAt: StrictInt
    failingAlertSeries: list[AlertSeries] = Field(default_factory=list, max_length=MAX_SERIES)
    newlyFailingAlertSeries: list[AlertSeries] = Field(default_factory=list, max_length=MAX_SERIES)
    recoveredAlertSeries: list[AlertSeries] = Field(default_factory=list, max_length=MAX_SERIES)
    inMaintenanceAlertSeries: list[AlertSeries] = Field(default_factory=list, max_length=MAX_SERIES)

    def body(self) -> str:
        """The job as the queue carries it."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> NotifyJob:
        """A job read back from its message (pydantic's ValidationError when it is not one)."""
        return cls.model_validate_json(body)


def send_jobs(jobs: list[NotifyJob]) -> int:
    """Queue notify jobs (the evaluator's side); the number sent."""
    return queues.send(NOTIFY_QUEUE, [job.body() for job in jobs])
