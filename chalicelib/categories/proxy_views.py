"""Proxy bodies: what PUT /api/v2/proxy/{id} may change (the client's Proxy model, whose
other fields are the proxy's own report or the server's bookkeeping and are ignored), what
a proxy posts when it checks in, and the preprocessor rules set for it.

A proxy record is made by the proxy itself at its first check-in (id = its UUID); the API
renames it, sets its rate limits and feature switches, shuts it down, and sets the
preprocessor rules the proxy receives with its configuration.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from chalicelib.categories.event_views import Event
from chalicelib.errors import Invalid
from chalicelib.wire import Model, wavefront

MAX_NAME = 256
MAX_RULES_BYTES = 64 * 1024  # the preprocessor rules' YAML
MAX_RATE = 10**9  # points (spans, ...) per second: any real limit is far below
MAX_RULE_PORTS = 100
MAX_RULES_PER_PORT = 1000


def parse_rules(text: str) -> dict[str, Any]:
    """Preprocessor rules as the proxy reads them: a YAML mapping of port (or "global") to a
    list of rules, each a mapping with at least `rule` (its name) and `action`. Anchors and
    aliases are refused (an alias bomb would inflate when the rules are answered as JSON)."""
    import yaml  # only the routes that read rules pay for the import

    if len(text.encode()) > MAX_RULES_BYTES:
        raise Invalid(f"preprocessorRules: at most {MAX_RULES_BYTES} bytes")
    try:
        if any(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None) for e in yaml.parse(text)):
            raise Invalid("preprocessorRules: YAML anchors and aliases are not accepted")
        rules = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid(f"preprocessorRules: not YAML ({str(exc).splitlines()[0]})") from exc
    if rules is None:
        return {}
    if not isinstance(rules, dict) or len(rules) > MAX_RULE_PORTS:
        raise Invalid(f"preprocessorRules: a mapping of up to {MAX_RULE_PORTS} ports (or 'global') to rule lists")
    for port, listed in rules.items():
        where = f"preprocessorRules[{port!r}]"
        if not isinstance(port, str | int) or not isinstance(listed, list) or len(listed) > MAX_RULES_PER_PORT:
            raise Invalid(f"{where}: a list of up to {MAX_RULES_PER_PORT} rules")
        for n, rule in enumerate(listed):
            if (
                not isinstance(rule, dict)
                or not isinstance(rule.get("rule"), str)
                or not isinstance(rule.get("action"), str)
            ):
                raise Invalid(f"{where}[{n}]: a rule is a mapping with string 'rule' and 'action'")
    return {str(port): listed for port, listed in rules.items()}


class ProxyBody(Model):
    """The part of the client's Proxy the API may change. `version` is the proxy's build
    (its own report), not a record version: updates are last-writer-wins, as Wavefront's."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME)
    preprocessorRules: StrictStr | None = Field(default=None, max_length=MAX_RULES_BYTES)
    shutdown: StrictBool | None = None
    collectorSetsRateLimit: StrictBool | None = None
    collectorRateLimit: StrictInt | None = Field(default=None, ge=0, le=MAX_RATE)
    histogramRateLimit: StrictInt | None = Field(default=None, ge=0, le=MAX_RATE)
    spanRateLimit: StrictInt | None = Field(default=None, ge=0, le=MAX_RATE)
    spanLogsRateLimit: StrictInt | None = Field(default=None, ge=0, le=MAX_RATE)
    eventsRateLimit: StrictFloat | StrictInt | None = Field(default=None, ge=0, le=MAX_RATE)
    sourceTagsRateLimit: StrictFloat | StrictInt | None = Field(default=None, ge=0, le=MAX_RATE)
    histoDisabled: StrictBool | None = None
    traceDisabled: StrictBool | None = None
    spanLogsDisabled: StrictBool | None = None
    logsDisabled: StrictBool | None = None

    @field_validator("preprocessorRules")
    @classmethod
    def _rules_parse(cls, text: str | None) -> str | None:
        if text is not None:
            try:
                parse_rules(text)
            except Invalid as exc:
                raise ValueError(exc.message) from exc
        return text


class Proxy(wavefront.Proxy):
    """The client's Proxy as answered (an error event would be the events category's Event;
    none is recorded yet)."""

    lastErrorEvent: Event | None = None  # type: ignore[assignment]  # the same wire shape, one schema name


class AgentMetrics(Model):
    """What a proxy posts at check-in: its own metrics (a JSON object, Jackson's JsonNode).
    Kept only as proof of life: nothing in it is stored."""

    model_config = ConfigDict(extra="allow")


class AgentConfiguration(Model):
    """What the proxy reads back from its check-in (the proxy's AgentConfiguration): the
    limits and switches set through the API, the preprocessor rules, the server's time."""

    model_config = ConfigDict(extra="allow")

    currentTime: StrictInt
    name: StrictStr | None = None
    shutOffAgents: StrictBool = False
    collectorSetsRateLimit: StrictBool = False
    collectorRateLimit: StrictInt | None = None
    histogramRateLimit: StrictInt | None = None
    spanRateLimit: StrictInt | None = None
    spanLogsRateLimit: StrictInt | None = None
    eventsRateLimit: float | None = None
    sourceTagsRateLimit: float | None = None
    histogramDisabled: StrictBool = False
    traceDisabled: StrictBool = False
    spanLogsDisabled: StrictBool = False
    preprocessorRules: StrictStr | None = None
