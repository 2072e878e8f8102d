"""The Grafana dialect's folders: create, get, list (nested), rename with versions, move
(no cycles), and delete (refused with contents unless forceDeleteRules=true cascades)."""

from __future__ import annotations

from typing import Any

from tests.functional.test_grafana_dashboards import get, save

FOLDERS = "/api/folders"
CHANGED = {"message": "the folder has been changed by someone else", "status": "version-mismatch"}


def folder(api, title: str, **fields: Any) -> dict[str, Any]:
    status, body = api.json("POST", FOLDERS, {"title": title, **fields})
    assert status == 200, body
    return body


def test_can_create_and_get_a_folder(api):
    created = folder(api, "Team A", uid="team-a")
    assert created["uid"] == "team-a" and created["title"] == "Team A" and created["version"] == 1
    assert created["url"] == "/dashboards/f/team-a/team-a" and created["parentUid"] == "" and created["parents"] == []
    status, got = api.json("GET", f"{FOLDERS}/team-a")
    assert status == 200
    assert got["id"] == created["id"] and got["canSave"] is True and got["created"].endswith("Z")
    assert api.json("GET", f"{FOLDERS}/nope") == (404, {"message": "Folder not found"})


def test_can_generate_a_folder_uid(api):
    created = folder(api, "Generated")
    assert created["uid"] and api.json("GET", f"{FOLDERS}/{created['uid']}")[0] == 200


def test_can_refuse_bad_folders(api):
    for body in (
        {},
        {"title": ""},
        {"title": 5},
        {"title": "x", "uid": "bad uid"},
        {"title": "x", "parentUid": "nope"},
    ):
        status, answer = api.json("POST", FOLDERS, body)
        assert status == 400, (body, answer)
    folder(api, "Dup", uid="dup-1")
    # A taken title among siblings, or a taken uid: 409
    assert api.json("POST", FOLDERS, {"title": "dup"})[0] == 409
    assert api.json("POST", FOLDERS, {"title": "Other", "uid": "dup-1"})[0] == 409
    assert [f["uid"] for f in api.json("GET", FOLDERS)[1]] == ["dup-1"]


def test_can_nest_folders_and_list_one_level(api):
    top = folder(api, "Top", uid="top")
    folder(api, "b child", uid="child-b", parentUid="top")
    child = folder(api, "A child", uid="child-a", parentUid="top")
    # The same title is fine under another parent
    folder(api, "A child", uid="elsewhere")
    assert child["parentUid"] == "top" and [p["uid"] for p in child["parents"]] == ["top"]
    status, top_level = api.json("GET", FOLDERS)
    assert status == 200
    assert top_level == [
        {"id": child["id"] + 1, "uid": "elsewhere", "title": "A child"},
        {"id": top["id"], "uid": "top", "title": "Top"},
    ]
    inside = api.json("GET", f"{FOLDERS}?parentUid=top")[1]
    assert [(f["uid"], f["parentUid"]) for f in inside] == [("child-a", "top"), ("child-b", "top")]
    assert [f["uid"] for f in api.json("GET", f"{FOLDERS}?parentUid=top&limit=1&page=2")[1]] == ["child-b"]
    assert api.json("GET", f"{FOLDERS}?page=0")[0] == 400


def test_can_rename_a_folder_with_its_version(api):
    folder(api, "Old", uid="ren")
    status, body = api.json("PUT", f"{FOLDERS}/ren", {"title": "New", "version": 1})
    assert status == 200 and body["title"] == "New" and body["version"] == 2
    # A stale version: 412 version-mismatch
    assert api.json("PUT", f"{FOLDERS}/ren", {"title": "Newer", "version": 1}) == (412, CHANGED)
    assert api.json("PUT", f"{FOLDERS}/ren", {"title": "Newer"}) == (412, CHANGED)
    # overwrite skips the check
    assert api.json("PUT", f"{FOLDERS}/ren", {"title": "Newest", "overwrite": True})[1]["version"] == 3
    # A uid change is refused; an unknown folder is 404; a sibling's title is 409
    assert api.json("PUT", f"{FOLDERS}/ren", {"title": "X", "version": 3, "uid": "other"})[0] == 400
    assert api.json("PUT", f"{FOLDERS}/missing", {"title": "X", "version": 1})[0] == 404
    folder(api, "Taken")
    assert api.json("PUT", f"{FOLDERS}/ren", {"title": "Taken", "version": 3})[0] == 409
    assert api.json("GET", f"{FOLDERS}/ren")[1]["title"] == "Newest"


