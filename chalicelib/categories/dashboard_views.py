"""Dashboard bodies and answers in the Wavefront dialect: the client's Dashboard model
(sections, rows, charts, chartSettings, sources, parameters) as pydantic schemas.

The schemas validate what POST and PUT read (types, required fields and the client's enum
lists, so that every stored dashboard reads back through the client's own model); the
document is stored as posted, not as these models dump it. Unknown keys are allowed and
kept. pydantic only, so search.py declares the dashboard search routes without loading
dashboard.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from chalicelib.categories.crud_views import EntityFields
from chalicelib.dashboards.store import MAX_TITLE

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


class _Part(BaseModel):
    # Validation only: the document keeps every key as posted.
    model_config = ConfigDict(extra="allow")


class DashboardTags(_Part):
    """The client's WFTags."""

    customerTags: list[StrictStr] | None = None


class LogsSort(_Part):
    """The client's LogsSort."""

    order: Literal["ASCENDING", "DESCENDING"] | None = None
    setBy: StrictStr | None = None


class LogsTable(_Part):
    """The client's LogsTable."""

    autoLoad: StrictBool | None = None
    columns: list[StrictStr] | None = None
    linesToShow: StrictStr | None = None
    sort: LogsSort | None = None


class ChartSettings(_Part):
    """The client's ChartSettings: `type` is required and must be one of the client's."""

    type: ChartType
    autoColumnTags: StrictBool | None = None
    chartDefaultColor: StrictStr | None = None
    columnTags: StrictStr | None = None
    customTags: list[StrictStr] | None = None
    defaultSortColumn: StrictStr | None = None
    expectedDataSpacing: StrictInt | None = None
    fixedLegendDisplayStats: list[StrictStr] | None = None
    fixedLegendEnabled: StrictBool | None = None
    fixedLegendFilterField: Literal["CURRENT", "MEAN", "MEDIAN", "SUM", "MIN", "MAX", "COUNT"] | None = None
    fixedLegendFilterLimit: StrictInt | None = None
    fixedLegendFilterSort: Literal["TOP", "BOTTOM"] | None = None
    fixedLegendHideLabel: StrictBool | None = None
    fixedLegendPosition: Literal["RIGHT", "TOP", "LEFT", "BOTTOM"] | None = None
    fixedLegendShowMetricName: StrictBool | None = None
    fixedLegendShowSourceName: StrictBool | None = None
    fixedLegendUseRawStats: StrictBool | None = None
    groupBySource: StrictBool | None = None
    invertDynamicLegendHoverControl: StrictBool | None = None
    lineType: Literal["linear", "step-before", "step-after", "basis", "cardinal", "monotone"] | None = None
    logsTable: LogsTable | None = None
    max: StrictFloat | None = None
    min: StrictFloat | None = None
    numTags: StrictInt | None = None
    plainMarkdownContent: StrictStr | None = None
    showHosts: StrictBool | None = None
    showLabels: StrictBool | None = None
    showRawValues: StrictBool | None = None
    showValueColumn: StrictBool | None = None
    sortValuesDescending: StrictBool | None = None
    sparklineDecimalPrecision: StrictInt | None = None
    sparklineDisplayColor: StrictStr | None = None
    sparklineDisplayFontSize: StrictStr | None = None
    sparklineDisplayHorizontalPosition: Literal["MIDDLE", "LEFT", "RIGHT"] | None = None
    sparklineDisplayPostfix: StrictStr | None = None
    sparklineDisplayPrefix: StrictStr | None = None
    sparklineDisplayValueType: Literal["VALUE", "LABEL"] | None = None
    sparklineDisplayVerticalPosition: StrictStr | None = None
    sparklineFillColor: StrictStr | None = None
    sparklineLineColor: StrictStr | None = None
    sparklineSize: Literal["BACKGROUND", "BOTTOM", "NONE"] | None = None
    sparklineValueColorMapApplyTo: Literal["TEXT", "BACKGROUND"] | None = None
    sparklineValueColorMapColors: list[StrictStr] | None = None
    sparklineValueColorMapValues: list[StrictInt] | None = None
    sparklineValueColorMapValuesV2: list[StrictFloat] | None = None
    sparklineValueTextMapText: list[StrictStr] | None = None
    sparklineValueTextMapThresholds: list[StrictFloat] | None = None
    stackType: Literal["zero", "expand", "wiggle", "silhouette", "bars"] | None = None
    tagMode: Literal["all", "top", "custom"] | None = None
    timeBasedColoring: StrictBool | None = None
    windowSize: StrictInt | None = None
    windowing: Literal["full", "last"] | None = None
    xmax: StrictFloat | None = None
    xmin: StrictFloat | None = None
    y0ScaleSIBy1024: StrictBool | None = None
    y0UnitAutoscaling: StrictBool | None = None
    y1Max: StrictFloat | None = None
    y1Min: StrictFloat | None = None
    y1ScaleSIBy1024: StrictBool | None = None
    y1UnitAutoscaling: StrictBool | None = None
    y1Units: StrictStr | None = None
    ymax: StrictFloat | None = None
    ymin: StrictFloat | None = None


