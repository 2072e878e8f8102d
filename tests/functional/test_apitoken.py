"""API tokens (Wavefront ApiTokenApi): own tokens, service accounts' tokens, the admin's
view; every answer is checked with the real client's deserializer."""

from __future__ import annotations

from typing import Any

import pytest
import wavefront_api_client

SA_ACL = ["apitoken.read", "apitoken.create", "apitoken.*.update", "apitoken.*.delete"]


def wire(data: Any, model: str) -> Any:
    """Deserialize an answer as the Wavefront client does (ValueError when it would fail)."""
    return wavefront_api_client.ApiClient()._ApiClient__deserialize(data, model)


def make_service_account(tenant: str, name: str = "sa::bot", acl: list[str] | None = None) -> str:
    from chalicelib.identity import accounts

    return accounts.create_account(
        tenant, username=name, password=None, kind=accounts.SERVICE, fields={"acl": acl or SA_ACL}, by="test"
    ).id


def set_enabled(tenant: str, account_uuid: str, enabled: bool) -> None:
    from chalicelib.identity import accounts

    def change(entity: Any) -> None:
        entity.doc["enabled"] = enabled

    accounts.repo(tenant, accounts.ACCOUNT).update(account_uuid, change, by="test")


def create_token(api: Any, token: str | None = None, name: str | None = None) -> str:
    """POST /api/v2/apitoken; returns the secret."""
    status, body = api.json("POST", "/api/v2/apitoken", {"tokenName": name} if name else {}, token=token)
    assert status == 200, body
    parsed = wire(body, "ResponseContainerListUserApiToken")
    assert len(parsed.response) == 1
    return parsed.response[0].token_id


def listed(api: Any, token: str | None = None) -> list[Any]:
    status, body = api.json("GET", "/api/v2/apitoken", token=token)
    assert status == 200, body
    return wire(body, "ResponseContainerListUserApiToken").response


# ---- own tokens ---------------------------------------------------------------------------


def test_can_create_token_whose_secret_is_shown_once_and_works(api):
    # GIVEN the admin
    # WHEN it creates a token
    status, body = api.json("POST", "/api/v2/apitoken", {"tokenName": "ci"})
    # THEN the answer holds just the new token, whose tokenID is the secret
    assert status == 200
    new = wire(body, "ResponseContainerListUserApiToken").response
    assert [t.token_name for t in new] == ["ci"]
    secret = new[0].token_id
    assert new[0].account == "admin" and new[0].account_type == "USER_ACCOUNT"
    assert isinstance(new[0].date_generated, int)
    # AND the secret authenticates (Authorization: Bearer and X-AUTH-TOKEN alike)
    tokens = listed(api, token=secret)
    status, _ = api.json("GET", "/api/v2/apitoken", token="", headers={"X-AUTH-TOKEN": secret})
    assert status == 200
    # AND no later answer ever shows the secret again
    assert len(tokens) == 1 and tokens[0].token_id != secret and tokens[0].token_name == "ci"
    assert secret not in api.call("GET", "/api/v2/apitoken").body.decode()
    assert secret not in api.call("GET", "/api/v2/apitoken/customertokens").body.decode()


def test_can_store_only_the_hash_of_the_secret(api):
    # GIVEN a token
    from chalicelib.store.models import TokenItem

    secret = create_token(api)
    # WHEN the tokens table is read back for the tenant and the lookup row
    from chalicelib.auth import apitokens

    rows = list(TokenItem.query(f"{api.root}#apitoken"))
    found = apitokens.lookup(secret)
    # THEN the secret appears nowhere, only its digest
    assert found is not None
    assert all(secret not in (r.doc or "") for r in rows)
    assert all(secret not in r.pk for r in TokenItem.query(f"apitoken#{apitokens.digest(secret)}"))


def test_can_create_token_with_empty_body_and_record_last_use(api):
    # GIVEN a token created with the client's empty body
    status, body = api.json("POST", "/api/v2/apitoken", raw=b"")
    assert status == 200, body
    secret = wire(body, "ResponseContainerListUserApiToken").response[0].token_id
    assert listed(api)[0].last_used is None
    # WHEN it is used
    listed(api, token=secret)
    # THEN its last use is recorded in epoch milliseconds
    assert isinstance(listed(api)[0].last_used, int)


