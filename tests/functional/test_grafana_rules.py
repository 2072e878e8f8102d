"""Grafana's alert rules and rule groups over alerts (written in Grafana, read and changed
in Wavefront's dialect, and back), message templates and the notification policy tree
(stored); refusals naming what opsplane cannot say, nothing written on any error;
permissions."""

from __future__ import annotations

from typing import Any

RULES = "/api/v1/provisioning/alert-rules"
ALERTS = "/api/v2/alert"
TEMPLATES = "/api/v1/provisioning/templates"
POLICIES = "/api/v1/provisioning/policies"


def group_path(folder: str = "ops", group: str = "core") -> str:
    return f"/api/v1/provisioning/folder/{folder}/rule-groups/{group}"


def folder(api: Any, uid: str = "ops") -> None:
    status, answer = api.json("POST", "/api/folders", {"uid": uid, "title": f"folder {uid}"})
    assert status == 200, answer


def contact_point(api: Any, name: str = "pager") -> str:
    body = {"name": name, "type": "webhook", "settings": {"url": "https://hooks.example/x"}}
    status, answer = api.json("POST", "/api/v1/provisioning/contact-points", body)
    assert status == 202, answer
    return str(answer["uid"])


def data(expr: str = "ts(cpu.load)", reducer: str = "mean", kind: str = "gt", limit: float = 80, seconds: int = 300):
    return [
        {
            "refId": "A",
            "datasourceUid": "opsplane",
            "relativeTimeRange": {"from": seconds, "to": 0},
            "model": {"expr": expr},
        },
        {"refId": "B", "datasourceUid": "__expr__", "model": {"type": "reduce", "expression": "A", "reducer": reducer}},
        {
            "refId": "C",
            "datasourceUid": "__expr__",
            "model": {
                "type": "threshold",
                "expression": "B",
                "conditions": [{"evaluator": {"type": kind, "params": [limit]}}],
            },
        },
    ]


def rule_body(**over: Any) -> dict[str, Any]:
    return {
        "title": "cpu high",
        "folderUID": "ops",
        "ruleGroup": "core",
        "condition": "C",
        "data": data(),
        "for": "5m",
        "noDataState": "NoData",
        "execErrState": "Error",
        "labels": {"team": "ops"},
        "annotations": {"description": "the CPU is busy", "runbook_url": "https://runbooks.example/cpu"},
        **over,
    }


def alert(api: Any, uid: str) -> dict[str, Any]:
    status, answer = api.json("GET", f"{ALERTS}/{uid}")
    assert status == 200, answer
    return dict(answer["response"])


def alert_count(api: Any) -> int:
    return len(api.json("GET", ALERTS)[1]["response"]["items"])


def test_can_create_a_rule_that_is_an_alert(api):
    folder(api)
    target = contact_point(api)
    # WHEN a rule (mean over 5 minutes above 80, for 5 minutes) is created through Grafana
    status, made = api.json("POST", RULES, rule_body(notification_settings={"receiver": "pager"}))
    assert status == 201, made
    # THEN it is an alert in Wavefront's dialect, with the condition written out
    got = alert(api, made["uid"])
    assert got["name"] == "cpu high" and got["alertType"] == "CLASSIC" and got["status"] == ["CHECKING"]
    assert got["condition"] == "mavg(5m, ts(cpu.load)) > 80" and got["displayExpression"] == "ts(cpu.load)"
    assert got["minutes"] == 5 and got["target"] == f"target:{target}" and got["severity"] == "WARN"
    assert got["additionalInformation"] == "the CPU is busy" and got["runbookLinks"] == ["https://runbooks.example/cpu"]
    assert got["tags"]["customerTags"] == ["grafana-folder:ops", "grafana-group:core", "team:ops"]
    # AND Grafana reads it back as it was written
    status, back = api.json("GET", f"{RULES}/{made['uid']}")
    assert status == 200 and back == made
    assert back["data"][0]["model"]["expr"] == "ts(cpu.load)" and back["data"][0]["relativeTimeRange"]["from"] == 300
    assert back["data"][1]["model"]["reducer"] == "mean"
    assert back["data"][2]["model"]["conditions"] == [{"evaluator": {"type": "gt", "params": [80.0]}}]
    assert back["for"] == "5m" and back["labels"] == {"team": "ops"} and back["isPaused"] is False
    assert back["notification_settings"] == {"receiver": "pager"} and back["folderUID"] == "ops"
    assert api.json("GET", RULES)[1] == [made]


