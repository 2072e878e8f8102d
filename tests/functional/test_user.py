"""Legacy users (`/api/v2/user`): the same accounts as `/api/v2/account`, seen through the
deprecated view. Every answer is deserialized by the real Wavefront client; what one view
writes the other reads; the lockout guard holds for every deletion and revocation."""

from __future__ import annotations

from urllib.parse import urlencode

from chalicelib.auth import permissions
from chalicelib.identity import accounts
from tests.functional.test_account import create_group, create_role, enc, shape
from tests.functional.test_lockout import admin_role, still_admin

U = "/api/v2/user"
BOB = "bob@example.com"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def create(api, email=BOB, query="", **fields):
    status, body = api.json("POST", f"{U}{query}", {"emailAddress": email, **fields})
    assert status == 200, body
    return shape(body, "UserModel")


def form_grant(api, who, permission, verb="grant", **kw):
    return api.json("POST", f"{U}/{enc(who)}/{verb}", raw=urlencode({"group": permission}), headers=FORM, **kw)


def test_can_create_a_user_and_see_it_through_both_views(api):
    # GIVEN a role and a user group
    role = create_role(api, "ops", ["alerts_management"])
    group = create_group(api, "team")
    # WHEN a user is created through the legacy view (sendEmail: no mail goes out)
    model = create(api, query="?sendEmail=true", groups=["events_management"], roles=[role], userGroups=[group])
    assert (model.identifier, model.customer, model.groups) == (BOB, api.root, ["events_management"])
    # (every account is in its tenant's Everyone group too)
    assert [r.id for r in model.roles] == [role]
    assert {g.id for g in model.user_groups} == {group, accounts.everyone_id(api.root)}
    # THEN it is one account: the account API reads the same record
    status, account = api.json("GET", f"/api/v2/account/{enc(BOB)}")
    assert status == 200 and account["response"]["roles"] == [role]
    assert api.json("GET", f"/api/v2/account/user/{enc(BOB)}")[1] == api.json("GET", f"{U}/{enc(BOB)}")[1]
    # AND the legacy list holds users only, as bare UserModels
    status, listed = api.json("GET", U)
    assert status == 200
    assert [shape(u, "UserModel").identifier for u in listed] == sorted(["admin", BOB])
    # AND no second copy was made: exactly one more account
    assert sum(1 for a in accounts.repo(api.root, accounts.ACCOUNT).iterate() if a.doc["username"] == BOB) == 1


def test_can_invite_update_and_validate_users(api):
    status, first = api.json("POST", f"{U}/invite", [{"emailAddress": "a@example.com"}, {"emailAddress": "b@x.io"}])
    assert status == 200 and shape(first, "UserModel").identifier == "a@example.com"
    # The same address twice, or one taken, writes nothing
    before = accounts.repo(api.root, accounts.ACCOUNT).count()
    assert api.json("POST", f"{U}/invite", [{"emailAddress": "c@x.io"}, {"emailAddress": "C@x.io"}])[0] == 400
    assert api.json("POST", f"{U}/invite", [{"emailAddress": "d@x.io"}, {"emailAddress": "a@example.com"}])[0] == 409
    assert accounts.repo(api.root, accounts.ACCOUNT).count() == before

    status, updated = api.json("PUT", f"{U}/{enc('b@x.io')}", {"identifier": "b@x.io", "groups": ["browse"]})
    assert status == 200 and shape(updated, "UserModel").groups == ["browse"]
    assert api.json("PUT", f"{U}/{enc('b@x.io')}", {"identifier": "other@x.io"})[0] == 400

    status, checked = api.json("POST", f"{U}/validateUsers", ["a@example.com", "nobody@x.io", "admin"])
    assert status == 200
    dto = shape(checked, "ResponseContainerValidatedUsersDTO").response
    assert [u.identifier for u in dto.valid_users] == ["a@example.com", "admin"]
    assert dto.invalid_identifiers == ["nobody@x.io"]


def test_can_grant_and_revoke_permissions_by_form_and_by_list(api):
    create(api)
    # The client sends one account's permission as a form field `group`
    status, body = form_grant(api, BOB, "alerts_management")
    assert status == 200 and shape(body, "UserModel").groups == ["alerts_management"]
    status, body = form_grant(api, BOB, "alerts_management", verb="revoke")
    assert status == 200 and body["groups"] == []
    # ... and several accounts' as a JSON list
    create(api, "carol@example.com")
    status, body = api.json("POST", f"{U}/grant/events_management", [BOB, "carol@example.com"])
    assert status == 200 and shape(body, "UserModel").groups == ["events_management"]
    assert api.json("GET", f"{U}/{enc('carol@example.com')}")[1]["groups"] == ["events_management"]
    status, body = api.json("POST", f"{U}/revoke/events_management", [BOB, "carol@example.com"])
    assert status == 200 and body["groups"] == []
    # Bad input: an unknown permission, no form, a JSON body, an unknown account
    assert form_grant(api, BOB, "flying")[0] == 400
    assert api.json("POST", f"{U}/{enc(BOB)}/grant", raw="", headers=FORM)[0] == 400
    status, body = api.json("POST", f"{U}/{enc(BOB)}/grant", {"group": "browse"})
    assert status == 400 and "group" in body["status"]["message"]
    assert form_grant(api, "ghost@example.com", "browse")[0] == 404
    assert api.json("POST", f"{U}/grant/browse", ["ghost@example.com"])[0] == 400  # a list names what is unknown


