"""CloverDX wire shapes: a monitor's body and answer, a dashboard's answer.

CloverDX publishes no client library; these are the fields docs/cloverdx.md documents,
each mapped onto the one alert a monitor is (monitors.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from chalicelib.categories.alert_views import Severity
from chalicelib.categories.crud_views import not_blank
from chalicelib.query import MAX_QUERY_LENGTH
from chalicelib.wire import Model

MAX_NAME = 512
MAX_DESCRIPTION = 4096
MAX_TARGETS = 20
MAX_TARGET_ID = 64
MAX_MINUTES = 7 * 24 * 60  # a week: the longest window a condition is held over


class CloverMonitorBody(Model):
    """POST and PUT body of a monitor; read-only fields of an answer (id, state, ...) are
    ignored, so an answer can be sent back as it was read."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    description: StrictStr | None = Field(default=None, max_length=MAX_DESCRIPTION)
    condition: StrictStr = Field(min_length=1, max_length=MAX_QUERY_LENGTH, description="A WQL condition")
    minutes: StrictInt = Field(default=1, ge=1, le=MAX_MINUTES, description="How long the condition must hold")
    severity: Severity = "WARN"
    enabled: StrictBool = Field(default=True, description="false: the alert is snoozed until enabled again")
    alertTargetIds: list[StrictStr] = Field(
        default_factory=list,
        max_length=MAX_TARGETS,
        description="Alert targets (/api/v2/notificant) notified when the monitor fires",
    )
    version: StrictInt | None = Field(default=None, ge=1, description="PUT: the version last read (409 when stale)")

    _named = field_validator("name", "condition")(not_blank)

    @field_validator("alertTargetIds")
    @classmethod
    def _target_ids(cls, ids: list[str]) -> list[str]:
        for target_id in ids:
            if not target_id or len(target_id) > MAX_TARGET_ID or not target_id.replace("-", "").isalnum():
                raise ValueError(f"{target_id!r} is not an alert target id")
        return list(dict.fromkeys(ids))


class CloverMonitor(Model):
    """A monitor as CloverDX answers it: an opsplane alert attached to a dashboard."""

    id: str
    dashboardId: str
    name: str
    description: str | None = None
    condition: str
    minutes: int
    severity: Severity
    enabled: bool
    alertTargetIds: list[str]
    state: Literal["CHECKING", "SNOOZED", "INVALID"]
    version: int
    createdBy: str | None = None
    created: str = Field(description="ISO 8601, UTC")
    modifiedBy: str | None = None
    modified: str = Field(description="ISO 8601, UTC")


class CloverMonitorList(Model):
    """The monitors of one dashboard."""

    monitors: list[CloverMonitor]


class CloverDashboard(Model):
    """A dashboard as CloverDX lists it (the opsplane dashboard of that id)."""

    id: str
    name: str
    description: str | None = None


class CloverDashboardList(Model):
    """Every dashboard the caller may view."""

    dashboards: list[CloverDashboard]
