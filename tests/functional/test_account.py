"""Wavefront accounts: users, permissions, roles and user groups of one account, deletion,
tenancy. Every answer is deserialized by the real Wavefront client."""

from __future__ import annotations

import base64
from urllib.parse import quote

from wavefront_api_client import ApiClient

from chalicelib.auth import apitokens, permissions
from chalicelib.identity import accounts
from tests.functional.conftest import mint

BOB = "bob@example.com"


def shape(data, klass):
    """Deserialize like the client does (ValueError on a missing required field or bad enum)."""
    return ApiClient()._ApiClient__deserialize(data, klass)


def enc(identifier):
    """Percent-encode with nothing safe, as the client does."""
    return quote(identifier, safe="")


def create_user(api, email=BOB, **fields):
    status, body = api.json("POST", "/api/v2/account/user", {"emailAddress": email, **fields})
    assert status == 200, body
    shape(body, "UserModel")
    return body


def create_role(api, name, perms):
    status, body = api.json("POST", "/api/v2/role", {"name": name, "permissions": perms})
    assert status == 200, body
    return body["response"]["id"]


def create_group(api, name, role_ids=()):
    status, body = api.json("POST", "/api/v2/usergroup", {"name": name, "roleIDs": list(role_ids)})
    assert status == 200, body
    return body["response"]["id"]


def account_count(api):
    return accounts.repo(api.root, accounts.ACCOUNT).count()


def test_can_create_a_user_by_email_and_read_it_in_every_shape(api):
    # GIVEN a role and a user group
    role = create_role(api, "ops", ["alerts_management"])
    group = create_group(api, "team", [create_role(api, "viewers", ["browse"])])
    # WHEN a user is created with a permission, the role and the group
    body = create_user(api, groups=["events_management"], roles=[role], userGroups=[group])
    # THEN the bare UserModel says so
    assert body["identifier"] == BOB
    assert body["customer"] == api.root
    assert body["groups"] == ["events_management"]
    assert [r["id"] for r in body["roles"]] == [role]
    everyone = accounts.everyone_id(api.root)  # every account is in it (giving nothing here)
    assert {g["id"] for g in body["userGroups"]} == {group, everyone}
    # AND every read shape agrees (the identifier arrives percent-encoded)
    status, user = api.json("GET", f"/api/v2/account/user/{enc(BOB)}")
    assert status == 200 and shape(user, "UserModel").identifier == BOB
    status, account = api.json("GET", f"/api/v2/account/{enc(BOB)}")
    assert status == 200
    model = shape(account, "ResponseContainerAccount").response
    assert model.united_permissions == ["alerts_management", "browse", "events_management"]
    assert model.united_roles and role in model.united_roles and set(model.user_groups) == {group, everyone}
    status, listing = api.json("GET", "/api/v2/account?offset=0&limit=10")
    assert status == 200
    paged = shape(listing, "ResponseContainerPagedAccount").response
    assert {a.identifier for a in paged.items} == {"admin", BOB} and paged.more_items is False
    status, users = api.json("GET", "/api/v2/account/user")
    assert status == 200
    assert [u.identifier for u in shape(users, "ResponseContainerListUserDTO").response] == ["admin", BOB]


def test_can_address_an_account_by_uuid_as_well_as_identifier(api):
    create_user(api)
    found = accounts.find_by_username(BOB)
    assert found is not None
    status, body = api.json("GET", f"/api/v2/account/{found[1]}")
    assert status == 200 and body["response"]["identifier"] == BOB


def test_can_page_accounts_with_offset_and_limit(api):
    for n in range(3):
        create_user(api, f"u{n}@example.com")
    status, first = api.json("GET", "/api/v2/account?offset=0&limit=2")
    status2, rest = api.json("GET", "/api/v2/account?offset=2&limit=2")
    assert status == status2 == 200
    one, two = (
        shape(first, "ResponseContainerPagedAccount").response,
        shape(rest, "ResponseContainerPagedAccount").response,
    )
    assert (len(one.items), one.more_items, one.total_items) == (2, True, 4)
    assert (len(two.items), two.more_items) == (2, False)
    assert {a.identifier for a in one.items} | {a.identifier for a in two.items} == {
        "admin",
        "u0@example.com",
        "u1@example.com",
        "u2@example.com",
    }


