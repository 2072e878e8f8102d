"""Alerts: route ACLs, tenant isolation and entity ACLs (view / modify lists)."""

from __future__ import annotations

import pytest

from tests.functional.test_alert import ALERT, BODY, client_reads, new_alert

EVERYTHING_ALERT = ["alert.#"]


def make_group(tenant: str, name: str, members: list[str]) -> str:
    """A user group in a tenant (the usergroup category is someone else's; write it directly)."""
    from chalicelib.identity import accounts

    group_id = f"group-{name}"
    accounts.repo(tenant, accounts.GROUP).create(group_id, {"name": name, "users": members, "policies": []}, by="test")
    return group_id


# ---- route ACLs -----------------------------------------------------------------------------


def test_can_require_the_declared_acl_on_every_route(api, make_user):
    # GIVEN an alert and a user who may only list alerts
    aid = new_alert(api)["id"]
    reader = make_user(["alert.read"])
    # THEN listing, search, summary and checkQuery work, entity routes do not
    assert api.json("GET", ALERT, token=reader.token)[0] == 200
    assert api.json("GET", f"{ALERT}/summary", token=reader.token)[0] == 200
    assert api.json("POST", f"{ALERT}/checkQuery", {"inputQuery": "ts(x)"}, token=reader.token)[0] == 200
    assert api.json("POST", "/api/v2/search/alert", {}, token=reader.token)[0] == 200
    for method, suffix, body in [
        ("POST", "", BODY),
        ("GET", f"/{aid}", None),
        ("PUT", f"/{aid}", BODY),
        ("DELETE", f"/{aid}", None),
        ("POST", f"/{aid}/snooze", None),
        ("PUT", f"/{aid}/tag/x", None),
        ("GET", f"/{aid}/history", None),
        ("POST", f"/{aid}/undelete", None),
    ]:
        status, answer = api.json(method, f"{ALERT}{suffix}", body, token=reader.token)
        assert status == 403, (method, suffix)
        assert answer["status"]["code"] == 403


def test_can_refuse_everything_without_alert_acl(api, make_user):
    nobody = make_user(["dashboard.read"])
    assert api.json("GET", ALERT, token=nobody.token)[0] == 403
    assert api.json("GET", f"{ALERT}/summary", token=nobody.token)[0] == 403
    assert api.json("POST", "/api/v2/search/alert", {}, token=nobody.token)[0] == 403
    assert api.json("GET", ALERT, token="")[0] == 401


def test_can_guard_each_alert_with_its_own_acl(api, make_user):
    # GIVEN two alerts and a user who may update only the first
    first, second = new_alert(api)["id"], new_alert(api)["id"]
    user = make_user(["alert.read", "alert.*.read", f"alert.{first}.update"])
    assert api.json("PUT", f"{ALERT}/{first}", BODY, token=user.token)[0] == 200
    assert api.json("PUT", f"{ALERT}/{second}", BODY, token=user.token)[0] == 403
    assert api.json("DELETE", f"{ALERT}/{first}", token=user.token)[0] == 403


def test_can_require_create_permission_to_clone(api, make_user):
    aid = new_alert(api)["id"]
    reader = make_user(["alert.read", "alert.*.read"])
    assert api.json("POST", f"{ALERT}/{aid}/clone", token=reader.token)[0] == 403
    creator = make_user(["alert.read", "alert.*.read", "alert.create"])
    status, copy = api.json("POST", f"{ALERT}/{aid}/clone", token=creator.token)
    assert status == 200 and copy["response"]["creatorId"] == creator.username


# ---- tenants ----------------------------------------------------------------------------------


def test_can_keep_alerts_inside_their_tenant(api, make_tenant, make_user):
    # GIVEN an alert in tenant A and a user of tenant B with every alert permission
    alpha, beta = make_tenant("alpha"), make_tenant("beta")
    owner = make_user(EVERYTHING_ALERT, tenant=alpha)
    stranger = make_user(EVERYTHING_ALERT, tenant=beta)
    aid = new_alert(api, token=owner.token)["id"]
    # THEN B gets 404 on every entity route, and sees nothing in lists and search
    for method, suffix in [("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/history"), ("POST", "/snooze")]:
        status, _ = api.json(method, f"{ALERT}/{aid}{suffix}", BODY if method == "PUT" else None, token=stranger.token)
        assert status == 404, (method, suffix)
    assert api.json("GET", f"{ALERT}/acl?id={aid}", token=stranger.token)[0] == 404
    assert api.json("GET", ALERT, token=stranger.token)[1]["response"]["items"] == []
    assert api.json("POST", "/api/v2/search/alert", {}, token=stranger.token)[1]["response"]["totalItems"] == 0
    assert api.json("GET", f"{ALERT}/summary", token=stranger.token)[1]["response"]["checking"] == 0
    # AND A still has it, untouched
    assert api.json("GET", f"{ALERT}/{aid}", token=owner.token)[1]["response"]["version"] == 1


