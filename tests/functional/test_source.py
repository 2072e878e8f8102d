"""Sources: what the shared contract suite does not cover. Client-chosen names and their
rules, the description routes (a JSON string body), tags as {tag: true}, cursor paging read
by a Query from the cursor on (several pages, an unknown and a foreign cursor), `seen` (the
data plane's upsert), search by cursor with every matching method and facets, permissions,
and the real SourceApi driven in process.
"""

from __future__ import annotations

from typing import Any

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

SOURCE = "/api/v2/source"
SEARCH = "/api/v2/search/source"


def new_source(api, name: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
    status, body = api.json("POST", SOURCE, {"id": name, "sourceName": name, **fields}, token=token)
    assert status == 200, body
    client_reads(body, "ResponseContainerSource")
    return body["response"]


def refused(answer: tuple[int, Any], code: int, *words: str) -> None:
    status, body = answer
    assert status == code, body
    for word in words:
        assert word in body["status"]["message"], body


def service(tenant: str) -> Any:
    from chalicelib.domain.context import Context

    return Context.service(tenant, "ingest")


# ---- create, update, bodies -----------------------------------------------------------------------


def test_can_create_a_source_with_tags_and_read_it_as_the_client_does(api):
    # WHEN a source is created with a description and tags (false ones are not tags)
    made = new_source(api, "web-01.prod", description="front", tags={"env.prod": True, "team:web": True, "x": False})
    # THEN it answers the client's Source: its name twice, {tag: true}, bookkeeping
    assert made["id"] == made["sourceName"] == "web-01.prod"
    assert made["tags"] == {"env.prod": True, "team:web": True}
    assert made["description"] == "front" and made["creatorId"] and made["version"] == 1
    assert "markedNewEpochMillis" not in made  # only ingestion marks a source new
    status, body = api.json("GET", f"{SOURCE}/web-01.prod")
    assert status == 200 and body["response"] == made
    assert client_reads(body, "ResponseContainerSource").response.tags == {"env.prod": True, "team:web": True}


def test_can_refuse_a_second_source_of_the_same_name_with_409_and_keep_the_first(api):
    new_source(api, "db-1", description="first")
    refused(api.json("POST", SOURCE, {"id": "db-1", "sourceName": "db-1", "description": "second"}), 409, "db-1")
    assert api.json("GET", f"{SOURCE}/db-1")[1]["response"]["description"] == "first"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "has space", "sourceName": "has space"}, "id"),
        ({"id": "a/b", "sourceName": "a/b"}, "id"),
        ({"id": "h" * 128, "sourceName": "h" * 128}, "id"),
        ({"id": "web-1", "sourceName": "web-2"}, "sourceName"),
        ({"id": "web-1"}, "sourceName"),
        ({"sourceName": "web-1"}, "id"),
        ({"id": "web-1", "sourceName": "web-1", "description": "d" * 1025}, "description"),
        ({"id": "web-1", "sourceName": "web-1", "description": 7}, "description"),
        ({"id": "web-1", "sourceName": "web-1", "tags": {"bad tag": True}}, "tags"),
        ({"id": "web-1", "sourceName": "web-1", "tags": {"env": "yes"}}, "tags"),
        ({"id": "web-1", "sourceName": "web-1", "tags": ["env"]}, "tags"),
        ({"id": "web-1", "sourceName": "web-1", "tags": {f"t{i}": True for i in range(101)}}, "tags"),
    ],
)
def test_can_refuse_a_bad_body_naming_the_field_and_write_nothing(api, body: dict[str, Any], field: str):
    refused(api.json("POST", SOURCE, body), 400, field)
    assert api.json("GET", SOURCE)[1]["response"]["totalItems"] == 0


def test_can_update_description_and_tags_and_keep_tags_left_out(api):
    new_source(api, "web-1", tags={"env.prod": True})
    # WHEN the update names no tags THEN they stay; WHEN it names some THEN they replace them
    status, body = api.json("PUT", f"{SOURCE}/web-1", {"id": "web-1", "sourceName": "web-1", "description": "d"})
    assert status == 200 and body["response"]["tags"] == {"env.prod": True} and body["response"]["description"] == "d"
    status, body = api.json("PUT", f"{SOURCE}/web-1", {"id": "web-1", "sourceName": "web-1", "tags": {"a": True}})
    assert status == 200 and body["response"]["tags"] == {"a": True} and "description" not in body["response"]
    client_reads(body, "ResponseContainerSource")


