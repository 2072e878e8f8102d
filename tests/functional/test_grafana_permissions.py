"""The seed's own Grafana calls and Grafana's permissions over entity ACLs: a dashboard by
slug, saves naming the dashboard by numeric id, dashboard and folder permissions (written
in Grafana's dialect, read and enforced in Wavefront's), and unknown Grafana paths."""

from __future__ import annotations

from typing import Any

DB = "/api/dashboards/db"
CHANGED = {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}


def save(api, dashboard: dict[str, Any], expect: int = 200, **fields: Any) -> dict[str, Any]:
    status, body = api.json("POST", DB, {"dashboard": dashboard, **fields})
    assert status == expect, body
    return body


def test_can_get_a_dashboard_by_its_slug(api):
    saved = save(api, {"title": "Prod Overview!", "panels": []})
    status, body = api.json("GET", f"{DB}/prod-overview")
    assert status == 200, body
    assert body["dashboard"]["uid"] == saved["uid"] and body["meta"]["slug"] == "prod-overview"
    status, body = api.json("GET", f"{DB}/no-such-slug")
    assert (status, body) == (404, {"message": "Dashboard not found"})


def test_can_rename_a_dashboard_saved_by_numeric_id(api):
    # GIVEN a dashboard
    first = save(api, {"title": "Before", "panels": []})
    # WHEN it is saved by numeric id (no uid) with a new title
    second = save(api, {"id": first["id"], "title": "After", "version": 1, "panels": []})
    # THEN the same dashboard is updated, not a second one made
    assert (second["uid"], second["id"], second["version"]) == (first["uid"], first["id"], 2)
    status, found = api.json("GET", "/api/search?type=dash-db")
    assert [h["title"] for h in found] == ["After"]


def test_can_refuse_a_stale_save_by_numeric_id_as_a_version_mismatch(api):
    first = save(api, {"title": "Stale", "panels": []})
    save(api, {"id": first["id"], "title": "Stale", "version": 1, "panels": [{"type": "text"}]})
    # WHEN a save based on version 1 comes again by id
    body = save(api, {"id": first["id"], "title": "Stale", "version": 1, "panels": []}, expect=412)
    # THEN it is Grafana's version-mismatch, not name-exists, and nothing was written
    assert body == CHANGED
    assert api.json("GET", f"/api/dashboards/uid/{first['uid']}")[1]["dashboard"]["version"] == 2


def test_can_refuse_an_unknown_numeric_id(api):
    status, body = api.json("POST", DB, {"dashboard": {"id": 987654, "title": "x"}})
    assert (status, body) == (404, {"message": "Dashboard not found"})
    status, body = api.json("POST", DB, {"dashboard": {"id": "7", "title": "x"}})
    assert status == 400 and "dashboard.id" in body["message"]


def test_can_set_dashboard_permissions_and_read_them_as_a_wavefront_acl(api, make_user):
    # GIVEN a dashboard and two users holding the category ACL
    uid = save(api, {"title": "Guarded", "panels": []})["uid"]
    viewer = make_user(["dashboard.#"])
    editor = make_user(["dashboard.#"])
    # WHEN Grafana permissions name one as View and one as Edit
    items = [{"userId": viewer.uuid, "permission": 1}, {"userId": editor.uuid, "permission": 2}]
    status, body = api.json("POST", f"/api/dashboards/uid/{uid}/permissions", {"items": items})
    assert (status, body) == (200, {"message": "Dashboard permissions updated"})
    # THEN Grafana reads them back
    status, listed = api.json("GET", f"/api/dashboards/uid/{uid}/permissions")
    assert status == 200
    assert {(p["userId"], p["permission"], p["userLogin"]) for p in listed} == {
        (viewer.uuid, 1, viewer.username),
        (editor.uuid, 2, editor.username),
    }
    # AND the Wavefront dialect reads the same entity ACL
    status, acl = api.json("GET", f"/api/v2/dashboard/acl?id={uid}")
    assert status == 200, acl
    entry = acl["response"][0]
    assert [a["id"] for a in entry["viewAcl"]] == [viewer.uuid]
    assert [a["id"] for a in entry["modifyAcl"]] == [editor.uuid]
    # AND it is enforced: the viewer may read but not save, a third user may not even read
    dash = api.json("GET", f"/api/dashboards/uid/{uid}", token=viewer.token)[1]["dashboard"]
    status, _ = api.json("POST", DB, {"dashboard": dash}, token=viewer.token)
    assert status == 403
    outsider = make_user(["dashboard.#"])
    assert api.json("GET", f"/api/dashboards/uid/{uid}", token=outsider.token)[0] == 403
    assert api.json("POST", DB, {"dashboard": dash}, token=editor.token)[0] == 200


