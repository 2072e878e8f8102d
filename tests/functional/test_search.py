"""POST /api/v2/search/alert[/deleted][/facets | /{facet}] through the app and the real client."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.functional.test_alert import ALERT, client_reads, new_alert, wavefront

SEARCH = "/api/v2/search/alert"


@pytest.fixture
def alerts(api):
    """Three live alerts (one snoozed, one invalid) and one in the trash."""
    made = {
        "cpu": new_alert(api, name="cpu high", severity="WARN", tags={"customerTags": ["env.prod", "team.a"]}),
        "disk": new_alert(api, name="Disk full", severity="SEVERE", tags={"customerTags": ["env.prod.eu"]}),
        "broken": new_alert(api, name="broken", condition="ts(", severity="INFO", tags={"customerTags": ["team.b"]}),
        "old": new_alert(api, name="old cpu", tags={"customerTags": ["env.dev"]}),
    }
    api.json("POST", f"{ALERT}/{made['disk']['id']}/snooze")
    api.json("DELETE", f"{ALERT}/{made['old']['id']}")
    return {k: v["id"] for k, v in made.items()}


def names(answer) -> list[str]:
    return [a["name"] for a in answer["response"]["items"]]


def search(api, body, path=SEARCH, **kw):
    status, answer = api.json("POST", path, body, **kw)
    assert status == 200, answer
    return answer


def test_can_search_with_every_matching_method(api, alerts):
    contains = search(api, {"query": [{"key": "name", "value": "CPU", "matchingMethod": "CONTAINS"}]})
    client_reads(contains, "ResponseContainerPagedAlertWithStats")
    assert names(contains) == ["cpu high"]
    assert names(search(api, {"query": [{"key": "name", "value": "disk", "matchingMethod": "STARTSWITH"}]})) == [
        "Disk full"
    ]
    assert names(search(api, {"query": [{"key": "name", "value": "disk full", "matchingMethod": "EXACT"}]})) == []
    tagpath = search(api, {"query": [{"key": "tags", "value": "env.prod", "matchingMethod": "TAGPATH"}]})
    assert names(tagpath) == ["cpu high", "Disk full"]


def test_can_negate_and_combine_conditions(api, alerts):
    body = {
        "query": [
            {"key": "tags", "value": "env", "matchingMethod": "STARTSWITH"},
            {"key": "status", "value": "SNOOZED", "matchingMethod": "EXACT", "negated": True},
        ]
    }
    assert names(search(api, body)) == ["cpu high"]
    either = {"query": [{"key": "severity", "values": ["INFO", "SEVERE"], "matchingMethod": "EXACT"}]}
    assert names(search(api, either)) == ["broken", "Disk full"]
    free = {"query": [{"key": "freetext", "value": "team.b"}]}
    assert names(search(api, free)) == ["broken"]


def test_can_sort_page_and_count_states(api, alerts):
    body = {"offset": 0, "limit": 2, "sort": {"field": "name", "ascending": False}}
    answer = search(api, body)["response"]
    assert [a["name"] for a in answer["items"]] == ["Disk full", "cpu high"]
    assert answer["totalItems"] == 3 and answer["moreItems"] is True
    assert answer["sort"] == {"field": "name", "ascending": False}
    assert answer["alertCounts"] == {"checking": 1, "snoozed": 1, "invalid": 1}
    rest = search(api, {**body, "offset": 2})["response"]
    assert [a["name"] for a in rest["items"]] == ["broken"] and rest["moreItems"] is False


def test_can_search_the_trash(api, alerts):
    answer = search(api, {}, f"{SEARCH}/deleted")
    client_reads(answer, "ResponseContainerPagedAlert")
    assert names(answer) == ["old cpu"] and answer["response"]["items"][0]["inTrash"] is True
    facet = search(api, {}, f"{SEARCH}/deleted/tags")
    assert facet["response"]["items"] == ["env.dev"]
    many = search(api, {"facets": ["tags"]}, f"{SEARCH}/deleted/facets")
    assert many["response"]["facets"] == {"tags": ["env.dev"]}


def test_can_answer_facets_with_counts(api, alerts):
    answer = search(api, {}, f"{SEARCH}/status")
    client_reads(answer, "ResponseContainerFacetResponse")
    assert answer["response"]["items"] == ["CHECKING", "INVALID", "SNOOZED"]
    assert answer["response"]["counts"] == {"CHECKING": 1, "INVALID": 1, "SNOOZED": 1}
    filtered = search(api, {"facetQuery": "env", "facetQueryMatchingMethod": "STARTSWITH"}, f"{SEARCH}/tags")
    assert filtered["response"]["items"] == ["env.prod", "env.prod.eu"]
    several = search(
        api, {"facets": ["severity", "tags"], "query": [{"key": "name", "value": "cpu"}]}, f"{SEARCH}/facets"
    )
    client_reads(several, "ResponseContainerFacetsResponseContainer")
    assert several["response"]["facets"] == {"severity": ["WARN"], "tags": ["env.prod", "team.a"]}


@pytest.mark.parametrize(
    "path, body",
    [
        (SEARCH, {"limit": 0}),
        (SEARCH, {"limit": 1001}),
        (SEARCH, {"offset": -1}),
        (SEARCH, {"limit": "10"}),
        (SEARCH, {"query": [{"key": "name", "value": "x", "matchingMethod": "FUZZY"}]}),
        (SEARCH, {"query": [{"key": "nope", "value": "x"}]}),
        (SEARCH, {"query": [{"key": "name"}]}),
        (SEARCH, {"query": [{"value": "x"}]}),
        (SEARCH, {"query": [{"key": "name", "value": "x", "negated": "yes"}]}),
        (SEARCH, {"sort": {"field": "nope", "ascending": True}}),
        (SEARCH, {"query": "name"}),
        (SEARCH, [1]),
        (f"{SEARCH}/nope", {}),
        (f"{SEARCH}/facets", {}),
        (f"{SEARCH}/facets", {"facets": ["tags"], "limit": 0}),
        (f"{SEARCH}/tags", {"limit": 1001}),
    ],
)
def test_can_refuse_bad_search_requests(api, alerts, path, body):
    status, answer = api.json("POST", path, body)
    assert status == 400, answer
    assert answer["status"]["result"] == "ERROR"


def test_can_refuse_malformed_search_json(api):
    assert api.json("POST", SEARCH, raw=b"{")[0] == 400


def test_can_offer_search_routes_only_for_registered_kinds(api):
    assert api.json("POST", "/api/v2/search/nothing", {})[0] == 404


def test_can_serve_the_real_client_search_calls(api, alerts):
    searcher = wf.SearchApi(wavefront(api))
    query = wf.SearchQuery(key="tags", value="env.prod", matching_method="TAGPATH")
    found = searcher.search_alert_entities(body=wf.SortableSearchRequest(query=[query], limit=10)).response
    assert sorted(a.name for a in found.items) == ["Disk full", "cpu high"]
    assert found.alert_counts["snoozed"] == 1
    trash = searcher.search_alert_deleted_entities(body=wf.SortableSearchRequest(limit=5)).response
    assert [a.name for a in trash.items] == ["old cpu"]
    facet = searcher.search_alert_for_facet("severity", body=wf.FacetSearchRequestContainer(limit=10)).response
    assert facet.items == ["INFO", "SEVERE", "WARN"]
    facets = searcher.search_alert_for_facets(body=wf.FacetsSearchRequestContainer(facets=["status"], limit=5))
    assert sorted(facets.response.facets["status"]) == ["CHECKING", "INVALID", "SNOOZED"]