def test_can_update_an_existing_user_through_create_or_update(api):
    create_user(api, groups=["events_management", "browse"])
    body = create_user(api, groups=["dashboard_management"])
    assert body["groups"] == ["dashboard_management"]
    assert account_count(api) == 2


def test_can_update_a_user_replacing_only_what_is_given(api):
    # GIVEN a user with a permission, a role and a group
    role, other_role = (
        create_role(api, "ops", ["alerts_management"]),
        create_role(api, "dash", ["dashboard_management"]),
    )
    group = create_group(api, "team")
    create_user(api, groups=["events_management"], roles=[role], userGroups=[group])
    # WHEN only the roles are replaced
    status, body = api.json("PUT", f"/api/v2/account/user/{enc(BOB)}", {"identifier": BOB, "roles": [other_role]})
    # THEN roles change and the rest stays
    assert status == 200, body
    model = shape(body, "UserModel")
    assert [r.id for r in model.roles] == [other_role]
    assert model.groups == ["events_management"]
    everyone = accounts.everyone_id(api.root)
    assert {g.id for g in model.user_groups} == {group, everyone}
    # AND replacing permissions and groups with empty lists clears them (but Everyone, which
    # every account belongs to)
    status, body = api.json("PUT", f"/api/v2/account/user/{enc(BOB)}", {"groups": [], "userGroups": []})
    assert status == 200 and body["groups"] == [] and [g["id"] for g in body["userGroups"]] == [everyone]


def test_can_set_a_user_password_through_the_credential_field(api):
    # GIVEN a user who may browse, without a password
    create_user(api, groups=["browse"])
    _, uuid = accounts.find_by_username(BOB)
    basic = {"Authorization": "Basic " + base64.b64encode(f"{BOB}:a-long-secret".encode()).decode()}
    assert api.json("GET", f"/api/v2/account/{uuid}", token="", headers=basic)[0] == 401
    # WHEN a too short credential is sent, THEN it is refused
    assert api.json("PUT", f"/api/v2/account/user/{enc(BOB)}", {"credential": "short"})[0] == 400
    # WHEN a good one is sent, THEN the user logs in with it
    assert api.json("PUT", f"/api/v2/account/user/{enc(BOB)}", {"credential": "a-long-secret"})[0] == 200
    assert api.json("GET", f"/api/v2/account/{uuid}", token="", headers=basic)[0] == 200


def test_can_refuse_to_rename_a_user(api):
    create_user(api)
    status, body = api.json("PUT", f"/api/v2/account/user/{enc(BOB)}", {"identifier": "eve@example.com"})
    assert status == 400 and body["status"]["code"] == 400


def test_can_grant_and_revoke_a_permission_with_effect(api):
    # GIVEN a user with a session and no permission
    create_user(api)
    tenant, uuid = accounts.find_by_username(BOB)
    token = mint(uuid, tenant, BOB)
    assert api.json("GET", "/api/v2/account", token=token)[0] == 403
    # WHEN the Accounts permission is granted
    status, body = api.json("POST", f"/api/v2/account/{enc(BOB)}/grant/user_management")
    # THEN the bare UserModel shows it and the user may list accounts
    assert status == 200 and shape(body, "UserModel").groups == ["api_tokens", "token_management", "user_management"]
    assert api.json("GET", "/api/v2/account", token=token)[0] == 200
    # AND revoking it takes the access away again
    status, body = api.json("POST", f"/api/v2/account/{enc(BOB)}/revoke/accounts")
    assert status == 200 and shape(body, "UserModel").groups == []
    assert api.json("GET", "/api/v2/account", token=token)[0] == 403


