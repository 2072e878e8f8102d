"""The contract of the shared CRUD, run for every kind declared with crud.declare(): create,
get, paging, versions (409 when stale), tags, trash, history, clone, entity ACLs, tenant
isolation (404, never 403), bad and oversize bodies (400 / 413) and that a refused request
writes nothing. A kind gets these tests by being declared (and having a sample body in
samples.py); shared routes it does not declare are skipped, create and update go through
its own routes when it has them.
"""

from __future__ import annotations

import pytest

from chalicelib.categories import crud
from chalicelib.http.edge import body_limit
from chalicelib.settings import get_settings
from tests.contract.conftest import WRITES, KindApi, body_schema, oversize, refused, write_route
from tests.contract.samples import SAMPLES, Refusal, required_fields, sample_for, unknown_fields

# ---- the declarations themselves --------------------------------------------------------------


def test_can_find_kinds_declared_on_the_shared_crud():
    names = [d.kind.name for d in crud.DECLARED]
    assert {"alert", "dashboard"} <= set(names)
    assert len(names) == len(set(names)), f"a kind is declared twice: {names}"


def test_can_find_a_valid_sample_for_every_declared_kind(declared):
    sample = sample_for(declared.kind.name)
    body = sample.body("check")
    missing = set(required_fields(declared.kind.schema)) - set(body)
    assert not missing, f"the sample body of {declared.kind.name!r} lacks required fields {sorted(missing)}"
    declared.kind.schema.model_validate(body)


@pytest.mark.parametrize("write", WRITES)
def test_can_route_create_and_update_of_every_declared_kind(declared, write: str):
    # THEN the kind's create and update paths (shared, or its own) are routes with a body model
    assert body_schema(declared, write) is not None, f"{declared.kind.name}: the {write} route declares no body model"


def test_can_keep_samples_only_for_declared_kinds():
    stale = set(SAMPLES) - {d.kind.name for d in crud.DECLARED}
    assert not stale, f"samples for kinds nobody declares: {sorted(stale)}"


# ---- create / get / list ----------------------------------------------------------------------


def test_can_create_and_get_an_entity(kind: KindApi):
    # WHEN an entity is created from the sample body
    body = kind.body()
    created = kind.create(body)
    # THEN the answer carries the body and the server's bookkeeping
    assert created[kind.declared.kind.name_key] == body[kind.declared.kind.name_key]
    assert created["id"] and created["version"] == 1 and created["inTrash"] is False
    assert isinstance(created["created"], int) and created["created"] == created["createdEpochMillis"]
    assert created["tags"] == {"customerTags": []}
    # AND it reads back the same, and is listed
    assert kind.get(created["id"]) == created
    assert [e["id"] for e in kind.page()["items"]] == [created["id"]]


def test_can_answer_404_for_an_unknown_id(kind: KindApi):
    status, answer = kind.call("GET", kind.item("1234567890"))
    refused(status, answer, 404)


def test_can_page_a_listing_with_offset_and_limit(kind: KindApi):
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


@pytest.mark.parametrize("query", ["?limit=0", "?limit=1001", "?offset=-1", "?limit=many"])
def test_can_refuse_bad_paging(kind: KindApi, query: str):
    status, answer = kind.call("GET", f"{kind.base}{query}")
    refused(status, answer, 400)


# ---- update and versions ----------------------------------------------------------------------


def test_can_update_and_refuse_a_stale_version_with_409(kind: KindApi):
    # GIVEN an entity updated once (version 1 -> 2)
    body = kind.body()
    eid = kind.create(body)["id"]
    key = kind.declared.kind.name_key
    status, answer = kind.call("PUT", kind.update_path(eid), {**body, key: "first edit", "version": 1})
    assert status == 200, answer
    assert answer["response"]["version"] == 2 and answer["response"][key] == "first edit"
    # WHEN a writer who last read version 1 saves
    status, answer = kind.call("PUT", kind.update_path(eid), {**body, key: "stale edit", "version": 1})
    # THEN 409, and the first edit stands
    refused(status, answer, 409)
    after = kind.get(eid)
    assert after["version"] == 2 and after[key] == "first edit"


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
    assert entity["tags"] == {"customerTags": ["env.prod", "team:db"]} and entity["version"] == 4


