"""The Grafana dialect's dashboards: save with Grafana's conflict rules, get, delete,
versions (query string and form body), restore, tags, stars, entity ACLs, tenants, and
multi-MB documents byte-for-byte."""

from __future__ import annotations

import json
import secrets
from typing import Any

DB = "/api/dashboards/db"
UID = "/api/dashboards/uid"
CHANGED = {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
NAME_EXISTS = {"message": "A dashboard with the same name in the folder already exists", "status": "name-exists"}


def save(api, dashboard: dict[str, Any], expect: int = 200, **fields: Any) -> dict[str, Any]:
    """POST /api/dashboards/db; the answer, after checking its status."""
    token = fields.pop("token", None)
    status, body = api.json("POST", DB, {"dashboard": dashboard, **fields}, token=token)
    assert status == expect, body
    return body


def new_dashboard(api, title: str | None = None, **fields: Any) -> dict[str, Any]:
    """A fresh dashboard; the save answer."""
    dash = {"title": title or f"dash-{secrets.token_hex(4)}", "tags": [], "panels": []}
    dash.update(fields.pop("dashboard", {}))
    return save(api, dash, **fields)


def get(api, uid: str, **kw: Any) -> tuple[int, Any]:
    return api.json("GET", f"{UID}/{uid}", **kw)


def store_repository(api):
    """The root tenant's dashboards, as the store configures them (for edits no Grafana
    route makes: entity ACLs, Wavefront documents)."""
    from chalicelib.dashboards import store
    from chalicelib.store.repository import Repository

    return Repository(
        api.root, store.KIND, cursor_secret=b"t", history=True, unique=store.DASHBOARD_NAME, head_keys=store.HEAD_KEYS
    )


# ---- save ---------------------------------------------------------------------------------


def test_can_create_a_dashboard_and_answer_like_grafana(api):
    # WHEN a dashboard without uid is posted
    body = save(api, {"title": "Prod Overview!", "panels": []}, message="first")
    # THEN Grafana's answer comes back, with a generated uid and a slug of the title
    assert set(body) == {"id", "uid", "url", "status", "version", "slug"}
    assert body["status"] == "success" and body["version"] == 1 and body["slug"] == "prod-overview"
    assert body["url"] == f"/d/{body['uid']}/prod-overview" and isinstance(body["id"], int) and body["id"] > 0


def test_can_get_a_dashboard_with_its_meta(api):
    body = save(api, {"uid": "ops-1", "title": "Ops", "tags": ["b", "a"], "panels": [{"type": "text"}]})
    status, got = get(api, "ops-1")
    assert status == 200
    dash, meta = got["dashboard"], got["meta"]
    # THEN the document keeps its key order, with the server's id / version set in place
    assert list(dash) == ["uid", "title", "tags", "panels", "id", "version"]
    assert dash["id"] == body["id"] and dash["version"] == 1 and dash["tags"] == ["b", "a"]
    assert meta["slug"] == "ops" and meta["url"] == "/d/ops-1/ops" and meta["version"] == 1
    assert meta["folderUid"] == "" and meta["folderTitle"] == "General" and meta["folderId"] == 0
    assert meta["isStarred"] is False and meta["canSave"] is True and meta["canDelete"] is True
    assert meta["expires"] == "0001-01-01T00:00:00Z" and meta["provisioned"] is False
    assert meta["created"].endswith("Z") and meta["createdBy"] == "admin" and meta["updatedBy"] == "admin"


def test_can_answer_404_for_an_unknown_dashboard(api):
    assert get(api, "nope") == (404, {"message": "Dashboard not found"})
    assert api.json("DELETE", f"{UID}/nope") == (404, {"message": "Dashboard not found"})


def test_can_accept_the_stored_version_and_refuse_an_older_or_newer_one(api):
    uid = new_dashboard(api)["uid"]
    title = get(api, uid)[1]["dashboard"]["title"]
    # WHEN the stored version is posted THEN it saves as the next version
    assert save(api, {"uid": uid, "title": title, "version": 1})["version"] == 2
    # WHEN an older one is posted THEN 412 version-mismatch, nothing written
    assert api.json("POST", DB, {"dashboard": {"uid": uid, "title": title, "version": 1}}) == (412, CHANGED)
    # WHEN a newer one is posted THEN 412 too
    assert api.json("POST", DB, {"dashboard": {"uid": uid, "title": title, "version": 7}}) == (412, CHANGED)
    # WHEN no version is posted THEN 412 as well
    assert api.json("POST", DB, {"dashboard": {"uid": uid, "title": title}}) == (412, CHANGED)
    assert get(api, uid)[1]["meta"]["version"] == 2


def test_can_overwrite_a_stale_version(api):
    uid = new_dashboard(api)["uid"]
    body = save(api, {"uid": uid, "title": "Over", "version": 0, "x": 1}, overwrite=True)
    assert body["version"] == 2
    assert get(api, uid)[1]["dashboard"]["x"] == 1


def test_can_refuse_the_same_title_in_the_same_folder(api):
    new_dashboard(api, "Same Title")
    # Titles compare case-insensitively, as Grafana's do
    assert api.json("POST", DB, {"dashboard": {"title": "same title"}}) == (412, NAME_EXISTS)


def test_can_keep_the_same_title_in_another_folder(api):
    new_dashboard(api, "Twice")
    folder = api.json("POST", "/api/folders", {"title": "Elsewhere"})[1]["uid"]
    body = save(api, {"title": "Twice"}, folderUid=folder)
    assert get(api, body["uid"])[1]["meta"]["folderUid"] == folder


def test_can_take_over_the_same_named_dashboard_with_overwrite(api):
    first = new_dashboard(api, "Taken")
    # WHEN another dashboard with that title is posted with overwrite
    body = save(api, {"uid": "other-uid", "title": "Taken", "panels": [1]}, overwrite=True)
    # THEN it replaces the holder of the title, keeping its uid (as Grafana does)
    assert body["uid"] == first["uid"] and body["version"] == 2
    assert get(api, "other-uid")[0] == 404
    assert get(api, first["uid"])[1]["dashboard"]["panels"] == [1]


def test_can_refuse_bad_saves_with_400_and_write_nothing(api):
    before = api.json("GET", "/api/search")[1]
    cases = [
        {"dashboard": {"title": ""}},
        {"dashboard": {"title": "   "}},
        {"dashboard": {"panels": []}},
        {"dashboard": {"title": "bad uid", "uid": "has space"}},
        {"dashboard": {"title": "bad uid", "uid": "x" * 41}},
        {"dashboard": {"title": "no folder"}, "folderUid": "missing-folder"},
        {"dashboard": ["not", "an", "object"]},
        {"dashboard": "nope"},
        {"dashboard": {"title": "bad tags", "tags": "a,b"}},
        {"dashboard": {"title": "bad overwrite"}, "overwrite": "yes"},
        {},
    ]
    for body in cases:
        status, answer = api.json("POST", DB, body)
        assert status == 400, (body, answer)
        assert isinstance(answer["message"], str) and answer["message"]
    assert api.json("POST", DB, raw="{not json")[0] == 400
    assert api.json("GET", "/api/search")[1] == before


def test_can_read_the_folder_from_meta_as_grafana_client_sends_it(api):
    folder = api.json("POST", "/api/folders", {"title": "Meta folder"})[1]["uid"]
    body = save(api, {"title": "In meta"}, meta={"folderUid": folder, "folderId": 3}, folderId=3)
    assert get(api, body["uid"])[1]["meta"]["folderUid"] == folder


def test_can_answer_413_above_five_mib(api):
    big = {"dashboard": {"title": "huge", "blob": "x" * (5 * 1024 * 1024 + 10)}}
    status, body = api.json("POST", DB, big)
    assert status == 413 and "message" in body
    assert api.json("GET", "/api/search", None)[1] == []


def _noise(size: int) -> str:
    return secrets.token_urlsafe(size * 3 // 4)[:size]


def test_can_round_trip_a_multi_megabyte_dashboard_byte_for_byte(api):
    # GIVEN a 4 MB dashboard of incompressible strings in panel fields, keys in no sorted order
    panels = [{"type": "text", "title": f"p{i}", "options": {"content": _noise(40_000)}, "id": i} for i in range(100)]
    posted = {"uid": "big-one", "title": "Big", "zeta": 1, "panels": panels, "alpha": {"b": 1, "a": 2}, "tags": []}
    assert len(json.dumps(posted)) > 4_000_000
    body = save(api, posted, message="big")
    # WHEN it is read back
    status, got = get(api, "big-one")
    assert status == 200
    # THEN it is what was posted, key order included, with the server's id / version added
    expected = {**posted, "id": body["id"], "version": 1}
    assert json.dumps(got["dashboard"]) == json.dumps(expected)
    # AND a second save keeps a history version that also reads back whole
    changed = {**posted, "title": "Big 2", "version": 1}
    save(api, changed)
    status, old = api.json("GET", f"{UID}/big-one/versions/1")
    assert status == 200
    assert json.dumps(old["data"]) == json.dumps(expected)
    assert json.dumps(get(api, "big-one")[1]["dashboard"]) == json.dumps({**changed, "id": body["id"], "version": 2})


# ---- delete -------------------------------------------------------------------------------


def test_can_delete_a_dashboard_permanently(api):
    body = save(api, {"uid": "gone-1", "title": "Gone"})
    status, answer = api.json("DELETE", f"{UID}/gone-1")
    assert status == 200
    assert answer == {"title": "Gone", "message": "Dashboard Gone deleted", "id": body["id"], "uid": "gone-1"}
    assert get(api, "gone-1")[0] == 404
    # THEN its title is free again and its uid can be reused
    assert save(api, {"uid": "gone-1", "title": "Gone"})["version"] == 1


# ---- versions and restore ----------------------------------------------------------------


def _three_versions(api) -> str:
    uid = save(api, {"uid": f"v-{secrets.token_hex(3)}", "title": "V1"}, message="one")["uid"]
    save(api, {"uid": uid, "title": "V2", "version": 1}, message="two")
    save(api, {"uid": uid, "title": "V3", "version": 2}, message="three")
    return uid


def test_can_list_versions_newest_first(api):
    uid = _three_versions(api)
    status, found = api.json("GET", f"{UID}/{uid}/versions")
    assert status == 200
    assert [v["version"] for v in found] == [3, 2, 1]
    assert [v["message"] for v in found] == ["three", "two", "one"]
    first = found[-1]
    assert first["dashboardUid"] == uid and first["uid"] == uid and first["parentVersion"] == 0
    assert first["restoredFrom"] == 0 and first["createdBy"] == "admin" and first["created"].endswith("Z")
    assert first["id"] == 1 and isinstance(first["dashboardId"], int)


def test_can_page_versions_from_the_query_string(api):
    uid = _three_versions(api)
    status, found = api.json("GET", f"{UID}/{uid}/versions?limit=1&start=1")
    assert status == 200 and [v["version"] for v in found] == [2]


def test_can_page_versions_from_a_form_body_on_the_get(api):
    uid = _three_versions(api)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, found = api.json("GET", f"{UID}/{uid}/versions", raw="limit=2&start=1", headers=form)
    assert status == 200 and [v["version"] for v in found] == [2, 1]


def test_can_refuse_bad_version_paging(api):
    uid = _three_versions(api)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for query in ("limit=x", "start=-1", "limit=-2"):
        assert api.json("GET", f"{UID}/{uid}/versions?{query}")[0] == 400, query
        assert api.json("GET", f"{UID}/{uid}/versions", raw=query, headers=form)[0] == 400, query


def test_can_get_one_version_with_its_data(api):
    uid = _three_versions(api)
    status, found = api.json("GET", f"{UID}/{uid}/versions/2")
    assert status == 200
    assert found["version"] == 2 and found["message"] == "two"
    assert found["data"]["title"] == "V2" and found["data"]["version"] == 2 and found["data"]["uid"] == uid
    assert api.json("GET", f"{UID}/{uid}/versions/9")[0] == 404
    assert api.json("GET", f"{UID}/{uid}/versions/zero")[0] == 400


def test_can_restore_a_version_as_a_new_version(api):
    uid = _three_versions(api)
    status, body = api.json("POST", f"{UID}/{uid}/restore", {"version": 1})
    assert status == 200
    assert body["version"] == 4 and body["status"] == "success" and body["uid"] == uid and body["slug"] == "v1"
    assert get(api, uid)[1]["dashboard"]["title"] == "V1"
    newest = api.json("GET", f"{UID}/{uid}/versions?limit=1")[1][0]
    assert newest["message"] == "Restored from version 1" and newest["restoredFrom"] == 1
    assert api.json("POST", f"{UID}/{uid}/restore", {"version": 42})[0] == 404
    assert api.json("POST", f"{UID}/{uid}/restore", {"version": "one"})[0] == 400


# ---- tags and stars -------------------------------------------------------------------------


def test_can_count_tags_of_visible_dashboards(api):
    new_dashboard(api, dashboard={"tags": ["prod", "web"]})
    new_dashboard(api, dashboard={"tags": ["prod"]})
    hidden = new_dashboard(api, dashboard={"tags": ["secret"]})["uid"]
    _restrict(api, hidden, only="someone-else")
    user = _reader(api)
    status, found = api.json("GET", "/api/dashboards/tags", token=user)
    assert status == 200
    assert found == [{"term": "prod", "count": 2}, {"term": "web", "count": 1}]
    assert {"term": "secret", "count": 1} in api.json("GET", "/api/dashboards/tags")[1]


def test_can_star_and_unstar_a_dashboard(api):
    uid = new_dashboard(api)["uid"]
    assert api.json("POST", f"/api/user/stars/dashboard/uid/{uid}") == (200, {"message": "Dashboard starred!"})
    assert api.json("POST", f"/api/user/stars/dashboard/uid/{uid}")[0] == 200  # idempotent
    assert get(api, uid)[1]["meta"]["isStarred"] is True
    assert api.json("DELETE", f"/api/user/stars/dashboard/uid/{uid}") == (200, {"message": "Dashboard unstarred"})
    assert get(api, uid)[1]["meta"]["isStarred"] is False
    assert api.json("POST", "/api/user/stars/dashboard/uid/unknown")[0] == 404


# ---- entity ACLs and tenants ---------------------------------------------------------------


def _restrict(api, uid: str, only: str) -> None:
    """Give a dashboard an entity ACL naming only one principal."""
    from chalicelib.domain import entity_acl

    store_repository(api).update(uid, lambda e: entity_acl.edit(e, "set", [only], [only]))


def _reader(api, acl: tuple[str, ...] = ("dashboard.#", "folder.read")) -> str:
    from chalicelib.identity import accounts
    from tests.functional.conftest import mint

    account = accounts.create_account(
        api.root,
        username=f"reader-{secrets.token_hex(3)}",
        password="reader-password-1",
        fields={"acl": list(acl)},
        by="t",
    )
    return mint(account.id, api.root, account.id)


def test_can_forbid_a_dashboard_the_entity_acl_hides(api):
    uid = new_dashboard(api, "Hidden one")["uid"]
    _restrict(api, uid, only=api.admin)
    user = _reader(api)
    status, body = get(api, uid, token=user)
    assert status == 403 and "message" in body
    assert api.json("POST", DB, {"dashboard": {"uid": uid, "title": "x", "version": 2}}, token=user)[0] == 403
    assert api.json("DELETE", f"{UID}/{uid}", token=user)[0] == 403
    assert api.json("GET", f"{UID}/{uid}/versions", token=user)[0] == 403
    assert api.json("GET", "/api/search?query=hidden", token=user)[1] == []
    assert len(api.json("GET", "/api/search?query=hidden")[1]) == 1


def test_can_refuse_a_save_without_create_or_update_acl(api):
    uid = new_dashboard(api)["uid"]
    reader = _reader(api, ("dashboard.read", "dashboard.*.read"))
    assert api.json("POST", DB, {"dashboard": {"title": "new"}}, token=reader)[0] == 403
    assert api.json("POST", DB, {"dashboard": {"uid": uid, "title": "t", "version": 1}}, token=reader)[0] == 403
    status, got = get(api, uid, token=reader)
    assert status == 200 and got["meta"]["canSave"] is False and got["meta"]["canDelete"] is False


def test_can_keep_another_tenant_out(api, make_tenant, make_user):
    uid = new_dashboard(api, "Root only")["uid"]
    other = make_user(["dashboard.#", "folder.#"], tenant=make_tenant("other-co"))
    assert get(api, uid, token=other.token) == (404, {"message": "Dashboard not found"})
    assert api.json("GET", "/api/search", token=other.token)[1] == []
    assert api.json("DELETE", f"{UID}/{uid}", token=other.token)[0] == 404
    # The same uid in the other tenant is a different dashboard
    assert save(api, {"uid": uid, "title": "Root only"}, token=other.token)["version"] == 1
    assert get(api, uid)[1]["meta"]["version"] == 1


# ---- a Wavefront dashboard through the Grafana dialect -------------------------------------


def test_can_render_a_wavefront_dashboard_as_grafana_json(api):
    from chalicelib.dashboards import store

    doc = {
        "name": "From Wavefront",
        "id": "wf-1",
        "url": "wf-1",
        "sections": [
            {"name": "S", "rows": [{"charts": [{"name": "cpu", "sources": [{"name": "a", "query": "ts(cpu)"}]}]}]}
        ],
        store.DIALECT: store.WAVEFRONT,
        store.FOLDER: "",
        store.NUMBER: 77,
    }
    store_repository(api).create("wf-1", doc, by="admin", tags=["wf"])
    status, got = get(api, "wf-1")
    assert status == 200
    dash = got["dashboard"]
    assert dash["title"] == "From Wavefront" and dash["uid"] == "wf-1" and dash["id"] == 77 and dash["tags"] == ["wf"]
    assert [p["type"] for p in dash["panels"]] == ["row", "timeseries"]
    assert dash["panels"][1]["targets"] == [{"refId": "A", "expr": "ts(cpu)", "legendFormat": "a"}]
    hit = api.json("GET", "/api/search?query=from%20wavefront")[1]
    assert [h["uid"] for h in hit] == ["wf-1"]


def test_can_read_and_search_a_dashboard_saved_through_the_wavefront_dialect(api):
    # GIVEN a dashboard posted to /api/v2/dashboard (a section with a chart)
    wavefront = {
        "id": "wf-posted",
        "name": "Posted via Wavefront",
        "sections": [
            {"name": "Top", "rows": [{"charts": [{"name": "cpu", "sources": [{"name": "s", "query": "ts(cpu)"}]}]}]}
        ],
    }
    status, answer = api.json("POST", "/api/v2/dashboard", wavefront)
    assert status == 200, answer
    # WHEN it is read through the Grafana dialect THEN it is Grafana JSON with row and panel
    status, got = get(api, "wf-posted")
    assert status == 200
    assert got["dashboard"]["title"] == "Posted via Wavefront" and got["meta"]["slug"] == "posted-via-wavefront"
    assert [p["type"] for p in got["dashboard"]["panels"]] == ["row", "timeseries"]
    # AND its title is reserved in the General folder for Grafana saves too
    assert api.json("POST", DB, {"dashboard": {"title": "posted via wavefront"}}) == (412, NAME_EXISTS)
    assert [h["uid"] for h in api.json("GET", "/api/search?query=posted%20via")[1]] == ["wf-posted"]
