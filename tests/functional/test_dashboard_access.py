"""Wavefront dashboards: route ACLs, tenant isolation and entity ACLs (view / modify lists)
on every route, listings and search included."""

from __future__ import annotations

from tests.functional.test_alert_access import make_group
from tests.functional.test_dashboard import DASH, SEARCH, body, new_dashboard, reads

EVERYTHING_DASHBOARD = ["dashboard.#"]


def test_can_require_the_declared_acl_on_every_route(api, make_user):
    # GIVEN a dashboard and a user who may only list dashboards
    new_dashboard(api, "d")
    reader = make_user(["dashboard.read"])
    assert api.json("GET", DASH, token=reader.token)[0] == 200
    assert api.json("POST", SEARCH, {}, token=reader.token)[0] == 200
    # THEN every route on one dashboard, and create, are refused
    for method, suffix, sent in [
        ("POST", "", body("e", name="E")),
        ("GET", "/d", None),
        ("PUT", "/d", body("d")),
        ("DELETE", "/d", None),
        ("POST", "/d/undelete", None),
        ("GET", "/d/history", None),
        ("GET", "/d/history/1", None),
        ("GET", "/d/tag", None),
        ("POST", "/d/tag", ["x"]),
        ("PUT", "/d/tag/x", None),
        ("DELETE", "/d/tag/x", None),
        ("POST", "/d/favorite", None),
        ("POST", "/d/unfavorite", None),
    ]:
        status, answer = api.json(method, f"{DASH}{suffix}", sent, token=reader.token)
        assert status == 403, (method, suffix)
        assert answer["status"]["code"] == 403
    assert api.json("GET", f"{DASH}/d")[1]["response"]["version"] == 1


def test_can_refuse_everything_without_dashboard_acl(api, make_user):
    nobody = make_user(["alert.read"])
    assert api.json("GET", DASH, token=nobody.token)[0] == 403
    assert api.json("POST", SEARCH, {}, token=nobody.token)[0] == 403
    assert api.json("POST", f"{SEARCH}/deleted", {}, token=nobody.token)[0] == 403
    assert api.json("GET", DASH, token="")[0] == 401


def test_can_guard_each_dashboard_with_its_own_acl(api, make_user):
    new_dashboard(api, "first", name="First")
    new_dashboard(api, "second", name="Second")
    user = make_user(["dashboard.read", "dashboard.*.read", "dashboard.first.update"])
    assert api.json("PUT", f"{DASH}/first", body("first", name="First", description="x"), token=user.token)[0] == 200
    assert api.json("PUT", f"{DASH}/second", body("second", name="Second"), token=user.token)[0] == 403
    assert api.json("DELETE", f"{DASH}/first", token=user.token)[0] == 403
    # AND favorites need read access only
    assert api.json("POST", f"{DASH}/second/favorite", token=user.token)[0] == 200


def test_can_keep_dashboards_inside_their_tenant(api, make_tenant, make_user):
    # GIVEN a dashboard in tenant A and a user of tenant B with every dashboard permission
    alpha, beta = make_tenant("alpha"), make_tenant("beta")
    owner = make_user(EVERYTHING_DASHBOARD, tenant=alpha)
    stranger = make_user(EVERYTHING_DASHBOARD, tenant=beta)
    new_dashboard(api, "secret", token=owner.token)
    # THEN B gets 404 on it and does not list or find it
    for method, suffix, sent in [
        ("GET", "", None),
        ("PUT", "", body("secret")),
        ("DELETE", "", None),
        ("GET", "/history", None),
        ("GET", "/tag", None),
        ("POST", "/favorite", None),
    ]:
        assert api.json(method, f"{DASH}/secret{suffix}", sent, token=stranger.token)[0] == 404, (method, suffix)
    assert api.json("GET", DASH, token=stranger.token)[1]["response"]["totalItems"] == 0
    assert api.json("POST", SEARCH, {}, token=stranger.token)[1]["response"]["items"] == []
    # AND B may use the same id and name in its own tenant
    assert api.json("POST", DASH, body("secret"), token=stranger.token)[0] == 200
    assert api.json("GET", f"{DASH}/secret", token=owner.token)[1]["response"]["creatorId"] == owner.username


