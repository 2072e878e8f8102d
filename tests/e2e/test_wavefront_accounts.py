"""Accounts, service accounts, user groups and roles through the unmodified Wavefront client
(AccountUserAndServiceAccountApi, UserGroupApi, RoleApi) against the live server.

Tests work as a user who may do anything in a sub-tenant the module shares (a fresh one when
a test pages through a listing); people who log in are provisioned over the Wazo routes."""

from __future__ import annotations

import pytest
import requests
import wavefront_api_client as wf

from tests.e2e.clients import TIMEOUT, new_person, new_tenant_admin, refused_status, unique, wavefront

pytestmark = pytest.mark.e2e

BROWSE = ["*.read", "*.*.read"]


@pytest.fixture
def client(server, boss) -> wf.ApiClient:
    return wavefront(server.url, boss.token)


def _email() -> str:
    return f"{unique('bob')}@example.com"


def _role(client: wf.ApiClient, *permissions: str) -> wf.RoleDTO:
    body = wf.RoleCreateDTO(name=unique("role"), permissions=list(permissions), description="e2e")
    return wf.RoleApi(client).create_role(body=body).response


def _group(client: wf.ApiClient, *role_ids: str) -> wf.UserGroupModel:
    body = wf.UserGroupWrite(name=unique("group"), role_ids=list(role_ids), description="e2e")
    return wf.UserGroupApi(client).create_user_group(body=body).response


def _can_create_alert(server, token: str) -> int:
    body = {"name": unique("probe"), "condition": "ts(cpu.load) > 1", "minutes": 1, "severity": "INFO"}
    return requests.post(
        server.url + "/api/v2/alert", json=body, headers={"X-AUTH-TOKEN": token}, timeout=TIMEOUT
    ).status_code


# ---- user accounts --------------------------------------------------------------------------------------


def test_can_create_and_read_a_user_account_by_its_email_identifier(client, boss):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    email = _email()

    # WHEN a user is created with a permission
    created = accounts.create_or_update_user_account(
        body=wf.UserToCreate(email_address=email, groups=["events_management"], user_groups=[])
    )

    # THEN the bare UserModel answers, and the identifier (with "@", percent-encoded by the client) reads back
    assert created.identifier == email
    assert created.customer == boss.tenant
    assert "events_management" in created.groups
    fetched = accounts.get_user_account(email)
    assert fetched.identifier == email and "events_management" in fetched.groups
    assert accounts.get_account(email).response.identifier == email
    assert email in {u.identifier for u in accounts.get_all_user_accounts().response}
    page = accounts.get_all_accounts(offset=0, limit=100).response
    assert email in {a.identifier for a in page.items}
    assert page.more_items is False


def test_can_update_a_user_account(client):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    email = _email()
    accounts.create_or_update_user_account(body=wf.UserToCreate(email_address=email, groups=[], user_groups=[]))

    updated = accounts.update_user_account(
        email, body=wf.UserRequestDTO(identifier=email, groups=["alerts_management", "events_management"])
    )

    assert set(updated.groups) >= {"alerts_management", "events_management"}
    assert set(accounts.get_user_account(email).groups) >= {"alerts_management", "events_management"}


def test_can_grant_and_revoke_a_permission(client):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    email, other = _email(), _email()
    for address in (email, other):
        accounts.create_or_update_user_account(body=wf.UserToCreate(email_address=address, groups=[], user_groups=[]))

    # WHEN a permission is granted to one account, then to several
    assert "dashboard_management" in accounts.grant_account_permission(email, "dashboard_management").groups
    accounts.grant_permission_to_accounts("events_management", body=[email, other])

    # THEN both hold it; revoking takes it away again
    assert "events_management" in accounts.get_user_account(other).groups
    assert "dashboard_management" not in accounts.revoke_account_permission(email, "dashboard_management").groups
    accounts.revoke_permission_from_accounts("events_management", body=[email, other])
    assert "events_management" not in accounts.get_user_account(email).groups
    assert "events_management" not in accounts.get_user_account(other).groups


