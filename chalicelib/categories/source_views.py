"""Source bodies: the writable part of the client's Source model (what POST and PUT read).
The answer is the generated Source (chalicelib/wire/wavefront.py) as it is.

A source's id is its name (a host, as ingestion reports it), so the body names it twice
(`id` and `sourceName`, both required by the client's model) and the two must agree.
"""

from __future__ import annotations

import re

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from chalicelib.domain.entities import valid_tag
from chalicelib.errors import Invalid
from chalicelib.wire import Model

# Wavefront's source names: letters, digits, '-', '_' and '.', under 128 characters. (Its
# data format also takes '/' and ',' in a quoted source; those cannot be a URL path segment.)
MAX_NAME = 127
NAME_CHARACTERS = r"^[A-Za-z0-9._-]+$"
NAME_PATTERN = re.compile(NAME_CHARACTERS)
MAX_DESCRIPTION = 1024
MAX_TAGS = 100  # also OPSPLANE_MAX_TAGS, the bound of every entity's tags


def check_name(name: str, what: str = "id") -> str:
    """A source name as Wavefront accepts it (400 naming `what` otherwise)."""
    if len(name) > MAX_NAME or not NAME_PATTERN.fullmatch(name):
        raise Invalid(f"{what}: a source name is 1 to {MAX_NAME} letters, digits, '-', '_' or '.'")
    return name


class SourceBody(Model):
    """The writable part of the client's Source; other fields (bookkeeping, the derived
    `hidden`, `markedNewEpochMillis`) are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: StrictStr = Field(min_length=1, max_length=MAX_NAME, pattern=NAME_CHARACTERS)
    sourceName: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    description: StrictStr | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: dict[StrictStr, StrictBool] | None = Field(default=None, max_length=MAX_TAGS)
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, tags: dict[str, bool] | None) -> dict[str, bool] | None:
        for tag in tags or {}:
            try:
                valid_tag(tag)
            except Invalid as exc:
                raise ValueError(exc.message) from exc
        return tags

    @model_validator(mode="after")
    def _one_name(self) -> SourceBody:
        if self.sourceName != self.id:
            raise ValueError(f"sourceName must equal id ({self.id!r}), not {self.sourceName!r}")
        return self

    def tag_list(self) -> list[str] | None:
        """The tags the body sets (those mapped to true), None when it names none."""
        return None if self.tags is None else sorted(t for t, on in self.tags.items() if on)