def test_can_restrict_viewing_and_modifying_with_entity_acls(api, make_user):
    # GIVEN three users with every dashboard permission, one of them in a group
    viewer, editor, outsider = (make_user(EVERYTHING_DASHBOARD) for _ in range(3))
    group = make_group(api.root, "editors", [editor.uuid])
    new_dashboard(api, "d")
    # WHEN the ACL lets the viewer view and the editors' group modify
    status, answer = api.json(
        "PUT", f"{DASH}/acl/set", [{"entityId": "d", "viewAcl": [viewer.uuid], "modifyAcl": [group]}]
    )
    assert status == 200
    reads(answer, "ResponseContainerListAccessControlListReadDTO")
    # THEN the outsider can neither see nor change it, nor list, search or favorite it
    for method, suffix, sent in [
        ("GET", "", None),
        ("PUT", "", body("d")),
        ("DELETE", "", None),
        ("GET", "/history", None),
        ("GET", "/history/1", None),
        ("GET", "/tag", None),
        ("PUT", "/tag/x", None),
        ("POST", "/favorite", None),
    ]:
        assert api.json(method, f"{DASH}/d{suffix}", sent, token=outsider.token)[0] == 403, (method, suffix)
    assert api.json("GET", f"{DASH}/acl?id=d", token=outsider.token)[0] == 403
    assert api.json("GET", DASH, token=outsider.token)[1]["response"]["totalItems"] == 0
    assert api.json("POST", SEARCH, {}, token=outsider.token)[1]["response"]["items"] == []
    assert api.json("POST", f"{SEARCH}/tags", {}, token=outsider.token)[1]["response"]["items"] == []
    # AND the viewer may view only
    got = api.json("GET", f"{DASH}/d", token=viewer.token)[1]["response"]
    assert got["modifyAclAccess"] is False and got["acl"] == {"canView": [viewer.uuid], "canModify": [group]}
    assert api.json("PUT", f"{DASH}/d", body("d"), token=viewer.token)[0] == 403
    assert api.json("PUT", f"{DASH}/d/tag/x", token=viewer.token)[0] == 403
    assert api.json("DELETE", f"{DASH}/d", token=viewer.token)[0] == 403
    assert (
        api.json("POST", f"{DASH}/acl/add", [{"entityId": "d", "viewAcl": [outsider.uuid]}], token=viewer.token)[0]
        == 403
    )
    # AND the group member may modify; the admin (superadmin) bypasses it all
    assert api.json("PUT", f"{DASH}/d", body("d", description="edited"), token=editor.token)[0] == 200
    assert api.json("GET", f"{DASH}/d", token=editor.token)[1]["response"]["modifyAclAccess"] is True
    assert api.json("DELETE", f"{DASH}/d")[0] == 200
    # AND the ACL survives the PUT, the trash and the undelete
    assert api.json("POST", f"{DASH}/d/undelete")[0] == 200
    assert api.json("GET", f"{DASH}/d", token=outsider.token)[0] == 403


def test_can_add_remove_and_read_acl_entries(api, make_user):
    user = make_user(EVERYTHING_DASHBOARD, username="carol")
    new_dashboard(api, "one", name="One")
    new_dashboard(api, "two", name="Two")
    status, _ = api.json(
        "POST",
        f"{DASH}/acl/add",
        [{"entityId": "one", "viewAcl": [user.uuid]}, {"entityId": "two", "modifyAcl": [user.uuid, api.admin]}],
    )
    assert status == 200
    status, read = api.json("GET", f"{DASH}/acl?id=one&id=two")
    assert status == 200
    reads(read, "ResponseContainerListAccessControlListReadDTO")
    by_id = {r["entityId"]: r for r in read["response"]}
    assert by_id["one"]["viewAcl"] == [{"id": user.uuid, "name": "carol"}]
    assert [e["name"] for e in by_id["two"]["modifyAcl"]] == ["carol", "admin"]
    api.json("POST", f"{DASH}/acl/remove", [{"entityId": "two", "modifyAcl": [user.uuid]}])
    after = api.json("GET", f"{DASH}/acl?id=two")[1]["response"][0]
    assert [e["id"] for e in after["modifyAcl"]] == [api.admin]
    assert api.json("PUT", f"{DASH}/acl/set", [{"entityId": "one", "viewAcl": ["no-such-account"]}])[0] == 400
    assert api.json("GET", f"{DASH}/one")[1]["response"]["acl"]["canView"] == [user.uuid]