def test_can_refuse_an_unknown_permission_and_an_unknown_account(client):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    email = _email()
    accounts.create_or_update_user_account(body=wf.UserToCreate(email_address=email, groups=[], user_groups=[]))

    assert refused_status(lambda: accounts.grant_account_permission(email, "world_domination")) == 400
    assert refused_status(lambda: accounts.get_user_account(_email())) == 404
    assert (
        refused_status(
            lambda: accounts.create_or_update_user_account(
                body=wf.UserToCreate(email_address="not-an-email", groups=[], user_groups=[])
            )
        )
        == 400
    )


def test_can_add_and_remove_an_accounts_roles_and_user_groups(client):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    email = _email()
    accounts.create_or_update_user_account(body=wf.UserToCreate(email_address=email, groups=[], user_groups=[]))
    role, group = _role(client, "events_management"), _group(client)

    with_role = accounts.add_account_to_roles(email, body=[role.id])
    with_group = accounts.add_account_to_user_groups(email, body=[group.id])

    assert role.id in {r.id for r in with_role.roles or []}
    assert group.id in {g.id for g in with_group.user_groups}
    assert email in (wf.UserGroupApi(client).get_user_group(group.id).response.users or [])

    without_role = accounts.remove_account_from_roles(email, body=[role.id])
    without_group = accounts.remove_account_from_user_groups(email, body=[group.id])

    assert role.id not in {r.id for r in without_role.roles or []}
    assert group.id not in {g.id for g in without_group.user_groups}


def test_can_list_the_accounts_with_the_accounts_permission(client, boss):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    email = _email()
    accounts.create_or_update_user_account(
        body=wf.UserToCreate(email_address=email, groups=["user_management"], user_groups=[])
    )
    plain = _email()
    accounts.create_or_update_user_account(body=wf.UserToCreate(email_address=plain, groups=[], user_groups=[]))

    admins = accounts.get_users_with_accounts_permission().response

    assert email in admins and boss.username in admins
    assert plain not in admins


def test_can_delete_accounts_one_and_many(client):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    one, two, three = _email(), _email(), _email()
    for address in (one, two, three):
        accounts.create_or_update_user_account(body=wf.UserToCreate(email_address=address, groups=[], user_groups=[]))

    accounts.delete_account(one)
    deleted = accounts.delete_multiple_accounts(body=[two, three]).response

    assert set(deleted) == {two, three}
    for address in (one, two, three):
        assert refused_status(lambda a=address: accounts.get_user_account(a)) == 404


def test_can_give_a_logged_in_user_the_permissions_of_its_roles(server, admin_token, boss, client):
    # GIVEN a user of the tenant who may only browse
    person = new_person(server.url, admin_token, BROWSE, tenant=boss.tenant)
    accounts = wf.AccountUserAndServiceAccountApi(client)
    assert _can_create_alert(server, person.token) == 403

    # WHEN it is given a role holding alerts_management
    role = _role(client, "alerts_management")
    accounts.add_account_to_roles(person.username, body=[role.id])

    # THEN its very next request may create alerts; removing the role takes that away
    assert _can_create_alert(server, person.token) == 200
    accounts.remove_account_from_roles(person.username, body=[role.id])
    assert _can_create_alert(server, person.token) == 403


# ---- service accounts ---------------------------------------------------------------------------------


