"""Events: what the shared contract suite does not cover. Ids, the derived fields and the
running state from an injected clock, close, system events refusing every change, the
time-windowed listing (newest first, cursor pages, windows that cut through events, and
reading only the window's rows), alert firings and their details, related events, and the
event search (the client's searchReportEvent*). Answers are read back by the real client's deserializer."""

from __future__ import annotations

from typing import Any

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, new_alert, wavefront

EVENT = "/api/v2/event"
T0 = 1_700_000_000_000  # a fixed past instant (Nov 2023)
MINUTE = 60_000
BODY: dict[str, Any] = {"name": "deploy web", "startTime": T0, "annotations": {"severity": "info", "type": "deploy"}}


def new_event(api: Any, token: str | None = None, **fields: Any) -> dict[str, Any]:
    status, answer = api.json("POST", EVENT, {**BODY, **fields}, token=token)
    assert status == 200, answer
    client_reads(answer, "ResponseContainerEvent")
    return answer["response"]


def listing(api: Any, query: str = "", token: str | None = None) -> dict[str, Any]:
    status, answer = api.json("GET", f"{EVENT}{query}", token=token)
    assert status == 200, answer
    client_reads(answer, "ResponseContainerPagedEvent")
    return answer["response"]


def refused(api: Any, method: str, path: str, code: int, body: Any = None) -> str:
    status, answer = api.json(method, path, body)
    assert status == code, answer
    assert answer["status"]["result"] == "ERROR" and answer["status"]["code"] == code
    return str(answer["status"]["message"])


# ---- the real client ----------------------------------------------------------------------


def test_can_serve_the_real_client_through_every_event_operation(api):
    # GIVEN the real EventApi, and an alert with no firings yet
    events = wf.EventApi(wavefront(api))
    alert_id = new_alert(api)["id"]
    # WHEN it creates, reads, updates, tags, lists, closes and deletes
    body = wf.Event(name="deploy", start_time=T0, annotations={"severity": "info"}, hosts=["web-1"])
    created = events.create_event(body=body).response
    assert created.id == f"{T0}:deploy" and created.running_state == "ONGOING" and created.end_time is None
    assert created.creator_type == ["USER"] and created.is_user_event is True and created.can_close is True
    assert events.get_event(created.id).response.hosts == ["web-1"]
    body.name = "deploy v2"
    assert events.update_user_event(created.id, body=body).response.name == "deploy v2"
    events.add_event_tag(created.id, "team:web")
    events.set_event_tags(created.id, body=["env.prod", "team:web"])
    events.remove_event_tag(created.id, "env.prod")
    assert events.get_event_tags(created.id).response.items == ["team:web"]
    page = events.get_all_events_with_time_range(
        earliest_start_time_epoch_millis=T0 - MINUTE, latest_start_time_epoch_millis=T0 + MINUTE, limit=10
    ).response
    assert [e.id for e in page.items] == [created.id] and page.more_items is False
    other = events.create_event(body=wf.Event(name="db", start_time=T0 + MINUTE, annotations={})).response
    related = events.get_related_events_with_time_span(created.id, is_overlapped=True, limit=5).response
    assert [e.id for e in related.items] == [other.id]
    assert events.get_alert_firing_events(alert_id, limit=5).response.items == []
    closed = events.close_user_event(created.id).response
    assert closed.running_state == "ENDED" and closed.end_time >= T0 and closed.can_close is False
    for operation in (events.get_alert_firing_details, events.get_alert_event_queries_slug):
        with pytest.raises(ApiException) as not_firing:
            operation(created.id)
        assert not_firing.value.status == 400
    assert events.delete_user_event(created.id).response.id == created.id
    with pytest.raises(ApiException) as gone:
        events.get_event(created.id)
    assert gone.value.status == 404


# ---- create, ids, derived fields ------------------------------------------------------------