def test_can_let_a_parent_tenant_act_on_a_child_by_header(api, make_tenant, make_user):
    child = make_tenant("child")
    aid = new_alert(api, headers={"X-Tenant-Id": child})["id"]
    assert api.json("GET", f"{ALERT}/{aid}", headers={"X-Tenant-Id": child})[0] == 200
    assert api.json("GET", f"{ALERT}/{aid}")[0] == 404  # not in the root tenant's own partition


# ---- entity ACLs ------------------------------------------------------------------------------


def test_can_restrict_viewing_and_modifying_with_entity_acls(api, make_user):
    # GIVEN three users with every alert permission, one of them in a group
    viewer, editor, outsider = (make_user(EVERYTHING_ALERT) for _ in range(3))
    group = make_group(api.root, "editors", [editor.uuid])
    aid = new_alert(api)["id"]
    # WHEN the ACL lets the viewer view and the editors' group modify
    status, answer = api.json(
        "PUT", f"{ALERT}/acl/set", [{"entityId": aid, "viewAcl": [viewer.uuid], "modifyAcl": [group]}]
    )
    assert status == 200
    client_reads(answer, "ResponseContainerListAccessControlListReadDTO")
    # THEN the outsider can neither see nor change it, nor find it
    assert api.json("GET", f"{ALERT}/{aid}", token=outsider.token)[0] == 403
    assert api.json("PUT", f"{ALERT}/{aid}", BODY, token=outsider.token)[0] == 403
    assert api.json("GET", ALERT, token=outsider.token)[1]["response"]["totalItems"] == 0
    assert api.json("POST", "/api/v2/search/alert", {}, token=outsider.token)[1]["response"]["items"] == []
    # AND the viewer may view only
    got = api.json("GET", f"{ALERT}/{aid}", token=viewer.token)[1]["response"]
    assert got["modifyAclAccess"] is False
    assert api.json("POST", f"{ALERT}/{aid}/snooze", token=viewer.token)[0] == 403
    assert api.json("PUT", f"{ALERT}/{aid}/tag/x", token=viewer.token)[0] == 403
    assert api.json("DELETE", f"{ALERT}/{aid}", token=viewer.token)[0] == 403
    # AND the group member may modify; the admin (superadmin) bypasses it all
    assert api.json("PUT", f"{ALERT}/{aid}", {**BODY, "name": "edited"}, token=editor.token)[0] == 200
    assert api.json("GET", f"{ALERT}/{aid}", token=editor.token)[1]["response"]["modifyAclAccess"] is True
    assert api.json("POST", f"{ALERT}/{aid}/uninstall")[0] == 200


def test_can_add_remove_and_read_acl_entries(api, make_user):
    user = make_user(EVERYTHING_ALERT, username="carol")
    first, second = new_alert(api)["id"], new_alert(api)["id"]
    status, added = api.json(
        "POST",
        f"{ALERT}/acl/add",
        [{"entityId": first, "viewAcl": [user.uuid]}, {"entityId": second, "modifyAcl": [user.uuid, api.admin]}],
    )
    assert status == 200
    status, read = api.json("GET", f"{ALERT}/acl?id={first}&id={second}")
    assert status == 200
    client_reads(read, "ResponseContainerListAccessControlListReadDTO")
    by_id = {r["entityId"]: r for r in read["response"]}
    assert by_id[first]["viewAcl"] == [{"id": user.uuid, "name": "carol"}]
    assert [e["name"] for e in by_id[second]["modifyAcl"]] == ["carol", "admin"]
    api.json("POST", f"{ALERT}/acl/remove", [{"entityId": second, "modifyAcl": [user.uuid]}])
    after = api.json("GET", f"{ALERT}/acl?id={second}")[1]["response"][0]
    assert [e["id"] for e in after["modifyAcl"]] == [api.admin]
    assert api.json("GET", f"{ALERT}/{second}")[1]["response"]["acl"] == {"canView": [], "canModify": [api.admin]}


@pytest.mark.parametrize(
    "body_for",
    [
        lambda aid: [{"entityId": aid, "viewAcl": ["no-such-account"]}],
        lambda aid: [{"viewAcl": []}],
        lambda aid: [{"entityId": aid, "viewAcl": "x"}],
        lambda aid: [{"entityId": aid, "modifyAcl": [7]}],
        lambda aid: {"entityId": aid},
        lambda aid: [],
        lambda aid: [aid],
    ],
)
def test_can_refuse_bad_acl_writes_and_change_nothing(api, body_for):
    aid = new_alert(api)["id"]
    status, answer = api.json("PUT", f"{ALERT}/acl/set", body_for(aid))
    assert status == 400, answer
    assert api.json("GET", f"{ALERT}/{aid}")[1]["response"]["version"] == 1


def test_can_refuse_acl_reads_and_writes_without_rights(api, make_user):
    aid = new_alert(api)["id"]
    assert api.json("GET", f"{ALERT}/acl")[0] == 400
    assert api.json("GET", f"{ALERT}/acl?id=404404")[0] == 404
    reader = make_user(["alert.read", "alert.*.read"])
    status, _ = api.json("POST", f"{ALERT}/acl/add", [{"entityId": aid, "viewAcl": [reader.uuid]}], token=reader.token)
    assert status == 403
    assert api.json("GET", f"{ALERT}/{aid}")[1]["response"]["acl"]["canView"] == []
