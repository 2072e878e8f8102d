"""The shared CRUD's contract, for every declared kind: create, get, paging, update with
versions (409 when stale), tags, trash / undelete / permanent delete, history and clone.
Shared routes a kind does not declare are skipped; create and update go through the
kind's own routes when it has them (samples.py).
"""

from __future__ import annotations

import pytest

from tests.contract.conftest import KindApi, refused

# ---- create / get / list ----------------------------------------------------------------------


def test_can_create_and_get_an_entity(kind: KindApi):
    # WHEN an entity is created from the sample body
    body = kind.body()
    created = kind.create(body)
    # THEN the answer carries the body and the server's bookkeeping
    assert kind.name_of(created) == kind.name_of(body)
    assert created["id"] and created["inTrash"] is False
    if kind.sample.revision:
        assert created["version"] == 1
    assert isinstance(created["created"], int) and created["created"] == created["createdEpochMillis"]
    if kind.has("tags"):
        assert kind.sample.tags_of(created) == []
    # AND it reads back the same, and is listed
    assert kind.get(created["id"]) == created
    assert [e["id"] for e in kind.page()["items"]] == [created["id"]]


def test_can_answer_404_for_an_unknown_id(kind: KindApi):
    status, answer = kind.call("GET", kind.item("1234567890"))
    refused(status, answer, 404)


def test_can_page_a_listing_with_offset_and_limit(kind: KindApi):
    kind.needs("list")
    # GIVEN three entities
    ids = {kind.create()["id"] for _ in range(3)}
    # WHEN they are listed two at a time
    first = kind.page("?offset=0&limit=2")
    second = kind.page("?offset=2&limit=2")
    # THEN the pages hold everything once, and say whether more follow
    assert (first["offset"], first["limit"], first["totalItems"], first["moreItems"]) == (0, 2, 3, True)
    assert (second["offset"], second["limit"], second["totalItems"], second["moreItems"]) == (2, 2, 3, False)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {e["id"] for e in first["items"] + second["items"]} == ids
    # AND a page past the end is empty
    past = kind.page("?offset=5&limit=2")
    assert (past["items"], past["totalItems"], past["moreItems"]) == ([], 3, False)


def test_can_page_only_over_what_the_entity_acl_lets_the_caller_view(kind: KindApi):
    kind.needs("acl")
    # GIVEN four entities, one of which the caller's ACL hides from the owner
    ids = [kind.create()["id"] for _ in range(4)]
    other = kind.user()
    status, answer = kind.call("PUT", f"{kind.base}/acl/set", [{"entityId": ids[1], "viewAcl": [other.uuid]}])
    assert status == 200, answer
    # WHEN the owner lists them two at a time
    first, second = kind.page("?offset=0&limit=2"), kind.page("?offset=2&limit=2")
    # THEN the pages count and hold only the three it may view
    assert (first["totalItems"], first["moreItems"], len(first["items"])) == (3, True, 2)
    assert (second["totalItems"], second["moreItems"], len(second["items"])) == (3, False, 1)
    assert {e["id"] for e in first["items"] + second["items"]} == set(ids) - {ids[1]}


@pytest.mark.parametrize("query", ["?limit=0", "?limit=1001", "?offset=-1", "?limit=many"])
def test_can_refuse_bad_paging(kind: KindApi, query: str):
    kind.needs("list")
    status, answer = kind.call("GET", f"{kind.base}{query}")
    refused(status, answer, 400)


# ---- update and versions ----------------------------------------------------------------------


def test_can_update_and_refuse_a_stale_version_with_409(kind: KindApi):
    if not kind.sample.revision:
        pytest.skip(f"{kind.name} updates are last-writer-wins: its wire has no record version")
    # GIVEN an entity updated once (version 1 -> 2)
    body = kind.body()
    eid = kind.create(body)["id"]
    status, answer = kind.call("PUT", kind.update_path(eid), {**kind.renamed(body, "first edit"), "version": 1})
    assert status == 200, answer
    assert answer["response"]["version"] == 2 and kind.name_of(answer["response"]) == "first edit"
    # WHEN a writer who last read version 1 saves
    status, answer = kind.call("PUT", kind.update_path(eid), {**kind.renamed(body, "stale edit"), "version": 1})
    # THEN 409, and the first edit stands
    refused(status, answer, 409)
    # AND so does one naming a version that does not exist yet
    status, answer = kind.call("PUT", kind.update_path(eid), {**kind.renamed(body, "future edit"), "version": 9})
    refused(status, answer, 409)
    after = kind.get(eid)
    assert after["version"] == 2 and kind.name_of(after) == "first edit"


def test_can_keep_tags_on_an_update_that_does_not_name_them(kind: KindApi):
    kind.needs("tags")
    if "tags" not in kind.schema.model_fields:
        pytest.skip(f"{kind.name} bodies do not carry tags")
    body = kind.body()
    eid = kind.create(kind.sample.tagged(body, ["team:db"]))["id"]
    assert kind.sample.tags_of(kind.get(eid)) == ["team:db"]
    # WHEN an update leaves tags out, they stay; when it names them, they are replaced
    key = kind.declared.kind.name_key
    status, answer = kind.call("PUT", kind.update_path(eid), {**body, key: "renamed"})
    assert status == 200 and kind.sample.tags_of(answer["response"]) == ["team:db"], answer
    status, answer = kind.call("PUT", kind.update_path(eid), kind.sample.tagged(body, ["env.prod"]))
    assert status == 200 and kind.sample.tags_of(answer["response"]) == ["env.prod"], answer


