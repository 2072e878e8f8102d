"""API tokens through the unmodified Wavefront client (ApiTokenApi) against the live server:
the secret is shown once and authenticates in both header styles, lists never show it,
rename / revoke / the 20-token limit, service accounts' tokens and the admin's view."""

from __future__ import annotations

import json

import pytest
import requests
import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.e2e.clients import TIMEOUT, new_person, unique, wavefront

pytestmark = pytest.mark.e2e

# A regular Wavefront user: the ACL patterns of the Browse and API Tokens permissions
# (docs/permissions.md); Browse lets it read alerts, which proves a token works.
OWN_TOKENS = ["*.read", "*.*.read", "apitoken.read", "apitoken.create", "apitoken.*.update", "apitoken.*.delete"]


def _ids(tokens) -> set[str]:
    return {t.token_id for t in tokens}


def _create(api: wf.ApiTokenApi) -> tuple[str, str]:
    """Create a token; returns (secret, public id) found by diffing the listings around it."""
    before = _ids(api.get_all_tokens().response)
    created = api.create_token().response
    fresh = [t for t in created if t.token_id not in before]
    assert len(fresh) == 1, f"expected one new token in {created}"
    secret = fresh[0].token_id
    after = _ids(api.get_all_tokens().response)
    public = after - before
    assert len(public) == 1, f"expected one new listed token, got {public}"
    return secret, public.pop()


def _status_with(server, secret: str, header: str) -> int:
    value = secret if header == "X-AUTH-TOKEN" else f"Bearer {secret}"
    return requests.get(server.url + "/api/v2/alert", headers={header: value}, timeout=TIMEOUT).status_code


def _service_account(admin: wf.ApiClient) -> str:
    """A new active service account that may work with alerts (through a role); its identifier."""
    role = wf.RoleApi(admin).create_role(body=wf.RoleCreateDTO(name=unique("role"), permissions=["alerts_management"]))
    identifier = "sa::" + unique("robot")
    body = wf.ServiceAccountWrite(identifier=identifier, active=True, description="e2e", roles=[role.response.id])
    created = wf.AccountUserAndServiceAccountApi(admin).create_service_account(body=body).response
    assert created.identifier == identifier and created.active is True
    return identifier


def test_can_create_a_token_whose_secret_is_shown_once_and_works_in_both_header_styles(server, admin_token):
    # GIVEN a fresh user managing its own tokens
    person = new_person(server.url, admin_token, OWN_TOKENS)
    api = wf.ApiTokenApi(wavefront(server.url, person.token))

    # WHEN it creates a token
    secret, public_id = _create(api)

    # THEN the secret authenticates as X-AUTH-TOKEN and as Authorization: Bearer, through the client too
    assert secret != public_id
    assert wf.AlertApi(wavefront(server.url, secret)).get_all_alert().status.result == "OK"
    assert wf.AlertApi(wavefront(server.url, secret, bearer=True)).get_all_alert().status.result == "OK"
    assert _status_with(server, secret, "X-AUTH-TOKEN") == 200
    assert _status_with(server, secret, "Authorization") == 200
    # ... and no listing ever shows it again
    listed = api.get_all_tokens().response
    assert [t.token_id for t in listed] == [public_id]
    assert listed[0].account_type == "USER_ACCOUNT"
    raw = requests.get(server.url + "/api/v2/apitoken", headers={"X-AUTH-TOKEN": person.token}, timeout=TIMEOUT)
    assert secret not in raw.text


def test_can_rename_a_token(server, admin_token):
    person = new_person(server.url, admin_token, OWN_TOKENS)
    api = wf.ApiTokenApi(wavefront(server.url, person.token))
    _secret, public_id = _create(api)

    renamed = api.update_token_name(public_id, body=wf.UserApiToken(token_id=public_id, token_name="ci-pipeline"))

    assert renamed.response.token_id == public_id
    assert renamed.response.token_name == "ci-pipeline"
    assert [t.token_name for t in api.get_all_tokens().response] == ["ci-pipeline"]


def test_can_revoke_a_token_so_that_its_secret_answers_401(server, admin_token):
    # GIVEN a user with two tokens
    person = new_person(server.url, admin_token, OWN_TOKENS)
    api = wf.ApiTokenApi(wavefront(server.url, person.token))
    doomed, doomed_id = _create(api)
    kept, kept_id = _create(api)

    # WHEN one is revoked
    remaining = api.delete_token(doomed_id).response

    # THEN it is gone from the answer and the listing, its secret is refused, the other still works
    assert _ids(remaining) == {kept_id}
    assert _ids(api.get_all_tokens().response) == {kept_id}
    with pytest.raises(ApiException) as refused:
        wf.AlertApi(wavefront(server.url, doomed)).get_all_alert()
    assert refused.value.status == 401
    assert _status_with(server, doomed, "Authorization") == 401
    assert _status_with(server, kept, "X-AUTH-TOKEN") == 200


