"""External links: what is particular to them beside the shared CRUD contract: the real
ExternalLinkApi through every operation, template and regex validation that says where,
bounds, delete without a trash, search and facets."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

BASE = "/api/v2/extlink"
SEARCH = "/api/v2/search/extlink"
BODY = {
    "name": "logs",
    "description": "Logs of the source",
    "template": "https://logs.example.com/?source={{source}}&metric={{{metric}}}",
}


def new_link(api, **fields) -> dict:
    status, answer = api.json("POST", BASE, {**BODY, **fields})
    assert status == 200, answer
    return answer["response"]


def total(api) -> int:
    return api.json("GET", BASE)[1]["response"]["totalItems"]


def test_can_serve_the_real_client_through_every_external_link_operation(api):
    # GIVEN the real ExternalLinkApi
    links = wf.ExternalLinkApi(wavefront(api))
    body = wf.ExternalLink(
        name="logs",
        description="Logs",
        template="https://logs.example.com/?s={{source}}",
        metric_filter_regex="cpu\\..*",
        point_tag_filter_regexes={"env": "prod|staging"},
        is_log_integration=True,
    )
    # WHEN it creates, reads, updates, lists and deletes
    created = links.create_external_link(body=body).response
    assert created.id and created.point_tag_filter_regexes == {"env": "prod|staging"} and created.is_log_integration
    assert links.get_external_link(created.id).response.metric_filter_regex == "cpu\\..*"
    body.name, body.source_filter_regex = "logs 2", "web-\\d+"
    updated = links.update_external_link(created.id, body=body).response
    assert (updated.name, updated.source_filter_regex) == ("logs 2", "web-\\d+")
    page = links.get_all_external_link(offset=0, limit=10).response
    assert [link.id for link in page.items] == [created.id] and page.total_items == 1
    assert links.delete_external_link(created.id).response.id == created.id
    # THEN it is gone for good: there is no trash
    with pytest.raises(ApiException) as gone:
        links.get_external_link(created.id)
    assert gone.value.status == 404
    assert api.json("DELETE", f"{BASE}/{created.id}")[0] == 404


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"template": "https://x/{{#items}}{{name}}"}, "template is not a valid Mustache template"),
        ({"template": "https://x/{{name"}, "template is not a valid Mustache template"),
        ({"metricFilterRegex": "cpu.(load"}, "metricFilterRegex is not a valid regular expression at position 4"),
        ({"sourceFilterRegex": "web-[0-9"}, "sourceFilterRegex is not a valid regular expression at position 4"),
        ({"pointTagFilterRegexes": {"env": "prod", "az": "*a"}}, "pointTagFilterRegexes.az is not a valid regular"),
        ({"pointTagFilterRegexes": {"env": 3}}, "pointTagFilterRegexes.env"),
        ({"pointTagFilterRegexes": {"": "x"}}, "pointTagFilterRegexes"),
        ({"pointTagFilterRegexes": {f"t{i}": "x" for i in range(51)}}, "pointTagFilterRegexes"),
        ({"metricFilterRegex": "a" * 1025}, "metricFilterRegex"),
        ({"template": "https://x/" + "a" * 8192}, "template"),
        ({"name": " "}, "name"),
        ({"description": None}, "description"),
        ({"isLogIntegration": "true"}, "isLogIntegration"),
    ],
)
def test_can_refuse_a_bad_link_saying_where_and_write_nothing(api, change, said):
    # GIVEN one link
    link = new_link(api)
    # WHEN a bad body creates another, or updates it
    created = api.json("POST", BASE, {**BODY, **change})
    replaced = api.json("PUT", f"{BASE}/{link['id']}", {**BODY, **change})
    # THEN 400 naming the field (and, from the parser, where), and nothing was written
    for status, answer in (created, replaced):
        assert status == 400, answer
        assert said in answer["status"]["message"], answer
    assert total(api) == 1 and api.json("GET", f"{BASE}/{link['id']}")[1]["response"]["version"] == 1


def test_can_keep_only_the_fields_a_link_has(api):
    # WHEN a link is sent with read-only and unknown fields
    link = new_link(api, id="mine", creatorId="someone", tags={"customerTags": ["a"]}, colour="blue")
    # THEN the server's id and author stand, and what links do not have is dropped
    assert link["id"] != "mine" and link["creatorId"] == "admin"
    assert "tags" not in link and "colour" not in link
    client_reads({"status": {"result": "OK", "code": 200}, "response": link}, "ResponseContainerExternalLink")


def test_can_search_external_links_and_their_facets(api):
    new_link(api, name="logs prod", isLogIntegration=True)
    new_link(api, name="logs staging", isLogIntegration=True)
    new_link(api, name="runbook", description="How to fix it", template="https://wiki.example.com/{{metric}}")
    # WHEN searched by name, by free text and negated
    status, answer = api.json(
        "POST", SEARCH, {"query": [{"key": "name", "value": "logs", "matchingMethod": "STARTSWITH"}]}
    )
    assert status == 200, answer
    client_reads(answer, "ResponseContainerPagedExternalLink")
    assert [link["name"] for link in answer["response"]["items"]] == ["logs prod", "logs staging"]
    _, answer = api.json("POST", SEARCH, {"query": [{"key": "freetext", "value": "wiki.example"}]})
    assert [link["name"] for link in answer["response"]["items"]] == ["runbook"]
    negated = {"query": [{"key": "isLogIntegration", "value": "true", "matchingMethod": "EXACT", "negated": True}]}
    _, answer = api.json("POST", SEARCH, negated)
    assert [link["name"] for link in answer["response"]["items"]] == ["runbook"]
    # AND its facets
    status, answer = api.json("POST", f"{SEARCH}/facets", {"facets": ["isLogIntegration", "creatorId"]})
    assert status == 200, answer
    client_reads(answer, "ResponseContainerFacetsResponseContainer")
    assert answer["response"]["counts"]["isLogIntegration"] == {"true": 2}
    assert answer["response"]["facets"]["creatorId"] == ["admin"]
    status, answer = api.json("POST", f"{SEARCH}/name", {"facetQuery": "logs", "facetQueryMatchingMethod": "CONTAINS"})
    assert status == 200 and answer["response"]["items"] == ["logs prod", "logs staging"], answer
    # AND there is no trash to search
    assert api.json("POST", f"{SEARCH}/deleted", {})[0] in (400, 404)


def test_can_grant_external_links_with_their_permission_only(api, make_user):
    from chalicelib.auth import permissions

    manager = make_user(permissions.grant([], ["external_links_management"]))
    browser = make_user(permissions.grant([], ["browse"]))
    status, answer = api.json("POST", BASE, BODY, token=manager.token)
    assert status == 200, answer
    link = answer["response"]
    assert api.json("GET", f"{BASE}/{link['id']}", token=browser.token)[0] == 200
    assert api.json("PUT", f"{BASE}/{link['id']}", BODY, token=browser.token)[0] == 403
    assert api.json("DELETE", f"{BASE}/{link['id']}", token=browser.token)[0] == 403
