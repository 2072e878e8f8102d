"""Cloud integrations: what is particular to them beside the shared CRUD contract: the real
CloudIntegrationApi through every operation, external ids (per tenant, never issued twice,
refused on save once deleted or when another tenant's), role ARN and configuration checks
that name the field, enable / disable, the trash."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from chalicelib.categories import cloudintegration
from tests.functional.test_alert import client_reads, wavefront

BASE = "/api/v2/cloudintegration"
EXTERNAL_IDS = f"{BASE}/awsExternalId"
ROLE = "arn:aws:iam::123456789012:role/opsplane-reader"


def external_id(api, token: str | None = None) -> str:
    status, answer = api.json("POST", EXTERNAL_IDS, token=token)
    assert status == 200, answer
    return answer["response"]


def cloudwatch(ext: str, role: str = ROLE, **fields) -> dict:
    return {
        "name": "prod account",
        "service": "CLOUDWATCH",
        "cloudWatch": {"baseCredentials": {"roleArn": role, "externalId": ext}, "namespaces": ["AWS/EC2"]},
        **fields,
    }


def total(api, token: str | None = None) -> int:
    return api.json("GET", BASE, token=token)[1]["response"]["totalItems"]


def test_can_serve_the_real_client_through_every_cloud_integration_operation(api):
    # GIVEN the real CloudIntegrationApi
    clouds = wf.CloudIntegrationApi(wavefront(api))
    # WHEN it issues an external id and saves an integration naming it
    ext = clouds.create_aws_external_id().response
    assert clouds.get_aws_external_id(ext).response == ext
    creds = wf.AWSBaseCredentials(role_arn=ROLE, external_id=ext)
    body = wf.CloudIntegration(
        name="trail",
        service="CLOUDTRAIL",
        cloud_trail=wf.CloudTrailConfiguration(
            base_credentials=creds, bucket_name="org-trail", region="eu-west-1", prefix="AWSLogs/"
        ),
    )
    created = clouds.create_cloud_integration(body=body).response
    assert created.id and created.service == "CLOUDTRAIL" and created.disabled is False
    assert created.cloud_trail.base_credentials.external_id == ext
    # THEN every other operation answers what the client expects
    assert clouds.get_cloud_integration(created.id).response.cloud_trail.bucket_name == "org-trail"
    body.name = "trail (eu)"
    assert clouds.update_cloud_integration(created.id, body=body).response.name == "trail (eu)"
    assert clouds.disable_cloud_integration(created.id).response.disabled is True
    assert clouds.enable_cloud_integration(created.id).response.disabled is False
    page = clouds.get_all_cloud_integration(offset=0, limit=10).response
    assert [c.id for c in page.items] == [created.id] and page.more_items is False
    assert clouds.delete_cloud_integration(created.id).response.in_trash is True
    assert clouds.undelete_cloud_integration(created.id).response.in_trash is False
    assert clouds.delete_cloud_integration(created.id, skip_trash=True).response.deleted is True
    assert clouds.delete_aws_external_id(ext).response == ext
    # AND the pull fields nothing fills are absent, not invented
    assert created.last_received_data_point_ms is None and created.last_processing_timestamp is None


def test_can_issue_external_ids_that_are_never_issued_again(api):
    # GIVEN an external id issued, then deleted
    ctx = api.context()
    retired = cloudintegration.issue_external_id(ctx)
    assert api.json("DELETE", f"{EXTERNAL_IDS}/{retired}")[0] == 200
    # WHEN the next draw comes up with the deleted id first
    draws = iter([retired, "0" * 32])
    fresh = cloudintegration.issue_external_id(ctx, draw=lambda: next(draws))
    # THEN the deleted id is passed over: it is not issued again, nor readable again
    assert fresh == "0" * 32
    assert api.json("GET", f"{EXTERNAL_IDS}/{retired}")[0] == 404
    assert api.json("GET", f"{EXTERNAL_IDS}/{fresh}")[1]["response"] == fresh
    # AND a live id drawn again is passed over too
    draws = iter(["0" * 32, "1" * 32])
    assert cloudintegration.issue_external_id(ctx, draw=lambda: next(draws)) == "1" * 32
    # AND issued ids are random and distinct
    many = {external_id(api) for _ in range(5)}
    assert len(many) == 5 and all(cloudintegration.EXTERNAL_ID.match(i) for i in many)


def test_can_refuse_an_external_id_that_is_not_the_tenants(api, make_tenant, make_user):
    # GIVEN an external id of another tenant, and one of ours that was deleted
    other = make_user(["cloudintegration.#"], tenant=make_tenant("other"))
    theirs = external_id(api, token=other.token)
    deleted = external_id(api)
    assert api.json("DELETE", f"{EXTERNAL_IDS}/{deleted}")[0] == 200
    # THEN neither may be saved in an integration (400 naming the field), nor read
    for ext in (theirs, deleted, "never-issued"):
        status, answer = api.json("POST", BASE, cloudwatch(ext))
        assert status == 400, answer
        assert "cloudWatch.baseCredentials.externalId" in answer["status"]["message"]
    assert api.json("GET", f"{EXTERNAL_IDS}/{theirs}")[0] == 404
    assert api.json("DELETE", f"{EXTERNAL_IDS}/{theirs}")[0] == 404
    assert api.json("DELETE", f"{EXTERNAL_IDS}/{deleted}")[0] == 404
    # AND nothing was written
    assert total(api) == 0
    # AND the other tenant's id still works there
    assert api.json("POST", BASE, cloudwatch(theirs), token=other.token)[0] == 200


def test_can_keep_an_integration_whose_external_id_is_deleted_until_it_is_saved(api):
    # GIVEN an integration, then its external id deleted
    ext = external_id(api)
    made = api.json("POST", BASE, cloudwatch(ext))[1]["response"]
    assert api.json("DELETE", f"{EXTERNAL_IDS}/{ext}")[0] == 200
    # THEN it is still there, and may be enabled or disabled
    assert api.json("GET", f"{BASE}/{made['id']}")[1]["response"]["cloudWatch"]["baseCredentials"]["externalId"] == ext
    assert api.json("POST", f"{BASE}/{made['id']}/disable")[0] == 200
    # BUT saving it again needs a live external id
    assert api.json("PUT", f"{BASE}/{made['id']}", cloudwatch(ext))[0] == 400
    assert api.json("PUT", f"{BASE}/{made['id']}", cloudwatch(external_id(api)))[0] == 200


@pytest.mark.parametrize(
    "role",
    [
        "arn:aws:iam::12345678901:role/short-account",
        "arn:aws:iam::123456789012:user/not-a-role",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/" + "r" * 65,
        "arn:aws:iam::123456789012:role/has space",
        "arn:azure:iam::123456789012:role/x",
        "",
    ],
)
def test_can_refuse_a_role_arn_that_is_not_an_iam_role_naming_the_field(api, role):
    status, answer = api.json("POST", BASE, cloudwatch(external_id(api), role=role))
    assert status == 400, answer
    assert "cloudWatch.baseCredentials.roleArn" in answer["status"]["message"]
    assert total(api) == 0


@pytest.mark.parametrize(
    "role",
    [
        ROLE,
        "arn:aws:iam::123456789012:role/service-role/path/Reader+=,.@-1",
        "arn:aws-cn:iam::123456789012:role/cn",
        "arn:aws-us-gov:iam::123456789012:role/gov",
    ],
)
def test_can_accept_iam_role_arns_of_every_partition_and_path(api, role):
    status, answer = api.json("POST", BASE, cloudwatch(external_id(api), role=role))
    assert status == 200, answer
    assert answer["response"]["cloudWatch"]["baseCredentials"]["roleArn"] == role


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service": "GCP"}, "service"),
        ({"cloudWatch": None}, "cloudWatch"),
        ({"ec2": {"baseCredentials": {"roleArn": ROLE, "externalId": "x"}}}, "ec2"),
        ({"reuseExternalIdCredential": "123"}, "reuseExternalIdCredential"),
        ({"serviceRefreshRateInMins": 0}, "serviceRefreshRateInMins"),
        ({"additionalTags": {f"k{i}": "v" for i in range(51)}}, "additionalTags"),
        ({"name": " "}, "name"),
    ],
)
def test_can_refuse_a_body_that_does_not_fit_its_service_naming_the_field(api, change, field):
    body = {k: v for k, v in {**cloudwatch(external_id(api)), **change}.items() if v is not None}
    status, answer = api.json("POST", BASE, body)
    assert status == 400, answer
    assert field in answer["status"]["message"]
    assert total(api) == 0


@pytest.mark.parametrize(
    ("trail", "field"),
    [
        ({"region": "eu-west-1"}, "bucketName"),
        ({"bucketName": "Bad_Bucket", "region": "eu-west-1"}, "bucketName"),
        ({"bucketName": "org-trail", "region": "Europe"}, "region"),
        ({"bucketName": "org-trail"}, "region"),
    ],
)
def test_can_refuse_a_cloudtrail_bucket_or_region_aws_would_not_have(api, trail, field):
    creds = {"roleArn": ROLE, "externalId": external_id(api)}
    body = {"name": "trail", "service": "CLOUDTRAIL", "cloudTrail": {"baseCredentials": creds, **trail}}
    status, answer = api.json("POST", BASE, body)
    assert status == 400 and f"cloudTrail.{field}" in answer["status"]["message"], answer


def test_can_refuse_a_filter_that_is_not_a_regular_expression(api):
    body = cloudwatch(external_id(api))
    body["cloudWatch"]["metricFilterRegex"] = "aws.(ec2"
    status, answer = api.json("POST", BASE, body)
    assert status == 400 and "metricFilterRegex" in answer["status"]["message"]


def test_can_answer_what_the_client_deserializes_for_each_aws_service(api):
    ext = external_id(api)
    creds = {"roleArn": ROLE, "externalId": ext}
    bodies = [
        cloudwatch(ext, serviceRefreshRateInMins=5, additionalTags={"env": "prod"}),
        {"name": "ec2", "service": "EC2", "ec2": {"baseCredentials": creds, "hostNameTags": ["Name"]}},
        {
            "name": "trail",
            "service": "CLOUDTRAIL",
            "cloudTrail": {"baseCredentials": creds, "bucketName": "org.trail-1", "region": "us-gov-west-1"},
        },
    ]
    for body in bodies:
        status, answer = api.json("POST", BASE, body)
        assert status == 200, answer
        read = client_reads(answer, "ResponseContainerCloudIntegration").response
        assert read.service == body["service"] and read.disabled is False
    page = api.json("GET", BASE)[1]
    assert len(client_reads(page, "ResponseContainerPagedCloudIntegration").response.items) == 3


def test_can_trash_search_and_restore_an_integration(api):
    # GIVEN two integrations, one disabled and one in the trash
    ext = external_id(api)
    kept = api.json("POST", BASE, cloudwatch(ext, name="kept"))[1]["response"]
    trashed = api.json("POST", BASE, cloudwatch(ext, name="trashed"))[1]["response"]
    api.json("POST", f"{BASE}/{kept['id']}/disable")
    assert api.json("DELETE", f"{BASE}/{trashed['id']}")[1]["response"]["inTrash"] is True
    # THEN listings and searches see the live one, /deleted the trashed one
    assert total(api) == 1
    live = api.json("POST", "/api/v2/search/cloudintegration", {"query": []})[1]["response"]
    assert [i["name"] for i in live["items"]] == ["kept"] and live["items"][0]["disabled"] is True
    gone = api.json("POST", "/api/v2/search/cloudintegration/deleted", {})[1]["response"]
    assert [i["name"] for i in gone["items"]] == ["trashed"]
    facet = api.json("POST", "/api/v2/search/cloudintegration/disabled", {})[1]["response"]
    assert facet["items"] == ["true"]
    # AND a trashed one cannot be enabled until it is restored
    assert api.json("POST", f"{BASE}/{trashed['id']}/enable")[0] == 404
    assert api.json("POST", f"{BASE}/{trashed['id']}/undelete")[1]["response"]["inTrash"] is False
    assert total(api) == 2


def test_can_hide_integrations_and_external_ids_from_another_tenant(api, make_tenant, make_user):
    ext = external_id(api)
    made = api.json("POST", BASE, cloudwatch(ext))[1]["response"]
    stranger = make_user(["cloudintegration.#"], tenant=make_tenant("stranger"))
    for method, path in (
        ("GET", f"{BASE}/{made['id']}"),
        ("POST", f"{BASE}/{made['id']}/disable"),
        ("POST", f"{BASE}/{made['id']}/enable"),
        ("DELETE", f"{BASE}/{made['id']}"),
        ("GET", f"{EXTERNAL_IDS}/{ext}"),
        ("DELETE", f"{EXTERNAL_IDS}/{ext}"),
    ):
        assert api.json(method, path, token=stranger.token)[0] == 404, (method, path)
    assert total(api, token=stranger.token) == 0
    assert api.json("GET", f"{BASE}/{made['id']}")[1]["response"]["version"] == 1


def test_can_require_the_proxies_permission(api, make_user):
    browser = make_user(["*.read", "*.*.read"])
    assert api.json("GET", BASE, token=browser.token)[0] == 200
    assert api.json("POST", EXTERNAL_IDS, token=browser.token)[0] == 403
    assert api.json("POST", BASE, cloudwatch(external_id(api)), token=browser.token)[0] == 403
    assert total(api) == 0
