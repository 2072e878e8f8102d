"""Wavefront dashboards (/api/v2/dashboard): create with a client-chosen id, get, update with
versions, unique names, bad input, trash / undelete / skipTrash, history, tags, favorites
and search. Every answer is read back by the real client's deserializer, and the real
DashboardApi is driven through an in-process transport.

Helpers here (DASH, body, new_dashboard, reads) are shared by the other test_dashboard_* files.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

DASH = "/api/v2/dashboard"
SEARCH = "/api/v2/search/dashboard"

SECTIONS = [
    {
        "name": "Overview",
        "rows": [
            {
                "heightFactor": 50,
                "charts": [
                    {
                        "name": "CPU",
                        "units": "%",
                        "sources": [{"name": "A", "query": "ts(cpu.load)", "queryType": "WQL"}],
                        "chartSettings": {"type": "line", "lineType": "monotone", "ymin": 0},
                    },
                    {
                        "name": "Notes",
                        "sources": [],
                        "chartSettings": {"type": "markdown-widget", "plainMarkdownContent": "# hi"},
                    },
                ],
            }
        ],
    }
]


def body(uid: str = "ops-overview", name: str = "Ops overview", **fields: Any) -> dict[str, Any]:
    """A dashboard body as a client posts it."""
    return {"id": uid, "name": name, "sections": copy.deepcopy(SECTIONS), **fields}


def reads(answer: Any, type_name: str = "ResponseContainerDashboard") -> Any:
    """The answer as the real client reads it (raises on a model it refuses)."""
    return client_reads(answer, type_name)


def new_dashboard(api, uid: str = "ops-overview", token: str | None = None, **fields: Any) -> dict[str, Any]:
    status, answer = api.json("POST", DASH, body(uid, **fields), token=token)
    assert status == 200, answer
    reads(answer)
    return answer["response"]


def count(api, token: str | None = None) -> int:
    return api.json("GET", DASH, token=token)[1]["response"]["totalItems"]


# ---- the real client end to end -------------------------------------------------------------


def test_can_serve_the_real_client_through_every_dashboard_operation(api):
    # GIVEN the real DashboardApi
    dashboards = wf.DashboardApi(wavefront(api))
    chart = wf.Chart(
        name="CPU",
        sources=[wf.ChartSourceQuery(name="A", query="ts(cpu)")],
        chart_settings=wf.ChartSettings(type="line"),
    )
    model = wf.Dashboard(
        id="client-dash",
        name="Client dash",
        url="client-dash",
        sections=[wf.DashboardSection(name="S", rows=[wf.DashboardSectionRow(charts=[chart])])],
        tags=wf.WFTags(customer_tags=["team-a"]),
    )
    # WHEN it creates, reads and updates (a GET -> PUT round trip of its own object)
    created = dashboards.create_dashboard(body=model).response
    assert created.id == "client-dash" and created.num_charts == 1  # the client's model has no version
    assert created.tags.customer_tags == ["team-a"] and created.favorite is False
    got = dashboards.get_dashboard("client-dash").response
    got.description = "changed"
    updated = dashboards.update_dashboard("client-dash", body=got).response
    assert updated.description == "changed" and updated.updated_epoch_millis >= created.updated_epoch_millis
    page = dashboards.get_all_dashboard(offset=0, limit=10).response
    assert [d.id for d in page.items] == ["client-dash"] and page.more_items is False
    # AND tags, favorites, history, ACLs
    dashboards.add_dashboard_tag("client-dash", "env.prod")
    dashboards.set_dashboard_tags("client-dash", body=["env.prod", "team-b"])
    dashboards.remove_dashboard_tag("client-dash", "env.prod")
    assert dashboards.get_dashboard_tags("client-dash").response.items == ["team-b"]
    dashboards.favorite_dashboard("client-dash")
    assert dashboards.get_dashboard("client-dash").response.favorite is True
    dashboards.unfavorite_dashboard("client-dash")
    assert dashboards.get_dashboard("client-dash").response.favorite is False
    history = dashboards.get_dashboard_history("client-dash", offset=0, limit=2).response
    assert history.total_items == 5 and len(history.items) == 2 and history.more_items is True
    assert dashboards.get_dashboard_version("client-dash", 1).response.description is None
    dashboards.set_dashboard_acl(body=[wf.AccessControlListWriteDTO(entity_id="client-dash", view_acl=[api.admin])])
    dashboards.remove_dashboard_access(
        body=[wf.AccessControlListWriteDTO(entity_id="client-dash", view_acl=[api.admin])]
    )
    dashboards.add_dashboard_access(
        body=[wf.AccessControlListWriteDTO(entity_id="client-dash", modify_acl=[api.admin])]
    )
    acl = dashboards.get_dashboard_access_control_list(id=["client-dash"]).response
    assert acl[0].modify_acl[0].name == "admin" and acl[0].view_acl == []
    # AND search, trash, undelete, permanent delete
    found = wf.SearchApi(wavefront(api)).search_dashboard_entities(
        body=wf.SortableSearchRequest(query=[wf.SearchQuery(key="name", value="client", matching_method="CONTAINS")])
    )
    assert [d.id for d in found.response.items] == ["client-dash"]
    assert dashboards.delete_dashboard("client-dash").response.deleted is True
    assert dashboards.undelete_dashboard("client-dash").response.deleted is False
    dashboards.delete_dashboard("client-dash", skip_trash=True)
    with pytest.raises(ApiException) as gone:
        dashboards.get_dashboard("client-dash")
    assert gone.value.status == 404


# ---- create / read / update ------------------------------------------------------------------


def test_can_create_a_dashboard_and_keep_its_body_as_posted(api):
    # WHEN a dashboard is created with tags and keys the client's model does not know
    posted = body(tags={"customerTags": ["b", "a"]}, colour="blue", parameters={"env": "prod"})
    status, answer = api.json("POST", DASH, posted)
    # THEN the answer reads as the client's Dashboard, with bookkeeping and the body as posted
    assert status == 200, answer
    reads(answer)
    dash = answer["response"]
    assert dash["id"] == "ops-overview" and dash["url"] == "ops-overview" and dash["version"] == 1
    assert dash["sections"] == SECTIONS and dash["colour"] == "blue" and dash["parameters"] == {"env": "prod"}
    assert dash["tags"] == {"customerTags": ["a", "b"]} and dash["numCharts"] == 2
    assert dash["creatorId"] == "admin" and dash["created"] == dash["createdEpochMillis"]
    assert dash["favorite"] is False and dash["inTrash"] is False
    assert not [k for k in dash if k.startswith("_")]


def test_can_keep_a_url_the_client_chose(api):
    assert new_dashboard(api, url="custom-url")["url"] == "custom-url"


def test_can_drop_bookkeeping_and_managed_keys_from_a_body(api):
    dash = new_dashboard(api, version=7, inTrash=True, favorite=True, numCharts=99, created=1, _folder="x", _acl={})
    assert dash["version"] == 1 and dash["inTrash"] is False and dash["favorite"] is False
    assert dash["numCharts"] == 2 and dash["created"] > 1
    from chalicelib.dashboards import store

    assert store.FOLDER not in dash


@pytest.mark.parametrize(
    "change",
    [
        {"name": None},
        {"name": ""},
        {"name": "   "},
        {"name": 7},
        {"sections": None},
        {"sections": {"name": "x"}},
        {"id": None},
        {"id": "has space"},
        {"id": "a/b"},
        {"id": "x" * 257},
        {"id": 12},
        {"url": 5},
        {"description": ["x"]},
        {"eventFilterType": "SOMETIMES"},
        {"eventFilterType": ""},
        {"parameters": {"env": 1}},
        {"displayDescription": "yes"},
        {"defaultStartTime": "1700000000000"},
        {"tags": {"customerTags": "a"}},
        {"tags": {"customerTags": ["has space"]}},
        {"sections": [{"rows": []}]},
        {"sections": [{"name": "S"}]},
        {"sections": [{"name": "S", "rows": [{}]}]},
        {"sections": [{"name": "S", "rows": [{"charts": [{"name": "c"}]}]}]},
        {"sections": [{"name": "S", "rows": [{"charts": [{"sources": []}]}]}]},
        {"sections": [{"name": "S", "rows": [{"charts": [{"name": "c", "sources": [{"name": "A"}]}]}]}]},
        {"sections": [{"name": "S", "rows": [{"charts": [{"name": "c", "sources": [], "chartSettings": {}}]}]}]},
        {
            "sections": [
                {"name": "S", "rows": [{"charts": [{"name": "c", "sources": [], "chartSettings": {"type": "bar"}}]}]}
            ]
        },
        {
            "sections": [
                {"name": "S", "rows": [{"charts": [{"name": "c", "sources": [], "chartSettings": {"type": "Line"}}]}]}
            ]
        },
        {"sections": [{"name": "S", "rows": [{"charts": [{"name": "c", "sources": [], "summarization": "AVG"}]}]}]},
        {"sections": [{"name": "S", "rows": [{"heightFactor": "big", "charts": []}]}]},
        {
            "sections": [
                {
                    "name": "S",
                    "rows": [
                        {"charts": [{"name": "c", "sources": [], "chartSettings": {"type": "line", "ymin": "0"}}]}
                    ],
                }
            ]
        },
    ],
)
def test_can_refuse_bad_dashboard_bodies_and_write_nothing(api, change):
    # WHEN a body misses a required field, has a wrong type or a value outside the client's lists
    posted = {k: v for k, v in {**body(), **change}.items() if v is not None}
    status, answer = api.json("POST", DASH, posted)
    # THEN 400 in the envelope, and nothing is stored
    assert status == 400, answer
    assert answer["status"]["result"] == "ERROR" and answer["status"]["message"]
    assert count(api) == 0


def test_can_refuse_malformed_json_and_non_objects(api):
    for raw in (b"{not json", b"[1, 2]", b'"text"', b"null"):
        status, answer = api.json("POST", DASH, raw=raw)
        assert status == 400, raw
        assert answer["status"]["code"] == 400
    assert count(api) == 0


def test_can_refuse_a_duplicate_id_with_409(api):
    new_dashboard(api, "dup", name="first")
    status, answer = api.json("POST", DASH, body("dup", name="second"))
    assert status == 409 and answer["status"]["result"] == "ERROR"
    assert api.json("GET", f"{DASH}/dup")[1]["response"]["name"] == "first"


def test_can_refuse_a_name_already_used_in_the_folder(api):
    # GIVEN a dashboard named "Ops overview"
    new_dashboard(api, "one")
    # WHEN another is created, or renamed, to that name (case and spaces do not matter)
    status, answer = api.json("POST", DASH, body("two", name=" ops OVERVIEW "))
    assert status == 409, answer
    new_dashboard(api, "three", name="Other")
    status, _ = api.json("PUT", f"{DASH}/three", body("three"))
    # THEN both are refused with 409 and nothing changed
    assert status == 409
    assert count(api) == 2
    assert api.json("GET", f"{DASH}/three")[1]["response"]["name"] == "Other"


def test_can_update_with_and_without_version_and_keep_tags_unless_sent(api):
    new_dashboard(api, tags={"customerTags": ["keep"]})
    status, v2 = api.json("PUT", f"{DASH}/ops-overview", body(description="v2", version=1))
    assert status == 200, v2
    reads(v2)
    assert v2["response"]["version"] == 2 and v2["response"]["tags"]["customerTags"] == ["keep"]
    status, v3 = api.json(
        "PUT", f"{DASH}/ops-overview", {"name": "renamed", "sections": [], "tags": {"customerTags": []}}
    )
    assert status == 200 and v3["response"]["version"] == 3
    assert v3["response"]["name"] == "renamed" and v3["response"]["tags"]["customerTags"] == []
    assert "description" not in v3["response"] and v3["response"]["numCharts"] == 0


def test_can_accept_its_own_answer_back_as_a_put_body(api):
    # GIVEN the dashboard as the server answered it, bookkeeping included
    got = new_dashboard(api)
    got["description"] = "edited"
    # WHEN it is PUT back unchanged otherwise
    status, answer = api.json("PUT", f"{DASH}/ops-overview", got)
    # THEN it is saved as the next version
    assert status == 200, answer
    assert answer["response"]["version"] == 2 and answer["response"]["description"] == "edited"


def test_can_refuse_a_stale_version_with_409(api):
    new_dashboard(api)
    api.json("PUT", f"{DASH}/ops-overview", body(description="fresh"))
    status, answer = api.json("PUT", f"{DASH}/ops-overview", body(description="stale", version=1))
    assert status == 409 and answer["status"]["result"] == "ERROR"
    assert api.json("GET", f"{DASH}/ops-overview")[1]["response"]["description"] == "fresh"


def test_can_refuse_a_body_id_other_than_the_path_id(api):
    new_dashboard(api)
    status, answer = api.json("PUT", f"{DASH}/ops-overview", body("other-id", description="x"))
    assert status == 400 and "other-id" in answer["status"]["message"]
    assert api.json("GET", f"{DASH}/ops-overview")[1]["response"]["version"] == 1


def test_can_refuse_bad_put_bodies_and_change_nothing(api):
    new_dashboard(api)
    for bad in ({"name": "x"}, {"sections": []}, {**body(), "sections": [{"name": "S", "rows": [{"charts": [1]}]}]}):
        assert api.json("PUT", f"{DASH}/ops-overview", bad)[0] == 400, bad
    assert api.json("GET", f"{DASH}/ops-overview")[1]["response"]["version"] == 1


def test_can_answer_404_for_unknown_ids_on_every_entity_route(api):
    for method, suffix in [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("GET", "/history"),
        ("GET", "/history/1"),
        ("GET", "/tag"),
        ("POST", "/tag"),
        ("PUT", "/tag/x"),
        ("DELETE", "/tag/x"),
        ("POST", "/undelete"),
        ("POST", "/favorite"),
        ("POST", "/unfavorite"),
    ]:
        sent = body("nope") if method == "PUT" and not suffix else ([] if suffix == "/tag" else None)
        status, answer = api.json(method, f"{DASH}/nope{suffix}", sent)
        assert status == 404, (method, suffix, answer)
        assert answer["status"]["code"] == 404


def test_can_page_dashboards_with_offset_and_limit(api):
    ids = [new_dashboard(api, f"d{i}", name=f"dash {i}")["id"] for i in range(5)]
    status, first = api.json("GET", f"{DASH}?offset=0&limit=2")
    assert status == 200
    reads(first, "ResponseContainerPagedDashboard")
    assert [d["id"] for d in first["response"]["items"]] == ids[:2]
    assert first["response"]["totalItems"] == 5 and first["response"]["moreItems"] is True
    last = api.json("GET", f"{DASH}?offset=4&limit=2")[1]["response"]
    assert [d["id"] for d in last["items"]] == ids[4:] and last["moreItems"] is False


# ---- trash ------------------------------------------------------------------------------------


def test_can_trash_free_the_name_and_undelete_reclaim_it(api):
    # GIVEN a dashboard in the trash
    new_dashboard(api, "old")
    status, trashed = api.json("DELETE", f"{DASH}/old")
    assert status == 200 and trashed["response"]["inTrash"] is True
    reads(trashed)
    assert api.json("GET", f"{DASH}/old")[1]["response"]["inTrash"] is True
    # THEN its name is free: a new dashboard takes it
    new_dashboard(api, "new")
    # AND undeleting the old one is refused while the name is taken (409), and works once freed
    status, answer = api.json("POST", f"{DASH}/old/undelete")
    assert status == 409, answer
    api.json("PUT", f"{DASH}/new", body("new", name="Renamed"))
    status, back = api.json("POST", f"{DASH}/old/undelete")
    assert status == 200 and back["response"]["inTrash"] is False
    assert api.json("POST", DASH, body("third"))[0] == 409


def test_can_delete_for_good_with_skip_trash_or_from_the_trash(api):
    new_dashboard(api, "a", name="A")
    new_dashboard(api, "b", name="B")
    status, gone = api.json("DELETE", f"{DASH}/a?skipTrash=true")
    assert status == 200 and gone["response"]["inTrash"] is True
    assert api.json("GET", f"{DASH}/a")[0] == 404
    api.json("DELETE", f"{DASH}/b")
    api.json("DELETE", f"{DASH}/b")
    assert api.json("GET", f"{DASH}/b")[0] == 404
    # AND the ids and names are free again
    new_dashboard(api, "a", name="B")


# ---- history, tags, favorites -----------------------------------------------------------------


def test_can_tell_the_history_and_answer_a_past_version(api):
    new_dashboard(api, description="first")
    api.json("PUT", f"{DASH}/ops-overview", body(description="second"))
    api.json("PUT", f"{DASH}/ops-overview/tag/team-a")
    status, answer = api.json("GET", f"{DASH}/ops-overview/history")
    assert status == 200
    reads(answer, "ResponseContainerHistoryResponse")
    entries = answer["response"]["items"]
    assert [e["version"] for e in entries] == [3, 2, 1]
    assert entries[0]["changeDescription"] == ["Added tags: team-a"]
    assert entries[2]["changeDescription"] == ["Dashboard created"]
    status, past = api.json("GET", f"{DASH}/ops-overview/history/1")
    assert status == 200
    reads(past)
    assert past["response"]["description"] == "first" and past["response"]["version"] == 1
    assert api.json("GET", f"{DASH}/ops-overview/history/9")[0] == 404
    assert api.json("GET", f"{DASH}/ops-overview/history/x")[0] == 400


def test_can_list_set_add_and_remove_tags(api):
    new_dashboard(api)
    assert api.json("POST", f"{DASH}/ops-overview/tag", ["b", "a"])[0] == 200
    assert api.json("PUT", f"{DASH}/ops-overview/tag/c")[0] == 200
    assert api.json("DELETE", f"{DASH}/ops-overview/tag/a")[0] == 200
    status, answer = api.json("GET", f"{DASH}/ops-overview/tag")
    reads(answer, "ResponseContainerTagsResponse")
    assert answer["response"]["items"] == ["b", "c"]
    assert api.json("PUT", f"{DASH}/ops-overview/tag/has%20space")[0] == 400
    assert api.json("POST", f"{DASH}/ops-overview/tag", {"a": 1})[0] == 400


def test_can_show_a_favorite_to_its_caller_only(api, make_user):
    # GIVEN a dashboard the admin made a favorite
    new_dashboard(api)
    status, answer = api.json("POST", f"{DASH}/ops-overview/favorite")
    assert status == 200 and answer["status"]["result"] == "OK"
    other = make_user(["dashboard.#"])
    # THEN it is a favorite for the admin (get, list, search) and not for another user
    assert api.json("GET", f"{DASH}/ops-overview")[1]["response"]["favorite"] is True
    assert api.json("GET", DASH)[1]["response"]["items"][0]["favorite"] is True
    assert api.json("POST", SEARCH, {})[1]["response"]["items"][0]["favorite"] is True
    assert api.json("GET", f"{DASH}/ops-overview", token=other.token)[1]["response"]["favorite"] is False
    # AND favoriting twice, and unfavoriting twice, is harmless
    api.json("POST", f"{DASH}/ops-overview/favorite")
    api.json("POST", f"{DASH}/ops-overview/unfavorite")
    assert api.json("POST", f"{DASH}/ops-overview/unfavorite")[0] == 200
    assert api.json("GET", f"{DASH}/ops-overview")[1]["response"]["favorite"] is False


# ---- search -----------------------------------------------------------------------------------


def test_can_search_dashboards_live_and_deleted_with_facets(api):
    new_dashboard(api, "a", name="Web latency", tags={"customerTags": ["team-web"]})
    new_dashboard(api, "b", name="DB load", tags={"customerTags": ["team-db"]})
    new_dashboard(api, "c", name="Web errors", tags={"customerTags": ["team-web"]})
    api.json("DELETE", f"{DASH}/c")
    status, found = api.json(
        "POST", SEARCH, {"query": [{"key": "name", "value": "web", "matchingMethod": "CONTAINS"}], "limit": 10}
    )
    assert status == 200
    reads(found, "ResponseContainerPagedDashboard")
    assert [d["id"] for d in found["response"]["items"]] == ["a"]
    deleted = api.json("POST", f"{SEARCH}/deleted", {})[1]
    reads(deleted, "ResponseContainerPagedDashboard")
    assert [d["id"] for d in deleted["response"]["items"]] == ["c"]
    status, facet = api.json("POST", f"{SEARCH}/tags", {})
    assert status == 200
    reads(facet, "ResponseContainerFacetResponse")
    assert facet["response"]["items"] == ["team-db", "team-web"]
    status, facets = api.json("POST", f"{SEARCH}/facets", {"facets": ["tags", "creatorId"]})
    assert status == 200
    reads(facets, "ResponseContainerFacetsResponseContainer")
    assert facets["response"]["facets"]["creatorId"] == ["admin"]
    status, facet = api.json("POST", f"{SEARCH}/deleted/tags", {})
    assert status == 200 and facet["response"]["items"] == ["team-web"]
    assert api.json("POST", SEARCH, {"query": [{"key": "nope", "value": "x"}]})[0] == 400