def test_can_read_a_wavefront_acl_as_grafana_permissions_by_numeric_id(api, make_user):
    saved = save(api, {"title": "By id", "panels": []})
    team = api.json("POST", "/api/v2/usergroup", {"name": "sre", "permissions": []})[1]["response"]["id"]
    # WHEN the Wavefront dialect sets the ACL to a group
    status, body = api.json(
        "PUT", "/api/v2/dashboard/acl/set", [{"entityId": saved["uid"], "viewAcl": [], "modifyAcl": [team]}]
    )
    assert status == 200, body
    # THEN Grafana sees a team with Edit
    status, listed = api.json("GET", f"/api/dashboards/id/{saved['id']}/permissions")
    assert status == 200, listed
    assert [(p["teamId"], p["team"], p["permissionName"]) for p in listed] == [(team, "sre", "Edit")]
    # AND setting by numeric id replaces it
    status, _ = api.json("POST", f"/api/dashboards/id/{saved['id']}/permissions", {"items": []})
    assert status == 200
    assert api.json("GET", f"/api/dashboards/uid/{saved['uid']}/permissions")[1] == []


def test_can_refuse_bad_permission_items_and_write_nothing(api, make_user):
    uid = save(api, {"title": "Refusals", "panels": []})["uid"]
    path = f"/api/dashboards/uid/{uid}/permissions"
    for items, field in (
        ([{"role": "Viewer", "permission": 1}], "items[0].role"),
        ([{"userId": "nobody", "permission": 1}], "unknown users or teams"),
        ([{"userId": "x", "teamId": "y", "permission": 1}], "exactly one"),
        ([{"userId": "x", "permission": 3}], "permission"),
    ):
        status, body = api.json("POST", path, {"items": items})
        assert status == 400 and field in body["message"], body
    assert api.json("GET", path)[1] == []
    assert api.json("GET", "/api/dashboards/uid/nope/permissions")[0] == 404


def test_can_guard_a_folder_with_its_permissions(api, make_user):
    folder = api.json("POST", "/api/folders", {"title": "Team A"})[1]
    member = make_user(["folder.#"])
    other = make_user(["folder.#"])
    path = f"/api/folders/{folder['uid']}/permissions"
    status, _ = api.json("POST", path, {"items": [{"userId": member.uuid, "permission": 4}]})
    assert status == 200
    listed = api.json("GET", path)[1]
    assert [(p["userId"], p["permission"], p["isFolder"]) for p in listed] == [(member.uuid, 2, True)]
    assert api.json("GET", f"/api/folders/{folder['uid']}")[1]["hasAcl"] is True
    # the member may rename it, the other may not even read it
    assert api.json("GET", f"/api/folders/{folder['uid']}", token=other.token)[0] == 403
    change = {"title": "Team A2", "overwrite": True}
    assert api.json("PUT", f"/api/folders/{folder['uid']}", change, token=other.token)[0] == 403
    assert api.json("PUT", f"/api/folders/{folder['uid']}", change, token=member.token)[0] == 200
    # and it is found by numeric id
    status, body = api.json("GET", f"/api/folders/id/{folder['id']}")
    assert (status, body["uid"], body["title"]) == (200, folder["uid"], "Team A2")
    assert api.json("GET", "/api/folders/id/999999")[0] == 404


def test_can_answer_unknown_grafana_paths_in_grafanas_shape(api):
    for path in ("/api/nothing-here", "/api/teams/x/y/z/w", "/api/auth/keys/x/y"):
        status, body = api.json("GET", path)
        assert (status, body) == (404, {"message": "Not found"}), path
    status, body = api.json("GET", "/api/v2/nothing-here")
    assert status == 404 and "status" in body


def test_can_star_by_numeric_id_and_answer_the_default_home(api):
    saved = save(api, {"title": "Starry", "panels": []})
    assert api.json("POST", f"/api/user/stars/dashboard/{saved['id']}")[1] == {"message": "Dashboard starred!"}
    hits = api.json("GET", "/api/search?starred=true")[1]
    assert [h["uid"] for h in hits] == [saved["uid"]]
    assert api.json("DELETE", f"/api/user/stars/dashboard/{saved['id']}")[0] == 200
    assert api.json("GET", "/api/search?starred=true")[1] == []
    assert api.json("POST", "/api/user/stars/dashboard/999999")[0] == 404
    status, home = api.json("GET", "/api/dashboards/home")
    assert status == 200 and home["meta"]["isHome"] is True and home["dashboard"]["title"] == "Home"
