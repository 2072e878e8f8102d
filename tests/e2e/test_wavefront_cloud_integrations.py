"""Cloud integrations through the unmodified Wavefront client (CloudIntegrationApi, and
SearchApi's cloud integration operations) against the live server: every operation of
cloud_integration_api.py, external ids bound to their tenant, role ARN checks, the trash."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.e2e.clients import new_tenant_admin, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::123456789012:role/opsplane-reader"


@pytest.fixture
def api(server, fresh) -> wf.CloudIntegrationApi:
    return wf.CloudIntegrationApi(wavefront(server.url, fresh.token))


def _cloudwatch(external_id: str, name: str | None = None, role: str = ROLE) -> wf.CloudIntegration:
    creds = wf.AWSBaseCredentials(role_arn=role, external_id=external_id)
    config = wf.CloudWatchConfiguration(base_credentials=creds, namespaces=["AWS/EC2"], metric_filter_regex="^aws.ec2")
    return wf.CloudIntegration(name=name or unique("cw"), service="CLOUDWATCH", cloud_watch=config)


def test_can_drive_every_cloud_integration_operation(api):
    # external ids: create, get, (delete at the end)
    ext = api.create_aws_external_id().response
    assert len(ext) == 32 and api.get_aws_external_id(ext).response == ext
    # integrations: create, get, update, list, disable, enable, delete (trash), undelete, delete for good
    created = api.create_cloud_integration(body=_cloudwatch(ext, "prod")).response
    assert created.service == "CLOUDWATCH" and created.cloud_watch.base_credentials.external_id == ext
    assert created.disabled is False and created.last_received_data_point_ms is None
    assert api.get_cloud_integration(created.id).response.cloud_watch.namespaces == ["AWS/EC2"]
    trail = wf.CloudTrailConfiguration(
        base_credentials=wf.AWSBaseCredentials(role_arn=ROLE, external_id=ext),
        bucket_name="org-trail",
        region="us-east-1",
    )
    body = wf.CloudIntegration(name="prod trail", service="CLOUDTRAIL", cloud_trail=trail)
    updated = api.update_cloud_integration(created.id, body=body).response
    assert updated.service == "CLOUDTRAIL" and updated.cloud_watch is None and updated.cloud_trail.region == "us-east-1"
    page = api.get_all_cloud_integration(offset=0, limit=10).response
    assert [c.id for c in page.items] == [created.id] and page.total_items == 1 and page.more_items is False
    assert api.disable_cloud_integration(created.id).response.disabled is True
    assert api.enable_cloud_integration(created.id).response.disabled is False
    assert api.delete_cloud_integration(created.id).response.in_trash is True
    assert api.get_all_cloud_integration().response.total_items == 0
    assert api.undelete_cloud_integration(created.id).response.in_trash is False
    assert api.delete_cloud_integration(created.id, skip_trash=True).response.id == created.id
    assert refused_status(lambda: api.get_cloud_integration(created.id)) == 404
    assert api.delete_aws_external_id(ext).response == ext
    assert refused_status(lambda: api.get_aws_external_id(ext)) == 404


def test_can_refuse_a_deleted_or_foreign_external_id_and_a_bad_role(server, admin_token, api):
    deleted = api.create_aws_external_id().response
    api.delete_aws_external_id(deleted)
    other = wf.CloudIntegrationApi(wavefront(server.url, new_tenant_admin(server.url, admin_token).token))
    theirs = other.create_aws_external_id().response
    for ext in (deleted, theirs):
        with pytest.raises(ApiException) as refused:
            api.create_cloud_integration(body=_cloudwatch(ext))
        assert refused.value.status == 400 and "cloudWatch.baseCredentials.externalId" in refused.value.body
    assert refused_status(lambda: api.get_aws_external_id(theirs)) == 404
    ours = api.create_aws_external_id().response
    with pytest.raises(ApiException) as bad_role:
        api.create_cloud_integration(body=_cloudwatch(ours, role="arn:aws:iam::123:role/x"))
    assert bad_role.value.status == 400 and "cloudWatch.baseCredentials.roleArn" in bad_role.value.body
    assert api.get_all_cloud_integration().response.total_items == 0


def test_can_search_live_and_trashed_cloud_integrations(server, fresh, api):
    search = wf.SearchApi(wavefront(server.url, fresh.token))
    ext = api.create_aws_external_id().response
    kept = api.create_cloud_integration(body=_cloudwatch(ext, "kept")).response
    gone = api.create_cloud_integration(body=_cloudwatch(ext, "gone")).response
    api.delete_cloud_integration(gone.id)
    body = wf.SortableSearchRequest(query=[wf.SearchQuery(key="service", value="CLOUDWATCH", matching_method="EXACT")])
    assert [c.id for c in search.search_cloud_integration_entities(body=body).response.items] == [kept.id]
    assert [c.id for c in search.search_cloud_integration_deleted_entities(body=body).response.items] == [gone.id]
    facets = wf.FacetsSearchRequestContainer(facets=["service"])
    assert search.search_cloud_integration_for_facets(body=facets).response.facets["service"] == ["CLOUDWATCH"]
    assert search.search_cloud_integration_deleted_for_facets(body=facets).response.facets["service"] == ["CLOUDWATCH"]
    one = wf.FacetSearchRequestContainer(limit=10)
    assert search.search_cloud_integration_for_facet("disabled", body=one).response.items == ["false"]
    assert search.search_cloud_integration_deleted_for_facet("name", body=one).response.items == ["gone"]


def test_can_hide_a_cloud_integration_from_another_tenant(server, admin_token, api):
    ext = api.create_aws_external_id().response
    made = api.create_cloud_integration(body=_cloudwatch(ext)).response
    other = wf.CloudIntegrationApi(wavefront(server.url, new_tenant_admin(server.url, admin_token).token))
    assert refused_status(lambda: other.get_cloud_integration(made.id)) == 404
    assert refused_status(lambda: other.disable_cloud_integration(made.id)) == 404
    assert refused_status(lambda: other.delete_cloud_integration(made.id)) == 404
    assert refused_status(lambda: other.delete_aws_external_id(ext)) == 404
    assert other.get_all_cloud_integration().response.total_items == 0
