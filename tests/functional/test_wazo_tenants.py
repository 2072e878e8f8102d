"""Wazo tenants: the tree (child, grandchild), what a principal may see and change,
slugs unique among siblings, deactivation (410) and deletion."""

from __future__ import annotations

import pytest

W = "/api/auth/0.1"


def uuids(listing: dict) -> set[str]:
    return {item["uuid"] for item in listing["items"]}


def count_tenants(api) -> int:
    return api.json("GET", f"{W}/tenants")[1]["total"]


def test_can_build_a_tree_of_child_and_grandchild_tenants(api):
    # WHEN the admin creates a child, then a grandchild acting in the child (Wazo-Tenant)
    status, child = api.json("POST", f"{W}/tenants", {"name": "Acme Corp"})
    assert status == 200
    status, grandchild = api.json(
        "POST", f"{W}/tenants", {"name": "Acme Paris", "slug": "paris"}, headers={"Wazo-Tenant": child["uuid"]}
    )
    assert status == 200

    # THEN each is a child of the acting tenant, with a slug
    assert child == {
        "uuid": child["uuid"],
        "name": "Acme Corp",
        "slug": "acme-corp",
        "parent_uuid": api.root,
        "active": True,
        "tier": "standard",
    }
    assert grandchild["parent_uuid"] == child["uuid"]
    assert grandchild["slug"] == "paris"
    # ... the list shows the acting tenant and its whole subtree, as wazo-auth does
    status, everything = api.json("GET", f"{W}/tenants")
    assert status == 200
    assert uuids(everything) == {api.root, child["uuid"], grandchild["uuid"]}
    assert everything["total"] == everything["filtered"] == 3
    from_child = api.json("GET", f"{W}/tenants", headers={"Wazo-Tenant": child["uuid"]})[1]
    assert uuids(from_child) == {child["uuid"], grandchild["uuid"]}
    from_grandchild = api.json("GET", f"{W}/tenants", headers={"Wazo-Tenant": grandchild["uuid"]})[1]
    assert uuids(from_grandchild) == {grandchild["uuid"]}
    # ... and the root reads its grandchild directly
    assert api.json("GET", f"{W}/tenants/{grandchild['uuid']}")[1]["name"] == "Acme Paris"


def test_can_search_order_and_page_the_tenant_list(api, make_tenant):
    for name in ("bravo", "alpha", "charlie"):
        make_tenant(name)

    status, page = api.json("GET", f"{W}/tenants?order=name&direction=desc&limit=2&offset=1")
    assert status == 200
    assert [t["name"] for t in page["items"]] == ["charlie", "bravo"]
    assert page["total"] == page["filtered"] == 4
    found = api.json("GET", f"{W}/tenants?search=ALP")[1]
    assert [t["name"] for t in found["items"]] == ["alpha"]
    assert found["total"] == 4 and found["filtered"] == 1
    assert api.json("GET", f"{W}/tenants?order=nope")[0] == 400
    assert api.json("GET", f"{W}/tenants?direction=up")[0] == 400
    assert api.json("GET", f"{W}/tenants?limit=-1")[0] == 400


def test_can_refuse_a_sibling_or_an_ancestor_in_the_wazo_tenant_header(api, make_user, make_tenant):
    # GIVEN two sibling tenants and an all-powerful user of the first
    first, second = make_tenant("first"), make_tenant("second")
    user = make_user(["#"], tenant=first)

    # WHEN it names its sibling or its parent in Wazo-Tenant
    sibling = api.json("GET", f"{W}/users", token=user.token, headers={"Wazo-Tenant": second})
    ancestor = api.json("GET", f"{W}/users", token=user.token, headers={"Wazo-Tenant": api.root})
    other_style = api.json("GET", f"{W}/users", token=user.token, headers={"X-Tenant-Id": second})

    # THEN 403 in the Wazo shape; its own tenant is fine
    assert sibling[0] == ancestor[0] == other_style[0] == 403
    assert sibling[1]["status_code"] == 403
    assert api.json("GET", f"{W}/users", token=user.token, headers={"Wazo-Tenant": first})[0] == 200
    # ... and neither tenant record is readable nor writable: 404
    for target in (second, api.root):
        assert api.json("GET", f"{W}/tenants/{target}", token=user.token)[0] == 404
        assert api.json("PUT", f"{W}/tenants/{target}", {"name": "x"}, token=user.token)[0] == 404
        assert api.json("DELETE", f"{W}/tenants/{target}", token=user.token)[0] == 404
    assert uuids(api.json("GET", f"{W}/tenants", token=user.token)[1]) == {first}


