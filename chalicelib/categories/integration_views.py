"""The integration catalog and the integration answers.

The catalog ships with the product as data files beside this module
(`chalicelib/categories/integrations/<id>.json`, one per integration, and `manifests.json`,
the groups the catalog is shown in); the Lambda asset copies chalicelib/ whole, so they
travel with the code. Each file is validated here when the catalog is first read: its
dashboards by the dashboard body schema and its alerts by the alert body schema, so
whatever install creates is what POST /dashboard and POST /alert would accept.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import ConfigDict, Field, StrictStr, field_validator

from chalicelib.categories.alert_views import AlertBody
from chalicelib.categories.dashboard_views import DashboardBody
from chalicelib.errors import NotFound
from chalicelib.wire import Model, wavefront

CATALOG_DIR = Path(__file__).with_name("integrations")
MANIFESTS = "manifests.json"
# What install-all-alerts accepts as the alerts' `target` (Wavefront: emails, pd:<key>,
# target:<alert target id>, comma-separated).
MAX_TARGET = 4096
MAX_TARGETS = 50


class _Strict(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class CatalogDashboard(_Strict):
    """One dashboard of an integration: a Wavefront Dashboard with a client-chosen id."""

    name: StrictStr
    description: StrictStr
    dashboard: DashboardBody


class CatalogAlert(_Strict):
    """One alert of an integration; key names it within the integration."""

    key: StrictStr = Field(pattern=r"^[a-z0-9-]+$")
    description: StrictStr
    alert: AlertBody


class CatalogMetrics(_Strict):
    """The metrics an integration reads."""

    prefixes: list[StrictStr]
    required: list[StrictStr]
    display: list[StrictStr]


class CatalogIntegration(_Strict):
    """One integration of the catalog."""

    id: StrictStr = Field(pattern=r"^[a-z0-9-]+$")
    name: StrictStr
    version: StrictStr
    icon: StrictStr
    description: StrictStr
    overview: StrictStr
    setup: StrictStr
    metrics: CatalogMetrics
    dashboards: list[CatalogDashboard]
    alerts: list[CatalogAlert]

    @field_validator("alerts")
    @classmethod
    def _unique_keys(cls, alerts: list[CatalogAlert]) -> list[CatalogAlert]:
        keys = [a.key for a in alerts]
        if len(keys) != len(set(keys)):
            raise ValueError("alert keys must be unique")
        return alerts


class CatalogGroup(_Strict):
    """A group of integrations as the manifests show them."""

    title: StrictStr
    subtitle: StrictStr
    integrations: list[StrictStr]


@cache
def catalog() -> dict[str, CatalogIntegration]:
    """Every integration of the catalog by id, in name order (read and checked once)."""
    found = [
        CatalogIntegration.model_validate(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(CATALOG_DIR.glob("*.json"))
        if path.name != MANIFESTS
    ]
    return {spec.id: spec for spec in sorted(found, key=lambda s: s.name.lower())}


@cache
def groups() -> list[CatalogGroup]:
    """The manifest groups; every integration of the catalog is in exactly one."""
    raw = json.loads((CATALOG_DIR / MANIFESTS).read_text(encoding="utf-8"))
    found = [CatalogGroup.model_validate(g) for g in raw]
    listed = [i for g in found for i in g.integrations]
    if sorted(listed) != sorted(catalog()):
        raise ValueError(f"{MANIFESTS} must list every integration of the catalog once")
    return found


def spec(integration_id: str) -> CatalogIntegration:
    """One integration of the catalog; NotFound for an id it does not have."""
    found = catalog().get(integration_id)
    if found is None:
        raise NotFound(f"Integration {integration_id} not found")
    return found


# ---- bodies ---------------------------------------------------------------------------------


class InstallAlerts(Model):
    """The client's InstallAlerts: the alert targets the installed alerts notify."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    target: StrictStr | None = Field(
        default=None,
        max_length=MAX_TARGET,
        description="Comma-separated: email addresses, pd:<PagerDuty key>, target:<alert target id>",
    )


# ---- answers --------------------------------------------------------------------------------


# The client's IntegrationStatus. alertStatuses is never sent: the client (2.202.2) checks
# that map's keys, not its values, against VISIBLE / HIDDEN / NOT_LOADED, so a map keyed by
# alert id breaks it; the installed alerts are in Integration.alerts (alertMinObj) instead.
# metricStatuses is not sent either: no points are ingested yet to say whether the
# integration's metrics arrive.
IntegrationStatus = wavefront.IntegrationStatus

# The answers below are the client's models with the parts opsplane sends: the generated
# ones refer to the whole Alert, Dashboard and Chart models, whose names the alert and
# dashboard categories' own models hold in the OpenAPI document.


class IntegrationMetrics(Model):
    """The client's IntegrationMetrics."""

    prefixes: list[str]
    required: list[str]
    display: list[str]
    charts: list[str]


class IntegrationDashboard(Model):
    """The client's IntegrationDashboard: dashboardObj is the dashboard install creates."""

    name: str
    description: str
    url: str
    dashboardMinObj: wavefront.DashboardMin | None = None
    dashboardObj: DashboardBody | None = None


class IntegrationAlert(Model):
    """The client's IntegrationAlert: alertMinObj names the alert the tenant installed."""

    name: str
    description: str
    url: str
    alertMinObj: wavefront.AlertMin | None = None


class Integration(Model):
    """The client's Integration: the catalog's, with the tenant's status."""

    id: str
    name: str
    version: str
    icon: str
    description: str
    hidden: bool
    deleted: bool
    haveMetricDropdown: bool
    overview: str | None = None
    setup: str | None = None
    metrics: IntegrationMetrics | None = None
    dashboards: list[IntegrationDashboard] | None = None
    alerts: list[IntegrationAlert] | None = None
    status: IntegrationStatus


class PagedIntegration(Model):
    """The client's PagedIntegration."""

    items: list[Integration]
    offset: int
    limit: int
    totalItems: int
    moreItems: bool


class IntegrationManifestGroup(Model):
    """The client's IntegrationManifestGroup."""

    title: str
    subtitle: str
    integrations: list[str]
    integrationObjs: list[Integration]