def test_can_refuse_the_21st_token_of_an_account(server, admin_token):
    # GIVEN an account that already holds 20 tokens
    person = new_person(server.url, admin_token, OWN_TOKENS)
    api = wf.ApiTokenApi(wavefront(server.url, person.token))
    for _ in range(20):
        api.create_token()
    listed = api.get_all_tokens().response
    assert len(listed) == 20

    # WHEN it asks for a 21st
    with pytest.raises(ApiException) as refused:
        api.create_token()

    # THEN 400 in the native error envelope, and still 20 tokens; revoking one frees a slot
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["status"]["result"] == "ERROR"
    assert len(api.get_all_tokens().response) == 20
    api.delete_token(listed[0].token_id)
    assert len(api.create_token().response) >= 1


def test_can_refuse_a_token_for_someone_without_the_permission(server, admin_token):
    person = new_person(server.url, admin_token, ["*.read", "*.*.read"])

    with pytest.raises(ApiException) as refused:
        wf.ApiTokenApi(wavefront(server.url, person.token)).create_token()

    assert refused.value.status == 403


def test_can_manage_a_service_accounts_tokens(server, admin_token):
    # GIVEN a service account
    admin = wavefront(server.url, admin_token)
    api = wf.ApiTokenApi(admin)
    identifier = _service_account(admin)

    # WHEN the admin generates a token for it
    generated = api.generate_token_service_account(identifier, body=wf.UserApiToken(token_id="", token_name="ingest"))
    secret = generated.response[-1].token_id
    listed = api.get_tokens_service_account(identifier).response

    # THEN the secret authenticates the service account, and the listing shows only a public id
    assert len(listed) == 1
    public_id = listed[0].token_id
    assert public_id != secret
    assert listed[0].account_type == "SERVICE_ACCOUNT"
    assert listed[0].token_name == "ingest"
    assert _status_with(server, secret, "X-AUTH-TOKEN") == 200
    assert _status_with(server, secret, "Authorization") == 200

    # WHEN it is renamed, then revoked
    renamed = api.update_token_name_service_account(
        identifier, public_id, body=wf.UserApiToken(token_id=public_id, token_name="renamed")
    )
    assert renamed.response.token_name == "renamed"
    remaining = api.delete_token_service_account(identifier, public_id).response

    # THEN nothing is left and the secret answers 401
    assert remaining == []
    assert api.get_tokens_service_account(identifier).response == []
    assert _status_with(server, secret, "X-AUTH-TOKEN") == 401


def test_can_answer_404_for_the_tokens_of_an_unknown_service_account(server, admin_token):
    api = wf.ApiTokenApi(wavefront(server.url, admin_token))

    with pytest.raises(ApiException) as missing:
        api.get_tokens_service_account("sa::" + unique("ghost"))

    assert missing.value.status == 404


def test_can_let_the_admin_view_and_revoke_every_token_of_the_tenant(server, admin_token):
    # GIVEN a user's token and a service account's token in the admin's tenant
    person = new_person(server.url, admin_token, OWN_TOKENS)
    user_secret, user_token = _create(wf.ApiTokenApi(wavefront(server.url, person.token)))
    admin = wavefront(server.url, admin_token)
    api = wf.ApiTokenApi(admin)
    identifier = _service_account(admin)
    api.generate_token_service_account(identifier)
    sa_token = api.get_tokens_service_account(identifier).response[0].token_id

    # WHEN the admin lists the tenant's tokens
    every = {t.id: t for t in api.get_customer_tokens().response}

    # THEN both are there with their owners and kinds, and no secret is shown
    assert every[user_token].account == person.username
    assert every[user_token].account_type == "USER_ACCOUNT"
    assert every[sa_token].account == identifier
    assert every[sa_token].account_type == "SERVICE_ACCOUNT"
    assert user_secret not in every
    assert api.get_customer_token(user_token).response.id == user_token

    # WHEN the admin revokes the user's token
    api.delete_customer_token(body=wf.ApiTokenModel(id=user_token))

    # THEN its secret answers 401 and it is no longer listed
    assert _status_with(server, user_secret, "X-AUTH-TOKEN") == 401
    assert user_token not in {t.id for t in api.get_customer_tokens().response}
    with pytest.raises(ApiException) as gone:
        api.get_customer_token(user_token)
    assert gone.value.status == 404


def test_can_keep_the_tenants_tokens_from_users_who_only_manage_their_own(server, admin_token):
    # GIVEN two users who manage their own tokens
    owner = new_person(server.url, admin_token, OWN_TOKENS)
    owner_secret, owner_token = _create(wf.ApiTokenApi(wavefront(server.url, owner.token)))
    other = wf.ApiTokenApi(wavefront(server.url, new_person(server.url, admin_token, OWN_TOKENS).token))

    # WHEN one reaches for the admin's view, or for the other's token
    with pytest.raises(ApiException) as listing:
        other.get_customer_tokens()
    with pytest.raises(ApiException) as revoking:
        other.delete_customer_token(body=wf.ApiTokenModel(id=owner_token))
    with pytest.raises(ApiException) as deleting:
        other.delete_token(owner_token)

    # THEN refused, and the owner's token still works
    assert listing.value.status == 403
    assert revoking.value.status == 403
    assert deleting.value.status in (403, 404)
    assert _status_with(server, owner_secret, "X-AUTH-TOKEN") == 200