def test_can_manage_a_service_account_and_its_active_state(server, client):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    role = _role(client, "alerts_management")
    identifier = "sa::" + unique("robot")

    # GIVEN a service account with a role and a token
    created = accounts.create_service_account(
        body=wf.ServiceAccountWrite(identifier=identifier, active=True, description="first", roles=[role.id])
    ).response
    assert created.identifier == identifier and created.active is True
    wf.ApiTokenApi(client).generate_token_service_account(identifier)
    secret = wf.ApiTokenApi(client).generate_token_service_account(identifier).response[-1].token_id
    robot = wf.AlertApi(wavefront(server.url, secret))
    assert robot.get_all_alert().status.code == 200

    # WHEN it is read, listed and updated
    assert accounts.get_service_account(identifier).response.description == "first"
    assert identifier in {s.identifier for s in accounts.get_all_service_accounts().response}
    updated = accounts.update_service_account(
        identifier,
        body=wf.ServiceAccountWrite(identifier=identifier, active=True, description="second", roles=[role.id]),
    ).response
    assert updated.description == "second"
    assert role.id in {r.id for r in updated.roles or []}

    # WHEN it is deactivated THEN its token answers 401; activated again, it works again
    assert accounts.deactivate_account(identifier).response.active is False
    assert accounts.get_service_account(identifier).response.active is False
    assert refused_status(robot.get_all_alert) == 401
    assert accounts.activate_account(identifier).response.active is True
    assert robot.get_all_alert().status.code == 200

    # WHEN it is deleted THEN it is gone and so is its token
    accounts.delete_account(identifier)
    assert refused_status(lambda: accounts.get_service_account(identifier)) == 404
    assert refused_status(robot.get_all_alert) == 401


def test_can_refuse_a_service_account_with_a_bad_identifier(client):
    accounts = wf.AccountUserAndServiceAccountApi(client)

    status = refused_status(
        lambda: accounts.create_service_account(
            body=wf.ServiceAccountWrite(identifier="robot-without-prefix", active=True)
        )
    )

    assert status == 400


def test_can_refuse_a_duplicate_service_account(client):
    accounts = wf.AccountUserAndServiceAccountApi(client)
    identifier = "sa::" + unique("twin")
    accounts.create_service_account(body=wf.ServiceAccountWrite(identifier=identifier, active=True))

    status = refused_status(
        lambda: accounts.create_service_account(body=wf.ServiceAccountWrite(identifier=identifier, active=True))
    )

    assert status in (400, 409)


# ---- user groups ----------------------------------------------------------------------------------------


def test_can_create_read_list_update_and_delete_a_user_group(client):
    groups = wf.UserGroupApi(client)
    group = _group(client)
    assert group.id and group.name

    assert groups.get_user_group(group.id).response.name == group.name
    page = groups.get_all_user_groups(offset=0, limit=100).response
    assert group.id in {g.id for g in page.items}
    renamed = unique("renamed")
    updated = groups.update_user_group(
        group.id, body=wf.UserGroupWrite(id=group.id, name=renamed, role_ids=[], description="changed")
    ).response
    assert updated.name == renamed and updated.description == "changed"
    assert groups.get_user_group(group.id).response.name == renamed

    groups.delete_user_group(group.id)
    assert refused_status(lambda: groups.get_user_group(group.id)) == 404


def test_can_page_user_groups_with_offset_and_limit(server, admin_token):
    client = wavefront(server.url, new_tenant_admin(server.url, admin_token).token)
    groups = wf.UserGroupApi(client)
    made = {_group(client).id for _ in range(3)}

    # WHEN the groups are read two at a time until no more are announced
    pages, offset = [], 0
    while True:
        page = groups.get_all_user_groups(offset=offset, limit=2).response
        pages.append(page)
        offset += len(page.items)
        if not page.more_items or len(pages) > 10:
            break

    # THEN every page but the last is full, each group comes once, and the total is right
    seen = [g.id for p in pages for g in p.items]
    assert all(len(p.items) == 2 for p in pages[:-1]) and 1 <= len(pages[-1].items) <= 2
    assert len(seen) == len(set(seen)) == pages[0].total_items
    assert made <= set(seen)
    assert len(pages) >= 2


def test_can_add_and_remove_users_and_roles_of_a_user_group(server, admin_token, boss, client):
    # GIVEN a browse-only user and an empty group
    person = new_person(server.url, admin_token, BROWSE, tenant=boss.tenant)
    groups = wf.UserGroupApi(client)
    group, role = _group(client), _role(client, "alerts_management")
    assert _can_create_alert(server, person.token) == 403

    # WHEN the user and a role with alerts_management join the group
    with_user = groups.add_users_to_user_group(group.id, body=[person.username]).response
    with_role = groups.add_roles_to_user_group(group.id, body=[role.id]).response

    # THEN the group lists them and the user may create alerts
    assert person.username in (with_user.users or [])
    assert role.id in {r.id for r in with_role.roles or []}
    assert _can_create_alert(server, person.token) == 200

    # WHEN they leave THEN the permission goes
    assert role.id not in {
        r.id for r in groups.remove_roles_from_user_group(group.id, body=[role.id]).response.roles or []
    }
    assert person.username not in (
        groups.remove_users_from_user_group(group.id, body=[person.username]).response.users or []
    )
    assert _can_create_alert(server, person.token) == 403