def test_can_read_and_change_a_wavefront_alert_as_a_rule(api):
    folder(api)
    # GIVEN an alert made in Wavefront's dialect, with a plain tag and an email target
    body = {
        "name": "disk",
        "condition": "ts(disk.used) < -2.5",
        "minutes": 3,
        "severity": "SEVERE",
        "target": "ops@example.com",
        "tags": {"customerTags": ["storage"]},
    }
    status, answer = api.json("POST", ALERTS, body)
    assert status == 200, answer
    uid = answer["response"]["id"]
    # THEN Grafana reads it as a query, a last reduce and a threshold, in no folder yet
    status, shown = api.json("GET", f"{RULES}/{uid}")
    assert status == 200, shown
    assert [d["refId"] for d in shown["data"]] == ["A", "B", "C"] and shown["condition"] == "C"
    assert shown["data"][0]["model"]["expr"] == "ts(disk.used)" and shown["data"][1]["model"]["reducer"] == "last"
    assert shown["data"][2]["model"]["conditions"][0]["evaluator"] == {"type": "lt", "params": [-2.5]}
    assert shown["folderUID"] == "" and shown["for"] == "3m" and "notification_settings" not in shown
    # WHEN Grafana puts it in a folder and group, paused, with a label, sending back the data it read
    change = rule_body(title="disk low", data=shown["data"], condition="C", isPaused=True, annotations={})
    status, changed = api.json("PUT", f"{RULES}/{uid}", change)
    assert status == 200, changed
    # THEN Wavefront sees the same condition, snoozed until unsnoozed, its own fields kept
    got = alert(api, uid)
    assert got["condition"] == "ts(disk.used) < -2.5" and got["name"] == "disk low" and got["minutes"] == 5
    assert got["snoozed"] == -1 and "SNOOZED" in got["status"]
    assert got["severity"] == "SEVERE" and got["target"] == "ops@example.com"
    assert got["tags"]["customerTags"] == ["grafana-folder:ops", "grafana-group:core", "storage", "team:ops"]
    assert changed["isPaused"] is True
    # WHEN Wavefront changes the condition to something that is not a threshold
    status, answer = api.json(
        "PUT", f"{ALERTS}/{uid}", {**body, "condition": "ts(a) > 1 and ts(b) > 2", "version": got["version"]}
    )
    assert status == 200, answer
    # THEN Grafana shows one query that is the condition (non-zero fires)
    shown = api.json("GET", f"{RULES}/{uid}")[1]
    assert shown["condition"] == "A" and [d["model"]["expr"] for d in shown["data"]] == ["ts(a) > 1 and ts(b) > 2"]
    # AND that shape is accepted back as it is: the condition unchanged
    status, _ = api.json("PUT", f"{RULES}/{uid}", rule_body(data=shown["data"], condition="A", annotations={}))
    assert status == 200 and alert(api, uid)["condition"] == "ts(a) > 1 and ts(b) > 2"


def test_can_replace_a_rule_group(api):
    folder(api)
    status, first = api.json("POST", RULES, rule_body())
    assert status == 201, first
    second = api.json("POST", RULES, rule_body(title="second"))[1]
    # WHEN the group is replaced: the first changed, a new one, the second left out; every 2 minutes
    group = {
        "interval": 120,
        "rules": [rule_body(uid=first["uid"], title="first"), rule_body(title="third", data=data(reducer="last"))],
    }
    status, answer = api.json("PUT", group_path(), group)
    assert status == 200, answer
    assert answer["interval"] == 120 and sorted(r["title"] for r in answer["rules"]) == ["first", "third"]
    # THEN the alerts check every 2 minutes, the left-out one is in the trash
    third = next(r for r in answer["rules"] if r["title"] == "third")
    assert alert(api, third["uid"])["condition"] == "ts(cpu.load) > 80"
    assert alert(api, first["uid"])["processRateMinutes"] == 2
    assert api.json("GET", f"{ALERTS}/{second['uid']}")[1]["response"]["deleted"] is True
    assert api.json("GET", group_path())[1] == answer
    # a rule created into the group takes its interval
    fourth = api.json("POST", RULES, rule_body(title="fourth"))[1]
    assert alert(api, fourth["uid"])["processRateMinutes"] == 2
    # an unknown group is 404; an emptied group answers no rules
    assert api.json("GET", group_path(group="nope"))[0] == 404
    status, answer = api.json("PUT", group_path(), {"interval": 60, "rules": []})
    assert status == 200 and answer["rules"] == [] and alert_count(api) == 0


