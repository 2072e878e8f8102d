"""Derived metrics through the unmodified Wavefront client (DerivedMetricApi, and SearchApi's
registered-query operations) against the live server: every operation of derived_metric_api.py,
the INVALID state, bad bodies, search and facets, and tenant isolation."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_tenant_admin, raw_json, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e

QUERY = "sum(ts(cpu.load, source=web-1), env)"


@pytest.fixture
def api(server, fresh) -> wf.DerivedMetricApi:
    return wf.DerivedMetricApi(wavefront(server.url, fresh.token))


def _metric(name: str | None = None, *, query: str = QUERY, minutes: int = 5, tags: list[str] | None = None):
    return wf.DerivedMetricDefinition(
        name=name or unique("derived"),
        query=query,
        minutes=minutes,
        tags=wf.WFTags(customer_tags=tags) if tags is not None else None,
    )


def test_can_drive_every_derived_metric_operation(api):
    # create / get / update / list
    name = unique("cpu")
    created = api.create_derived_metric(body=_metric(name, tags=["team-a"])).response
    assert created.name == name and created.status == ["CHECKING"] and created.tags.customer_tags == ["team-a"]
    assert created.metrics_used == ["cpu.load"] and created.hosts_used == ["web-1"]
    assert api.get_derived_metric(created.id).response.query == QUERY
    updated = api.update_derived_metric(created.id, body=_metric(name + "-v2", minutes=10)).response
    assert updated.minutes == 10 and updated.tags.customer_tags == ["team-a"]
    page = api.get_all_derived_metrics(offset=0, limit=10).response
    assert [m.id for m in page.items] == [created.id] and page.total_items == 1

    # tags
    api.add_tag_to_derived_metric(created.id, "team:ops")
    api.set_derived_metric_tags(created.id, body=["env.prod", "team:ops"])
    api.remove_tag_from_derived_metric(created.id, "env.prod")
    assert api.get_derived_metric_tags(created.id).response.items == ["team:ops"]

    # history
    history = api.get_derived_metric_history(created.id, offset=0, limit=10).response
    assert [h.version for h in history.items] == [5, 4, 3, 2, 1]
    assert api.get_derived_metric_by_version(created.id, 1).response.name == name

    # trash, undelete, delete for good
    assert api.delete_derived_metric(created.id).response.in_trash is True
    assert api.get_all_derived_metrics().response.total_items == 0
    assert api.undelete_derived_metric(created.id).response.in_trash is False
    api.delete_derived_metric(created.id, skip_trash=True)
    assert refused_status(lambda: api.get_derived_metric(created.id)) == 404


def test_can_keep_an_unparsable_query_as_invalid(api):
    metric = api.create_derived_metric(body=_metric(query="ts(cpu.load")).response
    assert metric.status == ["INVALID"] and metric.query_failing is True
    assert "line 1, column" in metric.last_error_message
    raw = raw_json(lambda **kw: api.get_derived_metric(metric.id, **kw))["response"]
    assert raw["querySyntaxError"] is True and raw["version"] == 1


def test_can_refuse_bad_bodies_and_a_stale_version(api):
    assert refused_status(lambda: api.create_derived_metric(body={"name": "x", "query": QUERY})) == 400
    assert refused_status(lambda: api.create_derived_metric(body={"name": "x", "query": QUERY, "minutes": 0})) == 400
    assert refused_status(lambda: api.create_derived_metric(body={"name": "x", "minutes": 1})) == 400
    assert api.get_all_derived_metrics().response.total_items == 0
    made = api.create_derived_metric(body=_metric()).response
    body = {"name": "first", "query": QUERY, "minutes": 5, "version": 1}
    assert api.update_derived_metric(made.id, body=body).response.name == "first"
    assert refused_status(lambda: api.update_derived_metric(made.id, body={**body, "name": "second"})) == 409
    assert refused_status(lambda: api.get_derived_metric("1700000000000000000")) == 404


def test_can_search_derived_metrics_through_the_registered_query_operations(server, fresh, api):
    search = wf.SearchApi(wavefront(server.url, fresh.token))
    for name, query, tags in (
        ("cpu-per-env", QUERY, ["team-a"]),
        ("mem-per-env", "ts(mem.used)", ["team-b"]),
        ("broken", "ts(", ["team-a"]),
    ):
        api.create_derived_metric(body=_metric(name, query=query, tags=tags))
    gone = api.create_derived_metric(body=_metric("old-one")).response
    api.delete_derived_metric(gone.id)

    body = wf.SortableSearchRequest(
        query=[wf.SearchQuery(key="name", value="per-env", matching_method="CONTAINS")],
        sort=wf.Sorting(field="name", ascending=True),
    )
    found = search.search_registered_query_entities(body=body).response
    assert [m.name for m in found.items] == ["cpu-per-env", "mem-per-env"]
    assert found.counts == {"checking": 2, "invalid": 0}
    facets = search.search_registered_query_for_facets(
        body=wf.FacetsSearchRequestContainer(facets=["status", "tags"])
    ).response
    assert sorted(facets.facets["status"]) == ["CHECKING", "INVALID"]
    assert sorted(facets.facets["tags"]) == ["team-a", "team-b"]
    one = search.search_registered_query_for_facet("metricsUsed", body=wf.FacetSearchRequestContainer()).response
    assert sorted(one.items) == ["cpu.load", "mem.used"]

    trash = search.search_registered_query_deleted_entities(body=wf.SortableSearchRequest()).response
    assert [m.name for m in trash.items] == ["old-one"] and trash.items[0].in_trash is True
    trash_facets = search.search_registered_query_deleted_for_facets(
        body=wf.FacetsSearchRequestContainer(facets=["status"])
    ).response
    assert trash_facets.facets["status"] == ["CHECKING"]
    trash_facet = search.search_registered_query_deleted_for_facet("status", body=wf.FacetSearchRequestContainer())
    assert trash_facet.response.items == ["CHECKING"]


def test_can_hide_a_derived_metric_from_another_tenant(server, admin_token, api):
    made = api.create_derived_metric(body=_metric()).response
    other = wf.DerivedMetricApi(wavefront(server.url, new_tenant_admin(server.url, admin_token).token))
    assert refused_status(lambda: other.get_derived_metric(made.id)) == 404
    assert refused_status(lambda: other.update_derived_metric(made.id, body=_metric())) == 404
    assert refused_status(lambda: other.delete_derived_metric(made.id)) == 404
    assert other.get_all_derived_metrics().response.total_items == 0