def test_can_grant_and_revoke_a_permission_for_many_accounts(api):
    create_user(api)
    create_user(api, "carol@example.com")
    status, body = api.json("POST", "/api/v2/account/grant/host_tag_management", [BOB, "carol@example.com"])
    assert status == 200 and shape(body, "UserModel").identifier == BOB
    for name in (BOB, "carol@example.com"):
        assert api.json("GET", f"/api/v2/account/{enc(name)}")[1]["response"]["groups"] == ["host_tag_management"]
    status, body = api.json("POST", "/api/v2/account/revoke/host_tag_management", [BOB, "carol@example.com"])
    assert status == 200
    for name in (BOB, "carol@example.com"):
        assert api.json("GET", f"/api/v2/account/{enc(name)}")[1]["response"]["groups"] == []


def test_can_refuse_to_grant_what_the_caller_does_not_hold(api, make_user):
    # GIVEN an account manager who holds the Accounts permission only
    manager = make_user(permissions.patterns("user_management"))
    create_user(api)
    role = create_role(api, "ops", ["alerts_management"])
    # WHEN it grants a permission, a role or a group it does not hold
    attempts = [
        ("POST", f"/api/v2/account/{enc(BOB)}/grant/alerts_management", None),
        ("POST", "/api/v2/account/grant/alerts_management", [BOB]),
        ("POST", f"/api/v2/account/{enc(BOB)}/addRoles", [role]),
        ("POST", f"/api/v2/account/{enc(BOB)}/addUserGroups", [create_group(api, "ops", [role])]),
        ("POST", "/api/v2/account/user", {"emailAddress": "eve@example.com", "groups": ["alerts_management"]}),
    ]
    for method, path, body in attempts:
        status, answer = api.json(method, path, body, token=manager.token)
        # THEN it is refused and nothing changed
        assert status == 403, (path, answer)
        assert answer["status"]["result"] == "ERROR"
    status, body = api.json("GET", f"/api/v2/account/{enc(BOB)}")
    assert body["response"]["unitedPermissions"] == []
    assert accounts.find_by_username("eve@example.com") is None
    # AND what it holds it may grant
    status, body = api.json("POST", f"/api/v2/account/{enc(BOB)}/grant/api_tokens", token=manager.token)
    assert status == 200 and body["groups"] == ["api_tokens"]


def test_can_add_and_remove_roles_and_user_groups_of_an_account(api):
    create_user(api)
    role = create_role(api, "ops", ["alerts_management"])
    group = create_group(api, "dash", [create_role(api, "dash", ["dashboard_management"])])
    status, body = api.json("POST", f"/api/v2/account/{enc(BOB)}/addRoles", [role])
    assert status == 200 and [r.id for r in shape(body, "UserModel").roles] == [role]
    everyone = accounts.everyone_id(api.root)  # every account is in it (giving nothing here)
    status, body = api.json("POST", f"/api/v2/account/{enc(BOB)}/addUserGroups", [group])
    assert status == 200 and {g.id for g in shape(body, "UserModel").user_groups} == {group, everyone}
    united = api.json("GET", f"/api/v2/account/{enc(BOB)}")[1]["response"]["unitedPermissions"]
    assert united == ["alerts_management", "dashboard_management"]
    status, body = api.json("POST", f"/api/v2/account/{enc(BOB)}/removeRoles", [role])
    assert status == 200 and shape(body, "UserModel").roles == []
    status, body = api.json("POST", f"/api/v2/account/{enc(BOB)}/removeUserGroups", [group])
    assert status == 200 and [g.id for g in shape(body, "UserModel").user_groups] == [everyone]


