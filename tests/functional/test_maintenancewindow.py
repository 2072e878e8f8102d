"""Maintenance windows: the body checked against the client's model (end after start,
bounds), runningState from the clock (an injected one, and the real one through HTTP),
search with runningState as a facet, the real MaintenanceWindowApi in process."""

from __future__ import annotations

import time
from typing import Any

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

WINDOWS = "/api/v2/maintenancewindow"
SEARCH = "/api/v2/search/maintenancewindow"
START = 1_700_000_000  # seconds
BODY = {
    "title": "db upgrade",
    "reason": "postgres 16",
    "startTimeInSeconds": START,
    "endTimeInSeconds": START + 3600,
    "relevantCustomerTags": ["db"],
    "relevantHostTags": ["env.prod"],
    "relevantHostNames": ["db-1", "db-2"],
    "hostTagGroupHostNamesGroupAnded": True,
}


def new_window(api, **fields: Any) -> dict[str, Any]:
    status, answer = api.json("POST", WINDOWS, {**BODY, **fields})
    assert status == 200, answer
    client_reads(answer, "ResponseContainerMaintenanceWindow")
    return answer["response"]


def total(api) -> int:
    return api.json("GET", WINDOWS)[1]["response"]["totalItems"]


def around_now(before: int, after: int) -> dict[str, int]:
    """A window from `before` seconds ago (negative: in the future) lasting `after` more."""
    now = int(time.time())
    return {"startTimeInSeconds": now - before, "endTimeInSeconds": now - before + after}


# ---- the real client ---------------------------------------------------------------------------


def test_can_serve_the_real_client_through_every_maintenance_window_operation(api):
    windows = wf.MaintenanceWindowApi(wavefront(api))
    body = wf.MaintenanceWindow(
        title="db upgrade",
        reason="postgres 16",
        start_time_in_seconds=START,
        end_time_in_seconds=START + 3600,
        relevant_customer_tags=["db"],
        relevant_host_names=["db-1"],
    )
    created = windows.create_maintenance_window(body=body).response
    assert created.id and created.running_state == "ENDED" and created.relevant_host_names == ["db-1"]
    assert windows.get_maintenance_window(created.id).response.title == "db upgrade"
    body.title = "db upgrade, take two"
    assert windows.update_maintenance_window(created.id, body=body).response.title == "db upgrade, take two"
    page = windows.get_all_maintenance_window(offset=0, limit=10).response
    assert [w.id for w in page.items] == [created.id] and page.total_items == 1
    assert windows.delete_maintenance_window(created.id).response.id == created.id
    with pytest.raises(ApiException) as gone:
        windows.get_maintenance_window(created.id)
    assert gone.value.status == 404


# ---- bodies ----------------------------------------------------------------------------------


def test_can_create_a_window_with_the_clients_fields(api):
    window = new_window(api, eventName="db-maintenance", pointTagFilter="env=prod", targets=["target:42"])
    assert {k: window[k] for k in BODY} == BODY
    assert window["eventName"] == "db-maintenance" and window["targets"] == ["target:42"]
    assert window["version"] == 1 and window["creatorId"] == "admin"
    assert "tags" not in window and "acl" not in window


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"endTimeInSeconds": START}, "endTimeInSeconds"),
        ({"endTimeInSeconds": START - 1}, "endTimeInSeconds"),
        ({"startTimeInSeconds": -1}, "startTimeInSeconds"),
        ({"startTimeInSeconds": "1700000000"}, "startTimeInSeconds"),
        ({"endTimeInSeconds": 10**13}, "endTimeInSeconds"),
        ({"title": ""}, "title"),
        ({"title": "t" * 257}, "title"),
        ({"reason": None}, "reason"),
        ({"relevantCustomerTags": None}, "relevantCustomerTags"),
        ({"relevantCustomerTags": ["x"] * 101}, "relevantCustomerTags"),
        ({"relevantHostNames": ["h" * 257]}, "relevantHostNames.0"),
        ({"hostTagGroupHostNamesGroupAnded": "yes"}, "hostTagGroupHostNamesGroupAnded"),
    ],
)
def test_can_refuse_a_bad_window_naming_the_field_and_write_nothing(api, fields, where):
    status, answer = api.json("POST", WINDOWS, {**BODY, **fields})
    assert status == 400, answer
    assert answer["status"]["message"].startswith(where), answer
    assert total(api) == 0


