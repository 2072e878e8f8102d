"""Maintenance windows through the unmodified Wavefront client (MaintenanceWindowApi and the
SearchApi's maintenance window operations) against the live server: every operation, the
client's model checks on every answer, runningState from the server's clock, 400 / 404 / 409,
and tenant isolation."""

from __future__ import annotations

import time

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_tenant_admin, raw_json, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e


@pytest.fixture
def windows(server, fresh) -> wf.MaintenanceWindowApi:
    return wf.MaintenanceWindowApi(wavefront(server.url, fresh.token))


@pytest.fixture
def search(server, fresh) -> wf.SearchApi:
    return wf.SearchApi(wavefront(server.url, fresh.token))


def _window(
    title: str | None = None, *, starts_in: int = 3600, lasts: int = 3600, tags=("db",)
) -> wf.MaintenanceWindow:
    """A window starting starts_in seconds from now (negative: in the past)."""
    start = int(time.time()) + starts_in
    return wf.MaintenanceWindow(
        title=title or unique("window"),
        reason="e2e",
        start_time_in_seconds=start,
        end_time_in_seconds=start + lasts,
        relevant_customer_tags=list(tags),
        relevant_host_tags=["env.prod"],
        relevant_host_names=["db-1"],
        host_tag_group_host_names_group_anded=False,
    )


def test_can_drive_every_maintenance_window_operation(windows):
    # create
    created = windows.create_maintenance_window(body=_window("upgrade")).response
    assert created.id and created.title == "upgrade" and created.running_state == "PENDING"
    assert created.relevant_host_names == ["db-1"] and isinstance(created.created_epoch_millis, int)
    # get
    assert windows.get_maintenance_window(created.id).response.reason == "e2e"
    # update: an ongoing window now
    body = _window("upgrade, now", starts_in=-60)
    updated = windows.update_maintenance_window(created.id, body=body).response
    assert updated.title == "upgrade, now" and updated.running_state == "ONGOING"
    # list, paged
    windows.create_maintenance_window(body=_window(starts_in=-7200))
    first = windows.get_all_maintenance_window(offset=0, limit=1).response
    rest = windows.get_all_maintenance_window(offset=1, limit=1).response
    assert first.total_items == 2 and first.more_items is True and rest.more_items is False
    assert {w.running_state for w in first.items + rest.items} == {"ONGOING", "ENDED"}
    # delete
    assert windows.delete_maintenance_window(created.id).response.id == created.id
    assert refused_status(lambda: windows.get_maintenance_window(created.id)) == 404
    assert windows.get_all_maintenance_window().response.total_items == 1


def test_can_refuse_bad_windows_and_stale_updates(windows):
    # a window that ends before it starts, or lacks a required field: 400, nothing written
    backwards = _window()
    backwards.end_time_in_seconds = backwards.start_time_in_seconds - 1
    assert refused_status(lambda: windows.create_maintenance_window(body=backwards)) == 400
    no_tags = {"title": "x", "reason": "x", "startTimeInSeconds": 1, "endTimeInSeconds": 2}
    assert refused_status(lambda: windows.create_maintenance_window(body=no_tags)) == 400
    assert windows.get_all_maintenance_window().response.total_items == 0
    # a stale version: 409
    window = windows.create_maintenance_window(body=_window()).response
    body = windows.api_client.sanitize_for_serialization(_window("first"))
    windows.update_maintenance_window(window.id, body={**body, "version": 1})
    assert refused_status(lambda: windows.update_maintenance_window(window.id, body={**body, "version": 1})) == 409
    assert raw_json(lambda **kw: windows.get_maintenance_window(window.id, **kw))["response"]["version"] == 2
    # unknown ids: 404
    for call in (
        lambda: windows.get_maintenance_window("1700000000000000000"),
        lambda: windows.update_maintenance_window("1700000000000000000", body=_window()),
        lambda: windows.delete_maintenance_window("1700000000000000000"),
    ):
        assert refused_status(call) == 404


def test_can_search_windows_with_running_state_facets(windows, search):
    windows.create_maintenance_window(body=_window("ended", starts_in=-7200, tags=["web"]))
    windows.create_maintenance_window(body=_window("ongoing", starts_in=-60))
    windows.create_maintenance_window(body=_window("pending", starts_in=3600))

    query = wf.SearchQuery(key="runningState", value="ONGOING", matching_method="EXACT")
    found = search.search_maintenance_window_entities(body=wf.SortableSearchRequest(query=[query])).response
    assert [w.title for w in found.items] == ["ongoing"] and found.total_items == 1

    states = search.search_maintenance_window_for_facet(
        "runningState", body=wf.FacetSearchRequestContainer(limit=10)
    ).response
    assert sorted(states.items) == ["ENDED", "ONGOING", "PENDING"]
    both = search.search_maintenance_window_for_facets(
        body=wf.FacetsSearchRequestContainer(facets=["runningState", "relevantCustomerTags"])
    ).response
    assert sorted(both.facets["relevantCustomerTags"]) == ["db", "web"]


def test_can_hide_windows_from_another_tenant(server, admin_token, windows):
    window = windows.create_maintenance_window(body=_window()).response
    other = new_tenant_admin(server.url, admin_token)
    theirs = wf.MaintenanceWindowApi(wavefront(server.url, other.token))
    assert refused_status(lambda: theirs.get_maintenance_window(window.id)) == 404
    assert refused_status(lambda: theirs.update_maintenance_window(window.id, body=_window())) == 404
    assert refused_status(lambda: theirs.delete_maintenance_window(window.id)) == 404
    assert theirs.get_all_maintenance_window().response.items == []
    assert windows.get_maintenance_window(window.id).response.title == window.title
