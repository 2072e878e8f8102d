"""Events through the unmodified Wavefront client (EventApi, and SearchApi's report_event
routes) against the live server: every one of EventApi's 14 operations, each answer
deserialized by the client's models (which check required fields and enums).

Each test works in a sub-tenant of its own, so the listings hold only what it made."""

from __future__ import annotations

import time

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import refused_status, unique, wavefront

pytestmark = pytest.mark.e2e

MINUTE = 60_000


@pytest.fixture
def client(server, fresh) -> wf.ApiClient:
    return wavefront(server.url, fresh.token)


@pytest.fixture
def events(client) -> wf.EventApi:
    return wf.EventApi(client)


def _event(name: str, start: int, **fields) -> wf.Event:
    return wf.Event(name=name, start_time=start, annotations={"severity": "info", "type": "deploy"}, **fields)


def _ids(page) -> list[str]:
    return [e.id for e in page.items]


def test_can_create_get_update_close_and_delete_an_event(events):
    # WHEN an event starts a minute ago, without an end
    start = int(time.time() * 1000) - MINUTE
    name = unique("deploy")
    created = events.create_event(body=_event(name, start, hosts=["web-1"], tags=["team-a"])).response
    # THEN it is an ongoing user event with Wavefront's id
    assert created.id == f"{start}:{name}" and created.running_state == "ONGOING"
    assert created.creator_type == ["USER"] and created.is_user_event is True
    assert created.can_close is True and created.can_delete is True and created.end_time is None
    assert created.tags == ["team-a"] and created.hosts == ["web-1"]
    # AND it reads back, and is updated
    assert events.get_event(created.id).response.name == name
    updated = events.update_user_event(created.id, body=_event(name + "-v2", start, hosts=["web-2"])).response
    assert updated.name == name + "-v2" and updated.hosts == ["web-2"] and updated.tags == ["team-a"]
    # WHEN it is closed
    closed = events.close_user_event(created.id).response
    assert closed.running_state == "ENDED" and closed.end_time >= start and closed.can_close is False
    # THEN closing again is refused
    assert refused_status(lambda: events.close_user_event(created.id)) == 400
    # AND deleting it removes it for good
    assert events.delete_user_event(created.id).response.id == created.id
    assert refused_status(lambda: events.get_event(created.id)) == 404
    assert refused_status(lambda: events.delete_user_event(created.id)) == 404


def test_can_tag_an_event(events):
    event = events.create_event(body=_event(unique("tagged"), 1_700_000_000_000)).response
    assert events.add_event_tag(event.id, "team:db").status.result == "OK"
    events.set_event_tags(event.id, body=["env.prod", "team:db"])
    events.remove_event_tag(event.id, "env.prod")
    tags = events.get_event_tags(event.id).response
    assert tags.items == ["team:db"] and tags.total_items == 1
    assert events.get_event(event.id).response.tags == ["team:db"]


def test_can_list_a_window_of_time_page_by_page(events):
    # GIVEN five events one minute apart
    t0 = 1_700_000_000_000
    ids = [events.create_event(body=_event(unique(f"e{i}"), t0 + i * MINUTE)).response.id for i in range(5)]
    # WHEN the window holding the 2nd to the 5th is read two at a time
    seen, cursor = [], None
    while True:
        options = {"cursor": cursor} if cursor else {}
        page = events.get_all_events_with_time_range(
            earliest_start_time_epoch_millis=t0 + MINUTE,
            latest_start_time_epoch_millis=t0 + 4 * MINUTE,
            limit=2,
            **options,
        ).response
        seen += _ids(page)
        if not page.more_items:
            break
        cursor = page.cursor
    # THEN the four come newest first, each once
    assert seen == ids[:0:-1]
    # AND a window before all of them is empty; a reversed one is refused
    empty = events.get_all_events_with_time_range(
        earliest_start_time_epoch_millis=0, latest_start_time_epoch_millis=t0 - 1
    ).response
    assert empty.items == [] and empty.more_items is False
    bad = lambda: events.get_all_events_with_time_range(  # noqa: E731
        earliest_start_time_epoch_millis=t0, latest_start_time_epoch_millis=t0 - 1
    )
    assert refused_status(bad) == 400


def test_can_list_related_events(events):
    t0 = 1_700_000_000_000
    main = events.create_event(body=_event(unique("main"), t0, end_time=t0 + 10 * MINUTE, hosts=["web-1"])).response
    inside = events.create_event(body=_event(unique("inside"), t0 + MINUTE, hosts=["web-1"])).response
    earlier = events.create_event(body=_event(unique("earlier"), t0 - 30 * MINUTE, end_time=t0 - 20 * MINUTE)).response
    assert _ids(events.get_related_events_with_time_span(main.id).response) == [inside.id, earlier.id]
    overlapping = events.get_related_events_with_time_span(main.id, is_overlapped=True, limit=10).response
    assert _ids(overlapping) == [inside.id]
    by_host = events.get_related_events_with_time_span(main.id, rendering_method="HOST").response
    assert _ids(by_host) == [inside.id]


def test_can_answer_alert_firings_from_real_data(client, events):
    # GIVEN an alert (nothing evaluates alerts yet, so it has never fired) and a user event
    alert = (
        wf.AlertApi(client)
        .create_alert(body=wf.Alert(name=unique("cpu"), condition="ts(cpu.load) > 2", minutes=5, severity="WARN"))
        .response
    )
    event = events.create_event(body=_event(unique("deploy"), 1_700_000_000_000)).response
    # THEN its firings are an empty page; an unknown alert is a 404
    firings = events.get_alert_firing_events(alert.id, limit=10, asc=True).response
    assert firings.items == [] and firings.more_items is False
    assert refused_status(lambda: events.get_alert_firing_events("1234", limit=10)) == 404
    # AND a user event has no firing details or alert queries: 400; an unknown one 404
    assert refused_status(lambda: events.get_alert_firing_details(event.id)) == 400
    assert refused_status(lambda: events.get_alert_event_queries_slug(event.id)) == 400
    assert refused_status(lambda: events.get_alert_firing_details("1:none")) == 404
    assert refused_status(lambda: events.get_alert_event_queries_slug("1:none")) == 404


def test_can_refuse_bad_events(events):
    assert refused_status(lambda: events.create_event(body={"name": "x", "startTime": 1})) == 400
    body = {"name": "x", "startTime": 10, "endTime": 5, "annotations": {}}
    assert refused_status(lambda: events.create_event(body=body)) == 400
    page = events.get_all_events_with_time_range().response
    assert page.items == []


def test_can_search_report_events(client, events):
    t0 = 1_700_000_000_000
    events.create_event(body=_event("deploy api", t0, tags=["team:api"]))
    events.create_event(body=_event("deploy db", t0 + MINUTE, tags=["team:db"]))
    search = wf.SearchApi(client)
    query = wf.SortableSearchRequest(
        query=[wf.SearchQuery(key="name", value="deploy", matching_method="STARTSWITH")],
        sort=wf.Sorting(field="startTime", ascending=False),
    )
    found = search.search_report_event_entities(body=query).response
    assert [e.name for e in found.items] == ["deploy db", "deploy api"]
    facets = search.search_report_event_for_facets(body=wf.FacetsSearchRequestContainer(facets=["tags"]))
    assert facets.response.facets == {"tags": ["team:api", "team:db"]}
    facet = search.search_report_event_for_facet("tags", body=wf.FacetSearchRequestContainer()).response
    assert facet.items == ["team:api", "team:db"]
