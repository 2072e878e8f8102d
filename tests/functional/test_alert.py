"""Alerts: CRUD, paging, bad input, versions, history, clone, tags, snooze, install, trash,
summary and checkQuery. Every answer is read back by the real client's deserializer, and
the real AlertApi is driven through an in-process transport.

Helpers here (client_reads, new_alert, wavefront) are shared by the other test_alert_*
and test_search files.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

ALERT = "/api/v2/alert"
BODY = {"name": "cpu high", "condition": "ts(cpu.load, source=web-1) > 2", "minutes": 5, "severity": "WARN"}

_reader = wf.ApiClient()


def client_reads(payload: Any, type_name: str) -> Any:
    """Deserialize like the real client does (ValueError on missing required fields or
    enum values outside its lists)."""
    return _reader._ApiClient__deserialize(payload, type_name)


def new_alert(api, token: str | None = None, headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    status, body = api.json("POST", ALERT, {**BODY, **fields}, token=token, headers=headers)
    assert status == 200, body
    return body["response"]


class ChaliceTransport:
    """Stands in for urllib3's PoolManager under the real client: same requests, answered
    in process by chalice.test.Client."""

    def __init__(self, client) -> None:
        self.client = client

    def request(self, method, url, fields=None, body=None, headers=None, **_: Any):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if fields:
            path += ("&" if "?" in path else "?") + urlencode(fields)
        resp = self.client.http.request(method, path, headers=dict(headers or {}), body=body)
        return _Response(resp)


class _Response:
    def __init__(self, resp) -> None:
        self.status = resp.status_code
        self.reason = "OK" if resp.status_code < 400 else "Error"
        self.data = resp.body if isinstance(resp.body, bytes) else str(resp.body or "").encode()
        self.headers = resp.headers

    def getheaders(self):
        return self.headers

    def getheader(self, name, default=None):
        return self.headers.get(name, default)


def wavefront(api, token: str | None = None) -> wf.ApiClient:
    """The real wavefront-api-client, talking to the app in process."""
    config = wf.Configuration()
    config.host = "http://opsplane.test"
    config.api_key["X-AUTH-TOKEN"] = token or api.token
    client = wf.ApiClient(config)
    client.rest_client.pool_manager = ChaliceTransport(api.client)
    return client


# ---- the real client end to end -------------------------------------------------------------


def test_can_serve_the_real_client_through_every_alert_operation(api):
    # GIVEN the real AlertApi
    alerts = wf.AlertApi(wavefront(api))
    # WHEN it creates, reads, updates and lists
    created = alerts.create_alert(body=wf.Alert(name="disk", condition="ts(disk.used) > 90", minutes=5)).response
    assert created.id and created.status == ["CHECKING"] and created.alert_type == "CLASSIC"
    got = alerts.get_alert(created.id).response
    assert got.name == "disk" and got.tags.customer_tags == []
    updated = alerts.update_alert(
        created.id, body=wf.Alert(name="disk full", condition="ts(disk.used) > 95", minutes=3)
    )
    assert updated.response.name == "disk full" and updated.response.minutes == 3
    page = alerts.get_all_alert(offset=0, limit=10).response
    assert [a.id for a in page.items] == [created.id] and page.more_items is False
    # AND tags, snooze, install, history, clone, summary, checkQuery, ACLs
    alerts.add_alert_tag(created.id, "team:db")
    alerts.set_alert_tags(created.id, body=["env.prod", "team:db"])
    alerts.remove_alert_tag(created.id, "env.prod")
    assert alerts.get_alert_tags(created.id).response.items == ["team:db"]
    assert alerts.snooze_alert(created.id, seconds=60).response.status == ["SNOOZED"]
    assert alerts.unsnooze_alert(int(created.id)).response.status == ["CHECKING"]
    assert alerts.hide_alert(int(created.id)).response.hidden is True
    assert alerts.unhide_alert(int(created.id)).response.hidden is False
    history = alerts.get_alert_history(created.id, offset=0, limit=3).response
    assert history.total_items == 9 and len(history.items) == 3 and history.more_items is True
    assert alerts.get_alert_version(created.id, 1).response.name == "disk"
    copy = alerts.clone_alert(created.id, name="disk copy").response
    assert copy.id != created.id and copy.name == "disk copy"
    assert alerts.get_alerts_summary().response["checking"] == 2
    checked = alerts.check_query_type(body=wf.QueryTypeDTO(input_query="rate(ts(x)) > 1", query_type="WQL"))
    assert checked.response.input_query == "rate(ts(x)) > 1"
    alerts.set_alert_acl(body=[wf.AccessControlListWriteDTO(entity_id=created.id, view_acl=[api.admin])])
    acl = alerts.get_alert_access_control_list(id=[created.id]).response
    assert acl[0].view_acl[0].name == "admin"
    alerts.remove_alert_access(body=[wf.AccessControlListWriteDTO(entity_id=created.id, view_acl=[api.admin])])
    alerts.add_alert_access(body=[wf.AccessControlListWriteDTO(entity_id=created.id, modify_acl=[api.admin])])
    # AND trash, undelete, permanent delete
    assert alerts.delete_alert(created.id).response.in_trash is True
    assert alerts.undelete_alert(int(created.id)).response.in_trash is False
    alerts.delete_alert(created.id, skip_trash=True)
    with pytest.raises(ApiException) as gone:
        alerts.get_alert(created.id)
    assert gone.value.status == 404


# ---- create / read / update ------------------------------------------------------------------


def test_can_create_an_alert_with_server_side_fields(api):
    # WHEN an alert is created with tags
    alert = new_alert(api, tags={"customerTags": ["b", "a"]})
    # THEN the server fills id, timestamps, author, version and state
    client_reads({"status": {"result": "OK", "code": 200}, "response": alert}, "ResponseContainerAlert")
    assert alert["id"].isdigit()
    assert alert["created"] == alert["createdEpochMillis"] and isinstance(alert["created"], int)
    assert alert["creatorId"] == "admin" and alert["updaterId"] == "admin"
    assert alert["version"] == 1 and alert["status"] == ["CHECKING"]
    assert alert["tags"] == {"customerTags": ["a", "b"]}
    assert alert["inTrash"] is False and alert["hidden"] is False
    assert alert["metricsUsed"] == ["cpu.load"] and alert["hostsUsed"] == ["web-1"]


def test_can_create_a_threshold_alert_with_derived_condition(api):
    alert = new_alert(
        api,
        condition=None,
        alertType="THRESHOLD",
        conditions={"info": "ts(cpu) > 1", "severe": "ts(cpu) > 9"},
        displayExpression="ts(cpu)",
    )
    client_reads({"status": {"result": "OK", "code": 200}, "response": alert}, "ResponseContainerAlert")
    assert alert["condition"] == "ts(cpu) > 9"
    assert alert["severityList"] == ["INFO", "SEVERE"]


def test_can_ignore_unknown_and_read_only_fields(api):
    alert = new_alert(api, colour="blue", status=["FIRING"], id="42", inTrash=True, snoozed=-1)
    assert "colour" not in alert
    assert alert["id"] != "42" and alert["status"] == ["CHECKING"] and alert["inTrash"] is False
    assert "snoozed" not in alert


@pytest.mark.parametrize(
    "change",
    [
        {"minutes": "5"},
        {"minutes": 0},
        {"minutes": 2.5},
        {"name": 7},
        {"name": "   "},
        {"severity": "LOW"},
        {"severity": ""},
        {"alertType": "classic"},
        {"conditionQueryType": "SQL"},
        {"tags": {"customerTags": "a"}},
        {"tags": {"customerTags": ["has space"]}},
        {"condition": None},
        {"alertType": "THRESHOLD", "conditions": {"critical": "ts(x) > 1"}},
        {"alertType": "THRESHOLD"},
        {"alertSources": [{"name": "A", "alertSourceType": ["SOMETHING"]}]},
        {"includeObsoleteMetrics": "yes"},
    ],
)
def test_can_refuse_bad_alert_bodies_and_write_nothing(api, change):
    # WHEN a body has a wrong type, a bad enum or misses a required field
    body = {**BODY, **change}
    status, answer = api.json("POST", ALERT, {k: v for k, v in body.items() if v is not None})
    # THEN 400 in the envelope, and nothing is stored
    assert status == 400, answer
    assert answer["status"]["result"] == "ERROR" and answer["status"]["message"]
    assert api.json("GET", ALERT)[1]["response"]["totalItems"] == 0


@pytest.mark.parametrize("missing", ["name", "condition", "minutes"])
def test_can_require_name_condition_and_minutes(api, missing):
    status, answer = api.json("POST", ALERT, {k: v for k, v in BODY.items() if k != missing})
    assert status == 400
    assert missing in answer["status"]["message"]


def test_can_refuse_malformed_json_and_non_objects(api):
    for raw in (b"{not json", b"[1, 2]", b'"text"'):
        status, answer = api.json("POST", ALERT, raw=raw)
        assert status == 400, raw
        assert answer["status"]["code"] == 400
    status, _ = api.json("POST", ALERT, raw=b"")
    assert status == 400


def test_can_update_with_and_without_version(api):
    alert = new_alert(api)
    # WHEN updated with the current version, then without any version
    status, v2 = api.json("PUT", f"{ALERT}/{alert['id']}", {**BODY, "name": "v2", "version": 1})
    assert status == 200 and v2["response"]["version"] == 2
    status, v3 = api.json("PUT", f"{ALERT}/{alert['id']}", {**BODY, "name": "v3"})
    # THEN both apply, and tags absent from the body are kept
    assert status == 200 and v3["response"]["version"] == 3 and v3["response"]["name"] == "v3"


def test_can_refuse_a_stale_version_with_409(api):
    alert = new_alert(api)
    api.json("PUT", f"{ALERT}/{alert['id']}", {**BODY, "name": "fresh"})
    status, answer = api.json("PUT", f"{ALERT}/{alert['id']}", {**BODY, "name": "stale", "version": 1})
    assert status == 409
    assert answer["status"]["result"] == "ERROR"
    assert api.json("GET", f"{ALERT}/{alert['id']}")[1]["response"]["name"] == "fresh"


def test_can_keep_server_managed_state_across_put(api):
    alert = new_alert(api, tags={"customerTags": ["keep"]})
    api.json("POST", f"{ALERT}/{alert['id']}/snooze")
    api.json("POST", f"{ALERT}/{alert['id']}/uninstall")
    status, answer = api.json("PUT", f"{ALERT}/{alert['id']}", {**BODY, "name": "renamed"})
    assert status == 200
    kept = answer["response"]
    assert kept["snoozed"] == -1 and kept["hidden"] is True and kept["tags"]["customerTags"] == ["keep"]


def test_can_answer_404_for_unknown_ids_on_every_entity_route(api):
    for method, suffix in [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("POST", "/clone"),
        ("GET", "/history"),
        ("GET", "/history/1"),
        ("GET", "/tag"),
        ("POST", "/tag"),
        ("PUT", "/tag/x"),
        ("DELETE", "/tag/x"),
        ("POST", "/snooze"),
        ("POST", "/unsnooze"),
        ("POST", "/install"),
        ("POST", "/uninstall"),
        ("POST", "/undelete"),
    ]:
        body = BODY if method == "PUT" and not suffix else ([] if suffix == "/tag" else None)
        status, answer = api.json(method, f"{ALERT}/1234567890{suffix}", body)
        assert status == 404, (method, suffix, answer)
        assert answer["status"]["code"] == 404


# ---- listing ----------------------------------------------------------------------------------


def test_can_page_alerts_with_offset_and_limit(api):
    ids = [new_alert(api, name=f"a{i}")["id"] for i in range(5)]
    status, first = api.json("GET", f"{ALERT}?offset=0&limit=2")
    assert status == 200
    client_reads(first, "ResponseContainerPagedAlert")
    page = first["response"]
    assert [a["id"] for a in page["items"]] == ids[:2]
    assert page["totalItems"] == 5 and page["moreItems"] is True
    last = api.json("GET", f"{ALERT}?offset=4&limit=2")[1]["response"]
    assert [a["id"] for a in last["items"]] == ids[4:] and last["moreItems"] is False


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "offset=-1"])
def test_can_refuse_bad_paging(api, query):
    status, answer = api.json("GET", f"{ALERT}?{query}")
    assert status == 400
    assert answer["status"]["result"] == "ERROR"


# ---- history ---------------------------------------------------------------------------------


def test_can_tell_the_history_after_several_updates(api):
    # GIVEN an alert changed four times
    alert = new_alert(api)
    aid = alert["id"]
    api.json("PUT", f"{ALERT}/{aid}", {**BODY, "minutes": 10})
    api.json("PUT", f"{ALERT}/{aid}/tag/team-a")
    api.json("DELETE", f"{ALERT}/{aid}")
    api.json("POST", f"{ALERT}/{aid}/undelete")
    # WHEN the history is read
    status, answer = api.json("GET", f"{ALERT}/{aid}/history")
    # THEN versions come newest first, each saying what changed
    assert status == 200
    client_reads(answer, "ResponseContainerHistoryResponse")
    items = answer["response"]["items"]
    assert [i["version"] for i in items] == [5, 4, 3, 2, 1]
    assert items[0]["changeDescription"] == ["Restored from trash"]
    assert items[1]["changeDescription"] == ["Moved to trash"] and items[1]["inTrash"] is True
    assert items[2]["changeDescription"] == ["Added tags: team-a"]
    assert items[3]["changeDescription"] == ["Changed minutes"]
    assert items[4]["changeDescription"] == ["Alert created"]
    assert all(i["updateUser"] == "admin" and isinstance(i["updateTime"], int) for i in items)
    # AND an old version reads as it was
    status, old = api.json("GET", f"{ALERT}/{aid}/history/1")
    assert status == 200 and old["response"]["minutes"] == 5 and old["response"]["version"] == 1
    client_reads(old, "ResponseContainerAlert")
    # AND history pages
    page = api.json("GET", f"{ALERT}/{aid}/history?offset=1&limit=2")[1]["response"]
    assert [i["version"] for i in page["items"]] == [4, 3] and page["moreItems"] is True


def test_can_refuse_bad_history_versions(api):
    aid = new_alert(api)["id"]
    assert api.json("GET", f"{ALERT}/{aid}/history/abc")[0] == 400
    assert api.json("GET", f"{ALERT}/{aid}/history/0")[0] == 400
    assert api.json("GET", f"{ALERT}/{aid}/history/99")[0] == 404
    assert api.json("GET", f"{ALERT}/{aid}/history?limit=1001")[0] == 400


# ---- clone -----------------------------------------------------------------------------------


def test_can_clone_the_latest_or_an_older_version(api):
    alert = new_alert(api, tags={"customerTags": ["t1"]})
    aid = alert["id"]
    api.json("PUT", f"{ALERT}/{aid}", {**BODY, "minutes": 30})
    api.json("PUT", "/api/v2/alert/acl/set", [{"entityId": aid, "viewAcl": [api.admin]}])
    # WHEN cloned without a name, then at version 1 with a name
    status, copy = api.json("POST", f"{ALERT}/{aid}/clone")
    assert status == 200
    client_reads(copy, "ResponseContainerAlert")
    copy = copy["response"]
    old = api.json("POST", f"{ALERT}/{aid}/clone?name=first&v=1")[1]["response"]
    # THEN copies get new ids, tags but not the ACL, and the asked content
    assert copy["id"] != aid and copy["name"] == "cpu high (clone)" and copy["minutes"] == 30
    assert copy["tags"]["customerTags"] == ["t1"] and copy["acl"] == {"canView": [], "canModify": []}
    assert copy["version"] == 1 and old["name"] == "first" and old["minutes"] == 5
    assert api.json("POST", f"{ALERT}/{aid}/clone?v=9")[0] == 404
    assert api.json("POST", f"{ALERT}/{aid}/clone?v=x")[0] == 400
    assert api.json("POST", f"{ALERT}/{aid}/clone?name=")[0] == 400


# ---- tags ------------------------------------------------------------------------------------


def test_can_list_set_add_and_remove_tags(api):
    aid = new_alert(api)["id"]
    status, answer = api.json("POST", f"{ALERT}/{aid}/tag", ["b", "a"])
    assert status == 200
    client_reads(answer, "ResponseContainerVoid")
    status, answer = api.json("PUT", f"{ALERT}/{aid}/tag/c%3Ad")
    assert status == 200
    api.json("DELETE", f"{ALERT}/{aid}/tag/a")
    api.json("DELETE", f"{ALERT}/{aid}/tag/not-there")
    status, tags = api.json("GET", f"{ALERT}/{aid}/tag")
    assert status == 200
    client_reads(tags, "ResponseContainerTagsResponse")
    assert tags["response"]["items"] == ["b", "c:d"] and tags["response"]["totalItems"] == 2
    assert api.json("GET", f"{ALERT}/{aid}")[1]["response"]["tags"] == {"customerTags": ["b", "c:d"]}


def test_can_refuse_bad_tags(api):
    aid = new_alert(api)["id"]
    assert api.json("PUT", f"{ALERT}/{aid}/tag/has%20space")[0] == 400
    assert api.json("POST", f"{ALERT}/{aid}/tag", {"tag": "x"})[0] == 400
    assert api.json("POST", f"{ALERT}/{aid}/tag", [1, 2])[0] == 400
    assert api.json("POST", f"{ALERT}/{aid}/tag", raw=b"[oops")[0] == 400
    assert api.json("GET", f"{ALERT}/{aid}/tag")[1]["response"]["items"] == []


# ---- snooze / install -------------------------------------------------------------------------


def test_can_snooze_for_a_while_or_forever_and_unsnooze(api):
    aid = new_alert(api)["id"]
    status, timed = api.json("POST", f"{ALERT}/{aid}/snooze?seconds=600")
    assert status == 200
    client_reads(timed, "ResponseContainerAlert")
    timed = timed["response"]
    assert timed["status"] == ["SNOOZED"] and timed["snoozed"] - timed["updated"] == pytest.approx(600_000, abs=5000)
    forever = api.json("POST", f"{ALERT}/{aid}/snooze")[1]["response"]
    assert forever["snoozed"] == -1 and forever["status"] == ["SNOOZED"]
    awake = api.json("POST", f"{ALERT}/{aid}/unsnooze")[1]["response"]
    assert "snoozed" not in awake and awake["status"] == ["CHECKING"]


@pytest.mark.parametrize("seconds", ["0", "-5", "abc", "999999999999"])
def test_can_refuse_bad_snooze_seconds(api, seconds):
    aid = new_alert(api)["id"]
    assert api.json("POST", f"{ALERT}/{aid}/snooze?seconds={seconds}")[0] == 400
    assert api.json("GET", f"{ALERT}/{aid}")[1]["response"]["status"] == ["CHECKING"]


def test_can_uninstall_and_install(api):
    aid = new_alert(api)["id"]
    assert api.json("POST", f"{ALERT}/{aid}/uninstall")[1]["response"]["hidden"] is True
    assert api.json("GET", f"{ALERT}/{aid}")[1]["response"]["hidden"] is True
    assert api.json("POST", f"{ALERT}/{aid}/install")[1]["response"]["hidden"] is False


# ---- trash -----------------------------------------------------------------------------------


def test_can_trash_undelete_and_delete_for_good(api):
    aid = new_alert(api)["id"]
    # WHEN deleted once: in the trash, out of the listing, still readable
    status, trashed = api.json("DELETE", f"{ALERT}/{aid}")
    assert status == 200
    client_reads(trashed, "ResponseContainerAlert")
    assert trashed["response"]["inTrash"] is True
    assert api.json("GET", ALERT)[1]["response"]["items"] == []
    assert api.json("GET", f"{ALERT}/{aid}")[1]["response"]["inTrash"] is True
    assert api.json("PUT", f"{ALERT}/{aid}", BODY)[0] == 404
    # AND undeleted: back
    assert api.json("POST", f"{ALERT}/{aid}/undelete")[1]["response"]["inTrash"] is False
    assert api.json("POST", f"{ALERT}/{aid}/undelete")[0] == 400
    # WHEN deleted twice: gone, history too
    api.json("DELETE", f"{ALERT}/{aid}")
    status, gone = api.json("DELETE", f"{ALERT}/{aid}")
    assert status == 200 and gone["response"]["deleted"] is True
    assert api.json("GET", f"{ALERT}/{aid}")[0] == 404
    assert api.json("GET", f"{ALERT}/{aid}/history")[0] == 404


def test_can_skip_the_trash(api):
    aid = new_alert(api)["id"]
    assert api.json("DELETE", f"{ALERT}/{aid}?skipTrash=True")[0] == 200
    assert api.json("GET", f"{ALERT}/{aid}")[0] == 404
    assert api.json("POST", f"{ALERT}/{aid}/undelete")[0] == 404


def test_can_refuse_bad_query_booleans(api):
    aid = new_alert(api)["id"]
    status, answer = api.json("DELETE", f"{ALERT}/{aid}?skipTrash=perhaps")
    assert status == 400 and "skipTrash" in answer["status"]["message"]
    assert api.json("GET", f"{ALERT}/{aid}")[1]["response"]["inTrash"] is False


# ---- state, summary, checkQuery ------------------------------------------------------------------


def test_can_mark_an_unparsable_condition_invalid(api):
    alert = new_alert(api, condition="ts(cpu) > ")
    assert alert["status"] == ["INVALID"] and alert["querySyntaxError"] is True
    assert "line 1, column 11" in alert["lastErrorMessage"]
    promql = new_alert(api, condition="rate(x[5m]) > 1", conditionQueryType="PROMQL")
    assert promql["status"] == ["CHECKING"]
    fixed = api.json("PUT", f"{ALERT}/{alert['id']}", {**BODY, "condition": "ts(cpu) > 1"})[1]["response"]
    assert fixed["status"] == ["CHECKING"] and "lastErrorMessage" not in fixed


def test_can_summarize_alert_states(api):
    new_alert(api)
    snoozed = new_alert(api)["id"]
    api.json("POST", f"{ALERT}/{snoozed}/snooze")
    new_alert(api, condition="ts(")
    trashed = new_alert(api)["id"]
    api.json("DELETE", f"{ALERT}/{trashed}")
    status, answer = api.json("GET", f"{ALERT}/summary")
    assert status == 200
    client_reads(answer, "ResponseContainerMapStringInteger")
    assert answer["response"] == {"checking": 1, "snoozed": 1, "invalid": 1, "trash": 1}


def test_can_check_query_syntax(api):
    status, answer = api.json("POST", f"{ALERT}/checkQuery", {"inputQuery": "mavg(5m, ts(cpu, env=prod)) > 2"})
    assert status == 200
    client_reads(answer, "ResponseContainerQueryTypeDTO")
    assert answer["response"]["queryType"] == "WQL"
    status, answer = api.json("POST", f"{ALERT}/checkQuery", {"inputQuery": "ts(cpu, env=prod) >> 2"})
    assert status == 400
    assert "line 1, column 20" in answer["status"]["message"]
    for bad in ({}, {"inputQuery": 3}, {"inputQuery": "ts(x)", "queryType": "PROMQL"}, {"inputQuery": "  "}):
        assert api.json("POST", f"{ALERT}/checkQuery", bad)[0] == 400, bad


def test_can_answer_json_from_every_client_typed_route(api):
    # Bodiless POSTs from the client carry "{}": make sure those routes accept it.
    aid = new_alert(api)["id"]
    for path in ("snooze", "unsnooze", "install", "uninstall", "clone"):
        status, answer = api.json("POST", f"{ALERT}/{aid}/{path}", {})
        assert status == 200, path
        client_reads(answer, "ResponseContainerAlert")
    alert = api.json("GET", f"{ALERT}/{aid}")[1]["response"]
    assert "" not in alert.values()  # an empty string in an enum field breaks the client
