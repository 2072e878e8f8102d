"""Sources through the unmodified Wavefront client (SourceApi, and SearchApi's source routes)
against the live server: every one of the 11 SourceApi operations, cursor paging, bad
bodies, permissions and tenant isolation; every answer deserializes through the client's
models.

Each test works in a tenant of its own (`fresh`): source names are the ids, and listings
count what the tenant holds."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_person, new_tenant_admin, raw_json, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(server, fresh) -> wf.SourceApi:
    return wf.SourceApi(wavefront(server.url, fresh.token))


@pytest.fixture
def search(server, fresh) -> wf.SearchApi:
    return wf.SearchApi(wavefront(server.url, fresh.token))


def _source(name: str, *, description: str | None = None, tags: dict[str, bool] | None = None) -> wf.Source:
    return wf.Source(id=name, source_name=name, description=description, tags=tags)


# ---- the 11 operations ----------------------------------------------------------------------------


def test_can_create_get_update_and_delete_a_source(api):
    # WHEN a source is created (create_source)
    made = api.create_source(body=_source("web-01", description="front", tags={"env.prod": True}))
    # THEN the client reads the Source back with its name, tags and bookkeeping
    assert made.status.result == "OK" and made.status.code == 200
    source = made.response
    assert source.id == source.source_name == "web-01" and source.tags == {"env.prod": True}
    assert source.description == "front" and isinstance(source.created_epoch_millis, int)
    # WHEN it is read (get_source) and updated (update_source)
    assert api.get_source("web-01").response == source
    updated = api.update_source("web-01", body=_source("web-01", description="front end")).response
    # THEN the description changed and the tags the update left out stay
    assert updated.description == "front end" and updated.tags == {"env.prod": True}
    # WHEN it is deleted (delete_source) THEN it is gone for good
    assert api.delete_source("web-01").response.id == "web-01"
    assert refused_status(lambda: api.get_source("web-01")) == 404
    assert api.create_source(body=_source("web-01")).response.description is None


def test_can_set_and_remove_a_description(api):
    api.create_source(body=_source("db-1"))
    # set_description: the client sends the string as JSON; it is stored unquoted
    assert api.set_description("db-1", body='primary "east"').status.code == 200
    assert api.get_source("db-1").response.description == 'primary "east"'
    # remove_description
    assert api.remove_description("db-1").status.code == 200
    assert api.get_source("db-1").response.description is None
    assert refused_status(lambda: api.set_description("nowhere", body="x")) == 404


def test_can_add_set_remove_and_list_tags(api):
    api.create_source(body=_source("db-1"))
    api.add_source_tag("db-1", "team:db")  # add_source_tag
    api.set_source_tags("db-1", body=["env.prod", "team:db", "zone-a"])  # set_source_tags
    api.remove_source_tag("db-1", "zone-a")  # remove_source_tag
    tags = api.get_source_tags("db-1").response  # get_source_tags
    assert tags.items == ["env.prod", "team:db"] and tags.total_items == 2
    assert api.get_source("db-1").response.tags == {"env.prod": True, "team:db": True}
    assert refused_status(lambda: api.add_source_tag("db-1", "bad tag")) == 400
    assert refused_status(lambda: api.get_source_tags("nowhere")) == 404


def test_can_page_sources_by_cursor(api):
    names = sorted(f"host-{i:02d}" for i in range(7))
    for name in reversed(names):
        api.create_source(body=_source(name))
    # WHEN get_all_source is read three at a time, each page after the cursor of the one before
    seen, cursor, pages = [], None, 0
    while True:
        kwargs = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get_all_source(**kwargs).response
        pages += 1
        seen += [s.id for s in page.items]
        assert page.total_items == 7
        if not page.more_items:
            break
        cursor = page.cursor
    # THEN every source comes once, in name order
    assert seen == names and pages == 3
    # AND a cursor naming no source starts where it would sort
    assert [s.id for s in api.get_all_source(cursor="host-03a").response.items] == names[4:]
    assert refused_status(lambda: api.get_all_source(limit=1001)) == 400


# ---- bad input, permissions, tenants --------------------------------------------------------------


def test_can_refuse_bad_sources_and_write_nothing(api):
    api.create_source(body=_source("web-1"))
    assert refused_status(lambda: api.create_source(body=_source("web-1"))) == 409
    assert refused_status(lambda: api.create_source(body=_source("has space"))) == 400
    assert refused_status(lambda: api.create_source(body={"id": "web-2", "sourceName": "web-3"})) == 400
    assert refused_status(lambda: api.create_source(body={"id": "web-2"})) == 400
    assert refused_status(lambda: api.create_source(body=_source("web-2", tags={"bad tag": True}))) == 400
    assert refused_status(lambda: api.update_source("web-1", body=_source("web-9"))) == 400
    assert refused_status(lambda: api.update_source("nowhere", body=_source("nowhere"))) == 404
    assert [s.id for s in api.get_all_source().response.items] == ["web-1"]
    assert raw_json(lambda **kw: api.get_source("web-1", **kw))["response"]["version"] == 1


def test_can_let_browse_read_and_host_tag_management_write(server, admin_token, fresh, api):
    api.create_source(body=_source("web-1"))
    reader = new_person(server.url, admin_token, ["*.read", "*.*.read"], tenant=fresh.tenant)
    as_reader = wf.SourceApi(wavefront(server.url, reader.token))
    assert as_reader.get_source("web-1").response.id == "web-1"
    assert [s.id for s in as_reader.get_all_source().response.items] == ["web-1"]
    assert refused_status(lambda: as_reader.create_source(body=_source("web-2"))) == 403
    assert refused_status(lambda: as_reader.add_source_tag("web-1", "x")) == 403
    assert refused_status(lambda: as_reader.set_description("web-1", body="x")) == 403
    writer = new_person(server.url, admin_token, ["source.#"], tenant=fresh.tenant)
    as_writer = wf.SourceApi(wavefront(server.url, writer.token))
    assert as_writer.create_source(body=_source("web-2")).response.creator_id


def test_can_keep_another_tenants_sources_out_of_sight(server, admin_token, api):
    api.create_source(body=_source("secret-1"))
    other = wf.SourceApi(wavefront(server.url, new_tenant_admin(server.url, admin_token).token))
    assert refused_status(lambda: other.get_source("secret-1")) == 404
    assert refused_status(lambda: other.delete_source("secret-1")) == 404
    assert other.get_all_source().response.items == []
    # the same name is free in another tenant
    assert other.create_source(body=_source("secret-1")).response.id == "secret-1"


# ---- search ---------------------------------------------------------------------------------------


def test_can_search_sources_and_their_facets(api, search):
    for name, tags in (("web-1", {"env.prod": True}), ("web-2", {"env.prod.eu": True}), ("db-1", {"env.dev": True})):
        api.create_source(body=_source(name, description=unique("d"), tags=tags))
    # search_tagged_source_entities: TAGPATH, negation, cursor paging
    body = wf.SourceSearchRequestContainer(
        query=[wf.SearchQuery(key="tags", value="env.prod", matching_method="TAGPATH")], limit=1
    )
    first = search.search_tagged_source_entities(body=body).response
    assert [s.id for s in first.items] == ["web-1"] and first.more_items and first.cursor == "web-1"
    body.cursor = first.cursor
    assert [s.id for s in search.search_tagged_source_entities(body=body).response.items] == ["web-2"]
    negated = wf.SourceSearchRequestContainer(query=[wf.SearchQuery(key="id", value="web", negated=True)])
    assert [s.id for s in search.search_tagged_source_entities(body=negated).response.items] == ["db-1"]
    # search_tagged_source_for_facets and search_tagged_source_for_facet
    facets = search.search_tagged_source_for_facets(body=wf.FacetsSearchRequestContainer(facets=["tags"])).response
    assert sorted(facets.facets["tags"]) == ["env.dev", "env.prod", "env.prod.eu"]
    one = search.search_tagged_source_for_facet("tags", body=wf.FacetSearchRequestContainer(facet_query="prod"))
    assert one.response.items == ["env.prod", "env.prod.eu"]
