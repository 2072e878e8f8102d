"""Event bodies and answers: the writable part of the client's Event model (what POST and
PUT read, bounded) and the Event the routes answer (that body, bookkeeping and the fields
Wavefront derives: runningState, creatorType, isUserEvent, canClose, canDelete).

The client's Event requires name, startTime and annotations; so does the body. Its other
fields (id, runningState, createdAt, ...) are the server's: a body may carry them back, as
the client does on an update, and they are ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from chalicelib.categories.crud_views import EntityFields
from chalicelib.store.timeline import MAX_TIME
from chalicelib.wire import Model, wavefront

MAX_NAME = 256
MAX_ANNOTATIONS = 32
MAX_ANNOTATION_KEY = 64
MAX_ANNOTATION_VALUE = 4096
MAX_HOSTS = 100
MAX_HOST = 256
MAX_DIMENSIONS = 16
MAX_DIMENSION_VALUES = 16
MAX_DIMENSION_VALUE = 128

Time = Annotated[StrictInt, Field(ge=0, le=MAX_TIME)]
Host = Annotated[StrictStr, Field(min_length=1, max_length=MAX_HOST)]
AnnotationKey = Annotated[StrictStr, Field(min_length=1, max_length=MAX_ANNOTATION_KEY)]
AnnotationValue = Annotated[StrictStr, Field(max_length=MAX_ANNOTATION_VALUE)]
DimensionKey = Annotated[StrictStr, Field(min_length=1, max_length=MAX_DIMENSION_VALUE)]
DimensionValue = Annotated[StrictStr, Field(min_length=1, max_length=MAX_DIMENSION_VALUE)]
CreatorType = Literal["USER", "ALERT", "SYSTEM"]
RunningState = Literal["ONGOING", "PENDING", "ENDED"]


class EventBody(Model):
    """The writable part of the client's Event model; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME, pattern=r"\S", description="Not blank")
    startTime: Time = Field(description="Epoch milliseconds")
    endTime: Time | None = Field(default=None, description="Epoch milliseconds; absent: ongoing until closed")
    annotations: dict[AnnotationKey, AnnotationValue] = Field(
        max_length=MAX_ANNOTATIONS, description="severity, type, details, ..."
    )
    hosts: list[Host] | None = Field(default=None, max_length=MAX_HOSTS)
    isEphemeral: StrictBool | None = Field(default=None, description="An instant: it ends 1 ms after its start")
    dimensions: dict[DimensionKey, list[DimensionValue]] | None = Field(default=None, max_length=MAX_DIMENSIONS)
    tags: list[StrictStr] | None = None
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    @field_validator("dimensions")
    @classmethod
    def _few_values(cls, dims: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for key, values in (dims or {}).items():
            if len(values) > MAX_DIMENSION_VALUES:
                raise ValueError(f"dimension {key!r} has more than {MAX_DIMENSION_VALUES} values")
        return dims

    @model_validator(mode="after")
    def _span(self) -> EventBody:
        if self.endTime is not None and self.endTime < self.startTime:
            raise ValueError("endTime must not be before startTime")
        return self


class Event(EntityFields):
    """The client's Event model as answered."""

    name: str
    startTime: int
    endTime: int | None = None
    annotations: dict[str, str]
    hosts: list[str] | None = None
    isEphemeral: bool | None = None
    dimensions: dict[str, list[str]] | None = None
    tags: list[str]
    table: str = Field(description="The tenant")
    createdAt: int
    updatedAt: int
    creatorType: list[CreatorType]
    isUserEvent: bool
    canDelete: bool
    canClose: bool
    runningState: RunningState
    computedHlps: list[wavefront.SourceLabelPair] | None = Field(
        default=None, description="Alert firings: the series that fired"
    )
