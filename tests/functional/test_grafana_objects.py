"""Grafana's stored objects: data sources (the built-in default, stored configurations whose
health check says they are unreachable, secrets reduced to their names), snapshots (keys,
deleteKeys, expiry) and library elements (versions, folders, connections to dashboards)."""

from __future__ import annotations

from typing import Any

DS = "/api/datasources"
LIB = "/api/library-elements"
PROM = {"name": "Prom", "type": "prometheus", "url": "http://prom:9090", "access": "proxy"}


def ok(api: Any, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    status, answer = api.json(method, path, body, **kw)
    assert status == 200, (method, path, answer)
    return answer


# ---- data sources ---------------------------------------------------------------------------


def test_can_list_the_built_in_default_data_source(api):
    [built_in] = ok(api, "GET", DS)
    assert built_in["uid"] == "opsplane" and built_in["isDefault"] is True and built_in["readOnly"] is True
    assert ok(api, "GET", f"{DS}/uid/opsplane") == built_in == ok(api, "GET", f"{DS}/0")
    assert ok(api, "GET", f"{DS}/name/opsplane") == built_in and ok(api, "GET", f"{DS}/id/opsplane") == {"id": 0}
    status, health = api.json("GET", f"{DS}/uid/opsplane/health")
    assert status == 200 and health["status"] == "OK" and "answers queries" in health["message"]
    for method, path in (("PUT", f"{DS}/uid/opsplane"), ("PUT", f"{DS}/0")):
        assert api.json(method, path, PROM)[0] == 400
    for path in (f"{DS}/uid/opsplane", f"{DS}/0", f"{DS}/name/opsplane"):
        assert api.json("DELETE", path)[0] == 400


def test_can_store_get_update_and_delete_a_data_source(api):
    made = ok(api, "POST", DS, {**PROM, "uid": "prom-1", "secureJsonData": {"httpHeaderValue1": "s3cret"}})
    assert made["message"] == "Datasource added" and made["name"] == "Prom" and made["id"] > 0
    source = made["datasource"]
    assert source["uid"] == "prom-1" and source["secureJsonFields"] == {"httpHeaderValue1": True}
    assert "s3cret" not in str(ok(api, "GET", f"{DS}/uid/prom-1"))
    number = made["id"]
    assert ok(api, "GET", f"{DS}/{number}")["uid"] == "prom-1" == ok(api, "GET", f"{DS}/name/Prom")["uid"]
    assert ok(api, "GET", f"{DS}/id/Prom") == {"id": number}
    assert [d["uid"] for d in ok(api, "GET", DS)] == ["opsplane", "prom-1"]
    # health: stored, never reachable from here
    status, health = api.json("GET", f"{DS}/uid/prom-1/health")
    assert status == 400 and health["status"] == "ERROR" and "http://prom:9090" in health["message"]
    # update by id and by uid; secrets already set stay set; a stale version is a 409
    changed = ok(api, "PUT", f"{DS}/{number}", {**PROM, "url": "http://prom:9091"})
    assert changed["message"] == "Datasource updated" and changed["datasource"]["version"] == 2
    assert changed["datasource"]["secureJsonFields"] == {"httpHeaderValue1": True}
    assert ok(api, "PUT", f"{DS}/uid/prom-1", {**PROM, "name": "Prom2", "version": 2})["name"] == "Prom2"
    assert api.json("PUT", f"{DS}/uid/prom-1", {**PROM, "version": 1})[0] == 409
    assert api.json("GET", f"{DS}/name/Prom")[0] == 404
    # names and uids are unique; the built-in's are taken
    assert api.json("POST", DS, {**PROM, "name": "prom2"})[0] == 409
    assert api.json("POST", DS, {**PROM, "name": "x", "uid": "prom-1"})[0] == 409
    assert api.json("POST", DS, {**PROM, "name": "OpsPlane"})[0] == 409
    # delete by name, id and uid
    assert ok(api, "DELETE", f"{DS}/name/Prom2") == {"message": "Data source deleted", "id": number}
    assert api.json("GET", f"{DS}/uid/prom-1") == (404, {"message": "Data source not found"})
    second = ok(api, "POST", DS, PROM)
    assert ok(api, "DELETE", f"{DS}/{second['id']}")["id"] == second["id"]
    third = ok(api, "POST", DS, PROM)["datasource"]["uid"]
    assert ok(api, "DELETE", f"{DS}/uid/{third}")["message"] == "Data source deleted"
    assert [d["uid"] for d in ok(api, "GET", DS)] == ["opsplane"]


def test_can_refuse_bad_data_sources_writing_nothing(api):
    for body in (
        {},
        {"name": "x"},
        {"type": "x"},
        {**PROM, "name": " "},
        {**PROM, "access": "sideways"},
        {**PROM, "isDefault": True},
        {**PROM, "uid": "bad uid"},
        {**PROM, "url": "u" * 2049},
        {**PROM, "jsonData": []},
        {**PROM, "secureJsonData": {"k": 1}},
    ):
        status, answer = api.json("POST", DS, body)
        assert status == 400 and set(answer) == {"message"}, (body, answer)
    assert [d["uid"] for d in ok(api, "GET", DS)] == ["opsplane"]
    assert api.json("GET", f"{DS}/abc")[0] == 400 and api.json("GET", f"{DS}/99")[0] == 404


def test_can_check_data_source_permissions(api, make_user, make_tenant):
    uid = ok(api, "POST", DS, PROM)["datasource"]["uid"]
    reader = make_user(["datasource.read", "datasource.*.read"])
    assert len(ok(api, "GET", DS, token=reader.token)) == 2
    assert api.json("POST", DS, {**PROM, "name": "x"}, token=reader.token)[0] == 403
    assert api.json("PUT", f"{DS}/1", PROM, token=reader.token)[0] in (403, 404)
    assert api.json("DELETE", f"{DS}/name/Prom", token=reader.token)[0] == 403
    stranger = make_user(["datasource.#"], tenant=make_tenant("other"))
    assert api.json("GET", f"{DS}/uid/{uid}", token=stranger.token)[0] == 404


# ---- snapshots ------------------------------------------------------------------------------


def test_can_store_read_list_and_delete_snapshots(api):
    board = {"title": "Board", "panels": [{"type": "graph", "snapshotData": [[1, 2]]}]}
    made = ok(api, "POST", "/api/snapshots", {"dashboard": board, "key": "k1", "deleteKey": "d1"})
    assert made["key"] == "k1" and made["deleteKey"] == "d1" and made["url"] == "/dashboard/snapshot/k1"
    assert made["deleteUrl"] == "/api/snapshots-delete/d1" and made["id"] > 0
    got = ok(api, "GET", "/api/snapshots/k1")
    assert got["dashboard"] == board and got["meta"]["isSnapshot"] is True and got["meta"]["expires"].startswith("0001")
    other = ok(api, "POST", "/api/snapshots", {"dashboard": board, "name": "Named", "expires": 3600})
    assert len(other["key"]) > 20 and len(other["deleteKey"]) > 20
    listed = ok(api, "GET", "/api/dashboard/snapshots")
    assert [s["name"] for s in listed] == ["Board", "Named"] and listed[1]["expires"] > "2000"
    assert [s["key"] for s in ok(api, "GET", "/api/dashboard/snapshots?query=nam")] == [other["key"]]
    # a key is unique; external snapshots are refused
    assert api.json("POST", "/api/snapshots", {"dashboard": board, "key": "k1"})[0] == 409
    assert api.json("POST", "/api/snapshots", {"dashboard": board, "external": True})[0] == 400
    # delete by key, and by deleteKey
    deleted = ok(api, "DELETE", "/api/snapshots/k1")
    assert deleted["id"] == made["id"] and deleted["message"].startswith("Snapshot deleted")
    assert api.json("GET", "/api/snapshots/k1") == (404, {"message": "Snapshot not found"})
    assert api.json("GET", "/api/snapshots-delete/d1")[0] == 404
    assert ok(api, "GET", f"/api/snapshots-delete/{other['deleteKey']}")["id"] == other["id"]
    assert ok(api, "GET", "/api/dashboard/snapshots") == []


def test_can_expire_snapshots(api):
    import pytest

    from chalicelib.compat.grafana import snapshots
    from chalicelib.domain.context import Context
    from chalicelib.errors import NotFound
    from chalicelib.store.repository import now_ms

    # GIVEN a snapshot that expires in a minute, and one made with an injected clock long ago
    made = ok(api, "POST", "/api/snapshots", {"dashboard": {"title": "T"}, "expires": 60})
    past = Context.service(api.root, clock=lambda: 1_000_000)
    old = snapshots.create(past, snapshots.SnapshotBody(dashboard={"title": "old"}, expires=60))
    # THEN the old one is gone for the real clock, the new one only a minute from now
    assert api.json("GET", f"/api/snapshots/{old.id}") == (404, {"message": "Snapshot not found"})
    assert [s["key"] for s in ok(api, "GET", "/api/dashboard/snapshots")] == [made["key"]]
    later = Context.service(api.root, clock=lambda: now_ms() + 61_000)
    with pytest.raises(NotFound):
        snapshots.load(later, made["key"])
    assert snapshots.load(Context.service(api.root), made["key"]).id == made["key"]


def test_can_refuse_bad_snapshots(api, make_user):
    for body in ({}, {"dashboard": []}, {"dashboard": {}, "key": "bad key"}, {"dashboard": {}, "expires": -1}):
        assert api.json("POST", "/api/snapshots", body)[0] == 400, body
    assert ok(api, "GET", "/api/dashboard/snapshots") == []
    reader = make_user(["snapshot.read"])
    assert api.json("POST", "/api/snapshots", {"dashboard": {}}, token=reader.token)[0] == 403


# ---- library elements -----------------------------------------------------------------------


def element(api: Any, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "kind": 1, "model": {"type": "timeseries", "title": name, "description": "d"}, **fields}
    return ok(api, "POST", LIB, body)["result"]


def test_can_create_get_change_and_delete_a_library_element(api):
    made = element(api, "CPU", uid="cpu")
    assert made["uid"] == "cpu" and made["version"] == 1 and made["type"] == "timeseries" and made["folderUid"] == ""
    assert made["meta"]["folderName"] == "General" and made["meta"]["connectedDashboards"] == 0
    assert ok(api, "GET", f"{LIB}/cpu")["result"] == made
    assert [e["uid"] for e in ok(api, "GET", f"{LIB}/name/cpu")["result"]] == ["cpu"]
    # a PATCH on the current version makes the next one; a stale one is Grafana's 412
    changed = ok(api, "PATCH", f"{LIB}/cpu", {"version": 1, "name": "CPU usage", "kind": 1, "model": {"type": "stat"}})
    assert changed["result"]["version"] == 2 and changed["result"]["type"] == "stat"
    status, answer = api.json("PATCH", f"{LIB}/cpu", {"version": 1, "name": "x"})
    assert status == 412 and answer["message"] == "the library element has been changed by someone else"
    # names are unique in a folder, not across folders
    folder = ok(api, "POST", "/api/folders", {"title": "Team", "uid": "team"})
    assert api.json("POST", LIB, {"name": "cpu usage", "kind": 1, "model": {}})[0] == 409
    moved = element(api, "CPU usage", folderUid="team")
    assert moved["folderUid"] == "team" and moved["folderId"] == folder["id"] and moved["meta"]["folderName"] == "Team"
    assert api.json("POST", LIB, {"name": "y", "kind": 1, "model": {}, "folderUid": "nope"})[0] == 400
    # delete
    assert ok(api, "DELETE", f"{LIB}/cpu") == {"message": "Library element deleted", "id": made["id"]}
    assert api.json("GET", f"{LIB}/cpu") == (404, {"message": "library element could not be found"})


def test_can_connect_library_elements_to_dashboards(api):
    element(api, "Shared", uid="shared")
    panels = [{"type": "row", "panels": [{"libraryPanel": {"uid": "shared", "name": "Shared"}}]}]
    board = ok(api, "POST", "/api/dashboards/db", {"dashboard": {"title": "Uses it", "panels": panels}})
    [connection] = ok(api, "GET", f"{LIB}/shared/connections")["result"]
    assert connection["connectionUid"] == board["uid"] and connection["connectionId"] == board["id"]
    assert ok(api, "GET", f"{LIB}/shared")["result"]["meta"]["connectedDashboards"] == 1
    # an element in use is not deleted
    assert api.json("DELETE", f"{LIB}/shared") == (403, {"message": "the library element has connections"})
    ok(api, "DELETE", f"/api/dashboards/uid/{board['uid']}")
    assert ok(api, "GET", f"{LIB}/shared/connections")["result"] == []
    assert ok(api, "DELETE", f"{LIB}/shared")["message"] == "Library element deleted"


def test_can_list_library_elements_filtered_and_paged(api):
    ok(api, "POST", "/api/folders", {"title": "F", "uid": "f"})
    element(api, "b panel", uid="b")
    element(api, "a panel", uid="a", folderUid="f")
    ok(api, "POST", LIB, {"name": "c var", "uid": "c", "kind": 2, "model": {"type": "query"}})

    def uids(query: str = "") -> list[str]:
        page = ok(api, "GET", f"{LIB}{query}")["result"]
        return [e["uid"] for e in page["elements"]]

    assert uids() == ["a", "b", "c"] and uids("?sortDirection=alpha-desc") == ["c", "b", "a"]
    assert uids("?kind=2") == ["c"] and uids("?searchString=PANEL") == ["a", "b"]
    assert uids("?folderFilter=f") == ["a"] and uids("?folderFilter=0") == ["b", "c"]
    assert uids("?excludeUid=a&typeFilter=timeseries") == ["b"]
    page = ok(api, "GET", f"{LIB}?perPage=1&page=2")["result"]
    assert page["totalCount"] == 3 and [e["uid"] for e in page["elements"]] == ["b"] and page["perPage"] == 1
    assert api.json("GET", f"{LIB}?sortDirection=up")[0] == 400


def test_can_refuse_bad_library_elements(api, make_user):
    for body in (
        {},
        {"name": "x", "model": {}},
        {"name": "x", "kind": 3, "model": {}},
        {"name": "", "kind": 1, "model": {}},
        {"name": "x", "kind": 1, "model": []},
        {"name": "x", "kind": 1, "model": {}, "uid": "bad uid"},
    ):
        assert api.json("POST", LIB, body)[0] == 400, body
    assert ok(api, "GET", LIB)["result"]["totalCount"] == 0
    element(api, "x", uid="x")
    assert api.json("PATCH", f"{LIB}/x", {"name": "y"})[0] == 400  # no version
    assert api.json("PATCH", f"{LIB}/x", {"version": 1, "uid": "other"})[0] == 400
    reader = make_user(["libraryelement.read", "libraryelement.*.read"])
    assert api.json("GET", f"{LIB}/x", token=reader.token)[0] == 200
    assert api.json("PATCH", f"{LIB}/x", {"version": 1}, token=reader.token)[0] == 403
    assert api.json("DELETE", f"{LIB}/x", token=reader.token)[0] == 403
