"""Integrations: the real IntegrationApi through every operation, and the round trips that
matter: what install (install-all-alerts) made is exactly what uninstall
(uninstall-all-alerts) removes, installing twice changes nothing, and nothing a user made
is ever touched."""

from __future__ import annotations

from typing import Any

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

BASE = "/api/v2/integration"
CATALOG = ["aws-lambda", "dynamodb", "kubernetes", "linux"]
LINUX_DASHBOARDS = ["integration-linux-host"]
K8S_DASHBOARDS = ["integration-kubernetes-clusters", "integration-kubernetes-pods"]
INSTALLER = ["integration.#", "dashboard.#", "alert.#", "notificant.read", "*.read"]


def dashboards(api, token: str | None = None) -> dict[str, dict[str, Any]]:
    status, body = api.json("GET", "/api/v2/dashboard?limit=1000", token=token)
    assert status == 200, body
    return {d["id"]: d for d in body["response"]["items"]}


def alerts(api) -> dict[str, dict[str, Any]]:
    status, body = api.json("GET", "/api/v2/alert?limit=1000")
    assert status == 200, body
    return {a["id"]: a for a in body["response"]["items"]}


def post(api, path: str, body: Any = None, token: str | None = None) -> dict[str, Any]:
    status, answer = api.json("POST", f"{BASE}/{path}", {} if body is None else body, token=token)
    assert status == 200, answer
    client_reads(answer, "ResponseContainerIntegrationStatus")
    return answer["response"]


def new_target(api) -> str:
    body = {
        "title": "ops",
        "description": "ops mail",
        "method": "EMAIL",
        "recipient": "ops@example.com",
        "template": "{{alertName}}",
        "triggers": ["ALERT_OPENED"],
    }
    status, answer = api.json("POST", "/api/v2/notificant", body)
    assert status == 200, answer
    return answer["response"]["id"]


def test_can_serve_the_real_client_through_every_integration_operation(api):
    integrations = wf.IntegrationApi(wavefront(api))
    # the catalog, in every shape
    page = integrations.get_all_integration(offset=0, limit=2).response
    assert page.total_items == 4 and len(page.items) == 2 and page.more_items is True
    every = integrations.get_all_integration(limit=100, exclude_dashboard=True).response.items
    assert sorted(i.id for i in every) == CATALOG
    assert all(d.dashboard_obj is None for i in every for d in i.dashboards)
    groups = integrations.get_all_integration_in_manifests().response
    assert sorted(i for g in groups for i in g.integrations) == CATALOG
    assert all(len(g.integration_objs) == len(g.integrations) for g in groups)
    mins = integrations.get_all_integration_in_manifests_min().response
    assert [g.title for g in mins] == [g.title for g in groups]
    assert all(o.dashboards is None for g in mins for o in g.integration_objs)
    statuses = integrations.get_all_integration_statuses().response
    assert sorted(statuses) == CATALOG and {s.install_status for s in statuses.values()} == {"UNDECIDED"}
    linux = integrations.get_integration("linux", refresh=True).response
    assert linux.name == "Linux Host" and linux.metrics.prefixes and linux.dashboards[0].dashboard_obj.sections
    assert integrations.get_installed_integration().response == []
    # install, alerts, status, uninstall
    assert integrations.install_integration("linux").response.install_status == "INSTALLED"
    status = integrations.install_all_integration_alerts("linux", body=wf.InstallAlerts(target="ops@example.com"))
    assert status.response.content_status == "VISIBLE"
    assert integrations.get_integration_status("linux").response.install_status == "INSTALLED"
    installed = integrations.get_installed_integration(has_content=True, return_content=True).response
    assert [i.id for i in installed] == ["linux"]
    assert all(a.alert_min_obj is not None for a in installed[0].alerts)
    assert integrations.uninstall_all_integration_alerts("linux").response.install_status == "INSTALLED"
    gone = integrations.uninstall_integration("linux").response
    assert (gone.install_status, gone.content_status) == ("UNINSTALLED", "NOT_LOADED")
    with pytest.raises(ApiException) as unknown:
        integrations.get_integration("nope")
    assert unknown.value.status == 404


