"""Dashboard bodies and answers in the Wavefront dialect: the client's Dashboard model
(sections, rows, charts, chartSettings, sources, parameters) as pydantic schemas.

The parts are the generated wire models (chalicelib/wire/wavefront.py) with the rules the
client leaves open on top (required fields). The schemas validate what POST and PUT read (types, required fields and the client's enum
lists, so that every stored dashboard reads back through the client's own model); the
document is stored as posted, not as these models dump it. Unknown keys are allowed and
kept. pydantic only, so search.py declares the dashboard search routes without loading
dashboard.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from chalicelib.categories.crud_views import EntityFields
from chalicelib.dashboards.store import MAX_TITLE
from chalicelib.wire import Model, wavefront

ChartType = Literal[
    "line",
    "scatterplot",
    "stacked-area",
    "stacked-column",
    "table",
    "scatterplot-xy",
    "markdown-widget",
    "sparkline",
    "globe",
    "nodemap",
    "top-k",
    "status-list",
    "histogram",
    "heatmap",
    "gauge",
    "pie",
]
QueryType = Literal["WQL", "PROMQL", "HYBRID"]
MAX_ID = 256


class _Part(Model):
    # Validation only: the document keeps every key as posted.
    model_config = ConfigDict(extra="allow")


class DashboardTags(wavefront.WFTags, _Part):
    """The client's WFTags."""


class LogsSort(wavefront.LogsSort, _Part):
    """The client's LogsSort: `order` is one of the two the client's UI writes (it leaves it open)."""

    order: Literal["ASCENDING", "DESCENDING"] | None = None


class LogsTable(wavefront.LogsTable, _Part):
    """The client's LogsTable."""

    sort: LogsSort | None = None


class ChartSettings(wavefront.ChartSettings, _Part):
    """The client's ChartSettings: `type` is required."""

    type: ChartType
    logsTable: LogsTable | None = None


class ChartSourceQuery(wavefront.ChartSourceQuery, _Part):
    """The client's ChartSourceQuery: a source has a name and a query."""

    name: StrictStr
    query: StrictStr


class Chart(wavefront.Chart, _Part):
    """The client's Chart: named, with its sources; chartAttributes is any JSON."""

    name: StrictStr
    sources: list[ChartSourceQuery]  # type: ignore[assignment]  # narrowed to our parts (list is invariant)
    chartSettings: ChartSettings | None = None
    chartAttributes: Any = None


class DashboardSectionRow(wavefront.DashboardSectionRow, _Part):
    """The client's DashboardSectionRow: a row has charts."""

    charts: list[Chart]  # type: ignore[assignment]  # narrowed to our parts


class DashboardSection(wavefront.DashboardSection, _Part):
    """The client's DashboardSection: named, with rows; sectionFilter is any JSON."""

    name: StrictStr
    rows: list[DashboardSectionRow]  # type: ignore[assignment]  # narrowed to our parts
    sectionFilter: Any = None


class DashboardParameterValue(wavefront.DashboardParameterValue, _Part):
    """The client's DashboardParameterValue."""


class DashboardUpdate(_Part):
    """The writable part of the client's Dashboard (PUT: `id`, when sent, must be the path's).
    Server bookkeeping the client echoes back (created, version, acl, ...) is accepted and
    not stored; `version`, when sent, must be the stored one (409 otherwise)."""

    id: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_ID)
    name: StrictStr = Field(min_length=1, max_length=MAX_TITLE)
    sections: list[DashboardSection]
    url: StrictStr | None = None
    description: StrictStr | None = None
    tags: DashboardTags | None = None
    version: StrictInt | None = Field(default=None, ge=1, description="The version the writer last read")
    parameters: dict[str, StrictStr] | None = None
    parameterDetails: dict[str, DashboardParameterValue] | None = None
    eventFilterType: Literal["BYCHART", "AUTOMATIC", "ALL", "NONE", "BYDASHBOARD", "BYCHARTANDDASHBOARD"] | None = None
    eventQuery: StrictStr | None = None
    defaultStartTime: StrictInt | None = None
    defaultEndTime: StrictInt | None = None
    defaultTimeWindow: StrictStr | None = None
    chartTitleBgColor: StrictStr | None = None
    chartTitleColor: StrictStr | None = None
    chartTitleScalar: StrictInt | None = None
    dashboardAttributes: Any = None
    disableRefreshInLiveMode: StrictBool | None = None
    displayDescription: StrictBool | None = None
    displayQueryParameters: StrictBool | None = None
    displaySectionTableOfContents: StrictBool | None = None
    forceV2UI: StrictBool | None = None
    hideChartWarning: StrictBool | None = None
    includeObsoleteMetrics: StrictBool | None = None

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("must not be blank")
        return name


class DashboardBody(DashboardUpdate):
    """POST: the client's Dashboard with its client-chosen `id`."""

    id: StrictStr = Field(min_length=1, max_length=MAX_ID, description="Letters, digits, '-' and '_'")


# ---- answers ---------------------------------------------------------------------------


class Dashboard(DashboardUpdate, EntityFields):
    """The client's Dashboard as answered: the stored body, bookkeeping, tags and the
    caller's favorite flag. A dashboard saved through the Grafana dialect is shown with
    sections derived from its panels."""

    id: str
    url: str
    tags: DashboardTags
    version: int
    favorite: bool = Field(description="Has the caller made it a favorite (a Grafana star)?")
    numCharts: int
