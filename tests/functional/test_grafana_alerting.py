"""Grafana's alerting provisioning over the one data model: contact points are alert
targets, mute timings are maintenance windows; each written in one dialect, read and
changed in the other; bounds, refusals and permissions."""

from __future__ import annotations

from typing import Any

CONTACT_POINTS = "/api/v1/provisioning/contact-points"
NOTIFICANT = "/api/v2/notificant"
PD_KEY = "a" * 32


def add_contact_point(api: Any, token: str | None = None, **body: Any) -> dict[str, Any]:
    sent = {"name": "ops hook", "type": "webhook", "settings": {"url": "https://hooks.example/ops"}, **body}
    status, answer = api.json("POST", CONTACT_POINTS, sent, token=token)
    assert status == 202, answer
    return dict(answer)


def contact_points(api: Any, query: str = "", token: str | None = None) -> list[dict[str, Any]]:
    status, answer = api.json("GET", f"{CONTACT_POINTS}{query}", token=token)
    assert status == 200, answer
    return list(answer)


def target(api: Any, uid: str) -> dict[str, Any]:
    status, answer = api.json("GET", f"{NOTIFICANT}/{uid}")
    assert status == 200, answer
    return dict(answer["response"])


def test_can_create_a_contact_point_that_is_an_alert_target(api):
    # WHEN a webhook contact point is created through Grafana's dialect
    made = add_contact_point(api)
    # THEN Grafana reads it back
    assert contact_points(api) == [made]
    assert made["name"] == "ops hook" and made["type"] == "webhook"
    assert made["settings"] == {"url": "https://hooks.example/ops"} and made["disableResolveMessage"] is False
    # AND it is a WEBHOOK alert target in the Wavefront dialect
    got = target(api, made["uid"])
    assert got["title"] == "ops hook" and got["method"] == "WEBHOOK"
    assert got["recipient"] == "https://hooks.example/ops"
    assert got["triggers"] == ["ALERT_OPENED", "ALERT_RESOLVED"]


def test_can_read_and_change_a_wavefront_alert_target_as_a_contact_point(api):
    # GIVEN an email alert target made in the Wavefront dialect, with its own template
    body = {
        "title": "on call",
        "description": "the team",
        "method": "EMAIL",
        "recipient": "a@example.com,b@example.com",
        "template": "{{name}} fired",
        "triggers": ["ALERT_OPENED", "ALERT_UPDATED"],
    }
    status, answer = api.json("POST", NOTIFICANT, body)
    assert status == 200, answer
    uid = answer["response"]["id"]
    # THEN Grafana shows it as an email contact point without resolve messages
    [point] = contact_points(api, "?name=on%20call")
    assert point["uid"] == uid and point["type"] == "email" and point["disableResolveMessage"] is True
    assert point["settings"] == {"addresses": "a@example.com;b@example.com"}
    # WHEN Grafana changes it into a pagerduty contact point with resolve messages
    change = {"name": "pager", "type": "pagerduty", "settings": {"integrationKey": PD_KEY}}
    status, answer = api.json("PUT", f"{CONTACT_POINTS}/{uid}", change)
    assert status == 202 and answer == {"message": "contactpoint updated"}, answer
    # THEN the alert target changed, keeping what Grafana does not know (template, description)
    got = target(api, uid)
    assert got["title"] == "pager" and got["method"] == "PAGERDUTY" and got["recipient"] == PD_KEY
    assert got["triggers"] == ["ALERT_OPENED", "ALERT_UPDATED", "ALERT_RESOLVED"]
    assert got["template"] == "{{name}} fired" and got["description"] == "the team" and got["version"] == 2
    assert contact_points(api, "?name=on%20call") == []


def test_can_delete_a_contact_point(api):
    uid = add_contact_point(api)["uid"]
    status, answer = api.json("DELETE", f"{CONTACT_POINTS}/{uid}")
    assert status == 202 and answer == {"message": "contactpoint deleted"}, answer
    assert api.json("GET", f"{NOTIFICANT}/{uid}")[0] == 404
    status, answer = api.json("DELETE", f"{CONTACT_POINTS}/{uid}")
    assert status == 404 and set(answer) == {"message"}, answer


