"""New API tokens and OAuth client secrets carry opsplane's scannable shape; secrets issued
before it keep working; a look-alike with a wrong checksum is refused."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.auth import secretformat

TOKEN = "/auth/oauth/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def service_account(tenant: str) -> str:
    from chalicelib.identity import accounts

    return accounts.create_account(
        tenant, username="sa::scan", password=None, kind=accounts.SERVICE, fields={"acl": ["apitoken.read"]}, by="t"
    ).id


def test_can_issue_api_tokens_with_a_prefix_and_checksum(api):
    status, body = api.json("POST", "/api/v2/apitoken", {"tokenName": "ci"})
    secret = body["response"][0]["tokenID"]
    assert secret.startswith("opsat_") and secretformat.valid(secret)
    assert api.json("GET", "/api/v2/apitoken", token=secret)[0] == 200


def test_can_keep_accepting_api_tokens_of_the_older_uuid_shape(api):
    from chalicelib.auth import apitokens
    from chalicelib.identity import accounts

    # GIVEN a token issued before the format (a bare UUID)
    old, _ = apitokens.create(api.root, api.admin, accounts.USER, secret_source=lambda: str(uuid.uuid4()))
    # THEN it still authenticates
    assert api.json("GET", "/api/v2/apitoken", token=old)[0] == 200


@pytest.mark.parametrize("damage", ["checksum", "body"])
def test_can_refuse_a_look_alike_with_a_wrong_checksum(api, damage):
    secret = api.json("POST", "/api/v2/apitoken", {})[1]["response"][0]["tokenID"]
    if damage == "checksum":
        forged = secret[:-1] + ("0" if secret[-1] != "0" else "1")
    else:
        forged = secret[:10] + ("A" if secret[10] != "A" else "B") + secret[11:]
    assert api.json("GET", "/api/v2/apitoken", token=forged)[0] == 401
    assert api.json("GET", "/api/v2/apitoken", token=secret)[0] == 200


def grant(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def token_status(api: Any, client_id: str, secret: str) -> int:
    resp = api.call("POST", TOKEN, token="", headers=FORM, raw=urlencode(grant(client_id, secret)))
    return resp.status_code


def test_can_issue_oauth_client_secrets_with_a_prefix_and_checksum(api):
    service_account(api.root)
    status, body = api.json("POST", "/api/v2/account/serviceaccount/sa::scan/credentials", {})
    creds = body["response"]
    assert creds["clientSecret"].startswith("opsoc_") and secretformat.valid(creds["clientSecret"])
    assert token_status(api, creds["clientId"], creds["clientSecret"]) == 200
    assert token_status(api, creds["clientId"], creds["clientSecret"][:-1] + "x") == 401


def test_can_keep_accepting_oauth_client_secrets_of_the_older_shape(api):
    import secrets

    from chalicelib.auth import oauthclients

    account = service_account(api.root)
    old, client = oauthclients.create(api.root, account, secret_source=lambda: secrets.token_urlsafe(32))
    assert token_status(api, client.client_id, old) == 200
