"""Ingestion policies and usage: what is particular to them beside the shared CRUD contract:
the real UsageApi through every operation, scopes and their lists, accounts and groups of
the tenant only, the usage alert's thresholds, history and revert, and the usage CSV (one
row per policy per hour of the window, zero until points are ingested)."""

from __future__ import annotations

import csv
import io
import time

import pytest
import wavefront_api_client as wf

from tests.functional.test_alert import client_reads, wavefront

BASE = "/api/v2/usage/ingestionpolicy"
EXPORT = "/api/v2/usage/exportcsv"
ALERT = {
    "name": "web usage",
    "condition": "ts(~ingestion.policy.pps) > 1",
    "minutes": 5,
    "conditionsThresholdOperator": ">",
    "conditions": {"warn": "80", "severe": "100"},
}


def policy_body(**fields) -> dict:
    return {"name": "web", "scope": "SOURCE", "sources": ["web-1", "web-2"], "limitPPS": 1000, **fields}


def new_policy(api, **fields) -> dict:
    status, answer = api.json("POST", BASE, policy_body(**fields))
    assert status == 200, answer
    return answer["response"]


def total(api) -> int:
    return api.json("GET", BASE)[1]["response"]["totalItems"]


def rows(api, query: str) -> list[dict[str, str]]:
    resp = api.call("GET", f"{EXPORT}?{query}")
    assert resp.status_code == 200, resp.body
    assert resp.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(resp.body.decode())))


def test_can_serve_the_real_client_through_every_usage_operation(api):
    # GIVEN the real UsageApi
    usage = wf.UsageApi(wavefront(api))
    alert = wf.IngestionPolicyAlert(
        name="usage", condition="ts(pps) > 1", minutes=5, conditions_threshold_operator=">", conditions={"warn": "80"}
    )
    body = wf.IngestionPolicyWriteModel(
        name="web", scope="SOURCE", sources=["web-1"], limit_pps=500, is_limited=True, alert=alert
    )
    # WHEN it creates, reads, updates, pages the history, reads and reverts to a version
    created = usage.create_ingestion_policy(body=body).response
    assert created.id and created.scope == "SOURCE" and created.limit_pps == 500 and created.is_limited is True
    assert created.alert.alert_type == "THRESHOLD" and created.alert.ingestion_policy_id == created.id
    assert usage.get_ingestion_policy(created.id).response.sources == ["web-1"]
    body.sources, body.limit_pps = ["web-1", "web-2"], 800
    assert usage.update_ingestion_policy(created.id, body=body).response.limit_pps == 800
    page = usage.get_all_ingestion_policies(offset=0, limit=10).response
    assert [p.id for p in page.items] == [created.id] and page.more_items is False
    history = usage.get_ingestion_policy_history(created.id, offset=0, limit=10).response
    assert [h.version for h in history.items] == [2, 1]
    assert usage.get_ingestion_policy_by_version(created.id, 1).response.limit_pps == 500
    reverted = usage.revert_ingestion_policy_by_version(created.id, 1).response
    assert reverted.limit_pps == 500 and reverted.sources == ["web-1"]
    # AND the CSV export answers (the client reads no model from it)
    assert usage.export_csv(1_700_000_000, end_time=1_700_003_600) is None
    # AND delete is for good
    assert usage.delete_ingestion_policy(created.id).response.id == created.id
    assert api.json("GET", f"{BASE}/{created.id}")[0] == 404