def test_can_create_an_ongoing_event_with_wavefront_fields(api):
    # WHEN an event is created with a start and no end
    event = new_event(api, tags=["b", "a"], hosts=["web-1"])
    # THEN it is ongoing, made by a user, with Wavefront's id and bookkeeping
    assert event["id"] == f"{T0}:deploy-web"
    assert event["runningState"] == "ONGOING" and "endTime" not in event
    assert event["creatorType"] == ["USER"] and event["isUserEvent"] is True
    assert event["canClose"] is True and event["canDelete"] is True
    assert event["createdEpochMillis"] == event["createdAt"] == event["created"]
    assert event["updatedEpochMillis"] == event["updatedAt"]
    assert event["creatorId"] == "admin" and event["table"] == api.root
    assert event["tags"] == ["a", "b"] and event["annotations"] == BODY["annotations"]


def test_can_make_ids_unique_per_tenant(api, make_tenant, make_user):
    # GIVEN two events with the same start and name, and the same one in another tenant
    first, second = new_event(api), new_event(api)
    stranger = make_user(["event.#"], tenant=make_tenant("other"))
    theirs = new_event(api, token=stranger.token)
    # THEN the second one has an id of its own, the other tenant's the plain one
    assert first["id"] == theirs["id"] == f"{T0}:deploy-web"
    assert second["id"].startswith(f"{T0}:deploy-web:") and second["id"] != first["id"]
    assert {e["id"] for e in listing(api)["items"]} == {first["id"], second["id"]}
    assert [e["id"] for e in listing(api, token=stranger.token)["items"]] == [theirs["id"]]


def test_can_end_an_ephemeral_event_one_millisecond_after_its_start(api):
    event = new_event(api, isEphemeral=True)
    assert event["endTime"] == T0 + 1 and event["runningState"] == "ENDED" and event["canClose"] is False


def test_can_ignore_the_read_only_fields_the_client_sends_back(api):
    event = new_event(
        api, id="mine", runningState="PENDING", creatorType=["SYSTEM"], isUserEvent=False, createdAt=5, colour="blue"
    )
    assert event["id"] == f"{T0}:deploy-web" and event["runningState"] == "ONGOING"
    assert event["creatorType"] == ["USER"] and event["createdAt"] != 5 and "colour" not in event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"startTime": None}, "startTime"),
        ({"annotations": None}, "annotations"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 257}, "name"),
        ({"startTime": "1700000000000"}, "startTime"),
        ({"startTime": -1}, "startTime"),
        ({"startTime": 10**15}, "startTime"),
        ({"endTime": T0 - 1}, "endTime must not be before startTime"),
        ({"annotations": {"severity": 1}}, "annotations.severity"),
        ({"annotations": {f"k{i}": "v" for i in range(33)}}, "annotations"),
        ({"annotations": {"details": "d" * 4097}}, "annotations.details"),
        ({"annotations": {"k" * 65: "v"}}, "annotations"),
        ({"hosts": ["web-1", 2]}, "hosts.1"),
        ({"hosts": [f"h{i}" for i in range(101)]}, "hosts"),
        ({"hosts": ["h" * 257]}, "hosts.0"),
        ({"dimensions": {"env": ["p"] * 17}}, "dimensions"),
        ({"isEphemeral": "yes"}, "isEphemeral"),
        ({"tags": "a"}, "tags"),
        ({"tags": ["has space"]}, "has space"),
    ],
)
def test_can_refuse_bad_bodies_naming_the_field_and_write_nothing(api, change, field):
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    message = refused(api, "POST", EVENT, 400, body)
    assert field in message
    assert listing(api)["items"] == []


def test_can_refuse_a_bad_update_and_keep_the_event(api):
    event = new_event(api)
    message = refused(api, "PUT", f"{EVENT}/{event['id']}", 400, {**BODY, "endTime": T0 - 5})
    assert "endTime" in message
    assert api.json("GET", f"{EVENT}/{event['id']}")[1]["response"]["version"] == 1


# ---- running state from the clock, close ------------------------------------------------------