def test_can_refuse_what_opsplane_cannot_say_and_write_nothing(api):
    folder(api)
    status, made = api.json("POST", RULES, rule_body())
    assert status == 201
    threshold = api.json(
        "POST", ALERTS, {"name": "t", "alertType": "THRESHOLD", "minutes": 1, "conditions": {"warn": "ts(x) > 1"}}
    )[1]
    math = data()
    math[2]["model"] = {"type": "math", "expression": "$B > 80"}
    cases = [
        (rule_body(data=[{**data()[0], "datasourceUid": "prom"}], condition="A"), "datasourceUid"),
        (rule_body(data=math), "threshold"),
        (rule_body(data=data(reducer="median")), "reduce"),
        (rule_body(data=data(kind="within_range")), "conditions"),
        (rule_body(data=[*data(), {**data()[0], "refId": "D"}]), "D not used"),
        (rule_body(data=data(expr="ts(cpu")), "Syntax error"),
        (rule_body(condition="Z"), "condition"),
        (rule_body(**{"for": "90s"}), "for"),
        (rule_body(annotations={"summary": "x"}), "annotations.summary"),
        (rule_body(folderUID="nope"), "folderUID"),
        (rule_body(ruleGroup="has space"), "ruleGroup"),
        (rule_body(labels={"a:b": "c"}), "labels"),
        (rule_body(noDataState="Alerting"), "noDataState"),
        (rule_body(uid="mine"), "uid"),
        (rule_body(notification_settings={"receiver": "nobody"}), "receiver"),
    ]
    before = alert_count(api)
    for body, field in cases:
        status, answer = api.json("POST", RULES, body)
        assert status == 400 and field in answer["message"], (field, answer)
    assert alert_count(api) == before
    status, answer = api.json("PUT", f"{RULES}/{threshold['response']['id']}", rule_body())
    assert status == 400 and "THRESHOLD" in answer["message"]
    # a group with one bad rule writes nothing
    group = {"interval": 60, "rules": [rule_body(title="fine"), rule_body(**{"for": "1x"})]}
    assert api.json("PUT", group_path(), group)[0] == 400
    assert api.json("PUT", group_path(), {"interval": 90, "rules": []})[0] == 400
    assert [r["title"] for r in api.json("GET", group_path())[1]["rules"]] == ["cpu high"]
    assert api.json("GET", f"{RULES}/{made['uid']}")[1]["title"] == "cpu high"
    assert api.json("GET", f"{RULES}/nope")[0] == 404


def test_can_delete_a_rule_to_the_trash(api):
    folder(api)
    uid = api.json("POST", RULES, rule_body())[1]["uid"]
    resp = api.call("DELETE", f"{RULES}/{uid}")
    assert resp.status_code == 204
    assert api.json("GET", f"{RULES}/{uid}")[0] == 404
    assert api.json("GET", f"{ALERTS}/{uid}")[1]["response"]["deleted"] is True


def test_can_store_message_templates(api):
    status, made = api.json("PUT", f"{TEMPLATES}/short", {"template": '{{ define "short" }}{{ .Status }}{{ end }}'})
    assert status == 202 and made == {
        "name": "short",
        "template": '{{ define "short" }}{{ .Status }}{{ end }}',
        "provenance": "",
    }
    assert api.json("PUT", f"{TEMPLATES}/short", {"template": "v2"})[1]["template"] == "v2"
    assert api.json("GET", TEMPLATES)[1] == [{"name": "short", "template": "v2", "provenance": ""}]
    assert api.json("GET", f"{TEMPLATES}/short")[1]["template"] == "v2"
    assert api.json("PUT", f"{TEMPLATES}/short", {"template": "x" * 65_537})[0] == 400
    assert api.json("PUT", f"{TEMPLATES}/short", {"name": "other", "template": "x"})[0] == 400
    assert api.call("DELETE", f"{TEMPLATES}/short").status_code == 204
    assert api.json("GET", f"{TEMPLATES}/short")[0] == 404
    assert api.json("DELETE", f"{TEMPLATES}/short")[0] == 404