def test_can_answer_accounts_and_groups_by_name_and_refuse_another_tenants(api, make_user, make_tenant):
    # GIVEN a user and a group of the tenant, and a user of another tenant
    alice = make_user([], username="alice")
    status, group = api.json("POST", "/api/v2/usergroup", {"name": "ops"})
    assert status == 200, group
    group_id = group["response"]["id"]
    outsider = make_user([], tenant=make_tenant("other"), username="outsider")
    # WHEN policies scope them
    by_account = new_policy(api, scope="ACCOUNT", sources=None, accounts=[alice.uuid])
    by_group = new_policy(api, scope="GROUP", sources=None, groups=[group_id])
    # THEN they are answered with their names, as the client reads them
    assert by_account["accounts"] == [{"id": alice.uuid, "name": "alice"}]
    assert by_group["groups"][0]["id"] == group_id and by_group["groups"][0]["name"] == "ops"
    read = client_reads(api.json("GET", f"{BASE}/{by_account['id']}")[1], "ResponseContainerIngestionPolicyReadModel")
    assert read.response.accounts[0].name == "alice"
    # AND an account of another tenant is refused, naming the field, nothing written
    status, answer = api.json("POST", BASE, policy_body(scope="ACCOUNT", sources=None, accounts=[outsider.uuid]))
    assert status == 400 and answer["status"]["message"].startswith("accounts:")
    status, answer = api.json("PUT", f"{BASE}/{by_group['id']}", policy_body(scope="GROUP", groups=["nope"]))
    assert status == 400
    assert total(api) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scope": "EVERYTHING"}, "scope"),
        ({"scope": "NAMESPACE"}, "namespaces"),
        ({"scope": "TAGS"}, "pointTags"),
        ({"sources": []}, "sources"),
        ({"namespaces": ["aws."]}, "namespaces"),
        ({"pointTags": [{"key": "env"}]}, "pointTags"),
        ({"limitPPS": 0}, "limitPPS"),
        ({"limitPPS": "many"}, "limitPPS"),
        ({"limitPPS": None, "isLimited": True}, "limitPPS"),
        ({"limitPPS": None, "alert": ALERT}, "limitPPS"),
        ({"sources": ["x" * 257]}, "sources"),
        ({"name": "  "}, "name"),
        ({"alert": {**ALERT, "conditions": {"warn": "lots"}}}, "alert.conditions"),
        ({"alert": {**ALERT, "conditions": {"critical": "80"}}}, "alert.conditions"),
        ({"alert": {**ALERT, "conditions": {}}}, "alert.conditions"),
        ({"alert": {**ALERT, "conditionsThresholdOperator": "=="}}, "alert.conditionsThresholdOperator"),
        ({"alert": {**ALERT, "condition": "ts(("}}, "alert.condition"),
        ({"alert": {k: v for k, v in ALERT.items() if k != "minutes"}}, "alert.minutes"),
    ],
)
def test_can_refuse_a_policy_that_does_not_hold_together_naming_the_field(api, change, field):
    body = {k: v for k, v in policy_body(**change).items() if v is not None}
    status, answer = api.json("POST", BASE, body)
    assert status == 400, answer
    assert field in answer["status"]["message"], answer
    assert total(api) == 0


def test_can_scope_by_namespaces_and_point_tags(api):
    by_prefix = new_policy(api, scope="NAMESPACE", sources=None, namespaces=["aws.", "kubernetes."])
    assert by_prefix["namespaces"] == ["aws.", "kubernetes."]
    tags = [{"key": "env", "value": "prod"}, {"key": "team", "value": "web"}]
    by_tags = new_policy(api, scope="TAGS", sources=None, pointTags=tags, tagsAnded=True)
    assert by_tags["pointTags"] == tags and by_tags["tagsAnded"] is True and by_tags["isLimited"] is False


def test_can_keep_history_and_revert_as_a_new_version(api):
    # GIVEN a policy changed twice
    made = new_policy(api)
    pid = made["id"]
    api.json("PUT", f"{BASE}/{pid}", policy_body(limitPPS=2000))
    api.json("PUT", f"{BASE}/{pid}", policy_body(limitPPS=3000, alert=ALERT, version=2))
    # WHEN it is reverted to its first version
    status, answer = api.json("POST", f"{BASE}/{pid}/revert/1")
    assert status == 200, answer
    # THEN the first content is the newest version, and history keeps every step
    reverted = answer["response"]
    assert reverted["version"] == 4 and reverted["limitPPS"] == 1000 and "alert" not in reverted
    history = api.json("GET", f"{BASE}/{pid}/history")[1]["response"]
    assert [h["version"] for h in history["items"]] == [4, 3, 2, 1]
    assert api.json("GET", f"{BASE}/{pid}/history/3")[1]["response"]["alert"]["severityList"] == ["WARN", "SEVERE"]
    # AND a stale version, an unknown version or policy, are refused without a write
    assert api.json("PUT", f"{BASE}/{pid}", policy_body(version=2))[0] == 409
    assert api.json("POST", f"{BASE}/{pid}/revert/9")[0] == 404
    assert api.json("POST", f"{BASE}/{pid}/revert/x")[0] == 400
    assert api.json("POST", f"{BASE}/0/revert/1")[0] == 404
    assert api.json("GET", f"{BASE}/{pid}")[1]["response"]["version"] == 4


def test_can_refuse_a_revert_to_accounts_no_longer_in_the_tenant(api, make_user):
    # GIVEN a policy that scoped an account that has since been deleted
    bob = make_user([], username="bob")
    made = new_policy(api, scope="ACCOUNT", sources=None, accounts=[bob.uuid])
    api.json("PUT", f"{BASE}/{made['id']}", policy_body())
    assert api.json("DELETE", f"/api/v2/account/{bob.uuid}")[0] == 200
    # THEN reverting to it is refused, and nothing is written
    status, answer = api.json("POST", f"{BASE}/{made['id']}/revert/1")
    assert status == 400 and "accounts" in answer["status"]["message"]
    assert api.json("GET", f"{BASE}/{made['id']}")[1]["response"]["version"] == 2