def test_can_refuse_a_bad_tag_and_write_nothing(kind: KindApi):
    kind.needs("tags")
    eid = kind.create()["id"]
    refused(*kind.call("PUT", kind.item(eid, "/tag/has%20space")), 400)
    refused(*kind.call("POST", kind.item(eid, "/tag"), {"not": "a list"}), 400)
    assert kind.get(eid)["version"] == 1


# ---- trash ------------------------------------------------------------------------------------


def test_can_trash_undelete_and_delete_from_the_trash(kind: KindApi):
    kind.needs("delete")
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


def test_can_delete_permanently_with_skip_trash(kind: KindApi):
    kind.needs("delete")
    eid = kind.create()["id"]
    assert kind.call("DELETE", kind.item(eid, "?skipTrash=true"))[0] == 200
    refused(*kind.call("GET", kind.item(eid)), 404)
    assert kind.total() == 0


def test_can_refuse_to_undelete_what_is_not_in_the_trash(kind: KindApi):
    kind.needs("undelete")
    eid = kind.create()["id"]
    refused(*kind.call("POST", kind.item(eid, "/undelete")), 400)
    assert kind.get(eid)["version"] == 1


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


# ---- access ----------------------------------------------------------------------------------


def test_can_restrict_an_entity_with_its_acl(kind: KindApi):
    kind.needs("acl")
    # GIVEN an entity, and two more users of the tenant with every permission of the kind
    body = kind.body()
    eid = kind.create(body)["id"]
    viewer, outsider = kind.user(), kind.user()
    key = kind.declared.kind.name_key
    assert kind.call("PUT", kind.update_path(eid), {**body, key: "seen by all"}, as_=outsider)[0] == 200
    # WHEN its ACL lets the viewer view and the owner modify
    status, answer = kind.call(
        "PUT", f"{kind.base}/acl/set", [{"entityId": eid, "viewAcl": [viewer.uuid], "modifyAcl": [kind.owner.uuid]}]
    )
    assert status == 200, answer
    status, answer = kind.call("GET", f"{kind.base}/acl?id={eid}")
    assert status == 200
    [acl] = answer["response"]
    assert [p["id"] for p in acl["viewAcl"]] == [viewer.uuid]
    assert [p["id"] for p in acl["modifyAcl"]] == [kind.owner.uuid]
    version = kind.get(eid)["version"]
    # THEN the outsider may neither read nor change it, nor see it listed
    refused(*kind.call("GET", kind.item(eid), as_=outsider), 403)
    refused(*kind.call("PUT", kind.update_path(eid), {**body, key: "outsider"}, as_=outsider), 403)
    assert kind.total(as_=outsider) == 0
    # AND the viewer may read only
    assert kind.get(eid, as_=viewer)["modifyAclAccess"] is False
    refused(*kind.call("PUT", kind.update_path(eid), {**body, key: "viewer"}, as_=viewer), 403)
    if kind.has("tags"):
        refused(*kind.call("PUT", kind.item(eid, "/tag/x"), as_=viewer), 403)
    if kind.has("delete"):
        refused(*kind.call("DELETE", kind.item(eid), as_=viewer), 403)
    # AND nothing the refused users tried was written
    after = kind.get(eid)
    assert after["version"] == version and after[key] == "seen by all" and after["inTrash"] is False
    # AND when the viewer is removed and added as a modifier, the viewer may change it
    assert kind.call("POST", f"{kind.base}/acl/remove", [{"entityId": eid, "viewAcl": [viewer.uuid]}])[0] == 200
    assert kind.call("POST", f"{kind.base}/acl/add", [{"entityId": eid, "modifyAcl": [viewer.uuid]}])[0] == 200
    assert kind.call("PUT", kind.update_path(eid), {**body, key: "viewer"}, as_=viewer)[0] == 200


