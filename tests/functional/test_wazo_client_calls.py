"""The wazo-auth-client commands opsplane answers beyond the basic records (docs/auth.md,
"wazo-auth-client"), sent as the client sends them: a user's groups, the external
authentications (none), the scope check of a token, e-mail addresses and their confirmation,
and the password reset by e-mail."""

from __future__ import annotations

import pytest

from tests.functional.test_wazo_tokens import W, login
from tests.functional.test_wazo_users import new_user


def token_of(api, username: str, password: str) -> str:
    status, body = login(api, username, password)
    assert status == 200, body
    return body["data"]["token"]


def test_can_list_the_groups_of_a_user(api, make_tenant, make_user):
    user = new_user(api, "member")
    groups = [api.json("POST", f"{W}/groups", {"name": name})[1] for name in ("b-team", "a-team", "c-team")]
    for group in groups[:2]:
        assert api.call("PUT", f"{W}/groups/{group['uuid']}/users/{user['uuid']}").status_code == 204
    status, listed = api.json("GET", f"{W}/users/{user['uuid']}/groups?order=name&direction=desc")
    assert status == 200, listed
    # Everyone (Wazo's all-users group) holds every user; names sort without regard to case
    assert [g["name"] for g in listed["items"]] == ["Everyone", "b-team", "a-team"]
    assert listed["total"] == 3
    # Another tenant's user is unknown here; reading needs user.{uuid}.read
    other = make_tenant("other")
    stranger = api.json("POST", f"{W}/users", {"username": "stranger"}, headers={"Wazo-Tenant": other})[1]
    assert api.json("GET", f"{W}/users/{stranger['uuid']}/groups")[0] == 404
    nobody = make_user([])
    assert api.json("GET", f"{W}/users/{user['uuid']}/groups", token=nobody.token)[0] == 403


def test_can_list_no_external_authentications(api, make_user):
    reader = make_user([])
    # One's own list needs no ACL; it is empty, as no external provider is configured
    status, listed = api.json("GET", f"{W}/users/{reader.uuid}/external", token=reader.token)
    assert status == 200 and listed == {"items": [], "total": 0, "filtered": 0}
    assert api.json("GET", f"{W}/users/{api.admin}/external", token=reader.token)[0] == 403
    assert api.json("GET", f"{W}/users/00000000-0000-4000-8000-000000000000/external")[0] == 404


def test_can_check_a_tokens_scopes(api, make_user, make_tenant):
    reader = make_user(["alert.read", "alert.*.read", "!alert.7.read"])
    body = {"scopes": ["alert.read", "alert.1.read", "alert.7.read", "alert.create", "alert.read"]}
    status, checked = api.json("POST", f"{W}/token/{reader.token}/scopes/check", body, token="")
    assert status == 200, checked
    assert checked == {
        "scopes": {"alert.read": True, "alert.1.read": True, "alert.7.read": False, "alert.create": False}
    }
    # The token's own tenant is in reach; its parent is not; an unknown token is a 404
    assert api.json("POST", f"{W}/token/{reader.token}/scopes/check", {**body, "tenant_uuid": api.root})[0] == 200
    below = make_user([], tenant=make_tenant("below"))
    above = {"scopes": ["alert.read"], "tenant_uuid": api.root}
    assert api.json("POST", f"{W}/token/{below.token}/scopes/check", above, token="")[0] == 403
    assert api.json("POST", f"{W}/token/nope/scopes/check", {"scopes": []}, token="")[0] == 404


@pytest.mark.parametrize("body", [{}, {"scopes": "alert.read"}, {"scopes": [1]}, {"scopes": ["x"] * 101}])
def test_can_refuse_a_bad_scope_check(api, body):
    status, answer = api.json("POST", f"{W}/token/{api.token}/scopes/check", body, token="")
    assert status == 400, answer


def addresses(listed: list[dict]) -> list[tuple[str, bool, bool]]:
    return [(e["address"], e["main"], e["confirmed"]) for e in listed]