def test_can_move_a_folder_and_refuse_cycles(api):
    folder(api, "A", uid="a")
    folder(api, "B", uid="b", parentUid="a")
    folder(api, "C", uid="c")
    status, moved = api.json("POST", f"{FOLDERS}/c/move", {"parentUid": "b"})
    assert status == 200 and moved["parentUid"] == "b" and [p["uid"] for p in moved["parents"]] == ["a", "b"]
    # Into itself or below itself: 400
    assert api.json("POST", f"{FOLDERS}/a/move", {"parentUid": "c"})[0] == 400
    assert api.json("POST", f"{FOLDERS}/a/move", {"parentUid": "a"})[0] == 400
    assert api.json("POST", f"{FOLDERS}/a/move", {"parentUid": "missing"})[0] == 400
    # Back to the top level
    assert api.json("POST", f"{FOLDERS}/c/move", {"parentUid": ""})[1]["parentUid"] == ""


def test_can_refuse_to_delete_a_folder_with_contents(api):
    folder(api, "Full", uid="full")
    dash = save(api, {"title": "Inside"}, folderUid="full")
    status, body = api.json("DELETE", f"{FOLDERS}/full")
    assert status == 400
    assert body["message"] == "Folder contains dashboards or folders; pass forceDeleteRules=true to delete them too"
    assert get(api, dash["uid"])[0] == 200
    folder(api, "Sub only", uid="subonly")
    folder(api, "Sub", uid="sub", parentUid="subonly")
    assert api.json("DELETE", f"{FOLDERS}/subonly")[0] == 400


def test_can_delete_an_empty_folder(api):
    created = folder(api, "Empty", uid="empty")
    status, body = api.json("DELETE", f"{FOLDERS}/empty")
    assert status == 200
    assert body == {"message": "Folder deleted", "id": created["id"], "uid": "empty", "title": "Empty"}
    assert api.json("GET", f"{FOLDERS}/empty")[0] == 404
    assert api.json("DELETE", f"{FOLDERS}/empty")[0] == 404


def test_can_cascade_a_folder_delete_with_force_delete_rules(api):
    folder(api, "Root F", uid="rootf")
    folder(api, "Nested F", uid="nestedf", parentUid="rootf")
    one = save(api, {"title": "One"}, folderUid="rootf")["uid"]
    two = save(api, {"title": "Two"}, folderUid="nestedf")["uid"]
    outside = save(api, {"title": "Outside"})["uid"]
    status, body = api.json("DELETE", f"{FOLDERS}/rootf?forceDeleteRules=true")
    assert status == 200 and body["uid"] == "rootf"
    assert get(api, one)[0] == 404 and get(api, two)[0] == 404 and get(api, outside)[0] == 200
    assert api.json("GET", f"{FOLDERS}/nestedf")[0] == 404
    # The titles are free again
    assert save(api, {"title": "One"})["version"] == 1


def test_can_refuse_a_cascade_the_caller_may_not_complete(api, make_user):
    folder(api, "Guarded", uid="guarded")
    dash = save(api, {"title": "Guarded dash"}, folderUid="guarded")["uid"]
    user = make_user(["folder.#", "dashboard.read", "dashboard.*.read"])
    assert api.json("DELETE", f"{FOLDERS}/guarded?forceDeleteRules=true", token=user.token)[0] == 403
    assert get(api, dash)[0] == 200 and api.json("GET", f"{FOLDERS}/guarded")[0] == 200


def test_can_show_a_dashboards_folder_in_its_meta(api):
    created = folder(api, "Meta F", uid="metaf")
    uid = save(api, {"title": "In F"}, folderUid="metaf")["uid"]
    meta = get(api, uid)[1]["meta"]
    assert meta["folderUid"] == "metaf" and meta["folderTitle"] == "Meta F" and meta["folderId"] == created["id"]
    assert meta["folderUrl"] == "/dashboards/f/metaf/meta-f"