def test_can_refuse_bad_input_with_400_and_write_nothing(api):
    create_user(api)
    before = account_count(api)
    cases = [
        ("POST", "/api/v2/account/user", None, b"{not json"),
        ("POST", "/api/v2/account/user", {"groups": []}, None),
        ("POST", "/api/v2/account/user", {"emailAddress": "not-an-email"}, None),
        ("POST", "/api/v2/account/user", {"emailAddress": 42}, None),
        ("POST", "/api/v2/account/user", {"emailAddress": "eve@example.com", "groups": ["no_such_thing"]}, None),
        ("POST", "/api/v2/account/user", {"emailAddress": "eve@example.com", "roles": ["no-such-role"]}, None),
        ("POST", "/api/v2/account/user", {"emailAddress": "eve@example.com", "userGroups": ["no-such-group"]}, None),
        ("POST", "/api/v2/account/user/invite", [{"emailAddress": "eve@example.com"}, {"emailAddress": "bad"}], None),
        ("POST", f"/api/v2/account/{enc(BOB)}/grant/no_such_thing", None, None),
        ("POST", f"/api/v2/account/{enc(BOB)}/addRoles", ["no-such-role"], None),
        ("POST", f"/api/v2/account/{enc(BOB)}/addUserGroups", ["no-such-group"], None),
        ("POST", f"/api/v2/account/{enc(BOB)}/addRoles", {"not": "a list"}, None),
        ("POST", "/api/v2/account/grant/browse", [], None),
        ("POST", "/api/v2/account/grant/browse", [BOB, "ghost@example.com"], None),
        ("POST", "/api/v2/account/deleteAccounts", [BOB, "ghost@example.com"], None),
        ("GET", "/api/v2/account?limit=0", None, None),
        ("GET", "/api/v2/account?offset=minus", None, None),
    ]
    for method, path, body, raw in cases:
        status, answer = api.json(method, path, body, raw=raw)
        assert status == 400, (method, path, body, answer)
        assert answer["status"] == {"result": "ERROR", "code": 400, "message": answer["status"]["message"]}
    assert account_count(api) == before
    status, bob = api.json("GET", f"/api/v2/account/{enc(BOB)}")
    assert bob["response"]["unitedPermissions"] == [] and bob["response"]["roles"] == []


def test_can_refuse_a_username_taken_anywhere(api, make_tenant, make_user):
    other = make_tenant("other")
    make_user([], tenant=other, username="taken@example.com")
    status, body = api.json("POST", "/api/v2/account/user", {"emailAddress": "taken@example.com"})
    assert status == 409 and body["status"]["code"] == 409


def test_can_invite_several_users(api):
    status, body = api.json(
        "POST",
        "/api/v2/account/user/invite",
        [{"emailAddress": "a@example.com", "groups": ["browse"]}, {"emailAddress": "b@example.com"}],
    )
    assert status == 200 and shape(body, "UserModel").identifier == "a@example.com"
    status, valid = api.json("POST", "/api/v2/account/validateAccounts", ["a@example.com", "b@example.com", "zz"])
    result = shape(valid, "ResponseContainerValidatedUsersDTO").response
    assert [u.identifier for u in result.valid_users] == ["a@example.com", "b@example.com"]
    assert result.invalid_identifiers == ["zz"]


def test_can_delete_an_account_with_its_tokens_and_memberships(api):
    # GIVEN a user in a group, holding an API token that works
    group = create_group(api, "team")
    create_user(api, userGroups=[group], groups=["user_management"])
    tenant, uuid = accounts.find_by_username(BOB)
    secret, _ = apitokens.create(tenant, uuid, accounts.USER, name="ci")
    assert api.json("GET", "/api/v2/account", token="", headers={"X-AUTH-TOKEN": secret})[0] == 200
    # WHEN the account is deleted
    status, body = api.json("DELETE", f"/api/v2/account/{enc(BOB)}")
    # THEN the answer is the deleted account, and it is gone everywhere
    assert status == 200 and shape(body, "ResponseContainerAccount").response.identifier == BOB
    assert api.json("GET", f"/api/v2/account/{enc(BOB)}")[0] == 404
    assert api.json("GET", "/api/v2/account", token="", headers={"X-AUTH-TOKEN": secret})[0] == 401
    assert apitokens.list_tokens(tenant, uuid) == []
    assert api.json("GET", f"/api/v2/usergroup/{group}")[1]["response"]["users"] == []
    # AND the name is free again
    create_user(api)


