"""Access policy bodies: the client's AccessPolicy as PUT sends it (its rules are what is
read; `customer` and `lastUpdatedMs` are the server's and ignored). The answer is the
generated AccessPolicy (chalicelib/wire/wavefront.py) as it is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictStr, field_validator

from chalicelib.categories.crud_views import not_blank
from chalicelib.errors import Invalid
from chalicelib.identity import network
from chalicelib.wire import Model

MAX_RULES = 200
MAX_NAME = 256
MAX_DESCRIPTION = 1024
MAX_SUBNET = 64  # the longest IPv6 CIDR written out is 43 characters


class RuleBody(Model):
    """One rule: an action on an IPv4 or IPv6 CIDR range (a bare address is one host)."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["ALLOW", "DENY"]
    subnet: StrictStr = Field(min_length=1, max_length=MAX_SUBNET)
    name: StrictStr | None = Field(default=None, max_length=MAX_NAME)
    description: StrictStr | None = Field(default=None, max_length=MAX_DESCRIPTION)

    @field_validator("subnet")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            return network.subnet(value)
        except Invalid as exc:  # pydantic names the field of a ValueError
            raise ValueError(str(exc)) from exc

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return not_blank(value) if value is not None else None

    def rule(self) -> network.Rule:
        return network.Rule(action=self.action, subnet=self.subnet, name=self.name, description=self.description)


class AccessPolicyBody(Model):
    """The client's AccessPolicy: `policyRules` replaces the tenant's rules ([] clears them)."""

    model_config = ConfigDict(extra="ignore")

    policyRules: list[RuleBody] = Field(max_length=MAX_RULES)
