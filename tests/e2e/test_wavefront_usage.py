"""Ingestion policies and usage through the unmodified Wavefront client (UsageApi, and
SearchApi's ingestion policy operations) against the live server: every operation of
usage_api.py, history and revert, the usage CSV, tenant isolation."""

from __future__ import annotations

import csv
import io
import time

import pytest
import requests
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.e2e.clients import new_tenant_admin, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(server, fresh) -> wf.UsageApi:
    return wf.UsageApi(wavefront(server.url, fresh.token))


def _policy(name: str | None = None, **fields) -> wf.IngestionPolicyWriteModel:
    values = {"name": name or unique("policy"), "scope": "SOURCE", "sources": ["web-1"], "limit_pps": 1000, **fields}
    return wf.IngestionPolicyWriteModel(**values)


def test_can_drive_every_usage_operation(api):
    alert = wf.IngestionPolicyAlert(
        name="usage",
        condition="ts(pps) > 1",
        minutes=5,
        conditions_threshold_operator=">",
        conditions={"severe": "100"},
    )
    created = api.create_ingestion_policy(body=_policy("web", alert=alert, is_limited=True)).response
    assert created.scope == "SOURCE" and created.is_limited is True and created.alert.severity_list == ["SEVERE"]
    assert api.get_ingestion_policy(created.id).response.sources == ["web-1"]
    updated = api.update_ingestion_policy(created.id, body=_policy("web", sources=["web-1", "web-2"])).response
    assert updated.sources == ["web-1", "web-2"] and updated.alert is None
    page = api.get_all_ingestion_policies(offset=0, limit=10).response
    assert [p.id for p in page.items] == [created.id] and page.more_items is False
    history = api.get_ingestion_policy_history(created.id, offset=0, limit=10).response
    assert [h.version for h in history.items] == [2, 1]
    assert api.get_ingestion_policy_by_version(created.id, 1).response.alert.name == "usage"
    reverted = api.revert_ingestion_policy_by_version(created.id, 1).response
    assert reverted.sources == ["web-1"] and reverted.alert.name == "usage"
    assert api.export_csv(int(time.time()) - 3600) is None  # the client reads no model from the CSV
    assert api.delete_ingestion_policy(created.id).response.id == created.id
    assert refused_status(lambda: api.get_ingestion_policy(created.id)) == 404


def test_can_export_usage_as_csv_one_row_per_policy_per_hour(server, fresh, api):
    api.create_ingestion_policy(body=_policy("web"))
    resp = requests.get(
        f"{server.url}/api/v2/usage/exportcsv",
        params={"startTime": 1_700_000_000, "endTime": 1_700_007_200},
        headers={"X-AUTH-TOKEN": fresh.token, "Accept": "application/csv"},
        timeout=30,
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [(r["ingestion_policy_name"], r["hour_start_utc"], r["points"]) for r in rows] == [
        ("web", "2023-11-14T22:00:00Z", "0"),
        ("web", "2023-11-14T23:00:00Z", "0"),
        ("web", "2023-11-15T00:00:00Z", "0"),
    ]
    with pytest.raises(ApiException) as backwards:
        api.export_csv(1_700_007_200, end_time=1_700_000_000)
    assert backwards.value.status == 400


def test_can_refuse_a_policy_whose_scope_list_is_missing(api):
    with pytest.raises(ApiException) as refused:
        api.create_ingestion_policy(body=_policy(scope="ACCOUNT", sources=None))
    assert refused.value.status == 400 and "accounts" in refused.value.body
    assert api.get_all_ingestion_policies().response.total_items == 0


def test_can_search_ingestion_policies_and_their_facets(server, fresh, api):
    search = wf.SearchApi(wavefront(server.url, fresh.token))
    api.create_ingestion_policy(body=_policy("web"))
    api.create_ingestion_policy(body=_policy("aws", scope="NAMESPACE", sources=None, namespaces=["aws."]))
    body = wf.SortableSearchRequest(query=[wf.SearchQuery(key="scope", value="NAMESPACE", matching_method="EXACT")])
    assert [p.name for p in search.search_ingestion_policy_entities(body=body).response.items] == ["aws"]
    facets = search.search_ingestion_policy_for_facets(body=wf.FacetsSearchRequestContainer(facets=["scope"]))
    assert sorted(facets.response.facets["scope"]) == ["NAMESPACE", "SOURCE"]
    one = search.search_ingestion_policy_for_facet("isLimited", body=wf.FacetSearchRequestContainer(limit=10))
    assert one.response.items == ["false"]


def test_can_hide_a_policy_from_another_tenant(server, admin_token, api):
    made = api.create_ingestion_policy(body=_policy()).response
    other = wf.UsageApi(wavefront(server.url, new_tenant_admin(server.url, admin_token).token))
    assert refused_status(lambda: other.get_ingestion_policy(made.id)) == 404
    assert refused_status(lambda: other.update_ingestion_policy(made.id, body=_policy())) == 404
    assert refused_status(lambda: other.revert_ingestion_policy_by_version(made.id, 1)) == 404
    assert refused_status(lambda: other.delete_ingestion_policy(made.id)) == 404
    assert other.get_all_ingestion_policies().response.total_items == 0