def test_can_remove_on_uninstall_exactly_what_install_made(api):
    # GIVEN a dashboard of the user's own
    mine = {"id": "mine", "name": "Mine", "url": "mine", "sections": []}
    assert api.json("POST", "/api/v2/dashboard", mine)[0] == 200
    before = dashboards(api)
    # WHEN two integrations are installed
    assert post(api, "kubernetes/install")["installStatus"] == "INSTALLED"
    post(api, "linux/install")
    after = dashboards(api)
    # THEN their dashboards were added, ordinary versioned dashboards tagged with the integration
    assert sorted(set(after) - set(before)) == sorted(K8S_DASHBOARDS + LINUX_DASHBOARDS)
    made = after["integration-kubernetes-pods"]
    assert made["version"] == 1 and made["tags"]["customerTags"] == ["integration.kubernetes"]
    status, history = api.json("GET", "/api/v2/dashboard/integration-kubernetes-pods/history")
    assert status == 200 and history["response"]["totalItems"] == 1
    # WHEN kubernetes is installed again THEN nothing changes (not even a version)
    post(api, "kubernetes/install")
    assert {k: v["version"] for k, v in dashboards(api).items()} == {k: v["version"] for k, v in after.items()}
    # WHEN it is uninstalled THEN exactly its dashboards are gone (not in the trash either)
    gone = post(api, "kubernetes/uninstall")
    assert (gone["installStatus"], gone["contentStatus"]) == ("UNINSTALLED", "NOT_LOADED")
    assert sorted(set(after) - set(dashboards(api))) == sorted(K8S_DASHBOARDS)
    for uid in K8S_DASHBOARDS:
        assert api.json("GET", f"/api/v2/dashboard/{uid}")[0] == 404
    status, trash = api.json("POST", "/api/v2/search/dashboard/deleted", {"limit": 100})
    assert status == 200 and trash["response"]["items"] == []
    assert "mine" in dashboards(api) and "integration-linux-host" in dashboards(api)
    # AND uninstalling again removes nothing more; reinstalling makes them again
    post(api, "kubernetes/uninstall")
    assert sorted(set(after) - set(dashboards(api))) == sorted(K8S_DASHBOARDS)
    post(api, "kubernetes/install")
    assert set(dashboards(api)) == set(after)


def test_can_leave_a_dashboard_made_again_by_someone_else_on_uninstall(api):
    post(api, "linux/install")
    # GIVEN the user deleted the installed dashboard for good and made their own under its id
    assert api.json("DELETE", "/api/v2/dashboard/integration-linux-host?skipTrash=true")[0] == 200
    assert post(api, "linux/install")["contentStatus"] == "VISIBLE"  # install makes it again
    assert api.json("DELETE", "/api/v2/dashboard/integration-linux-host?skipTrash=true")[0] == 200
    assert api.json("GET", f"{BASE}/linux/status")[1]["response"]["contentStatus"] == "INVALID"
    own = {"id": "integration-linux-host", "name": "My Linux", "url": "x", "sections": []}
    assert api.json("POST", "/api/v2/dashboard", own)[0] == 200
    # WHEN the integration is uninstalled THEN the user's dashboard stays
    post(api, "linux/uninstall")
    assert dashboards(api)["integration-linux-host"]["name"] == "My Linux"
    # AND install refuses to take its id (409), making nothing
    status, body = api.json("POST", f"{BASE}/linux/install", {})
    assert status == 409 and "integration-linux-host" in body["status"]["message"]
    assert api.json("GET", f"{BASE}/linux/status")[1]["response"]["contentStatus"] == "NOT_LOADED"


def test_can_undo_a_partial_install_when_a_name_is_taken(api):
    # GIVEN a user dashboard named like the second kubernetes dashboard
    own = {"id": "own-pods", "name": "Kubernetes: Pods", "url": "x", "sections": []}
    assert api.json("POST", "/api/v2/dashboard", own)[0] == 200
    before = dashboards(api)
    # WHEN kubernetes is installed THEN 409, and the first dashboard it made was removed again
    status, body = api.json("POST", f"{BASE}/kubernetes/install", {})
    assert status == 409, body
    assert set(dashboards(api)) == set(before)
    assert api.json("GET", f"{BASE}/kubernetes/status")[1]["response"]["contentStatus"] == "NOT_LOADED"