def test_can_refuse_an_update_that_ends_before_it_starts(api):
    window = new_window(api)
    status, answer = api.json("PUT", f"{WINDOWS}/{window['id']}", {**BODY, "endTimeInSeconds": START - 60})
    assert status == 400 and "after startTimeInSeconds" in answer["status"]["message"], answer
    assert api.json("GET", f"{WINDOWS}/{window['id']}")[1]["response"]["version"] == 1


# ---- runningState ----------------------------------------------------------------------------------


def test_can_derive_the_running_state_from_an_injected_clock(api):
    from chalicelib.categories.maintenancewindow import MAINTENANCE_WINDOW
    from chalicelib.domain import entities
    from chalicelib.domain.context import Context

    # GIVEN a window from START to START + 1 h
    window = new_window(api)
    entity = entities.load(api.context(), MAINTENANCE_WINDOW, window["id"])

    def state_at(ms: int) -> str:
        ctx = Context.service(api.root, clock=lambda: ms)
        return entities.wire(ctx, MAINTENANCE_WINDOW, entity)["runningState"]

    # THEN the state follows the context's clock: pending up to the start, ongoing from it,
    # ended from the end on
    assert state_at(START * 1000 - 1) == "PENDING"
    assert state_at(START * 1000) == "ONGOING"
    assert state_at((START + 3600) * 1000 - 1) == "ONGOING"
    assert state_at((START + 3600) * 1000) == "ENDED"


def test_can_answer_each_running_state_from_the_real_clock(api):
    ended = new_window(api, title="ended", **around_now(7200, 3600))
    ongoing = new_window(api, title="ongoing", **around_now(600, 3600))
    pending = new_window(api, title="pending", **around_now(-3600, 3600))
    assert (ended["runningState"], ongoing["runningState"], pending["runningState"]) == ("ENDED", "ONGOING", "PENDING")
    listed = {w["title"]: w["runningState"] for w in api.json("GET", WINDOWS)[1]["response"]["items"]}
    assert listed == {"ended": "ENDED", "ongoing": "ONGOING", "pending": "PENDING"}


def test_can_ignore_a_running_state_in_the_body(api):
    window = new_window(api, runningState="ONGOING")
    assert window["runningState"] == "ENDED"


# ---- search ---------------------------------------------------------------------------------------


def search(api, path: str = "", body: dict[str, Any] | None = None) -> dict[str, Any]:
    status, answer = api.json("POST", f"{SEARCH}{path}", body or {})
    assert status == 200, answer
    return answer["response"]


def test_can_search_windows_by_running_state_with_facets(api):
    new_window(api, title="ended a", **around_now(7200, 3600))
    new_window(api, title="ended b", relevantCustomerTags=["web"], **around_now(7200, 60))
    new_window(api, title="ongoing", **around_now(600, 3600))
    # WHEN searched by runningState THEN the windows in that state, sorted by start by default
    found = search(api, body={"query": [{"key": "runningState", "value": "ENDED", "matchingMethod": "EXACT"}]})
    assert sorted(w["title"] for w in found["items"]) == ["ended a", "ended b"]
    client_reads(
        {"status": {"result": "OK", "code": 200}, "response": found}, "ResponseContainerPagedMaintenanceWindow"
    )
    # AND runningState is a facet, with counts
    assert search(api, "/runningState")["counts"] == {"ENDED": 2, "ONGOING": 1}
    facets = search(api, "/facets", {"facets": ["runningState", "relevantCustomerTags"]})
    assert sorted(facets["facets"]["relevantCustomerTags"]) == ["db", "web"]
    client_reads(
        {"status": {"result": "OK", "code": 200}, "response": facets}, "ResponseContainerFacetsResponseContainer"
    )
    # AND no deleted search exists: Wavefront keeps no trash of windows
    assert api.json("POST", f"{SEARCH}/deleted", {})[0] == 400
