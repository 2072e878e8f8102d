"""Saved searches: what is particular to them beside the shared CRUD contract: the real
SavedSearchApi through every operation, each user's own (another user's id is a 404 even in
the same tenant), the listing of one entity type, bounds."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

BASE = "/api/v2/savedsearch"
BODY = {"entityType": "ALERT", "query": {"name": "cpu", "tags": "env.prod"}}
USER_ACL = ["savedsearch.#"]


def new_search(api, token: str | None = None, **fields) -> dict:
    status, answer = api.json("POST", BASE, {**BODY, **fields}, token=token)
    assert status == 200, answer
    return answer["response"]


def test_can_serve_the_real_client_through_every_saved_search_operation(api):
    # GIVEN the real SavedSearchApi
    searches = wf.SavedSearchApi(wavefront(api))
    # WHEN it creates, reads, updates and lists, by type too
    created = searches.create_saved_search(body=wf.SavedSearch(entity_type="DASHBOARD", query={"q": "k8s"})).response
    assert created.id and created.entity_type == "DASHBOARD" and created.user_id == "admin"
    other = searches.create_saved_search(body=wf.SavedSearch(entity_type="ALERT", query={"q": "cpu"})).response
    assert searches.get_saved_search(created.id).response.query == {"q": "k8s"}
    changed = wf.SavedSearch(entity_type="DASHBOARD", query={"q": "k8s", "sort": "name"})
    assert searches.update_saved_search(created.id, body=changed).response.query == {"q": "k8s", "sort": "name"}
    every = searches.get_all_saved_searches(offset=0, limit=10).response
    assert [s.id for s in every.items] == [created.id, other.id] and every.total_items == 2
    dashboards = searches.get_all_entity_type_saved_searches("DASHBOARD", offset=0, limit=10).response
    assert [s.id for s in dashboards.items] == [created.id] and dashboards.total_items == 1
    # AND deletes, for good
    assert searches.delete_saved_search(created.id).response.id == created.id
    with pytest.raises(ApiException) as gone:
        searches.get_saved_search(created.id)
    assert gone.value.status == 404


def test_can_keep_each_users_saved_searches_to_that_user(api, make_user):
    # GIVEN two users of one tenant, each with a saved search
    alice, bob = make_user(USER_ACL), make_user(USER_ACL)
    hers = new_search(api, token=alice.token, query={"name": "alice"})
    his = new_search(api, token=bob.token, query={"name": "bob"})
    assert hers["userId"] == alice.username and his["userId"] == bob.username
    # THEN each lists only their own, in both listings
    for user, mine in ((alice, hers), (bob, his)):
        for path in (BASE, f"{BASE}/type/ALERT"):
            status, answer = api.json("GET", path, token=user.token)
            assert status == 200, answer
            assert [s["id"] for s in answer["response"]["items"]] == [mine["id"]]
            assert answer["response"]["totalItems"] == 1
    # AND another user's id is a 404 for every route, even to an administrator of the tenant
    for token in (bob.token, api.token):
        assert api.json("GET", f"{BASE}/{hers['id']}", token=token)[0] == 404
        assert api.json("PUT", f"{BASE}/{hers['id']}", BODY, token=token)[0] == 404
        assert api.json("DELETE", f"{BASE}/{hers['id']}", token=token)[0] == 404
    # AND hers is untouched
    status, answer = api.json("GET", f"{BASE}/{hers['id']}", token=alice.token)
    assert status == 200 and answer["response"]["query"] == {"name": "alice"} and answer["response"]["version"] == 1


def test_can_list_one_entity_type_in_pages(api):
    # GIVEN no saved search yet: an unknown type is refused all the same
    assert api.json("GET", f"{BASE}/type/WIDGET")[0] == 400
    made = [new_search(api, query={"n": str(n)})["id"] for n in range(3)]
    new_search(api, entityType="DASHBOARD")
    # WHEN the alert searches are listed two at a time
    first = api.json("GET", f"{BASE}/type/ALERT?offset=0&limit=2")[1]["response"]
    second = api.json("GET", f"{BASE}/type/ALERT?offset=2&limit=2")[1]["response"]
    # THEN the pages hold them once, and say whether more follow
    assert (first["totalItems"], first["moreItems"], second["totalItems"], second["moreItems"]) == (3, True, 3, False)
    assert [s["id"] for s in first["items"] + second["items"]] == made
    client_reads({"status": {"result": "OK", "code": 200}, "response": first}, "ResponseContainerPagedSavedSearch")
    # AND an entity type outside the client's enum, or bad paging, is a 400
    status, answer = api.json("GET", f"{BASE}/type/WIDGET")
    assert status == 400 and "entityType must be one of" in answer["status"]["message"]
    assert api.json("GET", f"{BASE}/type/ALERT?limit=0")[0] == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"entityType": "WIDGET"}, "entityType"),
        ({"entityType": "alert"}, "entityType"),
        ({"query": ["name", "cpu"]}, "query"),
        ({"query": {"name": 3}}, "query.name"),
        ({"query": {"": "x"}}, "query"),
        ({"query": {f"k{i}": "v" for i in range(51)}}, "query"),
        ({"query": {"name": "v" * 8193}}, "query.name"),
        ({"query": None}, "query"),
    ],
)
def test_can_refuse_a_bad_saved_search_naming_the_field_and_write_nothing(api, change, field):
    status, answer = api.json("POST", BASE, {**BODY, **change})
    assert status == 400, answer
    assert field in answer["status"]["message"], answer
    assert api.json("GET", BASE)[1]["response"]["totalItems"] == 0


def test_can_refuse_saved_searches_without_the_permission(api, make_user):
    from chalicelib.auth import permissions

    user = make_user(permissions.grant([], ["saved_searches"]))
    assert new_search(api, token=user.token)["userId"] == user.username
    outsider = make_user(["alert.#"])
    assert api.json("GET", BASE, token=outsider.token)[0] == 403
    assert api.json("POST", BASE, BODY, token=outsider.token)[0] == 403
