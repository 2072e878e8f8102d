"""External links through the unmodified Wavefront client (ExternalLinkApi, and SearchApi's
external link operations) against the live server: every operation of external_link_api.py,
template and regex validation, search and facets, and tenant isolation."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.e2e.clients import new_tenant_admin, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e

TEMPLATE = "https://logs.example.com/?source={{source}}&metric={{{metric}}}"


@pytest.fixture
def api(server, fresh) -> wf.ExternalLinkApi:
    return wf.ExternalLinkApi(wavefront(server.url, fresh.token))


def _link(name: str | None = None, **fields) -> wf.ExternalLink:
    return wf.ExternalLink(**{"name": name or unique("link"), "description": "Logs", "template": TEMPLATE, **fields})


def test_can_drive_every_external_link_operation(api):
    name = unique("logs")
    created = api.create_external_link(
        body=_link(name, metric_filter_regex="cpu\\..*", point_tag_filter_regexes={"env": "prod|dev"})
    ).response
    assert created.name == name and created.template == TEMPLATE
    assert created.point_tag_filter_regexes == {"env": "prod|dev"}
    assert api.get_external_link(created.id).response.metric_filter_regex == "cpu\\..*"
    updated = api.update_external_link(created.id, body=_link(name + "-v2", is_log_integration=True)).response
    assert updated.name == name + "-v2" and updated.is_log_integration is True and updated.metric_filter_regex is None
    page = api.get_all_external_link(offset=0, limit=10).response
    assert [link.id for link in page.items] == [created.id] and page.more_items is False
    assert api.delete_external_link(created.id).response.id == created.id
    assert refused_status(lambda: api.get_external_link(created.id)) == 404


def test_can_refuse_a_bad_template_or_regex_saying_where(api):
    with pytest.raises(ApiException) as bad_template:
        api.create_external_link(body=_link(template="https://x/{{#open}}"))
    assert bad_template.value.status == 400 and "template" in bad_template.value.body
    with pytest.raises(ApiException) as bad_regex:
        api.create_external_link(body=_link(source_filter_regex="web-(1"))
    assert bad_regex.value.status == 400 and "sourceFilterRegex" in bad_regex.value.body
    assert "position 4" in bad_regex.value.body
    no_template = refused_status(lambda: api.create_external_link(body={"name": "x", "description": "d"}))
    assert no_template == 400
    assert api.get_all_external_link().response.total_items == 0


def test_can_search_external_links_and_their_facets(server, fresh, api):
    search = wf.SearchApi(wavefront(server.url, fresh.token))
    for name, log in (("logs-prod", True), ("logs-dev", True), ("runbook", False)):
        api.create_external_link(body=_link(name, is_log_integration=log))
    body = wf.SortableSearchRequest(
        query=[wf.SearchQuery(key="name", value="logs", matching_method="STARTSWITH")],
        sort=wf.Sorting(field="name", ascending=True),
    )
    assert [link.name for link in search.search_external_link_entities(body=body).response.items] == [
        "logs-dev",
        "logs-prod",
    ]
    facets = search.search_external_links_for_facets(body=wf.FacetsSearchRequestContainer(facets=["name"])).response
    assert sorted(facets.facets["name"]) == ["logs-dev", "logs-prod", "runbook"]
    one = search.search_external_links_for_facet(
        "isLogIntegration", body=wf.FacetSearchRequestContainer(limit=10)
    ).response
    assert sorted(one.items) == ["false", "true"]


def test_can_hide_an_external_link_from_another_tenant(server, admin_token, api):
    made = api.create_external_link(body=_link()).response
    other = wf.ExternalLinkApi(wavefront(server.url, new_tenant_admin(server.url, admin_token).token))
    assert refused_status(lambda: other.get_external_link(made.id)) == 404
    assert refused_status(lambda: other.update_external_link(made.id, body=_link())) == 404
    assert refused_status(lambda: other.delete_external_link(made.id)) == 404
    assert other.get_all_external_link().response.total_items == 0
