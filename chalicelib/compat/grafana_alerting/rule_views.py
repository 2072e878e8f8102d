"""Grafana's alert rule, rule group, template and notification policy bodies and answers
(grafana-client's alerting_provisioning), bounded. The mapping onto alerts is in rules.py,
templates and policies in notifications.py.

pydantic only, like the other views.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from chalicelib.query import MAX_QUERY_LENGTH
from chalicelib.wire import Model

MAX_TITLE = 512  # an alert's name
MAX_NAME = 190  # folder uids, rule group names, label keys and values, template names
MAX_DATA = 10  # queries and expressions of one rule
MAX_LABELS = 32
MAX_ANNOTATION = 4096
MAX_RULES = 100  # rules of one rule group
MAX_TEMPLATE = 65_536  # characters of one message template
MAX_ROUTES = 100  # routes of the notification policy tree, all levels
MAX_DEPTH = 10  # nesting of the policy tree
MAX_MATCHERS = 32
MAX_SECONDS = 366 * 86_400

Name = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME)]
Short = Annotated[StrictStr, Field(max_length=MAX_NAME)]
Number = StrictInt | StrictFloat


class _Part(Model):
    model_config = ConfigDict(extra="ignore")


class RelativeTimeRange(_Part):
    """How far back a query reads, seconds before now (`to` must be 0)."""

    from_: StrictInt = Field(default=600, alias="from", ge=0, le=MAX_SECONDS)
    to: StrictInt = Field(default=0, ge=0, le=MAX_SECONDS)


class Evaluator(_Part):
    type: Short
    params: Annotated[list[Number], Field(max_length=2)] = Field(default_factory=list)


class ThresholdCondition(_Part):
    evaluator: Evaluator


class RuleModel(_Part):
    """A query's or an expression's model: a query's text, or an expression's type and input."""

    expr: Annotated[StrictStr, Field(max_length=MAX_QUERY_LENGTH)] | None = None
    query: Annotated[StrictStr, Field(max_length=MAX_QUERY_LENGTH)] | None = None
    type: Short | None = Field(default=None, description="Expressions: reduce or threshold")
    expression: Short | None = Field(default=None, description="Expressions: the refId they read")
    reducer: Short | None = None
    conditions: Annotated[list[ThresholdCondition], Field(max_length=1)] | None = None


class AlertQuery(_Part):
    """One of a rule's data items."""

    refId: Name
    datasourceUid: Name
    queryType: Short = ""
    relativeTimeRange: RelativeTimeRange = Field(default_factory=RelativeTimeRange)
    model: RuleModel


class NotificationSettings(_Part):
    receiver: Name = Field(description="A contact point's name: the alert notifies that alert target")


class AlertRuleBody(_Part):
    """POST / PUT of an alert rule (Grafana's ProvisionedAlertRule)."""

    uid: Short | None = Field(default=None, description="On a POST: must be absent (opsplane names alerts)")
    title: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TITLE, pattern=r"\S")]
    folderUID: Annotated[StrictStr, Field(min_length=1, max_length=40)]
    ruleGroup: Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME)]
    condition: Name
    data: Annotated[list[AlertQuery], Field(min_length=1, max_length=MAX_DATA)]
    for_: Annotated[StrictStr, Field(max_length=32)] = Field(default="0s", alias="for")
    noDataState: Literal["NoData"] = "NoData"
    execErrState: Literal["Error"] = "Error"
    labels: Annotated[dict[Name, Short], Field(max_length=MAX_LABELS)] = Field(default_factory=dict)
    annotations: Annotated[dict[Name, Annotated[StrictStr, Field(max_length=MAX_ANNOTATION)]], Field(max_length=8)] = (
        Field(default_factory=dict)
    )
    isPaused: StrictBool = False
    notification_settings: NotificationSettings | None = None


class AlertRule(Model):
    """An alert rule as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    uid: str
    orgID: int
    folderUID: str
    ruleGroup: str
    title: str
    condition: str
    data: list[dict[str, Any]]
    updated: str
    noDataState: str
    execErrState: str
    for_: str = Field(alias="for")
    labels: dict[str, str]
    annotations: dict[str, str]
    isPaused: bool
    provenance: str


class RuleGroupBody(_Part):
    """PUT of a rule group: its interval and every rule it holds."""

    title: Short | None = None
    folderUid: Short | None = None
    interval: StrictInt = Field(ge=60, le=86_400, description="Seconds, whole minutes: the checking frequency")
    rules: Annotated[list[AlertRuleBody], Field(max_length=MAX_RULES)]


class RuleGroup(Model):
    """A rule group as Grafana answers it."""

    title: str
    folderUid: str
    interval: int
    rules: list[AlertRule]


class TemplateBody(_Part):
    """PUT of a message template."""

    name: Short | None = Field(default=None, description="Must be absent or the path's name")
    template: Annotated[StrictStr, Field(max_length=MAX_TEMPLATE)]


class Template(Model):
    name: str
    template: str
    provenance: str


Matcher = Annotated[list[Annotated[StrictStr, Field(max_length=MAX_NAME)]], Field(min_length=3, max_length=3)]


class PolicyRoute(_Part):
    """A route of the notification policy tree (Alertmanager's)."""

    receiver: Short | None = None
    group_by: Annotated[list[Short], Field(max_length=MAX_LABELS)] | None = None
    object_matchers: Annotated[list[Matcher], Field(max_length=MAX_MATCHERS)] | None = None
    mute_time_intervals: Annotated[list[Short], Field(max_length=MAX_MATCHERS)] | None = None
    continue_: StrictBool | None = Field(default=None, alias="continue")
    group_wait: Annotated[StrictStr, Field(max_length=32)] | None = None
    group_interval: Annotated[StrictStr, Field(max_length=32)] | None = None
    repeat_interval: Annotated[StrictStr, Field(max_length=32)] | None = None
    routes: Annotated[list[PolicyRoute], Field(max_length=MAX_ROUTES)] | None = None


class PolicyTree(Model):
    """The notification policy tree as Grafana answers it."""

    model_config = ConfigDict(extra="allow")

    receiver: str
