"""Wavefront service accounts: "sa::" identifiers, active <=> enabled (a deactivated
account's API tokens fail at once), tokens kept or revoked by update."""

from __future__ import annotations

from urllib.parse import quote

from wavefront_api_client import ApiClient

from chalicelib.auth import apitokens
from chalicelib.identity import accounts

BOT = "sa::deploy-bot"


def shape(data, klass):
    """Deserialize like the client does (ValueError on a missing required field or bad enum)."""
    return ApiClient()._ApiClient__deserialize(data, klass)


def enc(identifier):
    return quote(identifier, safe="")


def create_bot(api, identifier=BOT, **fields):
    status, body = api.json("POST", "/api/v2/account/serviceaccount", {"identifier": identifier, **fields})
    assert status == 200, body
    return shape(body, "ResponseContainerServiceAccount").response


def bot_uuid(identifier=BOT):
    found = accounts.find_by_username(identifier)
    assert found is not None
    return found[1]


def test_can_create_list_and_read_service_accounts(api):
    # WHEN a service account is created with a permission and a description
    created = create_bot(api, groups=["browse"], description="deploys things")
    # THEN it is active, and reads back in every shape
    assert (created.identifier, created.active, created.groups) == (BOT, True, ["browse"])
    assert created.description == "deploys things"
    status, body = api.json("GET", f"/api/v2/account/serviceaccount/{enc(BOT)}")
    assert status == 200 and shape(body, "ResponseContainerServiceAccount").response.identifier == BOT
    status, body = api.json("GET", "/api/v2/account/serviceaccount")
    assert [s.identifier for s in shape(body, "ResponseContainerListServiceAccount").response] == [BOT]
    status, body = api.json("GET", f"/api/v2/account/{enc(BOT)}")
    assert shape(body, "ResponseContainerAccount").response.united_permissions == ["browse"]
    # AND it is not a user
    assert api.json("GET", f"/api/v2/account/user/{enc(BOT)}")[0] == 404
    assert BOT not in [u["identifier"] for u in api.json("GET", "/api/v2/account/user")[1]["response"]]
    assert api.json("GET", "/api/v2/account/serviceaccount/admin")[0] == 404


def test_can_refuse_bad_service_account_bodies(api):
    cases = [
        {"identifier": "deploy-bot"},
        {"identifier": "sa::"},
        {"identifier": "sa::has space"},
        {"active": True},
        {"identifier": BOT, "active": "yes please"},
        {"identifier": BOT, "groups": ["nope"]},
        {"identifier": BOT, "roles": ["no-such-role"]},
        {"identifier": BOT, "tokens": ["some-token"]},
    ]
    for body in cases:
        status, answer = api.json("POST", "/api/v2/account/serviceaccount", body)
        assert status == 400, (body, answer)
        assert answer["status"]["result"] == "ERROR"
    assert accounts.find_by_username(BOT) is None


def test_can_deactivate_a_service_account_so_its_tokens_fail_at_once(api):
    # GIVEN a service account that may read accounts, with an API token that works
    create_bot(api, groups=["user_management"])
    secret, _ = apitokens.create(api.root, bot_uuid(), accounts.SERVICE, name="ci")
    as_bot = {"X-AUTH-TOKEN": secret}
    assert api.json("GET", "/api/v2/account", token="", headers=as_bot)[0] == 200
    # WHEN it is deactivated
    status, body = api.json("POST", f"/api/v2/account/serviceaccount/{enc(BOT)}/deactivate", {})
    # THEN it says inactive and its token is refused on the next request
    model = shape(body, "ResponseContainerServiceAccount").response
    assert status == 200 and model.active is False
    assert [t.account_type for t in model.tokens] == ["INACTIVE_SERVICE_ACCOUNT"]
    assert api.json("GET", "/api/v2/account", token="", headers=as_bot)[0] == 401
    # AND activating it brings the same token back
    status, body = api.json("POST", f"/api/v2/account/serviceaccount/{enc(BOT)}/activate", {})
    assert status == 200 and shape(body, "ResponseContainerServiceAccount").response.active is True
    assert api.json("GET", "/api/v2/account", token="", headers=as_bot)[0] == 200


def test_can_update_a_service_account_keeping_only_listed_tokens(api):
    # GIVEN a service account with two tokens
    create_bot(api)
    _, keep = apitokens.create(api.root, bot_uuid(), accounts.SERVICE, name="keep")
    drop_secret, _ = apitokens.create(api.root, bot_uuid(), accounts.SERVICE, name="drop")
    # WHEN it is updated listing one token, a new description, a permission and inactive
    status, body = api.json(
        "PUT",
        f"/api/v2/account/serviceaccount/{enc(BOT)}",
        {"identifier": BOT, "tokens": [keep.public_id], "description": "new", "groups": ["browse"], "active": False},
    )
    # THEN the other token is revoked and the fields changed
    assert status == 200, body
    model = shape(body, "ResponseContainerServiceAccount").response
    assert [t.token_id for t in model.tokens] == [keep.public_id]
    assert (model.description, model.groups, model.active) == ("new", ["browse"], False)
    assert apitokens.lookup(drop_secret) is None
    # AND a body that names a foreign token or renames the account is refused
    assert api.json("PUT", f"/api/v2/account/serviceaccount/{enc(BOT)}", {"identifier": BOT, "tokens": ["x"]})[0] == 400
    assert api.json("PUT", f"/api/v2/account/serviceaccount/{enc(BOT)}", {"identifier": "sa::other"})[0] == 400
    assert [t.public_id for t in apitokens.list_tokens(api.root, bot_uuid())] == [keep.public_id]


def test_can_hide_other_tenants_service_accounts(api, make_tenant):
    other = make_tenant("other")
    stranger = accounts.create_account(other, username="sa::stranger", password=None, kind=accounts.SERVICE)
    for ref in (enc("sa::stranger"), stranger.id):
        assert api.json("GET", f"/api/v2/account/serviceaccount/{ref}")[0] == 404
        assert api.json("POST", f"/api/v2/account/serviceaccount/{ref}/deactivate", {})[0] == 404
    assert api.json("GET", "/api/v2/account/serviceaccount")[1]["response"] == []
    assert accounts.get_account(other, stranger.id).doc["enabled"] is True