def test_can_rename_own_token(api):
    # GIVEN a token
    create_token(api, name="old")
    public_id = listed(api)[0].token_id
    # WHEN it is renamed with the client's UserApiToken body
    status, body = api.json("PUT", f"/api/v2/apitoken/{public_id}", {"tokenID": public_id, "tokenName": "new"})
    # THEN the answer and the listing carry the new name
    assert status == 200, body
    assert wire(body, "ResponseContainerUserApiToken").response.token_name == "new"
    assert [t.token_name for t in listed(api)] == ["new"]


@pytest.mark.parametrize(
    "body",
    [
        {"tokenID": "someone-else", "tokenName": "x"},
        {"tokenID": "__ID__"},
        {"tokenName": 12},
        {"tokenName": "bad\nname"},
        {"tokenName": "x" * 300},
        ["tokenName"],
    ],
)
def test_can_refuse_bad_rename_bodies_without_writing(api, body):
    # GIVEN a token
    create_token(api, name="keep")
    public_id = listed(api)[0].token_id
    if isinstance(body, dict) and body.get("tokenID") == "__ID__":
        body = {"tokenID": public_id}
    # WHEN a bad body is sent
    status, answer = api.json("PUT", f"/api/v2/apitoken/{public_id}", body)
    # THEN it is a 400 in the native dialect and the name is unchanged
    assert status == 400
    assert answer["status"]["result"] == "ERROR"
    assert [t.token_name for t in listed(api)] == ["keep"]


def test_can_refuse_malformed_json_body(api):
    create_token(api, name="keep")
    public_id = listed(api)[0].token_id
    status, _ = api.json("PUT", f"/api/v2/apitoken/{public_id}", raw="{not json")
    assert status == 400
    assert [t.token_name for t in listed(api)] == ["keep"]


def test_can_revoke_own_token_and_its_next_use_is_401(api):
    # GIVEN two tokens
    first = create_token(api, name="first")
    create_token(api, name="second")
    first_id = next(t.token_id for t in listed(api) if t.token_name == "first")
    assert listed(api, token=first)
    # WHEN the first is revoked
    status, body = api.json("DELETE", f"/api/v2/apitoken/{first_id}")
    # THEN the answer is the remaining list
    assert status == 200
    assert [t.token_name for t in wire(body, "ResponseContainerListUserApiToken").response] == ["second"]
    # AND the revoked secret answers 401 on its next use
    status, body = api.json("GET", "/api/v2/apitoken", token=first)
    assert status == 401 and body["status"]["code"] == 401
    # AND revoking it again is a 404
    assert api.json("DELETE", f"/api/v2/apitoken/{first_id}")[0] == 404


def test_can_refuse_the_21st_token_with_a_clear_400(api):
    # GIVEN an account with 20 tokens
    from chalicelib.auth import apitokens

    for _ in range(19):
        apitokens.create(api.root, api.admin, "user")
    create_token(api)
    # WHEN it asks for a 21st
    status, body = api.json("POST", "/api/v2/apitoken", {})
    # THEN it is a 400 that says why, and nothing was written
    assert status == 400
    assert "at most 20" in body["status"]["message"]
    tokens = listed(api)
    assert len(tokens) == 20
    # AND after a revoke there is room for exactly one more
    assert api.json("DELETE", f"/api/v2/apitoken/{tokens[0].token_id}")[0] == 200
    create_token(api)
    assert api.json("POST", "/api/v2/apitoken", {})[0] == 400


def test_can_not_touch_another_accounts_token_through_own_routes(api, make_user):
    # GIVEN the admin's token and a user allowed to manage their own tokens
    create_token(api)
    admin_token_id = listed(api)[0].token_id
    user = make_user(["apitoken.read", "apitoken.create", "apitoken.*.update", "apitoken.*.delete"])
    # WHEN the user lists, renames and revokes through their own routes
    # THEN the admin's token is invisible and answers 404
    assert listed(api, token=user.token) == []
    assert api.json("PUT", f"/api/v2/apitoken/{admin_token_id}", {"tokenName": "x"}, token=user.token)[0] == 404
    assert api.json("DELETE", f"/api/v2/apitoken/{admin_token_id}", token=user.token)[0] == 404
    assert len(listed(api)) == 1


