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
