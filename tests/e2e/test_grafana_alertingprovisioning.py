"""grafana-client's alertingprovisioning group against the live server: every contact point
and mute timing operation (alert targets and maintenance windows in Wavefront's dialect);
the operations not built yet (alert rules, rule groups, templates, the notification policy
tree) answer Grafana's 404."""

from __future__ import annotations

import pytest
import requests
from grafana_client.client import GrafanaClientError

from tests.e2e.grafana_fixtures import grafana, person  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

DAY = {"years": ["2030"], "months": ["5"], "days_of_month": ["2"]}


def wavefront(server, person, path: str) -> list[dict]:  # noqa: F811
    headers = {"Authorization": f"Bearer {person.token}"}
    answer = requests.get(f"{server.url}/api/v2/{path}", headers=headers, timeout=30).json()
    return list(answer["response"]["items"])


def test_can_drive_every_contact_point_operation(grafana, person, server):  # noqa: F811
    api = grafana.alertingprovisioning
    # create_contactpoint: a webhook contact point
    made = api.create_contactpoint({"name": "ops", "type": "webhook", "settings": {"url": "https://h.example/x"}})
    assert made["type"] == "webhook" and made["settings"] == {"url": "https://h.example/x"}
    # get_contactpoints, all and by name
    assert api.get_contactpoints() == [made]
    assert api.get_contactpoints(name="nobody") == []
    # it is an alert target in Wavefront's dialect
    [target] = wavefront(server, person, "notificant")
    assert target["id"] == made["uid"] and target["method"] == "WEBHOOK"
    # update_contactpoint: now email, without resolve messages
    change = {"name": "ops", "type": "email", "settings": {"addresses": "a@x.example"}, "disableResolveMessage": True}
    assert api.update_contactpoint(made["uid"], change)["message"] == "contactpoint updated"
    [point] = api.get_contactpoints(name="ops")
    assert point["type"] == "email" and point["disableResolveMessage"] is True
    # delete_contactpoint
    assert api.delete_contactpoint(made["uid"])["message"] == "contactpoint deleted"
    assert api.get_contactpoints() == []
    with pytest.raises(GrafanaClientError) as missing:
        api.delete_contactpoint(made["uid"])
    assert missing.value.status_code == 404


def test_can_drive_every_mute_timing_operation(grafana, person, server):  # noqa: F811
    api = grafana.alertingprovisioning
    # create_mute_timing: the whole of 2030-05-02 (UTC)
    made = api.create_mute_timing({"name": "upgrade", "time_intervals": [DAY]})
    assert made["time_intervals"] == [DAY]
    # get_mute_timings, get_mute_timing
    assert api.get_mute_timings() == [made]
    assert api.get_mute_timing("upgrade") == made
    # it is a maintenance window in Wavefront's dialect
    [window] = wavefront(server, person, "maintenancewindow")
    assert window["title"] == "upgrade" and window["endTimeInSeconds"] - window["startTimeInSeconds"] == 86_400
    # update_mute_timing: two hours of that day
    hours = [{**DAY, "times": [{"start_time": "10:00", "end_time": "12:00"}]}]
    assert api.update_mute_timing("upgrade", {"name": "upgrade", "time_intervals": hours})["time_intervals"] == hours
    # a recurring mute timing is refused
    with pytest.raises(GrafanaClientError) as recurring:
        api.create_mute_timing({"name": "weekly", "time_intervals": [{"weekdays": ["monday"]}]})
    assert recurring.value.status_code == 400
    # delete_mute_timing
    api.delete_mute_timing("upgrade")
    assert api.get_mute_timings() == []


def test_the_operations_not_built_answer_grafanas_404(grafana):  # noqa: F811
    api = grafana.alertingprovisioning
    calls = [
        api.get_alertrules_all,
        lambda: api.get_alertrule("r1"),
        lambda: api.create_alertrule({"title": "r"}),
        lambda: api.update_alertrule("r1", {"title": "r"}),
        lambda: api.delete_alertrule("r1"),
        lambda: api.get_rule_group("f", "g"),
        lambda: api.update_rule_group("f", "g", {"rules": []}),
        api.get_notification_policy_tree,
        lambda: api.set_notification_policy_tree({"receiver": "ops"}),
        api.delete_notification_policy_tree,
        api.get_templates,
        lambda: api.get_template("t"),
        lambda: api.create_or_update_template("t", {"template": "x"}),
        lambda: api.delete_template("t"),
    ]
    for call in calls:
        with pytest.raises(GrafanaClientError) as missing:
            call()
        assert missing.value.status_code in (404, 405), missing.value