def test_can_replace_ones_email_addresses(api, make_user):
    user = make_user([])
    path = f"{W}/users/{user.uuid}/emails"
    # WHEN a user sets its addresses (as users.update_emails sends them) THEN new ones are unconfirmed
    body = {"emails": [{"address": "ada@example.com", "main": False}, {"address": "ada@work.example", "main": True}]}
    status, listed = api.json("PUT", path, body, token=user.token)
    assert status == 200, listed
    assert addresses(listed) == [("ada@work.example", True, False), ("ada@example.com", False, False)]
    assert len({e["uuid"] for e in listed}) == 2
    # AND the user shows them, the main one as its e-mail everywhere
    shown = api.json("GET", f"{W}/users/{user.uuid}")[1]
    assert shown["emails"] == listed
    # WHEN an administrator confirms one THEN a later re-upload by the user keeps that state
    admin = {"emails": [{"address": "ada@work.example", "main": True, "confirmed": True}]}
    status, listed = api.json("PUT", f"{W}/admin/users/{user.uuid}/emails", admin)
    assert status == 200 and addresses(listed) == [("ada@work.example", True, True)]
    body = {"emails": [{"address": "ADA@work.example", "main": True}, {"address": "b@example.com"}]}
    again = api.json("PUT", path, body, token=user.token)[1]
    assert addresses(again) == [("ADA@work.example", True, True), ("b@example.com", False, False)]
    assert again[0]["uuid"] == listed[0]["uuid"]  # the same address, the same uuid
    # AND an empty list removes them all
    assert api.json("PUT", path, {"emails": []}, token=user.token)[1] == []
    assert api.json("GET", f"{W}/users/{user.uuid}")[1]["emails"] == []


def test_can_show_an_address_set_elsewhere_as_the_main_one(api):
    user = new_user(api, "legacy", email_address="old@example.com")
    assert addresses(user["emails"]) == [("old@example.com", True, True)]
    api.json("PUT", f"{W}/users/{user['uuid']}/emails", {"emails": [{"address": "x@example.com", "main": True}]})
    # PUT /users with email_address changes the main address: the list becomes that address
    api.json("PUT", f"{W}/users/{user['uuid']}", {"email_address": "new@example.com"})
    assert addresses(api.json("GET", f"{W}/users/{user['uuid']}")[1]["emails"]) == [("new@example.com", True, True)]


@pytest.mark.parametrize(
    "emails",
    [
        [{"address": "a@example.com", "main": False}],
        [{"address": "a@example.com", "main": True}, {"address": "b@example.com", "main": True}],
        [{"address": "a@example.com", "main": True}, {"address": "A@example.com"}],
        [{"address": "not-an-address", "main": True}],
        [{"address": "a@example.com", "main": "yes"}],
        [{"address": f"a{i}@example.com", "main": i == 0} for i in range(11)],
    ],
)
def test_can_refuse_bad_address_lists(api, make_user, emails):
    user = make_user([])
    status, answer = api.json("PUT", f"{W}/users/{user.uuid}/emails", {"emails": emails}, token=user.token)
    assert status == 400, answer
    assert api.json("GET", f"{W}/users/{user.uuid}")[1]["emails"] == []


def test_can_keep_the_admin_route_to_administrators(api, make_user, make_tenant):
    user = make_user([])
    body = {"emails": [{"address": "me@example.com", "main": True, "confirmed": True}]}
    # A user may not confirm its own addresses, nor change another user's
    assert api.json("PUT", f"{W}/admin/users/{user.uuid}/emails", body, token=user.token)[0] == 403
    assert api.json("PUT", f"{W}/users/{api.admin}/emails", body, token=user.token)[0] == 403
    # Another tenant's user is unknown
    other = make_user([], tenant=make_tenant("other"))
    assert api.json("PUT", f"{W}/admin/users/{other.uuid}/emails", body)[0] == 404