class ChartSourceQuery(_Part):
    """The client's ChartSourceQuery."""

    name: StrictStr
    query: StrictStr
    queryType: QueryType | None = None
    disabled: StrictBool | None = None
    querybuilderEnabled: StrictBool | None = None
    querybuilderSerialization: StrictStr | None = None
    scatterPlotSource: Literal["X", "Y"] | None = None
    secondaryAxis: StrictBool | None = None
    sourceColor: StrictStr | None = None
    sourceDescription: StrictStr | None = None


class Chart(_Part):
    """The client's Chart."""

    name: StrictStr
    sources: list[ChartSourceQuery]
    chartSettings: ChartSettings | None = None
    description: StrictStr | None = None
    units: StrictStr | None = None
    base: StrictInt | None = None
    summarization: Literal["MEAN", "MEDIAN", "MIN", "MAX", "SUM", "COUNT", "LAST", "FIRST"] | None = None
    anomalyDetectionOn: StrictBool | None = None
    anomalySampleSize: Literal["2", "8", "35"] | None = None
    anomalySeverity: Literal["low", "medium", "high"] | None = None
    anomalyType: Literal["both", "low", "high"] | None = None
    chartAttributes: Any = None
    displayConfidenceBounds: StrictBool | None = None
    filterOutNonAnomalies: StrictBool | None = None
    includeObsoleteMetrics: StrictBool | None = None
    interpolatePoints: StrictBool | None = None
    noDefaultEvents: StrictBool | None = None


class DashboardSectionRow(_Part):
    """The client's DashboardSectionRow."""

    charts: list[Chart]
    heightFactor: StrictInt | None = None


class DashboardSection(_Part):
    """The client's DashboardSection."""

    name: StrictStr
    rows: list[DashboardSectionRow]
    id: StrictStr | None = None
    sectionFilter: Any = None


class DashboardParameterValue(_Part):
    """The client's DashboardParameterValue."""

    allowAll: StrictBool | None = None
    defaultValue: StrictStr | None = None
    description: StrictStr | None = None
    dynamicFieldType: Literal["SOURCE", "SOURCE_TAG", "METRIC_NAME", "TAG_KEY", "MATCHING_SOURCE_TAG"] | None = None
    hideFromView: StrictBool | None = None
    label: StrictStr | None = None
    multivalue: StrictBool | None = None
    order: StrictInt | None = None
    parameterType: Literal["SIMPLE", "LIST", "DYNAMIC"] | None = None
    queryValue: StrictStr | None = None
    reverseDynSort: StrictBool | None = None
    tagKey: StrictStr | None = None
    tagsBlackListRegex: StrictStr | None = None
    valueOrdering: list[StrictStr] | None = None
    valuesToReadableStrings: dict[str, StrictStr] | None = None


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
