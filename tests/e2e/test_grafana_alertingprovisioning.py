"""grafana-client's alertingprovisioning group against the live server: every one of its 23
operations: contact points and mute timings (alert targets and maintenance windows in
Wavefront's dialect), alert rules and rule groups (alerts), message templates and the
notification policy tree (stored)."""

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


RULE_DATA = [
    {
        "refId": "A",
        "datasourceUid": "opsplane",
        "relativeTimeRange": {"from": 600, "to": 0},
        "model": {"expr": "ts(cpu)"},
    },
    {"refId": "B", "datasourceUid": "__expr__", "model": {"type": "reduce", "expression": "A", "reducer": "max"}},
    {
        "refId": "C",
        "datasourceUid": "__expr__",
        "model": {"type": "threshold", "expression": "B", "conditions": [{"evaluator": {"type": "gt", "params": [9]}}]},
    },
]


def test_can_drive_every_alert_rule_and_rule_group_operation(grafana, person, server):  # noqa: F811
    api = grafana.alertingprovisioning
    folder = grafana.folder.create_folder("rules")["uid"]
    rule = {"title": "cpu", "folderUID": folder, "ruleGroup": "core", "condition": "C", "data": RULE_DATA, "for": "2m"}
    # create_alertrule: an alert in Wavefront's dialect
    made = api.create_alertrule(rule)
    [alert] = wavefront(server, person, "alert")
    assert alert["id"] == made["uid"] and alert["condition"] == "mmax(10m, ts(cpu)) > 9" and alert["minutes"] == 2
    # get_alertrules_all, get_alertrule
    assert api.get_alertrules_all() == [made] and api.get_alertrule(made["uid"]) == made
    # update_alertrule, paused
    changed = api.update_alertrule(made["uid"], {**rule, "title": "cpu!", "isPaused": True}, disable_provenance=True)
    assert changed["title"] == "cpu!" and changed["isPaused"] is True
    # get_rule_group, update_rule_group (every 5 minutes, a second rule)
    assert api.get_rule_group(folder, "core")["rules"] == [changed]
    group = api.update_rule_group(
        folder, "core", {"interval": 300, "rules": [{**rule, "uid": made["uid"]}, {**rule, "title": "two"}]}
    )
    assert group["interval"] == 300 and sorted(r["title"] for r in group["rules"]) == ["cpu", "two"]
    # delete_alertrule
    api.delete_alertrule(made["uid"])
    with pytest.raises(GrafanaClientError) as gone:
        api.get_alertrule(made["uid"])
    assert gone.value.status_code == 404
    # a rule over another data source is refused
    with pytest.raises(GrafanaClientError) as refused:
        api.create_alertrule({**rule, "data": [{**RULE_DATA[0], "datasourceUid": "prom"}], "condition": "A"})
    assert refused.value.status_code == 400


def test_can_drive_every_template_and_policy_operation(grafana):  # noqa: F811
    api = grafana.alertingprovisioning
    # templates: stored Go templates
    made = api.create_or_update_template("short", {"template": '{{ define "short" }}x{{ end }}'})
    assert made["name"] == "short"
    assert api.get_templates() == [made] and api.get_template("short") == made
    api.delete_template("short")
    assert api.get_templates() == []
    # the policy tree names real contact points
    api.create_contactpoint({"name": "ops", "type": "webhook", "settings": {"url": "https://h.example/x"}})
    tree = {
        "receiver": "ops",
        "group_by": ["alertname"],
        "routes": [{"receiver": "ops", "object_matchers": [["team", "=", "a"]]}],
    }
    assert api.set_notification_policy_tree(tree)["message"] == "policies updated"
    assert api.get_notification_policy_tree()["routes"] == tree["routes"]
    assert api.delete_notification_policy_tree()["receiver"] == ""
    with pytest.raises(GrafanaClientError) as refused:
        api.set_notification_policy_tree({"receiver": "nobody"})
    assert refused.value.status_code == 400
