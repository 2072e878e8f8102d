"""Alert bodies and answers: the writable part of the client's Alert model (what POST and
PUT read) and the Alert the routes answer (that body, bookkeeping and derived state), plus
the answers particular to alerts.

The parts of the body are the generated wire models (chalicelib/wire/wavefront.py) as they
are. The body itself is the writable part of the client's Alert, so it is declared here: the
generated Alert also has the read-only fields, which this body ignores rather than stores.

pydantic only, so search.py declares the alert search routes without loading alert.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from chalicelib.categories.crud_views import EntityFields, Page, not_blank
from chalicelib.wire import Model, wavefront

Severity = Literal["INFO", "SMOKE", "WARN", "SEVERE"]
QueryType = Literal["WQL", "PROMQL", "HYBRID"]
AlertState = Literal["CHECKING", "FIRING", "NO_DATA", "INVALID", "SNOOZED", "IN_MAINTENANCE"]
SEVERITY_KEYS = ("info", "smoke", "warn", "severe")  # least to most severe (THRESHOLD keys)

# ---- body ------------------------------------------------------------------------------


class _Part(Model):
    model_config = ConfigDict(extra="ignore")


class AlertTags(wavefront.WFTags, _Part):
    """The client's WFTags."""


class AlertDashboard(wavefront.AlertDashboard, _Part):
    """The client's AlertDashboard."""


class TriageDashboard(wavefront.TriageDashboard, _Part):
    """The client's TriageDashboard."""


class AlertSource(wavefront.AlertSource, _Part):
    """The client's AlertSource (multi-query alerts)."""


class AlertBody(_Part):
    """The writable part of the client's Alert model; other fields are ignored."""

    name: StrictStr = Field(min_length=1, max_length=512)
    condition: StrictStr | None = None
    conditions: dict[str, StrictStr] | None = None
    minutes: StrictInt = Field(ge=1)
    alertType: Literal["CLASSIC", "THRESHOLD"] | None = None
    severity: Severity | None = None
    displayExpression: StrictStr | None = None
    conditionQueryType: QueryType | None = None
    displayExpressionQueryType: QueryType | None = None
    target: StrictStr | None = None
    targets: dict[str, StrictStr] | None = None
    resolveAfterMinutes: StrictInt | None = Field(default=None, ge=1)
    notificationResendFrequencyMinutes: StrictInt | None = Field(default=None, ge=0)
    processRateMinutes: StrictInt | None = Field(default=None, ge=1)
    additionalInformation: StrictStr | None = None
    runbookLinks: list[StrictStr] | None = None
    application: list[StrictStr] | None = None
    service: list[StrictStr] | None = None
    alertTriageDashboards: list[AlertDashboard] | None = None
    triageDashboards: list[TriageDashboard] | None = None
    alertSources: list[AlertSource] | None = None
    includeObsoleteMetrics: StrictBool | None = None
    evaluateRealtimeData: StrictBool | None = None
    enablePDIncidentBySeries: StrictBool | None = None
    secureMetricDetails: StrictBool | None = None
    conditionQBEnabled: StrictBool | None = None
    conditionQBSerialization: StrictStr | None = None
    displayExpressionQBEnabled: StrictBool | None = None
    displayExpressionQBSerialization: StrictStr | None = None
    alertChartBase: StrictInt | None = None
    alertChartUnits: StrictStr | None = None
    alertChartDescription: StrictStr | None = None
    chartAttributes: dict[str, Any] | None = None
    ingestionPolicyId: StrictStr | None = None
    tags: AlertTags | None = None
    version: StrictInt | None = Field(default=None, ge=1)  # the version the writer last read

    _named = field_validator("name")(not_blank)

    @field_validator("conditions", "targets")
    @classmethod
    def _severity_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            wrong = sorted(set(value) - set(SEVERITY_KEYS))
            if wrong:
                raise ValueError(f"keys must be among {', '.join(SEVERITY_KEYS)}, not {', '.join(wrong)}")
        return value

    @model_validator(mode="after")
    def _shape(self) -> AlertBody:
        if self.alertType == "THRESHOLD":
            if not self.conditions:
                raise ValueError('a THRESHOLD alert needs conditions, e.g. {"warn": "ts(cpu) > 2"}')
            if not self.condition:
                most_severe = [k for k in SEVERITY_KEYS if k in self.conditions][-1]
                self.condition = self.conditions[most_severe]
        elif not self.condition or not self.condition.strip():
            raise ValueError("condition is required")
        return self


# ---- answers ---------------------------------------------------------------------------


class FiringEvent(Model):
    """The open firing's event as an alert shows it (the client's Event: these fields)."""

    id: str | None = None
    name: str
    startTime: int
    annotations: dict[str, str]
    creatorType: list[Literal["ALERT"]]
    isUserEvent: bool
    runningState: Literal["ONGOING"]


class Alert(AlertBody, EntityFields):
    """The client's Alert model as answered: the stored body, bookkeeping and derived state."""

    condition: str = Field(description="For a THRESHOLD alert, its most severe condition")
    alertType: Literal["CLASSIC", "THRESHOLD"]
    tags: AlertTags
    version: int
    hidden: bool = Field(description="Uninstalled")
    status: list[AlertState] = Field(
        description="CHECKING, FIRING, NO_DATA or INVALID, then IN_MAINTENANCE and SNOOZED when they apply"
    )
    querySyntaxError: bool
    createUserId: str | None = None
    updateUserId: str | None = None
    snoozed: int | None = Field(default=None, description="-1: until unsnoozed; else when the snooze ends (epoch ms)")
    lastErrorMessage: str | None = Field(default=None, description="Why the alert is INVALID")
    metricsUsed: list[str] | None = Field(default=None, description="Metrics its WQL conditions read")
    hostsUsed: list[str] | None = Field(default=None, description="Sources its WQL conditions name")
    severityList: list[Severity] | None = Field(
        default=None, description="THRESHOLD alerts: severities with a condition"
    )
    notificants: list[str] | None = Field(default=None, description="Ids of the alert targets it names")
    # What the last evaluation found (absent before the first one): docs/alert-evaluation.md.
    failingHostLabelPairs: list[wavefront.SourceLabelPair] | None = None
    inMaintenanceHostLabelPairs: list[wavefront.SourceLabelPair] | None = None
    activeMaintenanceWindows: list[str] | None = None
    event: FiringEvent | None = Field(default=None, description="The open firing's event")
    lastProcessedMillis: int | None = None
    lastQueryTime: int | None = None
    pointsScannedAtLastQuery: int | None = None
    lastEventTime: int | None = None
    lastFailedTime: int | None = None
    lastNotificationMillis: int | None = None


class AlertCounts(Model):
    """Alerts per state (an alert may count in several)."""

    checking: int
    snoozed: int
    invalid: int


class AlertsSummary(AlertCounts):
    """GET /alert/summary: alerts per state, and in the trash."""

    trash: int


class PagedAlertWithStats(Page):
    """The client's PagedAlertWithStats: one page of a search, and counts over every match."""

    items: list[Alert]
    alertCounts: AlertCounts


class NotificationMessage(Model):
    """The client's NotificationMessages, as /alert/preview answers them."""

    id: str
    method: Literal["WEBHOOK", "PAGERDUTY", "EMAIL"]
    name: str
    subject: str
    content: str
    additionalInfo: dict[str, str]
    createdEpochMillis: int


class QueryTypeDTO(Model):
    """The client's QueryTypeDTO, as checkQuery answers it."""

    inputQuery: str
    queryType: Literal["WQL"]