def test_can_derive_the_running_state_from_an_injected_clock(api):
    from chalicelib.categories.event import EVENT as KIND
    from chalicelib.domain import entities, events
    from chalicelib.domain.context import Context

    # GIVEN an event from T0 to T0 + 10 minutes
    stored = events.create(api.context(), {**BODY, "endTime": T0 + 10 * MINUTE}, [])

    def seen_at(now: int) -> dict[str, Any]:
        return entities.wire(Context.service(api.root, clock=lambda: now), KIND, stored)

    # THEN its state follows the clock: pending before, ongoing during, ended from its end
    assert seen_at(T0 - 1)["runningState"] == "PENDING" and seen_at(T0 - 1)["canClose"] is False
    assert seen_at(T0)["runningState"] == "ONGOING" and seen_at(T0)["canClose"] is True
    assert seen_at(T0 + 10 * MINUTE)["runningState"] == "ENDED"


def test_can_close_an_ongoing_event_at_the_clocks_now(api):
    from chalicelib.categories.event import close
    from chalicelib.domain import events
    from chalicelib.domain.context import Context
    from chalicelib.errors import Invalid

    stored = events.create(api.context(), dict(BODY), [])
    at = Context.service(api.root, clock=lambda: T0 + 5 * MINUTE)
    # WHEN it is closed at T0 + 5 minutes, it ends then
    assert close(at, stored.id).doc["endTime"] == T0 + 5 * MINUTE
    # AND closing it again is refused, as is closing an event that has not started
    with pytest.raises(Invalid, match="ended"):
        close(at, stored.id)
    later = events.create(api.context(), {**BODY, "startTime": T0 + 60 * MINUTE}, [])
    with pytest.raises(Invalid, match="pending"):
        close(at, later.id)


def test_can_refuse_to_close_an_ended_event_over_http(api):
    event = new_event(api)
    assert api.json("POST", f"{EVENT}/{event['id']}/close")[0] == 200
    message = refused(api, "POST", f"{EVENT}/{event['id']}/close", 400)
    assert "only an ongoing event can be closed" in message
    refused(api, "POST", f"{EVENT}/{T0}:nothing/close", 404)


# ---- system events ----------------------------------------------------------------------------


def test_can_refuse_every_change_to_a_system_event(api):
    from chalicelib.domain import events

    # GIVEN an event recorded by the system (a maintenance window), ongoing
    system = events.record_system_event(api.context(), "maintenance db", T0, annotations={"type": "maintenance"})
    path = f"{EVENT}/{system.id}"
    seen = api.json("GET", path)[1]["response"]
    assert seen["creatorType"] == ["SYSTEM"] and seen["isUserEvent"] is False
    assert seen["canDelete"] is False and seen["canClose"] is False
    # WHEN a user deletes, edits, closes or tags it: 400 saying why
    for method, suffix, body in [
        ("DELETE", "", None),
        ("PUT", "", {**BODY, "name": "mine now"}),
        ("POST", "/close", None),
        ("PUT", "/tag/x", None),
        ("POST", "/tag", ["x"]),
        ("DELETE", "/tag/x", None),
    ]:
        message = refused(api, method, path + suffix, 400, body)
        assert "created by the system" in message
    # THEN nothing was written
    after = api.json("GET", path)[1]["response"]
    assert after == seen
    # AND the system itself may end it
    ended = events.end_system_event(api.context(), system.id, T0 + MINUTE)
    assert ended.doc["endTime"] == T0 + MINUTE


def test_can_refuse_to_delete_an_alert_firing(api):
    from chalicelib.domain import events

    alert_id = new_alert(api)["id"]
    fired = events.record_system_event(api.context(), "cpu high", T0, alert_id=alert_id)
    message = refused(api, "DELETE", f"{EVENT}/{fired.id}", 400)
    assert "created by the alert" in message
    assert api.json("GET", f"{EVENT}/{fired.id}")[1]["response"]["creatorType"] == ["ALERT"]


# ---- the time-windowed listing ------------------------------------------------------------------


@pytest.fixture
def timeline(api) -> list[str]:
    """Ten events one minute apart from T0, ids oldest first."""
    return [new_event(api, name=f"e{i}", startTime=T0 + i * MINUTE)["id"] for i in range(10)]


def window(earliest: int, latest: int, extra: str = "") -> str:
    return f"?earliestStartTimeEpochMillis={earliest}&latestStartTimeEpochMillis={latest}{extra}"


