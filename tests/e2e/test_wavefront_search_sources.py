"""Source search through the unmodified Wavefront client (SearchApi's search_tagged_source_*)
against the live server: every matching method, negation, both sort orders, cursor paging,
facets, and who may search what. The answers deserialize through the client's models.

The fleet is made once per module in a tenant of its own, so every count is known."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_person, new_tenant_admin, refused_status, wavefront

pytestmark = pytest.mark.e2e

FLEET = {
    "Web-3": ({"environment": True}, None),
    "db-1": ({"env.staging": True, "team:db": True}, "primary database"),
    "web-1": ({"env.prod": True, "team:web": True}, "front end"),
    "web-2": ({"env.prod.eu": True, "team:web": True}, "front end"),
}
NAMES = sorted(FLEET)  # ["Web-3", "db-1", "web-1", "web-2"]: the store's order, capitals first


@pytest.fixture(scope="module")
def owner(server, admin_token):
    person = new_tenant_admin(server.url, admin_token)
    sources = wf.SourceApi(wavefront(server.url, person.token))
    for name, (tags, description) in FLEET.items():
        sources.create_source(body=wf.Source(id=name, source_name=name, tags=tags, description=description))
    return person


@pytest.fixture(scope="module")
def search(server, owner) -> wf.SearchApi:
    return wf.SearchApi(wavefront(server.url, owner.token))


def _q(key: str, value: str, method: str = "CONTAINS", negated: bool = False) -> wf.SearchQuery:
    return wf.SearchQuery(key=key, value=value, matching_method=method, negated=negated)


def found(search: wf.SearchApi, *query: wf.SearchQuery, **body) -> list[str]:
    request = wf.SourceSearchRequestContainer(query=list(query), **body)
    return [s.id for s in search.search_tagged_source_entities(body=request).response.items]


def test_can_match_sources_with_every_method(search):
    assert found(search) == NAMES
    assert found(search, _q("id", "WEB")) == ["Web-3", "web-1", "web-2"]
    assert found(search, _q("id", "web-", "STARTSWITH")) == ["Web-3", "web-1", "web-2"]
    assert found(search, _q("id", "web-1", "EXACT")) == ["web-1"]
    assert found(search, _q("sourceName", "Web-3", "EXACT")) == ["Web-3"]
    assert found(search, _q("tags", "env.prod", "TAGPATH")) == ["web-1", "web-2"]
    assert found(search, _q("tagpaths", "env.*", "TAGPATH")) == ["db-1", "web-1", "web-2"]
    assert found(search, _q("freetext", "database")) == ["db-1"]


def test_can_negate_and_combine_conditions(search):
    assert found(search, _q("tags", "team:web", "EXACT", negated=True)) == ["Web-3", "db-1"]
    assert found(search, _q("id", "web"), _q("description", "front", negated=True)) == ["Web-3"]
    assert found(search, _q("id", "nothing-like-this")) == []


def test_can_page_by_cursor_in_both_orders(search):
    # WHEN read two at a time, ascending THEN the cursor carries on after the last name
    first = search.search_tagged_source_entities(body=wf.SourceSearchRequestContainer(limit=2)).response
    assert [s.id for s in first.items] == NAMES[:2] and first.more_items and first.cursor == NAMES[1]
    rest = search.search_tagged_source_entities(
        body=wf.SourceSearchRequestContainer(limit=2, cursor=first.cursor)
    ).response
    assert [s.id for s in rest.items] == NAMES[2:] and not rest.more_items and rest.cursor is None
    # AND descending, from the end
    assert found(search, limit=3, sort_sources_ascending=False) == NAMES[::-1][:3]
    assert found(search, cursor="db-1", sort_sources_ascending=False) == ["Web-3"]


def test_can_count_facets_with_a_query(search):
    facets = search.search_tagged_source_for_facets(
        body=wf.FacetsSearchRequestContainer(facets=["tags", "creatorId"], query=[_q("id", "web")])
    ).response
    assert sorted(facets.facets["tags"]) == ["env.prod", "env.prod.eu", "environment", "team:web"]
    assert len(facets.facets["creatorId"]) == 1
    one = search.search_tagged_source_for_facet(
        "tags",
        body=wf.FacetSearchRequestContainer(
            limit=1, offset=0, facet_query="team", facet_query_matching_method="STARTSWITH"
        ),
    ).response
    assert one.items == ["team:web"] and one.more_items and one.total_items == 2


def test_can_refuse_unknown_keys_and_facets(search):
    assert refused_status(lambda: found(search, _q("colour", "blue"))) == 400
    assert (
        refused_status(lambda: search.search_tagged_source_for_facet("colour", body=wf.FacetSearchRequestContainer()))
        == 400
    )
    assert refused_status(lambda: found(search, limit=1001)) == 400


def test_can_let_only_readers_of_the_tenant_search(server, admin_token, owner):
    reader = new_person(server.url, admin_token, ["*.read", "*.*.read"], tenant=owner.tenant)
    assert found(wf.SearchApi(wavefront(server.url, reader.token))) == NAMES
    outsider = new_person(server.url, admin_token, ["alert.#"], tenant=owner.tenant)
    assert refused_status(lambda: found(wf.SearchApi(wavefront(server.url, outsider.token)))) == 403
    stranger = new_tenant_admin(server.url, admin_token)
    assert found(wf.SearchApi(wavefront(server.url, stranger.token))) == []
