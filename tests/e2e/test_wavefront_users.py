"""Legacy users through the unmodified Wavefront client (UserApi, all 15 operations) against
the live server: the same accounts the account API shows, every answer deserialized by the
client's models (required fields, enums)."""

from __future__ import annotations

from typing import Any

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_person, new_tenant_admin, raw_json, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e


def _email() -> str:
    return f"{unique('user')}@example.com"


def test_can_drive_every_user_operation(server, admin_token):
    # GIVEN the admin of a fresh tenant and a user group there
    boss = new_tenant_admin(server.url, admin_token)
    client = wavefront(server.url, boss.token)
    users = wf.UserApi(client)
    group = (
        wf.UserGroupApi(client).create_user_group(body=wf.UserGroupWrite(name=unique("group"), role_ids=[])).response
    )
    first, second, third = _email(), _email(), _email()

    # create (sendEmail is accepted; no mail goes out), invite
    created = users.create_user(
        send_email=True, body=wf.UserToCreate(email_address=first, groups=["events_management"], user_groups=[])
    )
    assert (created.identifier, created.customer, created.groups) == (first, boss.tenant, ["events_management"])
    invited = users.invite_users(
        body=[
            wf.UserToCreate(email_address=second, groups=[], user_groups=[group.id]),
            wf.UserToCreate(email_address=third, groups=["browse"], user_groups=[]),
        ]
    )
    # (every account is also in the tenant's system group Everyone)
    assert invited.identifier == second and _own(invited.user_groups) == [group.id]

    # get all, get one: the same accounts as the account API
    assert sorted(u.identifier for u in users.get_all_users()) == sorted([boss.username, first, second, third])
    assert users.get_user(first).groups == ["events_management"]
    same = wf.AccountUserAndServiceAccountApi(client).get_user_account(first)
    assert same.identifier == first and same.groups == ["events_management"]

    # update
    updated = users.update_user(first, body=wf.UserRequestDTO(identifier=first, groups=["alerts_management"]))
    assert updated.groups == ["alerts_management"]

    # grant / revoke one account's permission (a form field), several accounts' (a list)
    assert users.grant_user_permission(second, group="dashboard_management").groups == ["dashboard_management"]
    assert users.revoke_user_permission(second, group="dashboard_management").groups == []
    assert users.grant_permission_to_users("events_management", body=[second, third]).identifier == second
    assert "events_management" in users.get_user(third).groups
    assert users.revoke_permission_from_users("events_management", body=[second, third]).groups == []

    # user groups
    assert _own(users.add_user_to_user_groups(first, body=[group.id]).user_groups) == [group.id]
    assert _own(users.remove_user_from_user_groups(first, body=[group.id]).user_groups) == []

    # business functions: the client reads a UserModel; the functions ride beside its fields
    assert users.get_user_business_functions(first).identifier == first
    functions = raw_json(lambda **kw: users.get_user_business_functions_with_http_info(first, **kw)[0])
    assert "MODIFY_ALERTS" in functions["businessFunctions"]

    # validate
    checked = users.validate_users(body=[first, "nobody@example.com"]).response
    assert [u.identifier for u in checked.valid_users] == [first]
    assert checked.invalid_identifiers == ["nobody@example.com"]

    # delete one, delete many
    assert users.delete_user(first) is None
    assert refused_status(lambda: users.get_user(first)) == 404
    assert sorted(users.delete_multiple_users(body=[second, third]).response) == sorted([second, third])
    assert [u.identifier for u in users.get_all_users()] == [boss.username]


def test_can_refuse_leaving_a_tenant_without_an_administrator(server, admin_token):
    # GIVEN a tenant whose only administrator is its boss, and a helper who manages accounts
    boss = new_tenant_admin(server.url, admin_token)
    helper = new_person(server.url, boss.token, ["account.#"], tenant=boss.tenant)
    users = wf.UserApi(wavefront(server.url, helper.token))
    # WHEN the helper deletes the boss, or the boss revokes its own administration
    assert refused_status(lambda: users.delete_user(boss.username)) == 400
    assert refused_status(lambda: users.delete_multiple_users(body=[boss.username])) == 400
    own = wf.UserApi(wavefront(server.url, boss.token))
    # (the boss holds `#` through a policy, not user_management directly: revoking that is a no-op)
    assert own.revoke_user_permission(boss.username, group="user_management").identifier == boss.username
    # THEN the boss still administers the tenant
    assert own.get_user(boss.username).identifier == boss.username


def _own(groups: list[Any]) -> list[str]:
    """The ids of the groups an account was put in (not the system group Everyone)."""
    return [g.id for g in groups or [] if g.name != "Everyone"]