def test_can_keep_slugs_unique_among_siblings(api, make_tenant):
    # GIVEN a tenant with slug "ops" under root
    assert api.json("POST", f"{W}/tenants", {"name": "Ops", "slug": "ops"})[0] == 200
    before = count_tenants(api)

    # WHEN a sibling asks for the same slug (any case)
    status, error = api.json("POST", f"{W}/tenants", {"name": "Ops again", "slug": "OPS"})

    # THEN 409 and nothing written
    assert status == 409
    assert error["status_code"] == 409
    assert count_tenants(api) == before
    # ... but a tenant elsewhere in the tree may use it, and a derived slug gets a suffix
    other = make_tenant("other")
    assert api.json("POST", f"{W}/tenants", {"name": "x", "slug": "ops"}, headers={"Wazo-Tenant": other})[0] == 200
    status, derived = api.json("POST", f"{W}/tenants", {"name": "OPS"})
    assert status == 200
    assert derived["slug"].startswith("ops-")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": 42},
        {"name": "x" * 129},
        {"name": "ok", "slug": "bad slug!"},
        {"name": "ok", "uuid": "not-a-uuid"},
        ["name"],
    ],
)
def test_can_refuse_a_bad_tenant_with_400_and_write_nothing(api, body):
    before = count_tenants(api)

    status, error = api.json("POST", f"{W}/tenants", body)

    assert status == 400
    assert {"error_id", "message", "reason", "status_code"} <= set(error)
    assert count_tenants(api) == before


def test_can_create_a_tenant_with_a_given_uuid_once(api):
    wanted = "6c9e7e3b-9d0f-4a39-9a4f-6f2f8b7d1a11"

    assert api.json("POST", f"{W}/tenants", {"uuid": wanted, "name": "fixed"})[1]["uuid"] == wanted
    assert api.json("POST", f"{W}/tenants", {"uuid": wanted, "name": "again"})[0] == 409


def test_can_deactivate_a_descendant_and_answer_410(api, make_user, make_tenant):
    # GIVEN a child tenant with a working user
    child = make_tenant("child")
    user = make_user(["user.read"], tenant=child)
    assert api.json("GET", f"{W}/users", token=user.token)[0] == 200

    # WHEN the parent deactivates it
    status, changed = api.json("PUT", f"{W}/tenants/{child}", {"active": False})

    # THEN it is inactive; its principals, and the parent acting in it, get 410
    assert status == 200
    assert changed["active"] is False
    gone = api.json("GET", f"{W}/users", token=user.token)
    assert gone[0] == 410
    assert gone[1]["status_code"] == 410
    assert api.json("GET", f"{W}/users", headers={"Wazo-Tenant": child})[0] == 410
    # ... the parent still sees it, and reactivating it restores access
    assert api.json("GET", f"{W}/tenants/{child}")[1]["active"] is False
    assert api.json("PUT", f"{W}/tenants/{child}", {"active": True})[1]["active"] is True
    assert api.json("GET", f"{W}/users", token=user.token)[0] == 200


def test_can_refuse_to_deactivate_or_delete_ones_own_home_tenant(api, make_user, make_tenant):
    child = make_tenant("child")
    manager = make_user(["tenant.#"], tenant=child)

    for token, home in ((manager.token, child), (api.token, api.root)):
        assert api.json("PUT", f"{W}/tenants/{home}", {"active": False}, token=token)[0] == 403
        assert api.json("DELETE", f"{W}/tenants/{home}", token=token)[0] == 403
    assert api.json("GET", f"{W}/tenants/{child}")[1]["active"] is True
    # ... renaming it is fine
    assert api.json("PUT", f"{W}/tenants/{child}", {"name": "renamed"}, token=manager.token)[1]["name"] == "renamed"