# ---- tags -------------------------------------------------------------------------------------


def test_can_set_add_remove_and_get_tags(kind: KindApi):
    kind.needs("tags")
    eid = kind.create()["id"]
    tags = kind.item(eid, "/tag")
    assert kind.call("PUT", f"{tags}/team:db")[0] == 200
    assert kind.call("POST", tags, ["env.prod", "team:db", "zone-a"])[0] == 200
    assert kind.call("DELETE", f"{tags}/zone-a")[0] == 200
    status, answer = kind.call("GET", tags)
    assert status == 200 and answer["response"]["items"] == ["env.prod", "team:db"]
    assert answer["response"]["totalItems"] == 2
    entity = kind.get(eid)
    assert kind.sample.tags_of(entity) == ["env.prod", "team:db"] and entity["version"] == 4


def test_can_refuse_a_bad_tag_and_write_nothing(kind: KindApi):
    kind.needs("tags")
    eid = kind.create()["id"]
    refused(*kind.call("PUT", kind.item(eid, "/tag/has%20space")), 400)
    refused(*kind.call("POST", kind.item(eid, "/tag"), {"not": "a list"}), 400)
    assert kind.get(eid)["version"] == 1


# ---- trash ------------------------------------------------------------------------------------


def test_can_trash_undelete_and_delete_from_the_trash(kind: KindApi):
    kind.needs("trash")
    eid = kind.create()["id"]
    # WHEN it is deleted: it goes to the trash, out of the listing, still readable
    status, answer = kind.call("DELETE", kind.item(eid))
    assert status == 200 and answer["response"]["inTrash"] is True
    assert kind.total() == 0 and kind.get(eid)["inTrash"] is True
    # AND undeleted: it is back
    if kind.has("undelete"):
        status, answer = kind.call("POST", kind.item(eid, "/undelete"))
        assert status == 200 and answer["response"]["inTrash"] is False
        assert kind.total() == 1
        assert kind.call("DELETE", kind.item(eid))[0] == 200
    # AND deleted again from the trash: it is gone for good
    assert kind.call("DELETE", kind.item(eid))[0] == 200
    refused(*kind.call("GET", kind.item(eid)), 404)
    if kind.has("undelete"):
        refused(*kind.call("POST", kind.item(eid, "/undelete")), 404)


def test_can_delete_permanently_with_skip_trash_or_without_a_trash(kind: KindApi):
    kind.needs("delete")
    body = kind.body()
    eid = kind.create(body)["id"]
    assert kind.call("DELETE", kind.item(eid, "?skipTrash=true" if kind.has("trash") else ""))[0] == 200
    refused(*kind.call("GET", kind.item(eid)), 404)
    assert kind.total() == 0
    # AND its history went with it
    if kind.has("history"):
        refused(*kind.call("GET", kind.item(eid, "/history")), 404)
        refused(*kind.call("GET", kind.item(eid, "/history/1")), 404)
    # AND the same body (name, client id) may be created again
    again = kind.create(body)
    assert kind.total() == 1
    if kind.sample.revision:
        assert again["version"] == 1


def test_can_refuse_to_undelete_what_is_not_in_the_trash(kind: KindApi):
    kind.needs("undelete")
    created = kind.create()
    eid = created["id"]
    refused(*kind.call("POST", kind.item(eid, "/undelete")), 400)
    assert kind.get(eid) == created


# ---- history and clone ------------------------------------------------------------------------


def test_can_list_versions_and_fetch_one(kind: KindApi):
    kind.needs("history")
    body = kind.body()
    eid = kind.create(body)["id"]
    key = kind.declared.kind.name_key
    assert kind.call("PUT", kind.update_path(eid), {**body, key: "renamed"})[0] == 200
    # THEN the history lists both versions, newest first, paged
    status, answer = kind.call("GET", kind.item(eid, "/history"))
    assert status == 200, answer
    assert [v["version"] for v in answer["response"]["items"]] == [2, 1]
    assert answer["response"]["totalItems"] == 2 and answer["response"]["moreItems"] is False
    assert all(v["id"] == eid and v["changeDescription"] for v in answer["response"]["items"])
    status, answer = kind.call("GET", kind.item(eid, "/history?offset=0&limit=1"))
    assert len(answer["response"]["items"]) == 1 and answer["response"]["moreItems"] is True
    # AND each version reads as it was
    status, answer = kind.call("GET", kind.item(eid, "/history/1"))
    assert status == 200 and answer["response"][key] == body[key] and answer["response"]["version"] == 1
    refused(*kind.call("GET", kind.item(eid, "/history/3")), 404)
    refused(*kind.call("GET", kind.item(eid, "/history/first")), 400)


def test_can_clone_an_entity(kind: KindApi):
    kind.needs("clone")
    eid = kind.create()["id"]
    status, answer = kind.call("POST", kind.item(eid, "/clone?name=the%20copy"))
    assert status == 200, answer
    copy = answer["response"]
    assert copy["id"] != eid and copy[kind.declared.kind.name_key] == "the copy" and copy["version"] == 1
    assert kind.total() == 2