def test_cannot_write_contact_points_grafana_cannot_map(api):
    cases = [
        ({"type": "slack", "settings": {"url": "https://x.example"}}, "type"),
        ({"settings": {}}, "settings.url"),
        ({"settings": {"url": "ftp://x.example"}}, "recipient"),
        ({"type": "email", "settings": {"addresses": "not-an-address"}}, "recipient"),
        ({"type": "pagerduty", "settings": {"integrationKey": "short"}}, "recipient"),
        ({"name": "x" * 257}, "name"),
    ]
    for body, field in cases:
        sent = {"name": "n", "type": "webhook", "settings": {"url": "https://x.example"}, **body}
        status, answer = api.json("POST", CONTACT_POINTS, sent)
        assert status == 400 and field in answer["message"], (body, answer)
    # AND nothing was written
    assert contact_points(api) == []
    status, answer = api.json(
        "PUT", f"{CONTACT_POINTS}/123", {"name": "n", "type": "webhook", "settings": {"url": "https://x.example"}}
    )
    assert status == 404, answer


def test_can_check_the_contact_point_permissions(api, make_user, make_tenant):
    uid = add_contact_point(api)["uid"]
    reader = make_user(["notificant.read"])
    assert len(contact_points(api, token=reader.token)) == 1
    sent = {"name": "n", "type": "webhook", "settings": {"url": "https://x.example"}}
    assert api.json("POST", CONTACT_POINTS, sent, token=reader.token)[0] == 403
    assert api.json("PUT", f"{CONTACT_POINTS}/{uid}", sent, token=reader.token)[0] == 403
    assert api.json("DELETE", f"{CONTACT_POINTS}/{uid}", token=reader.token)[0] == 403
    # AND another tenant neither sees nor changes it
    stranger = make_user(["notificant.#"], tenant=make_tenant("other"))
    assert contact_points(api, token=stranger.token) == []
    assert api.json("PUT", f"{CONTACT_POINTS}/{uid}", sent, token=stranger.token)[0] == 404
    assert api.json("DELETE", f"{CONTACT_POINTS}/{uid}", token=stranger.token)[0] == 404


# ---- mute timings are maintenance windows ---------------------------------------------------

MUTE_TIMINGS = "/api/v1/provisioning/mute-timings"
WINDOWS = "/api/v2/maintenancewindow"
# 2030-05-01 22:00 to 2030-05-03 01:30 UTC
START, END = 1903903200, 1904002200
SPAN = [
    {
        "years": ["2030"],
        "months": ["5"],
        "days_of_month": ["1"],
        "times": [{"start_time": "22:00", "end_time": "24:00"}],
    },
    {"years": ["2030"], "months": ["5"], "days_of_month": ["2"]},
    {
        "years": ["2030"],
        "months": ["5"],
        "days_of_month": ["3"],
        "times": [{"start_time": "00:00", "end_time": "01:30"}],
    },
]


def windows(api: Any) -> list[dict[str, Any]]:
    status, answer = api.json("GET", f"{WINDOWS}?limit=100")
    assert status == 200, answer
    return list(answer["response"]["items"])


def test_can_create_a_mute_timing_that_is_a_maintenance_window(api):
    # WHEN a mute timing covering one span is created in Grafana's dialect
    status, made = api.json("POST", MUTE_TIMINGS, {"name": "upgrade", "time_intervals": SPAN})
    assert status == 201, made
    assert made == {"name": "upgrade", "time_intervals": SPAN, "provenance": ""}
    # THEN Grafana reads it back, in the list and by name
    assert api.json("GET", MUTE_TIMINGS) == (200, [made])
    assert api.json("GET", f"{MUTE_TIMINGS}/upgrade") == (200, made)
    # AND it is a maintenance window over that span in the Wavefront dialect
    [window] = windows(api)
    assert window["title"] == "upgrade" and window["startTimeInSeconds"] == START
    assert window["endTimeInSeconds"] == END and window["runningState"] == "PENDING"


