"""Integrations through the unmodified Wavefront client (IntegrationApi) against the live
server: all 11 operations of integration_api.py, and the round trip through the dashboard
and alert APIs (what install made is what uninstall removes)."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import refused_status, wavefront

pytestmark = pytest.mark.e2e

CATALOG = ["aws-lambda", "dynamodb", "kubernetes", "linux"]


def test_can_drive_every_integration_operation(server, fresh):
    client = wavefront(server.url, fresh.token)
    api = wf.IntegrationApi(client)
    dashboards, alerts = wf.DashboardApi(client), wf.AlertApi(client)
    # the catalog, with this tenant's status
    page = api.get_all_integration(offset=0, limit=100, exclude_dashboard=False).response
    assert sorted(i.id for i in page.items) == CATALOG and page.total_items == 4
    assert all(i.status.install_status == "UNDECIDED" for i in page.items)
    groups = api.get_all_integration_in_manifests().response
    assert sorted(i for g in groups for i in g.integrations) == CATALOG
    assert [g.title for g in api.get_all_integration_in_manifests_min().response] == [g.title for g in groups]
    assert sorted(api.get_all_integration_statuses().response) == CATALOG
    k8s = api.get_integration("kubernetes", refresh=False).response
    assert k8s.metrics.prefixes == ["kubernetes."] and len(k8s.dashboards) == 2
    assert api.get_installed_integration(has_content=False, return_content=False).response == []
    # install: ordinary dashboards, read back through the dashboard API
    assert api.install_integration("kubernetes").response.content_status == "VISIBLE"
    made = [d.dashboard_min_obj.id for d in k8s.dashboards]
    for uid in made:
        assert dashboards.get_dashboard(uid).response.tags.customer_tags == ["integration.kubernetes"]
    assert api.install_integration("kubernetes").response.install_status == "INSTALLED"  # idempotent
    # alerts, with the alert target the body names
    status = api.install_all_integration_alerts("kubernetes", body=wf.InstallAlerts(target="oncall@example.com"))
    assert status.response.install_status == "INSTALLED"
    installed = api.get_installed_integration(has_content=True, return_content=True).response
    assert [i.id for i in installed] == ["kubernetes"]
    alert_ids = [a.alert_min_obj.id for a in installed[0].alerts]
    assert all(alerts.get_alert(i).response.target == "oncall@example.com" for i in alert_ids)
    assert api.get_integration_status("kubernetes").response.content_status == "VISIBLE"
    # uninstall both: exactly what was made is gone
    api.uninstall_all_integration_alerts("kubernetes")
    for alert_id in alert_ids:
        assert refused_status(lambda alert_id=alert_id: alerts.get_alert(alert_id)) == 404
    gone = api.uninstall_integration("kubernetes").response
    assert (gone.install_status, gone.content_status) == ("UNINSTALLED", "NOT_LOADED")
    for uid in made:
        assert refused_status(lambda uid=uid: dashboards.get_dashboard(uid)) == 404
    assert refused_status(lambda: api.get_integration("nope")) == 404
    assert refused_status(lambda: api.install_all_integration_alerts("linux", body={"target": "nope"})) == 400