def test_can_delete_many_accounts_but_not_oneself(api):
    create_user(api)
    create_user(api, "carol@example.com")
    status, body = api.json("POST", "/api/v2/account/deleteAccounts", [BOB, "admin"])
    assert status == 400 and account_count(api) == 3
    status, body = api.json("POST", "/api/v2/account/deleteAccounts", [BOB, "carol@example.com"])
    assert status == 200 and shape(body, "ResponseContainerListString").response == [BOB, "carol@example.com"]
    assert account_count(api) == 1
    assert api.json("DELETE", "/api/v2/account/admin")[0] == 400


def test_can_list_users_with_accounts_permission(api):
    create_user(api, groups=["user_management"])
    create_user(api, "carol@example.com", groups=["browse"])
    status, body = api.json("GET", "/api/v2/account/user/admin")
    assert status == 200 and shape(body, "ResponseContainerListString").response == ["admin", BOB]


def test_can_tell_the_business_functions_of_an_account(api):
    create_user(api, groups=["alerts_management"])
    status, body = api.json("GET", f"/api/v2/account/{enc(BOB)}/businessFunctions")
    assert status == 200
    functions = shape(body, "ResponseContainerSetBusinessFunction").response
    assert {"MODIFY_ALERTS", "LOGIN"} <= set(functions)
    assert "MODIFY_DASHBOARDS" not in functions


def test_can_hide_other_tenants_accounts(api, make_tenant, make_user):
    # GIVEN an account in another tenant
    other = make_tenant("other")
    stranger = make_user([], tenant=other, username="stranger@example.com")
    # THEN it answers 404 by identifier and by uuid, and is never listed
    for ref in (enc(stranger.username), stranger.uuid):
        assert api.json("GET", f"/api/v2/account/{ref}")[0] == 404
        assert api.json("GET", f"/api/v2/account/user/{ref}")[0] == 404
        assert api.json("DELETE", f"/api/v2/account/{ref}")[0] == 404
        assert api.json("POST", f"/api/v2/account/{ref}/grant/browse")[0] == 404
    listing = api.json("GET", "/api/v2/account")[1]["response"]["items"]
    assert stranger.username not in {a["identifier"] for a in listing}
    status, body = api.json("POST", "/api/v2/account/validateAccounts", [stranger.username])
    assert body["response"]["invalidIdentifiers"] == [stranger.username]
    assert api.json("POST", "/api/v2/account/grant/browse", [stranger.username])[0] == 400
    # AND its own admin does not see ours
    boss = make_user(["#"], tenant=other)
    assert api.json("GET", f"/api/v2/account/{enc(BOB)}", token=boss.token)[0] == 404
    names = {a["identifier"] for a in api.json("GET", "/api/v2/account", token=boss.token)[1]["response"]["items"]}
    assert "admin" not in names and stranger.username in names


def test_can_require_the_declared_acl(api, make_user):
    create_user(api)
    reader = make_user(["account.read", "account.*.read"])
    assert api.json("GET", "/api/v2/account", token=reader.token)[0] == 200
    assert api.json("GET", "/api/v2/account/user", token=reader.token)[0] == 200
    assert api.json("GET", "/api/v2/account/user/admin", token=reader.token)[0] == 200
    assert api.json("POST", "/api/v2/account/user", {"emailAddress": "e@example.com"}, token=reader.token)[0] == 403
    assert api.json("POST", "/api/v2/account/grant/browse", [BOB], token=reader.token)[0] == 403
    assert api.json("POST", "/api/v2/account/deleteAccounts", [BOB], token=reader.token)[0] == 403