def test_can_refuse_token_routes_without_permission(api, make_user):
    # GIVEN a user who may only read their tokens, and a service account
    user = make_user(["apitoken.read"])
    make_service_account(api.root)
    # WHEN it tries anything else
    # THEN 403 everywhere
    assert api.json("GET", "/api/v2/apitoken", token=user.token)[0] == 200
    for method, path, body in [
        ("POST", "/api/v2/apitoken", {}),
        ("PUT", "/api/v2/apitoken/x", {"tokenName": "y"}),
        ("DELETE", "/api/v2/apitoken/x", None),
        ("GET", "/api/v2/apitoken/serviceaccount/sa::bot", None),
        ("POST", "/api/v2/apitoken/serviceaccount/sa::bot", {}),
        ("GET", "/api/v2/apitoken/customertokens", None),
        ("GET", "/api/v2/apitoken/customertokens/x", None),
        ("PUT", "/api/v2/apitoken/customertokens/revoke", {"id": "x"}),
    ]:
        status, answer = api.json(method, path, body, token=user.token)
        assert status == 403, (method, path, answer)


def test_can_keep_admin_routes_from_who_only_manages_own_tokens(api, make_user):
    # GIVEN a user holding Browse and API Tokens (the Wavefront permissions' ACL), a
    # service account, and a token manager holding apitoken.#
    own = make_user(
        ["*.read", "*.*.read", "apitoken.read", "apitoken.create", "apitoken.*.update", "apitoken.*.delete"]
    )
    manager = make_user(["apitoken.#"])
    make_service_account(api.root)
    create_token(api, token=own.token)
    for method, path, body in [
        ("GET", "/api/v2/apitoken/serviceaccount/sa::bot", None),
        ("POST", "/api/v2/apitoken/serviceaccount/sa::bot", {}),
        ("GET", "/api/v2/apitoken/customertokens", None),
        ("PUT", "/api/v2/apitoken/customertokens/revoke", {"id": listed(api, token=own.token)[0].token_id}),
    ]:
        # WHEN each reaches for the service-account and admin routes
        # THEN wildcards meant for one's own tokens and for browsing do not reach them
        assert api.json(method, path, body, token=own.token)[0] == 403, (method, path)
        assert api.json(method, path, body, token=manager.token)[0] == 200, (method, path)


def test_can_refuse_missing_and_unknown_tokens(api):
    for token in ("00000000-0000-4000-8000-000000000000", "not-a-token"):
        status, body = api.json("GET", "/api/v2/apitoken", token=token)
        assert status == 401
        assert body["status"]["result"] == "ERROR"


# ---- service accounts ---------------------------------------------------------------------


def test_can_generate_service_account_tokens_newest_last_with_secret(api):
    # GIVEN a service account
    sa = make_service_account(api.root)
    # WHEN the admin generates two tokens for it (by identifier, then by uuid)
    status, body = api.json("POST", "/api/v2/apitoken/serviceaccount/sa%3A%3Abot", {"tokenName": "one"})
    assert status == 200, body
    first = wire(body, "ResponseContainerListUserApiToken").response
    status, body = api.json("POST", f"/api/v2/apitoken/serviceaccount/{sa}", {"tokenName": "two"})
    second = wire(body, "ResponseContainerListUserApiToken").response
    # THEN each answer lists every token, the new one last with its secret
    assert [t.token_name for t in first] == ["one"]
    assert [t.token_name for t in second] == ["one", "two"]
    assert second[0].token_id != first[0].token_id  # the older one shows its public id now
    assert {t.account_type for t in second} == {"SERVICE_ACCOUNT"}
    assert {t.account for t in second} == {"sa::bot"}
    # AND the secret works for the service account with its own ACL
    own = listed(api, token=second[1].token_id)
    assert [t.token_name for t in own] == ["one", "two"]
    assert api.json("GET", "/api/v2/apitoken/customertokens", token=second[1].token_id)[0] == 403


def test_can_list_rename_and_revoke_service_account_tokens(api):
    # GIVEN a service account with a token
    make_service_account(api.root)
    status, body = api.json("POST", "/api/v2/apitoken/serviceaccount/sa::bot", {})
    secret = wire(body, "ResponseContainerListUserApiToken").response[0].token_id
    status, body = api.json("GET", "/api/v2/apitoken/serviceaccount/sa::bot")
    assert status == 200
    public_id = wire(body, "ResponseContainerListUserApiToken").response[0].token_id
    assert public_id != secret
    # WHEN it is renamed
    status, body = api.json(
        "PUT", f"/api/v2/apitoken/serviceaccount/sa::bot/{public_id}", {"tokenID": public_id, "tokenName": "deploy"}
    )
    # THEN the answer is the renamed token
    assert status == 200, body
    assert wire(body, "ResponseContainerUserApiToken").response.token_name == "deploy"
    # WHEN it is revoked
    status, body = api.json("DELETE", f"/api/v2/apitoken/serviceaccount/sa::bot/{public_id}")
    # THEN the remaining list is empty and the secret answers 401
    assert status == 200
    assert wire(body, "ResponseContainerListUserApiToken").response == []
    assert api.json("GET", "/api/v2/apitoken", token=secret)[0] == 401