def test_can_store_a_policy_tree_naming_only_real_contact_points(api):
    assert api.json("GET", POLICIES)[1] == {
        "receiver": "",
        "group_by": ["grafana_folder", "alertname"],
        "provenance": "",
    }
    contact_point(api, "pager")
    tree = {
        "receiver": "pager",
        "group_by": ["alertname"],
        "routes": [{"receiver": "pager", "object_matchers": [["team", "=", "ops"]], "continue": True}],
    }
    for bad, field in (
        ({**tree, "receiver": "nobody"}, "receiver"),
        ({**tree, "routes": [{"receiver": "nobody"}]}, "routes.0.receiver"),
        ({**tree, "routes": [{"object_matchers": [["a", "~", "b"]]}]}, "object_matchers"),
        ({**tree, "routes": [{"mute_time_intervals": ["never"]}]}, "mute_time_intervals"),
        ({"group_by": []}, "receiver"),
    ):
        status, answer = api.json("PUT", POLICIES, bad)
        assert status == 400 and field in answer["message"], (field, answer)
    assert api.json("PUT", POLICIES, tree) == (202, {"message": "policies updated"})
    assert api.json("GET", POLICIES)[1] == {**tree, "provenance": ""}
    status, reset = api.json("DELETE", POLICIES)
    assert status == 202 and reset["receiver"] == ""


def test_can_refuse_rules_templates_and_policies_without_permission(api, make_user):
    folder(api)
    viewer = make_user(["alert.read", "folder.read"])
    assert api.json("POST", RULES, rule_body(), token=viewer.token)[0] == 403
    assert api.json("PUT", group_path(), {"interval": 60, "rules": [rule_body()]}, token=viewer.token)[0] == 403
    assert api.json("PUT", f"{TEMPLATES}/t", {"template": "x"}, token=viewer.token)[0] == 403
    assert api.json("PUT", POLICIES, {"receiver": "x"}, token=viewer.token)[0] == 403
    assert api.json("GET", RULES, token=viewer.token)[0] == 200
    # creating is not changing: a group naming an existing alert needs alert.{id}.update
    uid = api.json("POST", RULES, rule_body())[1]["uid"]
    creator = make_user(["alert.read", "alert.create", "folder.read", "notificant.read"])
    group = {"interval": 60, "rules": [rule_body(uid=uid, title="taken over")]}
    assert api.json("PUT", group_path(), group, token=creator.token)[0] == 403
    assert api.json("GET", f"{RULES}/{uid}")[1]["title"] == "cpu high"


def test_can_show_alert_targets_as_legacy_notification_channels(api):
    # GIVEN an alert target made in Wavefront's dialect
    body = {
        "title": "hook",
        "description": "the hook",
        "method": "WEBHOOK",
        "recipient": "https://h.example/x",
        "triggers": ["ALERT_OPENED"],
        "template": "{{name}}",
    }
    status, answer = api.json("POST", "/api/v2/notificant", body)
    assert status == 200, answer
    uid = answer["response"]["id"]
    # THEN it is a channel, by uid and by the same number
    status, shown = api.json("GET", f"/api/alert-notifications/uid/{uid}")
    assert status == 200 and shown["id"] == int(uid) and shown["disableResolveMessage"] is True
    assert api.json("GET", f"/api/alert-notifications/{uid}")[1] == shown
    # WHEN the channel is changed through Grafana, THEN Wavefront sees it, its template kept
    change = {"name": "hook2", "type": "webhook", "settings": {"url": "https://h.example/y"}}
    assert api.json("PUT", f"/api/alert-notifications/{uid}", change)[0] == 200
    got = api.json("GET", f"/api/v2/notificant/{uid}")[1]["response"]
    assert got["title"] == "hook2" and got["recipient"] == "https://h.example/y" and got["template"] == "{{name}}"
    # a default channel is refused; an unknown one is 404
    assert api.json("POST", "/api/alert-notifications", {**change, "isDefault": True})[0] == 400
    assert api.json("GET", "/api/alert-notifications/uid/nope")[0] == 404