def test_can_add_and_remove_user_groups(api):
    create(api)
    group = create_group(api, "team")
    everyone = accounts.everyone_id(api.root)  # every account is in it
    status, body = api.json("POST", f"{U}/{enc(BOB)}/addUserGroups", [group])
    assert status == 200 and {g.id for g in shape(body, "UserModel").user_groups} == {group, everyone}
    status, body = api.json("POST", f"{U}/{enc(BOB)}/removeUserGroups", [group])
    assert status == 200 and [g["id"] for g in body["userGroups"]] == [everyone]
    assert api.json("POST", f"{U}/{enc(BOB)}/addUserGroups", ["no-such-group"])[0] == 400


def test_can_answer_business_functions_in_the_shape_the_client_reads(api):
    create(api, groups=["alerts_management"])
    status, body = api.json("GET", f"{U}/{enc(BOB)}/businessFunctions")
    assert status == 200
    assert shape(body, "UserModel").identifier == BOB
    assert "MODIFY_ALERTS" in body["businessFunctions"] and "LOGIN" in body["businessFunctions"]
    assert body["businessFunctions"] == api.json("GET", f"/api/v2/account/{enc(BOB)}/businessFunctions")[1]["response"]


def test_can_delete_users_one_or_many(api):
    create(api)
    create(api, "carol@example.com")
    create(api, "dave@example.com")
    status, body = api.json("DELETE", f"{U}/{enc(BOB)}")
    assert status == 200 and body["response"] is None
    assert api.json("GET", f"{U}/{enc(BOB)}")[0] == 404
    assert api.json("GET", f"/api/v2/account/{enc(BOB)}")[0] == 404
    status, body = api.json("POST", f"{U}/deleteUsers", ["carol@example.com", "dave@example.com"])
    assert status == 200 and sorted(body["response"]) == ["carol@example.com", "dave@example.com"]
    assert api.json("POST", f"{U}/deleteUsers", ["admin"])[0] == 400  # never oneself
    assert api.json("DELETE", f"{U}/{enc('ghost@example.com')}")[0] == 404


def test_can_refuse_every_deletion_or_revocation_of_the_last_administrator(api, make_tenant, make_user):
    # GIVEN a tenant whose only admin holds user_management in its own ACL, and a helper
    tenant = make_tenant("acme")
    boss = make_user(permissions.patterns("user_management"), tenant=tenant, username="boss")
    helper = make_user(["account.#"], tenant=tenant, username="helper")
    # WHEN the helper deletes it, alone or in a list, or anyone revokes its administration
    attempts = [
        api.json("DELETE", f"{U}/boss", token=helper.token),
        api.json("POST", f"{U}/deleteUsers", ["boss"], token=helper.token),
        form_grant(api, "boss", "user_management", verb="revoke", token=boss.token),
        api.json("POST", f"{U}/revoke/user_management", ["boss"], token=boss.token),
        api.json("PUT", f"{U}/boss", {"groups": []}, token=boss.token),
    ]
    # THEN each is a 400 saying why, and the admin is still one
    for status, body in attempts:
        assert status == 400, body
        assert "without an administrator" in body["status"]["message"]
    still_admin(api, boss.token)


def test_can_remove_the_admin_role_from_one_of_two_admins_only(api):
    create(api, "two@example.com", roles=[admin_role(api)])
    assert api.json("DELETE", f"{U}/{enc('two@example.com')}")[0] == 200
    assert api.json("POST", f"{U}/deleteUsers", ["admin"])[0] == 400
    still_admin(api)


def test_can_hide_other_tenants_users(api, make_tenant, make_user):
    tenant = make_tenant("acme")
    other = make_user(["#"], tenant=tenant, username="acme-boss")
    create(api)
    assert api.json("GET", f"{U}/{enc(BOB)}", token=other.token)[0] == 404
    assert form_grant(api, BOB, "browse", token=other.token)[0] == 404
    assert api.json("DELETE", f"{U}/{enc(BOB)}", token=other.token)[0] == 404
    assert [u["identifier"] for u in api.json("GET", U, token=other.token)[1]] == ["acme-boss"]
    dto = api.json("POST", f"{U}/validateUsers", [BOB], token=other.token)[1]["response"]
    assert dto == {"validUsers": [], "invalidIdentifiers": [BOB]}


def test_can_refuse_bad_bodies_with_400_and_write_nothing(api):
    before = accounts.repo(api.root, accounts.ACCOUNT).count()
    for body in (
        {},
        {"emailAddress": "not-an-email"},
        {"emailAddress": 5},
        {"emailAddress": "x@y.io", "groups": ["nope"]},
    ):
        status, answer = api.json("POST", U, body)
        assert status == 400, (body, answer)
    assert api.json("POST", f"{U}/invite", [])[0] == 400
    assert api.json("POST", f"{U}/deleteUsers", [])[0] == 400
    assert api.json("POST", f"{U}/validateUsers", {"a": 1})[0] == 400
    assert accounts.repo(api.root, accounts.ACCOUNT).count() == before