def test_can_list_a_window_newest_first_with_its_edges_inside(api, timeline):
    # WHEN the window runs from the 3rd event's start to the 6th's (both included)
    page = listing(api, window(T0 + 2 * MINUTE, T0 + 5 * MINUTE))
    # THEN exactly those four, newest first
    assert [e["id"] for e in page["items"]] == timeline[5:1:-1]
    assert page["moreItems"] is False and "cursor" not in page and page["totalItems"] == 4
    # AND a window that cuts between events, or holds none, gets what it holds
    assert [e["id"] for e in listing(api, window(T0 + MINUTE + 1, T0 + 3 * MINUTE - 1))["items"]] == [timeline[2]]
    assert listing(api, window(T0 + 10 * MINUTE, T0 + 20 * MINUTE))["items"] == []
    # AND without bounds, everything
    assert [e["id"] for e in listing(api)["items"]] == timeline[::-1]


def test_can_page_a_window_with_the_cursor(api, timeline):
    # WHEN seven events of the window are read three at a time
    query = window(T0 + MINUTE, T0 + 7 * MINUTE)
    seen, pages, cursor = [], [], None
    while True:
        page = listing(api, query + "&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        pages.append(page)
        seen += [e["id"] for e in page["items"]]
        cursor = page.get("cursor")
        if not page["moreItems"]:
            break
        assert cursor
    # THEN the pages hold each once, newest first, and count what came before them
    assert seen == timeline[7:0:-1]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert [p["offset"] for p in pages] == [0, 3, 6]
    assert "cursor" not in pages[-1] and pages[-1]["totalItems"] == 7


def test_can_refuse_a_bad_window_or_cursor(api, timeline):
    first = listing(api, window(T0, T0 + 9 * MINUTE, "&limit=2"))
    cursor = first["cursor"]
    assert "latestStartTimeEpochMillis" in refused(api, "GET", EVENT + window(T0 + 5, T0), 400)
    refused(api, "GET", EVENT + window(-1, T0), 400)
    refused(api, "GET", EVENT + window(T0, 10**15), 400)
    refused(api, "GET", EVENT + "?earliestStartTimeEpochMillis=yesterday", 400)
    refused(api, "GET", EVENT + "?limit=0", 400)
    refused(api, "GET", EVENT + "?limit=1001", 400)
    # a cursor works only for the window it was made for, and cannot be edited
    refused(api, "GET", EVENT + window(T0, T0 + 8 * MINUTE, f"&limit=2&cursor={cursor}"), 400)
    refused(api, "GET", EVENT + window(T0, T0 + 9 * MINUTE, f"&limit=2&cursor={cursor[:-2]}xx"), 400)


def test_can_read_only_the_rows_of_the_window(api, timeline, aws_calls):
    # WHEN a window holding two of the ten events is listed
    aws_calls.reset()
    page = listing(api, window(T0 + 3 * MINUTE, T0 + 4 * MINUTE))
    # THEN one Query of the timeline partition read those two rows and nothing else
    queries = [c for c in aws_calls.calls if c.operation == "Query"]
    bounds = (f"{T0 + 3 * MINUTE:015d}#", f"{T0 + 4 * MINUTE:015d}$")
    assert len(queries) == 1 and queries[0].keys == (f"{api.root}#event#t", *bounds), queries
    assert queries[0].read == 2 and len(page["items"]) == 2
    assert aws_calls.counts() == {"Query": 1}
    # AND a page of one reads two rows (the second only says that more follow)
    aws_calls.reset()
    page = listing(api, window(T0, T0 + 9 * MINUTE, "&limit=1"))
    assert aws_calls.counts() == {"Query": 1} and aws_calls.items_read() == 2 and page["moreItems"] is True
    # AND a window before every event reads nothing
    aws_calls.reset()
    assert listing(api, window(0, T0 - 1))["items"] == []
    assert aws_calls.items_read() == 0


def test_can_move_an_event_in_the_timeline_when_its_start_changes(api, timeline):
    # WHEN the first event is moved to the end, and the second is deleted
    moved = timeline[0]
    status, answer = api.json("PUT", f"{EVENT}/{moved}", {**BODY, "name": "e0", "startTime": T0 + 30 * MINUTE})
    assert status == 200, answer
    assert api.json("DELETE", f"{EVENT}/{timeline[1]}")[0] == 200
    # THEN the windows show it where it now starts (its id stays), and the deleted one nowhere
    assert listing(api, window(T0, T0 + MINUTE))["items"] == []
    assert [e["id"] for e in listing(api, window(T0 + 20 * MINUTE, T0 + 40 * MINUTE))["items"]] == [moved]
    assert [e["id"] for e in listing(api)["items"]] == [moved, *timeline[:1:-1]]
    # AND the listing answers the event as stored (tags and versions follow it)
    assert api.json("PUT", f"{EVENT}/{moved}/tag/team:db")[0] == 200
    [listed] = listing(api, window(T0 + 30 * MINUTE, T0 + 30 * MINUTE))["items"]
    assert listed == api.json("GET", f"{EVENT}/{moved}")[1]["response"]
    assert listed["tags"] == ["team:db"] and listed["version"] == 3


def test_can_list_only_the_callers_tenant(api, timeline, make_tenant, make_user):
    stranger = make_user(["event.#"], tenant=make_tenant("other"))
    assert listing(api, token=stranger.token)["items"] == []
    refused_status = api.json("GET", f"{EVENT}/{timeline[0]}", token=stranger.token)[0]
    assert refused_status == 404


# ---- alert firings --------------------------------------------------------------------------------


def test_can_list_the_firings_of_an_alert_and_their_details(api):
    from chalicelib.domain import events

    # GIVEN an alert that fired twice (recorded as alert evaluation will), and a user event
    alert = new_alert(api)
    other = new_alert(api, name="other")
    ctx = api.context()
    sources = [{"host": "web-1", "label": "cpu.load", "observed": 3, "firing": 1, "severity": "WARN"}]
    queries = {"condition": alert["condition"]}
    old = events.record_system_event(ctx, "cpu firing", T0, end=T0 + MINUTE, alert_id=alert["id"], queries=queries)
    new = events.record_system_event(ctx, "cpu firing", T0 + 9 * MINUTE, alert_id=alert["id"], sources=sources)
    events.record_system_event(ctx, "other firing", T0 + 5 * MINUTE, alert_id=other["id"])
    mine = new_event(api)
    # WHEN its firings are listed: only its own, newest first (or oldest with asc), in the window
    page = listing(api, f"/alertFirings?alertId={alert['id']}")
    assert [e["id"] for e in page["items"]] == [new.id, old.id]
    assert page["items"][0]["creatorType"] == ["ALERT"] and page["items"][0]["computedHlps"] == sources
    assert [e["id"] for e in listing(api, f"/alertFirings?alertId={alert['id']}&asc=true")["items"]] == [old.id, new.id]
    one = listing(api, f"/alertFirings?alertId={alert['id']}&limit=1")
    assert [e["id"] for e in one["items"]] == [new.id] and one["moreItems"] is True
    in_window = listing(api, f"/alertFirings?alertId={alert['id']}&latestStartTimeEpochMillis={T0 + MINUTE}")
    assert [e["id"] for e in in_window["items"]] == [old.id]
    # AND the details and queries of a firing answer what it recorded
    status, answer = api.json("GET", f"{EVENT}/{new.id}/alertFiringDetails")
    assert status == 200 and answer["response"] == sources
    client_reads(answer, "ResponseContainerSetSourceLabelPair")
    status, answer = api.json("GET", f"{EVENT}/{old.id}/alertQueriesSlug")
    assert status == 200 and answer["response"] == "condition=ts%28cpu.load%2C+source%3Dweb-1%29+%3E+2"
    client_reads(answer, "ResponseContainerString")
    # AND other events are no firings, unknown ones 404
    assert "not an alert firing" in refused(api, "GET", f"{EVENT}/{mine['id']}/alertFiringDetails", 400)
    assert "not an alert firing" in refused(api, "GET", f"{EVENT}/{mine['id']}/alertQueriesSlug", 400)
    refused(api, "GET", f"{EVENT}/{T0}:nothing/alertFiringDetails", 404)
    refused(api, "GET", f"{EVENT}/{T0}:nothing/alertQueriesSlug", 404)


def test_can_answer_an_empty_page_of_firings_and_404_for_an_unknown_alert(api):
    alert = new_alert(api)
    new_event(api)
    page = listing(api, f"/alertFirings?alertId={alert['id']}")
    assert page["items"] == [] and page["moreItems"] is False
    refused(api, "GET", f"{EVENT}/alertFirings?alertId=123", 404)
    refused(api, "GET", f"{EVENT}/alertFirings", 400)


# ---- related events ---------------------------------------------------------------------------------


def test_can_list_related_and_overlapping_events(api):
    # GIVEN an event from T0 to T0 + 10 min on web-1, and others around it
    event = new_event(api, name="main", endTime=T0 + 10 * MINUTE, hosts=["web-1"], dimensions={"env": ["prod"]})
    before = new_event(api, name="before", startTime=T0 - 50 * MINUTE, endTime=T0 - 40 * MINUTE, hosts=["web-1"])
    spanning = new_event(api, name="spanning", startTime=T0 - 30 * MINUTE, hosts=["web-2"])
    inside = new_event(
        api, name="inside", startTime=T0 + 5 * MINUTE, endTime=T0 + 6 * MINUTE, dimensions={"env": ["prod"]}
    )
    new_event(api, name="too early", startTime=T0 - 61 * MINUTE, endTime=T0 - 60 * MINUTE - 1)
    new_event(api, name="after", startTime=T0 + 11 * MINUTE, hosts=["web-1"])
    related = f"{EVENT}/{event['id']}/events"

    def ids(query: str = "") -> list[str]:
        status, answer = api.json("GET", related + query)
        assert status == 200, answer
        client_reads(answer, "ResponseContainerPagedEvent")
        return [e["id"] for e in answer["response"]["items"]]

    # THEN the hour before it through its end, newest first, without itself
    assert ids() == [inside["id"], spanning["id"], before["id"]]
    # AND only those overlapping its span, or sharing a host, a dimension, either
    assert ids("?isOverlapped=true") == [inside["id"], spanning["id"]]
    assert ids("?renderingMethod=HOST") == [before["id"]]
    assert ids("?renderingMethod=DIMENSION") == [inside["id"]]
    assert ids("?renderingMethod=BOTH&limit=1") == [inside["id"]]
    refused(api, "GET", related + "?renderingMethod=COLOUR", 400)
    refused(api, "GET", f"{EVENT}/{T0}:nothing/events", 404)


# ---- search -------------------------------------------------------------------------------------------


def test_can_search_report_events_and_their_facets(api):
    new_event(api, name="deploy api", tags=["team:api"], annotations={"severity": "warn"})
    new_event(api, name="deploy db", startTime=T0 + MINUTE, tags=["team:db"], hosts=["db-1"])
    new_event(api, name="outage", startTime=T0 + 2 * MINUTE, isEphemeral=True)
    # WHEN searched by name and sorted by start, newest first
    query = {"query": [{"key": "name", "value": "deploy", "matchingMethod": "STARTSWITH"}]}
    status, answer = api.json(
        "POST", "/api/v2/search/event", {**query, "sort": {"field": "startTime", "ascending": False}}
    )
    assert status == 200, answer
    client_reads(answer, "ResponseContainerPagedEvent")
    assert [e["name"] for e in answer["response"]["items"]] == ["deploy db", "deploy api"]
    # AND by running state, and through facets
    status, answer = api.json("POST", "/api/v2/search/event", {"query": [{"key": "runningState", "value": "ENDED"}]})
    assert [e["name"] for e in answer["response"]["items"]] == ["outage"]
    status, answer = api.json("POST", "/api/v2/search/event/facets", {"facets": ["tags", "severity"]})
    assert status == 200, answer
    assert answer["response"]["facets"] == {"tags": ["team:api", "team:db"], "severity": ["info", "warn"]}
    status, answer = api.json("POST", "/api/v2/search/event/hosts", {})
    assert status == 200 and answer["response"]["items"] == ["db-1"]
    # AND there is no trash to search
    assert api.json("POST", "/api/v2/search/event/deleted", {})[0] in (400, 404, 405)