def test_can_refuse_an_update_whose_body_names_another_source(api):
    new_source(api, "web-1")
    new_source(api, "web-2")
    refused(api.json("PUT", f"{SOURCE}/web-1", {"id": "web-2", "sourceName": "web-2", "description": "x"}), 400, "id")
    refused(api.json("PUT", f"{SOURCE}/nowhere", {"id": "nowhere", "sourceName": "nowhere"}), 404)
    assert [api.json("GET", f"{SOURCE}/{n}")[1]["response"]["version"] for n in ("web-1", "web-2")] == [1, 1]


# ---- description ---------------------------------------------------------------------------------


def test_can_set_and_remove_a_description_from_a_json_string_or_plain_text(api):
    new_source(api, "web-1")
    # WHEN the client's JSON string is posted THEN it is the description, unquoted
    status, body = api.json("POST", f"{SOURCE}/web-1/description", 'front "tier"')
    assert status == 200 and body["response"] is None, body
    assert api.json("GET", f"{SOURCE}/web-1")[1]["response"]["description"] == 'front "tier"'
    # AND a text/plain body is taken as it is
    plain = {"Content-Type": "text/plain"}
    assert api.json("POST", f"{SOURCE}/web-1/description", raw="as typed", headers=plain)[0] == 200
    assert api.json("GET", f"{SOURCE}/web-1")[1]["response"]["description"] == "as typed"
    # WHEN it is removed THEN the source has none
    assert api.json("DELETE", f"{SOURCE}/web-1/description")[0] == 200
    got = api.json("GET", f"{SOURCE}/web-1")[1]["response"]
    assert "description" not in got and got["version"] == 4


@pytest.mark.parametrize("raw", [b'{"description": "x"}', b"7", b"", b"not json", b'"' + b"d" * 1025 + b'"'])
def test_can_refuse_a_description_that_is_not_a_bounded_string(api, raw: bytes):
    new_source(api, "web-1", description="kept")
    refused(api.json("POST", f"{SOURCE}/web-1/description", raw=raw), 400)
    got = api.json("GET", f"{SOURCE}/web-1")[1]["response"]
    assert got["description"] == "kept" and got["version"] == 1


def test_can_answer_404_for_the_description_of_an_unknown_source(api):
    refused(api.json("POST", f"{SOURCE}/nowhere/description", "x"), 404)
    refused(api.json("DELETE", f"{SOURCE}/nowhere/description"), 404)


# ---- cursor paging -------------------------------------------------------------------------------


def page(api, query: str = "", token: str | None = None) -> dict[str, Any]:
    status, body = api.json("GET", f"{SOURCE}{query}", token=token)
    assert status == 200, body
    client_reads(body, "ResponseContainerPagedSource")
    return body["response"]


def test_can_page_sources_by_cursor_in_name_order_across_several_pages(api):
    names = ["a-1", "a-2", "B-1", "b-2", "c.1", "c_2", "d-1"]
    for name in reversed(names):
        new_source(api, name)
    in_order = sorted(names)  # as the store sorts them: by code point, capitals first
    # WHEN they are read three at a time, each page after the last name of the one before
    seen, cursor, pages = [], None, []
    while True:
        got = page(api, f"?limit=3&cursor={cursor}" if cursor else "?limit=3")
        pages.append(got)
        seen += [s["id"] for s in got["items"]]
        if not got["moreItems"]:
            break
        cursor = got["cursor"]
        assert cursor == got["items"][-1]["id"]
    # THEN every source comes once, in order, and every page counts them all
    assert seen == in_order
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert {p["totalItems"] for p in pages} == {7} and "cursor" not in pages[-1]


def test_can_start_after_an_unknown_or_another_tenants_cursor(api, make_tenant, make_user):
    for name in ("a-1", "b-1", "c-1"):
        new_source(api, name)
    # WHEN the cursor names no source THEN the page starts after where it would sort
    assert [s["id"] for s in page(api, "?cursor=b-0")["items"]] == ["b-1", "c-1"]
    assert page(api, "?cursor=zzz")["items"] == []
    # WHEN it names another tenant's source THEN it is only a position in the caller's own
    other = make_user(["source.#"], tenant=make_tenant("other"))
    new_source(api, "b-5", token=other.token)
    assert [s["id"] for s in page(api, "?cursor=b-5")["items"]] == ["c-1"]
    assert [s["id"] for s in page(api, "?cursor=a-1", token=other.token)["items"]] == ["b-5"]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=1001", "?limit=many", "?cursor=has%20space"])
def test_can_refuse_bad_paging(api, query: str):
    refused(api.json("GET", f"{SOURCE}{query}"), 400)


