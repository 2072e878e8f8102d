"""Grafana's alerting provisioning bodies and answers (grafana-client's
alerting_provisioning): contact points and mute timings, bounded. The mapping onto the one
data model is in contactpoints.py and mutetimings.py.

pydantic only, like the other views.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictStr

from chalicelib.categories.maintenancewindow_views import MAX_TITLE as MAX_WINDOW_TITLE
from chalicelib.categories.notificant_views import MAX_TITLE
from chalicelib.wire import Model

MAX_UID = 40  # Grafana's own uid bound
MAX_SETTINGS = 50  # keys of a contact point's settings
MAX_INTERVALS = 12  # time intervals of one mute timing
MAX_ENTRIES = 31  # entries of each list of a time interval

ContactPointType = Literal["webhook", "email", "pagerduty"]
Entry = Annotated[StrictStr, Field(min_length=1, max_length=32)]
Entries = Annotated[list[Entry], Field(max_length=MAX_ENTRIES)]


class ContactPointBody(Model):
    """POST / PUT of a contact point (Grafana's EmbeddedContactPoint)."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_TITLE)
    type: ContactPointType = Field(description="webhook, email or pagerduty (the alert target methods)")
    settings: dict[Annotated[StrictStr, Field(max_length=64)], Any] = Field(
        max_length=MAX_SETTINGS,
        description="webhook: url; email: addresses (';' or ',' separated); pagerduty: integrationKey",
    )
    uid: StrictStr | None = Field(
        default=None, max_length=MAX_UID, description="Ignored: the alert target's id is the uid"
    )
    disableResolveMessage: StrictBool | None = Field(default=None, description="True: no ALERT_RESOLVED trigger")


class ContactPoint(Model):
    """A contact point as Grafana answers it."""

    uid: str
    name: str
    type: str
    settings: dict[str, Any]
    disableResolveMessage: bool
    provenance: str


class TimeRange(Model):
    """A time of day range, "HH:MM" to "HH:MM" (24:00 ends a day)."""

    model_config = ConfigDict(extra="ignore")

    start_time: StrictStr = Field(min_length=5, max_length=5)
    end_time: StrictStr = Field(min_length=5, max_length=5)


class TimeInterval(Model):
    """One of a mute timing's time intervals (Prometheus Alertmanager's)."""

    model_config = ConfigDict(extra="ignore")

    times: Annotated[list[TimeRange], Field(max_length=MAX_ENTRIES)] | None = None
    weekdays: Entries | None = None
    days_of_month: Entries | None = None
    months: Entries | None = None
    years: Entries | None = None
    location: StrictStr | None = Field(default=None, max_length=64)


class MuteTimingBody(Model):
    """POST / PUT of a mute timing."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_WINDOW_TITLE)
    time_intervals: list[TimeInterval] = Field(min_length=1, max_length=MAX_INTERVALS)


class MuteTiming(Model):
    """A mute timing as Grafana answers it."""

    name: str
    time_intervals: list[TimeInterval]
    provenance: str


class GrafanaMessage(Model):
    """A plain Grafana answer."""

    message: str