def test_can_answer_404_for_user_accounts_and_unknown_service_accounts(api):
    # GIVEN no service account named so, and the admin user (not a service account)
    for ident in ("sa::nobody", "admin", api.admin, "x" * 600):
        # WHEN its tokens are asked for
        status, body = api.json("GET", f"/api/v2/apitoken/serviceaccount/{ident}")
        # THEN 404
        assert status == 404, ident
        assert api.json("POST", f"/api/v2/apitoken/serviceaccount/{ident}", {})[0] == 404


def test_can_refuse_tokens_of_a_deactivated_service_account(api):
    # GIVEN a service account token that works
    sa = make_service_account(api.root)
    status, body = api.json("POST", "/api/v2/apitoken/serviceaccount/sa::bot", {})
    secret = wire(body, "ResponseContainerListUserApiToken").response[0].token_id
    assert api.json("GET", "/api/v2/apitoken", token=secret)[0] == 200
    # WHEN the account is deactivated
    set_enabled(api.root, sa, False)
    # THEN its token answers 401
    assert api.json("GET", "/api/v2/apitoken", token=secret)[0] == 401
    # AND the admin sees the token as an inactive service account's
    status, body = api.json("GET", "/api/v2/apitoken/serviceaccount/sa::bot")
    assert wire(body, "ResponseContainerListUserApiToken").response[0].account_type == "INACTIVE_SERVICE_ACCOUNT"
    # AND it works again once reactivated
    set_enabled(api.root, sa, True)
    assert api.json("GET", "/api/v2/apitoken", token=secret)[0] == 200


# ---- the admin's view -----------------------------------------------------------------------


def test_can_list_get_and_revoke_every_token_of_the_tenant(api, make_user):
    # GIVEN tokens of the admin, of a user and of a service account
    create_token(api, name="admin-token")
    user = make_user(["apitoken.read", "apitoken.create"])
    user_secret = create_token(api, token=user.token, name="user-token")
    make_service_account(api.root)
    api.json("POST", "/api/v2/apitoken/serviceaccount/sa::bot", {"tokenName": "sa-token"})
    # WHEN the admin lists the tenant's tokens
    status, body = api.json("GET", "/api/v2/apitoken/customertokens")
    # THEN every token is there in the ApiTokenModel shape
    assert status == 200
    tokens = wire(body, "ResponseContainerListApiTokenModel").response
    by_name = {t.name: t for t in tokens}
    assert set(by_name) == {"admin-token", "user-token", "sa-token"}
    assert by_name["user-token"].account == user.username
    assert by_name["sa-token"].account_type == "SERVICE_ACCOUNT"
    assert {t.customer for t in tokens} == {api.root}
    # AND one token can be read by id
    status, body = api.json("GET", f"/api/v2/apitoken/customertokens/{by_name['user-token'].id}")
    assert wire(body, "ResponseContainerApiTokenModel").response.name == "user-token"
    # WHEN the admin revokes the user's token
    status, body = api.json("PUT", "/api/v2/apitoken/customertokens/revoke", {"id": by_name["user-token"].id})
    # THEN the answer is the revoked token and its secret stops working
    assert status == 200, body
    assert wire(body, "ResponseContainerUserApiToken").response.token_id == by_name["user-token"].id
    assert api.json("GET", "/api/v2/apitoken", token=user_secret)[0] == 401
    assert api.json("GET", f"/api/v2/apitoken/customertokens/{by_name['user-token'].id}")[0] == 404
    # AND an unknown or missing id is refused
    assert api.json("PUT", "/api/v2/apitoken/customertokens/revoke", {"id": by_name["user-token"].id})[0] == 404
    assert api.json("PUT", "/api/v2/apitoken/customertokens/revoke", {})[0] == 400


def test_can_revoke_by_the_user_api_token_body_too(api):
    create_token(api)
    public_id = listed(api)[0].token_id
    status, body = api.json("PUT", "/api/v2/apitoken/customertokens/revoke", {"tokenID": public_id})
    assert status == 200
    assert listed(api) == []