def test_can_answer_404_never_403_for_another_tenants_entity(kind: KindApi):
    # GIVEN an entity, and a user of another tenant with every permission of the kind
    body = kind.body()
    eid = kind.create(body)["id"]
    stranger = kind.stranger()
    # THEN every route on the entity answers 404 to the stranger
    calls = [("GET", kind.item(eid), None), ("PUT", kind.update_path(eid), body)]
    if kind.has("delete"):
        calls += [("DELETE", kind.item(eid), None), ("DELETE", kind.item(eid, "?skipTrash=true"), None)]
    if kind.has("undelete"):
        calls.append(("POST", kind.item(eid, "/undelete"), None))
    if kind.has("history"):
        calls += [("GET", kind.item(eid, "/history"), None), ("GET", kind.item(eid, "/history/1"), None)]
    if kind.has("tags"):
        calls += [("GET", kind.item(eid, "/tag"), None), ("PUT", kind.item(eid, "/tag/x"), None)]
        calls.append(("POST", kind.item(eid, "/tag"), ["x"]))
    if kind.has("clone"):
        calls.append(("POST", kind.item(eid, "/clone"), None))
    if kind.has("acl"):
        calls += [
            ("GET", f"{kind.base}/acl?id={eid}", None),
            ("PUT", f"{kind.base}/acl/set", [{"entityId": eid, "viewAcl": [stranger.uuid]}]),
        ]
    for method, path, payload in calls:
        status, answer = kind.call(method, path, payload, as_=stranger)
        assert status == 404, (method, path, answer)
        refused(status, answer, 404)
    # AND the stranger lists nothing, and the entity is untouched
    assert kind.total(as_=stranger) == 0
    after = kind.get(eid)
    assert after["version"] == 1 and after["tags"] == {"customerTags": []} and after["inTrash"] is False


# ---- bodies -----------------------------------------------------------------------------------


def test_can_refuse_a_bad_body_with_400_and_write_nothing(kind: KindApi, write: str, refusal: Refusal):
    # GIVEN one entity
    body = kind.body()
    eid = kind.create(body)["id"]
    # WHEN a bad body is sent to create one more, or to update it
    if write == "create":
        status, answer = kind.call("POST", kind.create_path, raw=refusal.make(kind.body()))
    else:
        status, answer = kind.call("PUT", kind.update_path(eid), raw=refusal.make(body))
    # THEN 400, and nothing was written
    refused(status, answer, 400)
    assert kind.total() == 1
    assert kind.get(eid)["version"] == 1


@pytest.mark.parametrize("write", WRITES)
def test_can_refuse_an_oversize_body_with_413_and_write_nothing(kind: KindApi, write: str):
    # GIVEN one entity, and the body limit of the route
    body = kind.body()
    eid = kind.create(body)["id"]
    limit = body_limit(write_route(kind.declared, write), get_settings())
    # WHEN an otherwise valid body one byte over the limit is sent
    if write == "create":
        status, answer = kind.call("POST", kind.create_path, raw=oversize(kind.body(), limit))
    else:
        status, answer = kind.call("PUT", kind.update_path(eid), raw=oversize(body, limit))
    # THEN 413 naming the limit, and nothing was written
    refused(status, answer, 413)
    assert str(limit) in answer["status"]["message"]
    assert kind.total() == 1
    assert kind.get(eid)["version"] == 1


def test_can_treat_unknown_fields_as_the_schema_says(kind: KindApi):
    # GIVEN a valid body with a field the schema does not declare
    extra = unknown_fields(kind.schema)
    body = {**kind.body(), "contractColour": "blue"}
    status, answer = kind.call("POST", kind.create_path, body)
    if extra == "forbid":
        # THEN a schema that forbids them refuses the body and writes nothing
        refused(status, answer, 400)
        assert kind.total() == 0
        return
    # THEN the body is accepted: the field is dropped ('ignore') or kept as posted ('allow')
    assert status == 200, answer
    got = kind.get(answer["response"]["id"])
    if extra == "allow":
        assert answer["response"]["contractColour"] == got["contractColour"] == "blue"
    else:
        assert "contractColour" not in answer["response"] and "contractColour" not in got