def test_can_install_alerts_with_the_targets_named_and_remove_exactly_them(api):
    target = new_target(api)
    own = {"name": "own", "condition": "ts(cpu.usage.idle) < 5", "minutes": 5}
    assert api.json("POST", "/api/v2/alert", own)[0] == 200
    before = alerts(api)
    # WHEN the alerts are installed with a target
    spec = f"target:{target},oncall@example.com,pd:abc123"
    post(api, "dynamodb/install-all-alerts", {"target": spec})
    after = alerts(api)
    made = {k: v for k, v in after.items() if k not in before}
    # THEN the catalog's alerts exist, valid, notifying the target, tagged with the integration
    assert sorted(a["name"] for a in made.values()) == ["DynamoDB: system errors", "DynamoDB: throttled requests"]
    assert all(a["target"] == spec and a["status"] == ["CHECKING"] for a in made.values())
    assert all(a["tags"]["customerTags"] == ["integration.dynamodb"] for a in made.values())
    listed = api.json("GET", f"{BASE}/dynamodb")[1]["response"]["alerts"]
    assert sorted(a["alertMinObj"]["id"] for a in listed) == sorted(made)
    # WHEN installed again with the same body THEN nothing changes; with another target, only it
    post(api, "dynamodb/install-all-alerts", {"target": spec})
    assert {k: v["version"] for k, v in alerts(api).items()} == {k: v["version"] for k, v in after.items()}
    post(api, "dynamodb/install-all-alerts", {"target": "ops@example.com"})
    assert {a["target"] for k, a in alerts(api).items() if k in made} == {"ops@example.com"}
    # WHEN uninstalled THEN exactly those alerts are gone, for good
    post(api, "dynamodb/uninstall-all-alerts")
    assert set(alerts(api)) == set(before)
    for alert_id in made:
        assert api.json("GET", f"/api/v2/alert/{alert_id}")[0] == 404
    assert api.json("GET", f"{BASE}/installed")[1]["response"] == []


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"target": "not-an-email"}, "target"),
        ({"target": "target:missing"}, "missing"),
        ({"target": 5}, "target"),
        ({"target": "x" * 5000}, "target"),
        ({"target": ",".join(f"a{i}@example.com" for i in range(51))}, "target"),
    ],
)
def test_can_refuse_bad_targets_and_write_nothing(api, body, named):
    before = alerts(api)
    status, answer = api.json("POST", f"{BASE}/linux/install-all-alerts", body)
    assert status == 400 and named in answer["status"]["message"], answer
    assert alerts(api) == before


def test_can_install_alerts_without_a_target(api):
    post(api, "aws-lambda/install-all-alerts")
    made = [a for a in alerts(api).values() if a["tags"]["customerTags"] == ["integration.aws-lambda"]]
    assert len(made) == 2 and all("target" not in a for a in made)


def test_can_require_the_permissions_of_what_install_writes(api, make_user):
    # GIVEN a user who may manage integrations but not dashboards or alerts
    user = make_user(["integration.#"])
    before_d, before_a = dashboards(api), alerts(api)
    for path in ("linux/install", "linux/install-all-alerts"):
        status, body = api.json("POST", f"{BASE}/{path}", {}, token=user.token)
        assert status == 403, body
    assert dashboards(api) == before_d and alerts(api) == before_a
    # AND one who may write them installs
    installer = make_user(INSTALLER)
    assert post(api, "linux/install", token=installer.token)["installStatus"] == "INSTALLED"
    # AND a reader sees the catalog but installs nothing
    reader = make_user(["*.read", "*.*.read"])
    assert api.json("GET", BASE, token=reader.token)[0] == 200
    assert api.json("POST", f"{BASE}/linux/uninstall", {}, token=reader.token)[0] == 403
    assert "integration-linux-host" in dashboards(api)


def test_can_keep_each_tenants_installs_to_itself(api, make_user, make_tenant):
    post(api, "linux/install")
    other = make_user(INSTALLER, tenant=make_tenant("other"))
    status, body = api.json("GET", f"{BASE}/linux/status", token=other.token)
    assert status == 200 and body["response"]["installStatus"] == "UNDECIDED"
    assert dashboards(api, other.token) == {}
    assert api.json("POST", f"{BASE}/linux/uninstall", {}, token=other.token)[0] == 200
    assert "integration-linux-host" in dashboards(api)


def test_can_answer_404_for_an_integration_not_in_the_catalog(api):
    for method, path in (("GET", "nope"), ("GET", "nope/status"), ("POST", "nope/install"), ("POST", "nope/uninstall")):
        assert api.json(method, f"{BASE}/{path}", {} if method == "POST" else None)[0] == 404


def test_can_read_every_catalog_file_as_valid_dashboards_and_alerts():
    from chalicelib import query
    from chalicelib.categories.integration_views import catalog, groups

    assert sorted(catalog()) == CATALOG and groups()
    for integration in catalog().values():
        assert integration.dashboards and integration.alerts and integration.metrics.prefixes
        for item in integration.alerts:
            query.parse(item.alert.condition)
        for item in integration.dashboards:
            for section in item.dashboard.sections:
                for row in section.rows:
                    for chart in row.charts:
                        for source in chart.sources:
                            query.parse(source.query)