# ---- tenants ----------------------------------------------------------------------------------


def test_can_never_reach_another_tenants_tokens(api, make_user, make_tenant):
    # GIVEN two sibling tenants, each with a token-managing user holding an API token,
    # and a service account in tenant B
    acl = ["apitoken.#"]
    a, b = make_tenant("a"), make_tenant("b")
    user_a = make_user(acl, tenant=a, username="alice")
    user_b = make_user(acl, tenant=b, username="bob")
    secret_a = create_token(api, token=user_a.token, name="a")
    secret_b = create_token(api, token=user_b.token, name="b")
    make_service_account(b, "sa::b-bot")
    b_id = listed(api, token=secret_b)[0].token_id
    # WHEN tenant A's token lists the tenant's tokens
    status, body = api.json("GET", "/api/v2/apitoken/customertokens", token=secret_a)
    # THEN B's are not there
    assert [t.name for t in wire(body, "ResponseContainerListApiTokenModel").response] == ["a"]
    # AND every way to reach B's token or B's service account answers 404
    assert api.json("GET", f"/api/v2/apitoken/customertokens/{b_id}", token=secret_a)[0] == 404
    assert api.json("PUT", "/api/v2/apitoken/customertokens/revoke", {"id": b_id}, token=secret_a)[0] == 404
    assert api.json("DELETE", f"/api/v2/apitoken/{b_id}", token=secret_a)[0] == 404
    assert api.json("PUT", f"/api/v2/apitoken/{b_id}", {"tokenName": "x"}, token=secret_a)[0] == 404
    assert api.json("GET", "/api/v2/apitoken/serviceaccount/sa::b-bot", token=secret_a)[0] == 404
    assert api.json("POST", "/api/v2/apitoken/serviceaccount/sa::b-bot", {}, token=secret_a)[0] == 404
    # AND naming tenant B as the acting tenant is refused
    assert api.json("GET", "/api/v2/apitoken/customertokens", token=secret_a, headers={"X-Tenant-Id": b})[0] == 403
    # AND B's token is untouched
    assert [t.token_name for t in listed(api, token=secret_b)] == ["b"]


def test_can_let_a_partner_manage_a_child_tenants_tokens(api, make_user, make_tenant):
    # GIVEN a child tenant with a user token, and the root admin (its partner)
    child = make_tenant("child")
    user = make_user(["apitoken.#"], tenant=child, username="carol")
    secret = create_token(api, token=user.token, name="carol-token")
    # WHEN the admin acts on the child tenant
    headers = {"X-Tenant-Id": child}
    status, body = api.json("GET", "/api/v2/apitoken/customertokens", headers=headers)
    tokens = wire(body, "ResponseContainerListApiTokenModel").response
    # THEN it sees and revokes the child's token, not its own
    assert [t.name for t in tokens] == ["carol-token"]
    status, _ = api.json("PUT", "/api/v2/apitoken/customertokens/revoke", {"id": tokens[0].id}, headers=headers)
    assert status == 200
    assert api.json("GET", "/api/v2/apitoken", token=secret)[0] == 401


# ---- transactions -----------------------------------------------------------------------------


def conflict() -> Exception:
    """What PynamoDB raises when DynamoDB cancels a transaction for a concurrent one."""
    from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=[None, CancellationReason(code="TransactionConflict")],
    )
    return TransactWriteError("Failed to write transaction items", cause)


def test_can_retry_a_transaction_cancelled_by_a_concurrent_one(aws):
    # GIVEN writes whose first attempt loses to a concurrent transaction
    from chalicelib.auth import apitokens
    from chalicelib.store.models import TokenItem

    attempts = []

    def build(tx):
        attempts.append(1)
        if len(attempts) == 1:
            raise conflict()
        tx.save(TokenItem("t#retry", "row", doc="{}"))

    # WHEN they run as one transaction
    apitokens.transact(build)
    # THEN the second attempt wrote them
    assert len(attempts) == 2
    assert TokenItem.get("t#retry", "row").doc == "{}"


def test_can_give_up_with_a_conflict_when_every_attempt_is_cancelled(aws):
    from chalicelib.auth import apitokens
    from chalicelib.errors import Conflict

    def build(tx):
        raise conflict()

    with pytest.raises(Conflict):
        apitokens.transact(build, attempts=2)
