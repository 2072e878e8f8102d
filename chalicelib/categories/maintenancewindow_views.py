"""Maintenance window bodies and answers: the writable part of the client's MaintenanceWindow
(what POST and PUT read, bounded) and the MaintenanceWindow the routes answer (that body,
bookkeeping and the derived runningState).

pydantic only, like alert_views.py.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
)

from chalicelib.categories.crud_views import EntityFields, not_blank
from chalicelib.wire import Model

MAX_TITLE = 256
MAX_TEXT = 4096  # reason, pointTagFilter
MAX_NAME = 256  # one tag, host name, event name or target
MAX_NAMES = 100  # entries of each list
# Seconds since the epoch up to the end of year 9999: what any client means by a date.
MAX_EPOCH_SECONDS = 253_402_300_799

RunningState = Literal["ONGOING", "PENDING", "ENDED"]
Name = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME)]
Names = Annotated[list[Name], Field(max_length=MAX_NAMES)]
EpochSeconds = Annotated[StrictInt, Field(ge=0, le=MAX_EPOCH_SECONDS)]


class MaintenanceWindowBody(Model):
    """The writable part of the client's MaintenanceWindow; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    title: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TITLE), AfterValidator(not_blank)]
    reason: StrictStr = Field(max_length=MAX_TEXT)
    startTimeInSeconds: EpochSeconds
    endTimeInSeconds: EpochSeconds
    relevantCustomerTags: Names
    relevantCustomerTagsAnded: StrictBool | None = None
    relevantHostTags: Names | None = None
    relevantHostTagsAnded: StrictBool | None = None
    relevantHostNames: Names | None = None
    hostTagGroupHostNamesGroupAnded: StrictBool | None = None
    pointTagFilter: StrictStr | None = Field(default=None, max_length=MAX_TEXT)
    pointTagFilterAnded: StrictBool | None = None
    eventName: Name | None = None
    targets: Names | None = Field(default=None, description="Alert targets notified instead of the alerts' own")
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    @field_validator("endTimeInSeconds")
    @classmethod
    def _after_start(cls, end: int, info: ValidationInfo) -> int:
        start = info.data.get("startTimeInSeconds")
        if start is not None and end <= start:
            raise ValueError(f"must be after startTimeInSeconds ({start})")
        return end


class MaintenanceWindow(MaintenanceWindowBody, EntityFields):
    """The client's MaintenanceWindow as answered: the stored body, bookkeeping and state."""

    version: int
    runningState: RunningState = Field(description="From the clock: PENDING before start, ONGOING until end, ENDED")