def test_can_hide_a_user_group_from_another_tenant(server, admin_token, client):
    group = _group(client)
    stranger = wf.UserGroupApi(wavefront(server.url, new_tenant_admin(server.url, admin_token).token))

    assert refused_status(lambda: stranger.get_user_group(group.id)) == 404
    assert refused_status(lambda: stranger.delete_user_group(group.id)) == 404
    assert group.id not in {g.id for g in stranger.get_all_user_groups(offset=0, limit=100).response.items}


# ---- roles ---------------------------------------------------------------------------------------------


def test_can_create_read_list_update_and_delete_a_role(client):
    roles = wf.RoleApi(client)
    role = _role(client, "alerts_management", "events_management")
    assert set(role.permissions) == {"alerts_management", "events_management"}

    assert roles.get_role(role.id).response.name == role.name
    assert role.id in {r.id for r in roles.get_all_roles(offset=0, limit=100).response.items}
    renamed = unique("renamed")
    updated = roles.update_role(
        role.id, body=wf.RoleUpdateDTO(id=role.id, name=renamed, permissions=["dashboard_management"], description="x")
    ).response
    assert updated.name == renamed and updated.permissions == ["dashboard_management"]

    roles.delete_role(role.id)
    assert refused_status(lambda: roles.get_role(role.id)) == 404


def test_can_grant_and_revoke_a_permission_on_roles(client):
    roles = wf.RoleApi(client)
    first, second = _role(client), _role(client)

    roles.grant_permission_to_roles("events_management", body=[first.id, second.id])
    assert "events_management" in roles.get_role(first.id).response.permissions
    assert "events_management" in roles.get_role(second.id).response.permissions

    roles.revoke_permission_from_roles("events_management", body=[first.id, second.id])
    assert "events_management" not in (roles.get_role(first.id).response.permissions or [])
    assert refused_status(lambda: roles.grant_permission_to_roles("world_domination", body=[first.id])) == 400


def test_can_add_and_remove_assignees_of_a_role(server, admin_token, boss, client):
    # GIVEN a role with alerts_management, a browse-only user and a group
    roles = wf.RoleApi(client)
    role = _role(client, "alerts_management")
    person = new_person(server.url, admin_token, BROWSE, tenant=boss.tenant)
    group = _group(client)

    # WHEN both are assigned
    assigned = roles.add_assignees(role.id, body=[person.username, group.id]).response

    # THEN the role counts them and the user may create alerts
    assert assigned.linked_accounts_count == 1
    assert assigned.linked_groups_count == 1
    assert _can_create_alert(server, person.token) == 200

    # WHEN they are removed THEN the permission goes
    removed = roles.remove_assignees(role.id, body=[person.username, group.id]).response
    assert (removed.linked_accounts_count or 0) == 0
    assert (removed.linked_groups_count or 0) == 0
    assert _can_create_alert(server, person.token) == 403


def test_can_refuse_a_role_that_grants_more_than_the_caller_holds(server, admin_token, boss):
    # GIVEN a user who manages accounts but holds no alerts permission
    manager = new_person(server.url, admin_token, ["role.#", "account.#", "usergroup.#", *BROWSE], tenant=boss.tenant)
    roles = wf.RoleApi(wavefront(server.url, manager.token))

    # WHEN it creates a role with alerts_management THEN refused
    status = refused_status(
        lambda: roles.create_role(body=wf.RoleCreateDTO(name=unique("role"), permissions=["alerts_management"]))
    )

    assert status == 403