def test_can_read_a_cursor_page_with_one_query_from_the_cursor_on(aws_calls, api):
    from chalicelib.categories import source

    ctx = service(api.root)
    for i in range(30):
        source.seen(ctx, f"host-{i:02d}")
    source.page(ctx, None, 1)  # the kind's first count reads the partition once
    aws_calls.reset()
    found, total = source.page(ctx, "host-20", 5)
    # THEN one Query reads the page and one more, plus the counter row: never a Scan
    assert [s.id for s in found.items] == [f"host-{i}" for i in range(21, 26)] and found.more and total == 30
    assert aws_calls.counts() == {"Query": 1, "GetItem": 1}
    assert aws_calls.items_read() == 6 + 1


# ---- seen: the data plane's upsert ----------------------------------------------------------------


def test_can_record_a_source_seen_in_data_once_and_add_its_tags(api):
    from chalicelib.categories import source

    ctx = service(api.root)
    # WHEN ingestion sees a new source THEN it is created, marked new, with its tags
    first = source.seen(ctx, "edge-7", ["env.prod"])
    assert first.version == 1 and first.tags == ["env.prod"]
    marked = api.json("GET", f"{SOURCE}/edge-7")[1]["response"]
    assert marked["markedNewEpochMillis"] == first.doc["_markedNew"] and marked["creatorId"] == "ingest"
    # WHEN it is seen again with what it holds THEN nothing is written
    again = source.seen(ctx, "edge-7", ["env.prod"])
    assert again.version == 1
    # WHEN it is seen with a new tag THEN the tag is added, a user's edits kept
    assert api.json("POST", f"{SOURCE}/edge-7/description", "kept")[0] == 200
    later = source.seen(ctx, "edge-7", ["rack:3"])
    assert later.tags == ["env.prod", "rack:3"] and later.doc["description"] == "kept" and later.version == 3
    # AND a source a user created first is the same record
    new_source(api, "made-by-hand")
    assert source.seen(ctx, "made-by-hand").version == 1


def test_can_refuse_a_seen_source_with_a_bad_name_or_tag(api):
    from chalicelib.categories import source
    from chalicelib.errors import Invalid

    ctx = service(api.root)
    with pytest.raises(Invalid, match="source"):
        source.seen(ctx, "bad name")
    with pytest.raises(Invalid, match="tag"):
        source.seen(ctx, "good-name", ["bad tag"])
    assert api.json("GET", SOURCE)[1]["response"]["totalItems"] == 0


# ---- search --------------------------------------------------------------------------------------


@pytest.fixture
def fleet(api) -> list[str]:
    new_source(api, "web-1", description="front end", tags={"env.prod": True, "team:web": True})
    new_source(api, "web-2", description="front end", tags={"env.prod.eu": True, "team:web": True})
    new_source(api, "db-1", description="primary database", tags={"env.staging": True})
    new_source(api, "Web-3", tags={"environment": True})
    return ["Web-3", "db-1", "web-1", "web-2"]


def search(api, body: dict[str, Any], path: str = SEARCH, token: str | None = None) -> dict[str, Any]:
    status, answer = api.json("POST", path, body, token=token)
    assert status == 200, answer
    return answer["response"]


def ids_of(api, *query: dict[str, Any], **body: Any) -> list[str]:
    found = search(api, {"query": list(query), **body})
    client_reads({"status": {"result": "OK", "code": 200}, "response": found}, "ResponseContainerPagedSource")
    return [s["id"] for s in found["items"]]


def test_can_search_sources_with_every_matching_method_and_negation(api, fleet):
    assert ids_of(api) == fleet  # by name, ascending
    assert ids_of(api, {"key": "id", "value": "WEB"}) == ["Web-3", "web-1", "web-2"]  # CONTAINS, any case
    assert ids_of(api, {"key": "id", "value": "web", "matchingMethod": "STARTSWITH"}) == ["Web-3", "web-1", "web-2"]
    assert ids_of(api, {"key": "id", "value": "web-1", "matchingMethod": "EXACT"}) == ["web-1"]
    assert ids_of(api, {"key": "tags", "value": "env.prod", "matchingMethod": "TAGPATH"}) == ["web-1", "web-2"]
    assert ids_of(api, {"key": "tagpaths", "value": "env.*", "matchingMethod": "TAGPATH"}) == ["db-1", "web-1", "web-2"]
    assert ids_of(api, {"key": "tags", "value": "env", "negated": True}) == []
    assert ids_of(api, {"key": "description", "value": "front", "negated": True}) == ["Web-3", "db-1"]
    assert ids_of(api, {"key": "freetext", "value": "database"}) == ["db-1"]
    refused(api.json("POST", SEARCH, {"query": [{"key": "colour", "value": "x"}]}), 400, "colour")


