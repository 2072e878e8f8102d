"""Derived metrics: what is particular to them beside the shared CRUD contract: the real
DerivedMetricApi through every operation, the INVALID state from the query parser, bounds,
search (with per-state counts) and facets, and the permission that grants them."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

BASE = "/api/v2/derivedmetric"
SEARCH = "/api/v2/search/derivedmetric"
BODY = {"name": "cpu per env", "query": "sum(ts(cpu.load, source=web-1), env)", "minutes": 5}


def new_metric(api, token: str | None = None, **fields) -> dict:
    status, answer = api.json("POST", BASE, {**BODY, **fields}, token=token)
    assert status == 200, answer
    return answer["response"]


def test_can_serve_the_real_client_through_every_derived_metric_operation(api):
    # GIVEN the real DerivedMetricApi
    metrics = wf.DerivedMetricApi(wavefront(api))
    # WHEN it creates, reads, updates and lists
    body = wf.DerivedMetricDefinition(name="cpu", query="ts(cpu.load)", minutes=5, include_obsolete_metrics=True)
    created = metrics.create_derived_metric(body=body).response
    assert created.id and created.status == ["CHECKING"] and created.include_obsolete_metrics is True
    assert created.metrics_used == ["cpu.load"] and created.query_failing is False
    assert metrics.get_derived_metric(created.id).response.name == "cpu"
    changed = wf.DerivedMetricDefinition(name="cpu 2", query="ts(cpu.idle)", minutes=10, process_rate_minutes=2)
    updated = metrics.update_derived_metric(created.id, body=changed).response
    assert (updated.name, updated.minutes, updated.process_rate_minutes) == ("cpu 2", 10, 2)
    page = metrics.get_all_derived_metrics(offset=0, limit=10).response
    assert [m.id for m in page.items] == [created.id] and page.more_items is False
    # AND tags and history
    metrics.add_tag_to_derived_metric(created.id, "team:db")
    metrics.set_derived_metric_tags(created.id, body=["env.prod", "team:db"])
    metrics.remove_tag_from_derived_metric(created.id, "env.prod")
    assert metrics.get_derived_metric_tags(created.id).response.items == ["team:db"]
    history = metrics.get_derived_metric_history(created.id, offset=0, limit=2).response
    assert history.total_items == 5 and [h.version for h in history.items] == [5, 4] and history.more_items
    assert history.items[-1].change_description == ["Added tags: env.prod"]
    assert metrics.get_derived_metric_by_version(created.id, 1).response.name == "cpu"
    # AND trash, undelete, permanent delete
    assert metrics.delete_derived_metric(created.id).response.in_trash is True
    assert metrics.undelete_derived_metric(created.id).response.in_trash is False
    metrics.delete_derived_metric(created.id, skip_trash=True)
    with pytest.raises(ApiException) as gone:
        metrics.get_derived_metric(created.id)
    assert gone.value.status == 404


def test_can_mark_an_unparsable_query_invalid_saying_where(api):
    # WHEN the query does not parse
    metric = new_metric(api, query="sum(ts(cpu.load)")
    # THEN it is kept, INVALID, with the parser's position (as an alert's condition is)
    assert metric["status"] == ["INVALID"] and metric["querySyntaxError"] is True and metric["queryFailing"] is True
    assert metric["lastErrorMessage"].startswith("Invalid query: Syntax error at line 1, column")
    assert "metricsUsed" not in metric
    client_reads(
        {"status": {"result": "OK", "code": 200}, "response": metric}, "ResponseContainerDerivedMetricDefinition"
    )
    # WHEN it is fixed THEN it is CHECKING again and says what it reads
    status, answer = api.json("PUT", f"{BASE}/{metric['id']}", BODY)
    assert status == 200, answer
    fixed = answer["response"]
    assert fixed["status"] == ["CHECKING"] and "lastErrorMessage" not in fixed
    assert fixed["metricsUsed"] == ["cpu.load"] and fixed["hostsUsed"] == ["web-1"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": 7 * 24 * 60 + 1}, "minutes"),
        ({"minutes": "5"}, "minutes"),
        ({"processRateMinutes": 0}, "processRateMinutes"),
        ({"name": "  "}, "name"),
        ({"name": "n" * 513}, "name"),
        ({"query": ""}, "query"),
        ({"query": "ts(x) + " * 2000}, "query"),
        ({"includeObsoleteMetrics": "yes"}, "includeObsoleteMetrics"),
        ({"additionalInformation": "i" * 8193}, "additionalInformation"),
        ({"tags": {"customerTags": ["has space"]}}, "tag"),
    ],
)
def test_can_refuse_a_bad_body_naming_the_field_and_write_nothing(api, change, field):
    status, answer = api.json("POST", BASE, {**BODY, **change})
    assert status == 400, answer
    assert field in answer["status"]["message"]
    assert api.json("GET", BASE)[1]["response"]["totalItems"] == 0


def test_can_search_derived_metrics_with_counts_and_facets(api):
    # GIVEN two valid derived metrics, one invalid, and one in the trash
    new_metric(api, name="cpu per env", tags={"customerTags": ["team.a"]})
    new_metric(api, name="mem per env", query="ts(mem.used)", tags={"customerTags": ["team.b"]})
    new_metric(api, name="broken", query="ts(")
    old = new_metric(api, name="old cpu")
    api.json("DELETE", f"{BASE}/{old['id']}")
    # WHEN searched THEN matches come with per-state counts over every match
    status, answer = api.json(
        "POST", SEARCH, {"query": [{"key": "name", "value": "per", "matchingMethod": "CONTAINS"}]}
    )
    assert status == 200, answer
    client_reads(answer, "ResponseContainerPagedDerivedMetricDefinitionWithStats")
    assert [m["name"] for m in answer["response"]["items"]] == ["cpu per env", "mem per env"]
    status, answer = api.json("POST", SEARCH, {"limit": 1})
    assert answer["response"]["counts"] == {"checking": 2, "invalid": 1} and answer["response"]["moreItems"]
    # AND facets: states, metrics used, tags
    status, answer = api.json("POST", f"{SEARCH}/facets", {"facets": ["status", "metricsUsed"]})
    assert status == 200, answer
    client_reads(answer, "ResponseContainerFacetsResponseContainer")
    assert sorted(answer["response"]["facets"]["status"]) == ["CHECKING", "INVALID"]
    assert sorted(answer["response"]["facets"]["metricsUsed"]) == ["cpu.load", "mem.used"]
    status, answer = api.json(
        "POST", f"{SEARCH}/tags", {"facetQuery": "team", "facetQueryMatchingMethod": "STARTSWITH"}
    )
    assert status == 200 and sorted(answer["response"]["items"]) == ["team.a", "team.b"], answer
    client_reads(answer, "ResponseContainerFacetResponse")
    # AND the trash has its own search
    status, answer = api.json("POST", f"{SEARCH}/deleted", {})
    assert [m["name"] for m in answer["response"]["items"]] == ["old cpu"]
    status, answer = api.json("POST", f"{SEARCH}/deleted/status", {})
    assert answer["response"]["items"] == ["CHECKING"] and answer["response"]["counts"] == {"CHECKING": 1}


def test_can_grant_derived_metrics_with_their_permission_only(api, make_user):
    from chalicelib.auth import permissions

    # GIVEN a user holding derived_metrics_management, and one who may only browse
    manager = make_user(permissions.grant([], ["derived_metrics_management"]))
    browser = make_user(permissions.grant([], ["browse"]))
    made = new_metric(api, token=manager.token)
    # THEN the browser may read but not write, nor reach the entity ACL routes (there are none)
    assert api.json("GET", f"{BASE}/{made['id']}", token=browser.token)[0] == 200
    assert api.json("POST", BASE, BODY, token=browser.token)[0] == 403
    assert api.json("PUT", f"{BASE}/{made['id']}/tag/x", token=browser.token)[0] == 403
    assert api.json("GET", f"{BASE}/acl?id={made['id']}", token=manager.token)[0] == 404
    assert api.json("POST", f"{BASE}/{made['id']}/clone", token=manager.token)[0] in (404, 405)