def test_can_export_one_zero_row_per_policy_per_hour_of_the_window(api):
    # GIVEN two policies
    web, batch = new_policy(api, name="web"), new_policy(api, name="batch")
    # WHEN a window from 10:30 to 13:00 UTC is exported
    start = 1_700_000_000 - 1_700_000_000 % 3600 + 1800  # hh:30
    found = rows(api, f"startTime={start}&endTime={start + 9000}")
    # THEN each policy has one row per hour the window meets, counts zero (nothing ingested)
    assert list(found[0]) == ["ingestion_policy_id", "ingestion_policy_name", "hour_start_utc", "points", "average_pps"]
    assert [(r["ingestion_policy_name"], r["hour_start_utc"]) for r in found] == [
        ("batch", "2023-11-14T22:00:00Z"),
        ("batch", "2023-11-14T23:00:00Z"),
        ("batch", "2023-11-15T00:00:00Z"),
        ("web", "2023-11-14T22:00:00Z"),
        ("web", "2023-11-14T23:00:00Z"),
        ("web", "2023-11-15T00:00:00Z"),
    ]
    assert {r["ingestion_policy_id"] for r in found} == {web["id"], batch["id"]}
    assert {(r["points"], r["average_pps"]) for r in found} == {("0", "0")}


def test_can_export_until_now_and_only_a_header_without_policies(api):
    # GIVEN no policy: the CSV is its header alone
    two_hours_ago = int(time.time()) - 7200
    assert rows(api, f"startTime={two_hours_ago}") == []
    # WHEN there is one, and no endTime
    new_policy(api)
    # THEN the window runs until now: the hours from two hours ago up to this one
    assert len(rows(api, f"startTime={two_hours_ago}")) in (2, 3)
    assert len(rows(api, "startTime=1700000000&endTime=1700000001")) == 1


@pytest.mark.parametrize(
    "query",
    [
        "",
        "endTime=1700000000",
        "startTime=soon",
        "startTime=1700003600&endTime=1700000000",
        "startTime=0&endTime=3000000",
    ],
)
def test_can_refuse_a_window_that_is_missing_backwards_or_too_long(api, query):
    status, answer = api.json("GET", f"{EXPORT}?{query}")
    assert status == 400, answer
    assert answer["status"]["result"] == "ERROR"


def test_can_search_policies_and_their_facets(api):
    for name, scope, fields in (
        ("web", "SOURCE", {"sources": ["web-1"]}),
        ("aws", "NAMESPACE", {"namespaces": ["aws."]}),
        ("web-batch", "SOURCE", {"sources": ["batch-1"]}),
    ):
        new_policy(api, name=name, scope=scope, **{"sources": None, **fields})
    body = {"query": [{"key": "name", "value": "web", "matchingMethod": "STARTSWITH"}]}
    found = api.json("POST", "/api/v2/search/ingestionpolicy", body)[1]["response"]
    assert [p["name"] for p in found["items"]] == ["web", "web-batch"]
    facets = api.json("POST", "/api/v2/search/ingestionpolicy/facets", {"facets": ["scope"]})[1]["response"]
    assert sorted(facets["facets"]["scope"]) == ["NAMESPACE", "SOURCE"]
    one = api.json("POST", "/api/v2/search/ingestionpolicy/scope", {})[1]["response"]
    assert one["counts"] == {"SOURCE": 2, "NAMESPACE": 1}


def test_can_require_the_ingestion_permission(api, make_user, make_tenant):
    made = new_policy(api)
    browser = make_user(["*.read", "*.*.read"])
    assert api.json("GET", BASE, token=browser.token)[0] == 200
    assert api.call("GET", f"{EXPORT}?startTime={int(time.time()) - 3600}", token=browser.token).status_code == 200
    assert api.json("POST", BASE, policy_body(), token=browser.token)[0] == 403
    assert api.json("POST", f"{BASE}/{made['id']}/revert/1", token=browser.token)[0] == 403
    stranger = make_user(["ingestionpolicy.#"], tenant=make_tenant("stranger"))
    assert api.json("GET", f"{BASE}/{made['id']}", token=stranger.token)[0] == 404
    assert api.json("POST", f"{BASE}/{made['id']}/revert/1", token=stranger.token)[0] == 404
    window = "startTime=1700000000&endTime=1700000001"
    assert api.call("GET", f"{EXPORT}?{window}", token=stranger.token).body.decode().count("\n") == 1
    assert rows(api, window)[0]["ingestion_policy_id"] == made["id"]