def test_can_page_a_search_by_cursor_both_ways(api, fleet):
    first = search(api, {"limit": 3})
    assert [s["id"] for s in first["items"]] == fleet[:3] and first["moreItems"] and first["cursor"] == "web-1"
    second = search(api, {"limit": 3, "cursor": first["cursor"]})
    assert [s["id"] for s in second["items"]] == ["web-2"] and not second["moreItems"] and "cursor" not in second
    # WHEN sorted descending THEN the cursor pages down from the end
    down = search(api, {"limit": 2, "sortSourcesAscending": False})
    assert [s["id"] for s in down["items"]] == ["web-2", "web-1"] and down["cursor"] == "web-1"
    rest = search(api, {"limit": 2, "sortSourcesAscending": False, "cursor": "web-1"})
    assert [s["id"] for s in rest["items"]] == ["db-1", "Web-3"] and rest["sort"] == {"field": "id", "ascending": False}
    refused(api.json("POST", SEARCH, {"limit": 0}), 400, "limit")
    refused(api.json("POST", SEARCH, {"sortSourcesAscending": "no"}), 400, "sortSourcesAscending")


def test_can_count_facets_of_sources(api, fleet):
    status, body = api.json("POST", f"{SEARCH}/facets", {"facets": ["tags", "creatorId"]})
    assert status == 200, body
    client_reads(body, "ResponseContainerFacetsResponseContainer")
    assert body["response"]["counts"]["tags"]["team:web"] == 2
    status, body = api.json("POST", f"{SEARCH}/tags", {"facetQuery": "env.prod", "facetQueryMatchingMethod": "TAGPATH"})
    assert status == 200, body
    client_reads(body, "ResponseContainerFacetResponse")
    assert body["response"]["items"] == ["env.prod", "env.prod.eu"]
    refused(api.json("POST", f"{SEARCH}/colour", {}), 400, "colour")


# ---- permissions ---------------------------------------------------------------------------------


def test_can_let_browse_read_sources_and_only_host_tag_management_change_them(api, make_user):
    from chalicelib.auth.permissions import patterns_of

    new_source(api, "web-1")
    reader = make_user(list(patterns_of(["browse"])))
    writer = make_user(list(patterns_of(["host_tag_management"])))
    assert page(api, token=reader.token)["totalItems"] == 1
    assert search(api, {}, token=reader.token)["totalItems"] == 1
    body = {"id": "web-2", "sourceName": "web-2"}
    for method, path, payload in [
        ("POST", SOURCE, body),
        ("PUT", f"{SOURCE}/web-1", {"id": "web-1", "sourceName": "web-1"}),
        ("DELETE", f"{SOURCE}/web-1", None),
        ("POST", f"{SOURCE}/web-1/description", "x"),
        ("DELETE", f"{SOURCE}/web-1/description", None),
        ("PUT", f"{SOURCE}/web-1/tag/a", None),
        ("POST", f"{SOURCE}/web-1/tag", ["a"]),
        ("DELETE", f"{SOURCE}/web-1/tag/a", None),
    ]:
        refused(api.json(method, path, payload, token=reader.token), 403)
    assert api.json("GET", f"{SOURCE}/web-1")[1]["response"]["version"] == 1
    new_source(api, "web-2", token=writer.token)
    assert api.json("DELETE", f"{SOURCE}/web-1", token=writer.token)[0] == 200


# ---- the real client -----------------------------------------------------------------------------


def test_can_serve_the_real_client_through_every_source_operation(api):
    sources = wf.SourceApi(wavefront(api))
    made = sources.create_source(body=wf.Source(id="web-1", source_name="web-1", tags={"env.prod": True})).response
    assert made.id == "web-1" and made.tags == {"env.prod": True}
    assert sources.get_source("web-1").response.source_name == "web-1"
    body = wf.Source(id="web-1", source_name="web-1", description="front")
    assert sources.update_source("web-1", body=body).response.description == "front"
    sources.set_description("web-1", body="front end")
    assert sources.get_source("web-1").response.description == "front end"
    sources.remove_description("web-1")
    assert sources.get_source("web-1").response.description is None
    sources.add_source_tag("web-1", "team:web")
    sources.set_source_tags("web-1", body=["a", "b"])
    sources.remove_source_tag("web-1", "a")
    assert sources.get_source_tags("web-1").response.items == ["b"]
    sources.create_source(body=wf.Source(id="web-2", source_name="web-2"))
    first = sources.get_all_source(limit=1).response
    assert [s.id for s in first.items] == ["web-1"] and first.more_items and first.cursor == "web-1"
    assert [s.id for s in sources.get_all_source(cursor=first.cursor, limit=1).response.items] == ["web-2"]
    assert sources.delete_source("web-1").response.id == "web-1"
    with pytest.raises(ApiException) as err:
        sources.get_source("web-1")
    assert err.value.status == 404