def test_can_refuse_bad_tenant_changes(api, make_tenant):
    child = make_tenant("child")

    assert api.json("PUT", f"{W}/tenants/{child}", {"active": "no"})[0] == 400
    assert api.json("PUT", f"{W}/tenants/{child}", {"name": ""})[0] == 400
    assert api.json("PUT", f"{W}/tenants/{child}", {"slug": "other"})[0] == 400
    assert api.json("PUT", f"{W}/tenants/nope", {"name": "x"})[0] == 404
    got = api.json("GET", f"{W}/tenants/{child}")[1]
    assert got["name"] == "child" and got["slug"] == "child" and got["active"] is True


def test_can_delete_a_tenant_with_its_sub_tenants_and_users(api, make_user, make_tenant, monkeypatch):
    from chalicelib.identity import tenants
    from chalicelib.settings import reset_settings
    from chalicelib.workers import local

    # The purge waits out the auth cache (docs/tenants.md): with the cache off it starts at once.
    monkeypatch.setenv("OPSPLANE_AUTH_CACHE_SECONDS", "0")
    reset_settings()
    # GIVEN a child with a grandchild, and a user in the grandchild
    child = make_tenant("child")
    grandchild = make_tenant("grandchild", parent=child)
    user = make_user(["user.read"], tenant=grandchild, username="leaver")

    # WHEN the child is deleted
    status, _ = api.json("DELETE", f"{W}/tenants/{child}")

    # THEN both answer 410 at once, and the grandchild's user gets 410 too
    assert status == 204
    assert api.json("GET", f"{W}/tenants/{child}")[0] == 410
    assert api.json("GET", f"{W}/users", token=user.token)[0] == 410
    assert api.json("GET", f"{W}/tenants")[1]["total"] == 1
    # AND once the purge has run, the user is gone and its username is free
    local.drain(tenants.PURGE_QUEUE)
    assert api.json("GET", f"{W}/users", token=user.token)[0] in (401, 410)
    assert api.json("POST", f"{W}/users", {"username": "leaver", "password": "long-enough-1"})[0] == 200
    # ... and the child's slug is free again under root, while its id stays taken
    assert api.json("POST", f"{W}/tenants", {"name": "c", "slug": "child"})[0] == 200
    assert api.json("POST", f"{W}/tenants", {"name": "c", "uuid": child})[0] == 409
    monkeypatch.delenv("OPSPLANE_AUTH_CACHE_SECONDS")
    reset_settings()


def test_can_require_the_tenant_acl(api, make_user):
    reader = make_user(["tenant.read"])

    assert api.json("GET", f"{W}/tenants", token=reader.token)[0] == 200
    assert api.json("POST", f"{W}/tenants", {"name": "x"}, token=reader.token)[0] == 403
    assert api.json("GET", f"{W}/tenants/{api.root}", token=reader.token)[0] == 403


def test_can_walk_the_tree_with_a_query_per_tenant_and_a_batch_per_level(api, make_tenant):
    from chalicelib.identity import tenants
    from tests.calls import AwsCalls

    # GIVEN a partner with five clients, one of which has two of its own
    partner = make_tenant("partner")
    clients = [make_tenant(f"c{n}", parent=partner) for n in range(5)]
    grandchildren = [make_tenant(f"g{n}", parent=clients[0]) for n in range(2)]
    # WHEN its descendants are read
    calls = AwsCalls().attach()
    try:
        found = tenants.descendants(partner)
    finally:
        calls.detach()
    # THEN every one is found, level by level, through one Query per tenant (its children)
    # and one batched read of each level's records, never a read per tenant
    uuids_found = [t["uuid"] for t in found]
    assert (set(uuids_found[:5]), set(uuids_found[5:])) == (set(clients), set(grandchildren))
    assert calls.counts() == {"Query": 1 + 5 + 2, "BatchGetItem": 2}