def test_can_read_and_change_a_wavefront_window_as_a_mute_timing(api):
    # GIVEN a window made in the Wavefront dialect, with hosts and a reason
    body = {
        "title": "db move",
        "reason": "moving",
        "startTimeInSeconds": START,
        "endTimeInSeconds": START + 3600,
        "relevantCustomerTags": ["db"],
        "relevantHostNames": ["db-1"],
    }
    status, answer = api.json("POST", WINDOWS, body)
    assert status == 200, answer
    # THEN Grafana shows its span
    one_hour = [{**SPAN[0], "times": [{"start_time": "22:00", "end_time": "23:00"}]}]
    assert api.json("GET", f"{MUTE_TIMINGS}/db%20move")[1]["time_intervals"] == one_hour
    # WHEN Grafana renames it and moves it to the whole of 2030-05-02
    status, changed = api.json("PUT", f"{MUTE_TIMINGS}/db%20move", {"name": "db move 2", "time_intervals": [SPAN[1]]})
    assert status == 202 and changed["name"] == "db move 2", changed
    # THEN the window moved, keeping what Grafana does not know
    [window] = windows(api)
    assert window["title"] == "db move 2" and window["startTimeInSeconds"] == START + 7200
    assert window["endTimeInSeconds"] == START + 7200 + 86400 and window["version"] == 2
    assert window["reason"] == "moving" and window["relevantHostNames"] == ["db-1"]
    assert api.json("GET", f"{MUTE_TIMINGS}/db%20move")[0] == 404


def test_can_delete_a_mute_timing(api):
    assert api.json("POST", MUTE_TIMINGS, {"name": "gone", "time_intervals": SPAN})[0] == 201
    status, _ = api.json("DELETE", f"{MUTE_TIMINGS}/gone")
    assert status == 204 and windows(api) == []
    status, answer = api.json("DELETE", f"{MUTE_TIMINGS}/gone")
    assert status == 404 and set(answer) == {"message"}, answer


def test_cannot_write_a_mute_timing_that_recurs(api):
    day = {"years": ["2030"], "months": ["5"], "days_of_month": ["2"]}
    cases = [
        ([{"weekdays": ["monday"]}], "weekdays recur"),
        ([{"times": [{"start_time": "09:00", "end_time": "17:00"}]}], "name exactly one"),
        ([{**day, "months": ["1:3"]}], "one month"),
        ([{**day, "days_of_month": ["1:3"], "times": [{"start_time": "09:00", "end_time": "17:00"}]}], "gaps"),
        ([day, {**day, "days_of_month": ["4"]}], "gaps"),
        ([{**day, "location": "Europe/Paris"}], "only UTC"),
        ([{**day, "days_of_month": ["31:32"]}], "are not days"),
        ([{**day, "times": [{"start_time": "17:00", "end_time": "09:00"}]}], "after start_time"),
        ([{**day, "times": [{"start_time": "25:00", "end_time": "26:00"}]}], "HH:MM"),
        ([], "time_intervals"),
    ]
    for intervals, says in cases:
        status, answer = api.json("POST", MUTE_TIMINGS, {"name": "m", "time_intervals": intervals})
        assert status == 400 and says in answer["message"], (intervals, answer)
    # AND nothing was written
    assert windows(api) == []
    # AND a second mute timing of a name is refused
    assert api.json("POST", MUTE_TIMINGS, {"name": "m", "time_intervals": SPAN})[0] == 201
    assert api.json("POST", MUTE_TIMINGS, {"name": "m", "time_intervals": SPAN})[0] == 409


def test_can_check_the_mute_timing_permissions(api, make_user, make_tenant):
    assert api.json("POST", MUTE_TIMINGS, {"name": "m", "time_intervals": SPAN})[0] == 201
    reader = make_user(["maintenancewindow.read"])
    assert api.json("GET", f"{MUTE_TIMINGS}/m", token=reader.token)[0] == 200
    sent = {"name": "m", "time_intervals": SPAN}
    assert api.json("POST", MUTE_TIMINGS, {**sent, "name": "n"}, token=reader.token)[0] == 403
    assert api.json("PUT", f"{MUTE_TIMINGS}/m", sent, token=reader.token)[0] == 403
    assert api.json("DELETE", f"{MUTE_TIMINGS}/m", token=reader.token)[0] == 403
    stranger = make_user(["maintenancewindow.#"], tenant=make_tenant("other"))
    assert api.json("GET", MUTE_TIMINGS, token=stranger.token) == (200, [])
    assert api.json("DELETE", f"{MUTE_TIMINGS}/m", token=stranger.token)[0] == 404
