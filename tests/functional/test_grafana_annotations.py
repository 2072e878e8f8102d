"""Grafana's annotations are events: written in one dialect, read and changed in the other;
Grafana's find filters; system events shown but never changed; permissions per event."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import events
from tests.functional.test_event import EVENT, T0, new_event

ANNOTATIONS = "/api/annotations"
MINUTE = 60_000


def add(api: Any, token: str | None = None, **body: Any) -> int:
    status, answer = api.json("POST", ANNOTATIONS, {"text": "deploy web", **body}, token=token)
    assert status == 200, answer
    assert answer["message"] == "Annotation added" and isinstance(answer["id"], int)
    return int(answer["id"])


def find(api: Any, query: str = "", token: str | None = None) -> list[dict[str, Any]]:
    status, answer = api.json("GET", f"{ANNOTATIONS}{query}", token=token)
    assert status == 200, answer
    return list(answer)


def event_of(api: Any, number: int) -> dict[str, Any]:
    [found] = [a for a in find(api) if a["id"] == number]
    status, events_page = api.json("GET", f"{EVENT}?limit=1000")
    [event] = [e for e in events_page["response"]["items"] if e["startTime"] == found["time"]]
    return event


def test_can_create_an_annotation_that_is_an_event(api):
    # WHEN a region annotation is created through Grafana's dialect
    number = add(
        api,
        text="Deploy v2\nrolled out to web",
        time=T0,
        timeEnd=T0 + MINUTE,
        tags=["deploy", "env:prod"],
        dashboardUID="abc",
        panelId=2,
    )
    # THEN Grafana reads it back
    [got] = find(api)
    assert got["id"] == number and got["time"] == T0 and got["timeEnd"] == T0 + MINUTE
    assert got["text"] == "Deploy v2\nrolled out to web" and got["tags"] == ["deploy", "env:prod"]
    assert got["dashboardUID"] == "abc" and got["panelId"] == 2 and got["login"] == "admin"
    # AND it is an event in the Wavefront dialect, named by the text's first line
    event = event_of(api, number)
    assert event["name"] == "Deploy v2" and event["startTime"] == T0 and event["endTime"] == T0 + MINUTE
    assert event["tags"] == ["deploy", "env:prod"] and event["annotations"]["dashboardUID"] == "abc"
    assert event["annotations"]["details"] == "Deploy v2\nrolled out to web"


def test_can_read_and_change_a_wavefront_event_as_an_annotation(api):
    # GIVEN an event created through the Wavefront dialect
    made = new_event(api, name="db failover", endTime=T0 + 2 * MINUTE, tags=["db"])
    [got] = find(api)
    assert got["text"] == "db failover" and got["time"] == T0 and got["timeEnd"] == T0 + 2 * MINUTE
    assert got["id"] > 0 and got["tags"] == ["db"]
    # WHEN Grafana patches its text and PUTs new tags
    status, answer = api.json("PATCH", f"{ANNOTATIONS}/{got['id']}", {"text": "db failover done"})
    assert (status, answer) == (200, {"message": "Annotation patched"})
    # THEN the Wavefront dialect sees the change on the same event (same id, next version)
    status, event = api.json("GET", f"{EVENT}/{made['id']}")
    assert event["response"]["name"] == "db failover done" and event["response"]["tags"] == ["db"]
    assert event["response"]["version"] == 2 and event["response"]["endTime"] == T0 + 2 * MINUTE
    status, answer = api.json("PUT", f"{ANNOTATIONS}/{got['id']}", {"text": "moved", "time": T0 + MINUTE, "tags": []})
    assert (status, answer) == (200, {"message": "Annotation updated"})
    event = api.json("GET", f"{EVENT}/{made['id']}")[1]["response"]
    # a PUT without timeEnd makes a point annotation
    assert event["startTime"] == T0 + MINUTE and event["endTime"] == T0 + MINUTE and event["tags"] == []
    # AND a Wavefront change shows in Grafana's dialect
    assert api.json("PUT", f"{EVENT}/{made['id']}/tag/late")[0] == 200
    assert find(api)[0]["tags"] == ["late"]
    # AND deleting through Grafana deletes the event
    assert api.json("DELETE", f"{ANNOTATIONS}/{got['id']}") == (200, {"message": "Annotation deleted"})
    assert api.json("GET", f"{EVENT}/{made['id']}")[0] == 404
    assert api.json("DELETE", f"{ANNOTATIONS}/{got['id']}")[0] == 404


def test_can_forget_a_number_whose_event_was_deleted_in_wavefront(api):
    made = new_event(api)
    number = find(api)[0]["id"]
    assert api.json("DELETE", f"{EVENT}/{made['id']}")[0] == 200
    # a new event under the same id gets a new number; the old number names nothing
    new_event(api)
    assert find(api)[0]["id"] != number
    assert api.json("PATCH", f"{ANNOTATIONS}/{number}", {"text": "x"}) == (
        404,
        {"message": f"Event number {number} not found"},
    )


def test_can_find_annotations_by_time_tags_dashboard_and_type(api):
    first = add(api, time=T0, tags=["a", "b"], dashboardUID="d1", panelId=1)
    second = add(api, time=T0 + MINUTE, tags=["b"], dashboardUID="d2")
    third = add(api, time=T0 + 2 * MINUTE, tags=["c"])
    events.record_system_event(api.context(), "CPU high", T0 + 3 * MINUTE, alert_id="42", tags=["c"])

    def ids(query: str) -> list[int]:
        return [a["id"] for a in find(api, query)]

    fired = find(api, "?type=alert")
    assert len(fired) == 1 and fired[0]["alertId"] == 42 and fired[0]["alertName"] == "CPU high"
    assert ids("?type=annotation") == [third, second, first]
    assert ids(f"?from={T0 + MINUTE}&to={T0 + 2 * MINUTE}") == [third, second]
    assert ids("?tags=b") == [second, first] and ids("?tags=a&tags=b") == [first]
    assert ids("?tags=a&tags=c&matchAny=true&type=annotation") == [third, first]
    assert ids("?dashboardUID=d1") == [first] and ids("?panelId=1") == [first]
    assert ids("?limit=2&type=annotation") == [third, second]
    assert ids("?alertId=42") == [fired[0]["id"]]
    # AND the system event may not be changed through Grafana
    status, answer = api.json("PATCH", f"{ANNOTATIONS}/{fired[0]['id']}", {"text": "x"})
    assert status == 400 and "created by the alert" in answer["message"]
    for query in ("?type=other", f"?from={T0}&to={T0 - 1}", "?limit=0", "?limit=abc"):
        assert api.json("GET", f"{ANNOTATIONS}{query}")[0] == 400, query


def test_can_create_a_graphite_annotation(api):
    status, answer = api.json(
        "POST", f"{ANNOTATIONS}/graphite", {"what": "Deploy", "tags": "deploy web", "when": T0 // 1000, "data": "v3"}
    )
    assert status == 200 and answer["message"] == "Graphite annotation added"
    [got] = find(api)
    assert got["id"] == answer["id"] and got["text"] == "Deploy\nv3" and got["tags"] == ["deploy", "web"]
    assert got["time"] == got["timeEnd"] == T0


def test_can_refuse_bad_annotations_writing_nothing(api):
    for body in (
        {},
        {"text": ""},
        {"text": 5},
        {"text": "x", "time": -1},
        {"text": "x", "time": T0, "timeEnd": T0 - 1},
        {"text": "x", "tags": ["has space"]},
        {"text": "x", "tags": "notalist"},
        {"text": "x" * 4097},
        {"text": "x", "tags": [f"t{i}" for i in range(33)]},
    ):
        status, answer = api.json("POST", ANNOTATIONS, body)
        assert status == 400 and set(answer) == {"message"}, (body, answer)
    assert api.json("POST", f"{ANNOTATIONS}/graphite", {"tags": []})[0] == 400
    assert find(api) == []
    assert api.json("PUT", f"{ANNOTATIONS}/abc", {"text": "x"})[0] == 400
    assert api.json("PUT", f"{ANNOTATIONS}/999", {"text": "x"})[0] == 404


def test_can_check_the_event_permissions(api, make_user, make_tenant):
    number = add(api, time=T0)
    reader = make_user(["event.read"])
    assert [a["id"] for a in find(api, token=reader.token)] == [number]
    assert api.json("POST", ANNOTATIONS, {"text": "x"}, token=reader.token)[0] == 403
    assert api.json("PATCH", f"{ANNOTATIONS}/{number}", {"text": "x"}, token=reader.token)[0] == 403
    assert api.json("DELETE", f"{ANNOTATIONS}/{number}", token=reader.token)[0] == 403
    # another tenant's annotation is not found
    stranger = make_user(["event.#"], tenant=make_tenant("other"))
    assert find(api, token=stranger.token) == []
    assert api.json("DELETE", f"{ANNOTATIONS}/{number}", token=stranger.token)[0] == 404
    assert api.json("GET", ANNOTATIONS, token="")[0] == 401
