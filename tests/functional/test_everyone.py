"""The Everyone group: every account of a tenant is a member without a grant, it holds
Browse by default through its role, an admin changes what it gives, and it cannot be
deleted, renamed or lose members. Made with the tenant, and lazily for an older tenant."""

from __future__ import annotations

from typing import Any

import pytest
from wavefront_api_client import ApiClient

from chalicelib.auth import permissions
from chalicelib.identity import accounts, groups

# The product's default: every tenant's Everyone gives Browse (conftest.empty_everyone).
pytestmark = pytest.mark.everyone_default

USERGROUP = "/api/v2/usergroup"
ALERT = "/api/v2/alert"
W = "/api/auth/0.1"


def shape(data: Any, klass: str) -> Any:
    """Deserialize like the client does (ValueError on a missing required field or bad enum)."""
    return ApiClient()._ApiClient__deserialize(data, klass)


def everyone(api: Any, tenant: str | None = None) -> dict[str, Any]:
    group_id = accounts.everyone_id(tenant or api.root)
    status, body = api.json("GET", f"{USERGROUP}/{group_id}")
    assert status == 200, body
    shape(body, "ResponseContainerUserGroupModel")
    return dict(body["response"])


def test_can_list_everyone_with_every_account_and_browse(api, make_user):
    # GIVEN a tenant with one more account, created with no permission at all
    user = make_user([])
    # WHEN the user groups are listed
    status, body = api.json("GET", USERGROUP)
    assert status == 200, body
    page = shape(body, "ResponseContainerPagedUserGroupModel").response
    # THEN Everyone is there, with both accounts, Browse through its role, and only its roles editable
    (found,) = [g for g in page.items if g.name == "Everyone"]
    assert set(found.users) == {"admin", user.username} and found.user_count == 2
    assert [r.name for r in found.roles] == ["Everyone"] and found.roles[0].permissions == ["browse"]
    assert found.properties.name_editable is False and found.properties.users_editable is False
    assert found.properties.roles_editable is True


def test_can_let_a_new_account_read_what_its_tenant_shares_without_a_grant(api, make_user):
    # GIVEN an alert, and a new account holding nothing of its own
    status, made = api.json("POST", ALERT, {"name": "x", "condition": "ts(a) > 1", "minutes": 1, "severity": "INFO"})
    assert status == 200, made
    user = make_user([])
    # THEN it reads alerts (Browse, from Everyone) but cannot change them
    assert api.json("GET", f"{ALERT}/{made['response']['id']}", token=user.token)[0] == 200
    assert api.json("DELETE", f"{ALERT}/{made['response']['id']}", token=user.token)[0] == 403
    # AND its account says so
    status, me = api.json("GET", f"/api/v2/account/{user.username}")
    assert status == 200, me
    assert accounts.everyone_id(api.root) in me["response"]["userGroups"]
    assert "browse" in me["response"]["unitedPermissions"] and me["response"]["groups"] == []


def test_can_let_an_admin_change_what_everyone_gives(api, make_user):
    # GIVEN an account holding nothing of its own
    user = make_user([])
    role_id = groups.everyone_role_id(api.root)
    # WHEN an admin takes Browse away from Everyone's role
    status, body = api.json("POST", "/api/v2/role/revoke/browse", [role_id])
    assert status == 200, body
    # THEN the account no longer reads alerts; given events_management instead, it writes events
    assert api.json("GET", ALERT, token=user.token)[0] == 403
    assert api.json("POST", "/api/v2/role/grant/events_management", [role_id])[0] == 200
    event = {"name": "deploy", "startTime": 1_700_000_000_000, "annotations": {}}
    assert api.json("POST", "/api/v2/event", event, token=user.token)[0] == 200


def test_can_refuse_to_delete_rename_or_empty_everyone(api, make_user):
    user = make_user([])
    group_id = accounts.everyone_id(api.root)
    # WHEN it is deleted, renamed, or a member is removed (Wavefront and Wazo alike)
    assert api.json("DELETE", f"{USERGROUP}/{group_id}")[0] == 400
    assert api.json("PUT", f"{USERGROUP}/{group_id}", {"name": "All"})[0] == 400
    assert api.json("POST", f"{USERGROUP}/{group_id}/removeUsers", [user.username])[0] == 400
    assert api.json("DELETE", f"{W}/groups/{group_id}")[0] == 400
    assert api.json("DELETE", f"{W}/groups/{group_id}/users/{user.uuid}")[0] == 400
    # THEN it is unchanged; adding a member (already one) and editing its description are fine
    assert api.json("POST", f"{USERGROUP}/{group_id}/addUsers", [user.username])[0] == 200
    status, _ = api.json("PUT", f"{USERGROUP}/{group_id}", {"name": "Everyone", "description": "all of us"})
    assert status == 200
    found = everyone(api)
    assert found["name"] == "Everyone" and found["description"] == "all of us"
    assert user.username in found["users"]


def test_can_make_everyone_with_each_new_tenant(api, make_tenant, make_user):
    # GIVEN a new sub-tenant and an account in it holding nothing
    tenant = make_tenant("acme")
    user = make_user([], tenant=tenant)
    # THEN the sub-tenant has its own Everyone, which gives its account Browse there
    assert groups.get_group(tenant, accounts.everyone_id(tenant)).doc["name"] == "Everyone"
    assert accounts.everyone_id(tenant) != accounts.everyone_id(api.root)
    assert api.json("GET", ALERT, token=user.token)[0] == 200


def test_can_make_everyone_lazily_for_a_tenant_older_than_it(api, make_user):
    # GIVEN a tenant whose Everyone group and role do not exist (made before they did)
    from chalicelib.auth.cache import invalidate

    user = make_user([])
    accounts.repo(api.root, accounts.GROUP).purge(accounts.everyone_id(api.root))
    accounts.repo(api.root, accounts.POLICY).purge(groups.everyone_role_id(api.root))
    invalidate()
    assert accounts.repo(api.root, accounts.GROUP).find(accounts.everyone_id(api.root)) is None
    # WHEN one of its accounts calls
    status, _ = api.json("GET", ALERT, token=user.token)
    # THEN Everyone is made on the way, and its default applies at once
    assert status == 200
    assert accounts.repo(api.root, accounts.GROUP).find(accounts.everyone_id(api.root)) is not None
    # AND making it again changes nothing
    assert groups.ensure_everyone(api.root).version == 1


# ---- what the default grant opens, and what it does not ---------------------------------


def test_can_let_a_new_account_read_but_not_change_dashboards_and_events(api, make_user):
    # GIVEN a dashboard and an event, and a new account holding nothing of its own
    from tests.functional.test_dashboard import DASH, body, new_dashboard

    new_dashboard(api, "d")
    event = {"name": "deploy", "startTime": 1_700_000_000_000, "annotations": {}}
    status, made = api.json("POST", "/api/v2/event", event)
    assert status == 200, made
    user = make_user([])
    # THEN Browse (through Everyone) lets it list and read them
    assert api.json("GET", DASH, token=user.token)[0] == 200
    assert api.json("GET", f"{DASH}/d", token=user.token)[0] == 200
    assert api.json("GET", f"/api/v2/event/{made['response']['id']}", token=user.token)[0] == 200
    # AND nothing more: no write, no token of its own, no audit log
    assert api.json("PUT", f"{DASH}/d", body("d", name="Mine"), token=user.token)[0] == 403
    assert api.json("POST", "/api/v2/event", event, token=user.token)[0] == 403
    assert api.json("POST", "/api/v2/apitoken", {}, token=user.token)[0] == 403
    assert api.json("GET", "/api/v2/audit", token=user.token)[0] == 403


def test_can_let_a_new_service_account_read_what_its_tenant_shares(api):
    from chalicelib.auth import apitokens

    # GIVEN an alert, and a service account made with nothing, and its API token
    status, made = api.json("POST", ALERT, {"name": "x", "condition": "ts(a) > 1", "minutes": 1, "severity": "INFO"})
    assert status == 200, made
    status, account = api.json("POST", "/api/v2/account/serviceaccount", {"identifier": "sa::reader", "active": True})
    assert status == 200, account
    found = accounts.find_by_username("sa::reader")
    assert found is not None
    secret, _ = apitokens.create(api.root, found[1], accounts.SERVICE)
    # THEN it reads the alert, and cannot change it
    assert api.json("GET", f"{ALERT}/{made['response']['id']}", token=secret)[0] == 200
    assert api.json("DELETE", f"{ALERT}/{made['response']['id']}", token=secret)[0] == 403


def test_can_keep_what_everyone_gives_out_of_parent_and_sibling_tenants(api, make_tenant, make_user):
    # GIVEN an alert in the root and one in a sub-tenant, and an account of a sibling
    # sub-tenant holding nothing (Browse there, from its own Everyone)
    alert = {"name": "x", "condition": "ts(a) > 1", "minutes": 1, "severity": "INFO"}
    mine = api.json("POST", ALERT, alert)[1]["response"]["id"]
    first, second = make_tenant("first"), make_tenant("second")
    theirs = api.json("POST", ALERT, alert, headers={"Wazo-Tenant": first})[1]["response"]["id"]
    user = make_user([], tenant=second)
    # THEN it reads its own tenant, and neither its parent's nor its sibling's alerts
    assert api.json("GET", ALERT, token=user.token)[0] == 200
    assert api.json("GET", f"{ALERT}/{mine}", token=user.token)[0] == 404
    assert api.json("GET", f"{ALERT}/{theirs}", token=user.token)[0] == 404
    assert api.json("GET", ALERT, token=user.token, headers={"Wazo-Tenant": first})[0] == 403
    assert api.json("GET", ALERT, token=user.token, headers={"Wazo-Tenant": api.root})[0] == 403


def test_can_carry_everyone_through_export_and_import_onto_the_receiving_tenants_own(api, make_tenant):
    # GIVEN a tenant whose Everyone gives events_management (not Browse), with a described
    # group, and an alert that Everyone may view (by the group's id)
    first, second = make_tenant("first"), make_tenant("second")
    inside = {"X-Tenant-Id": first}
    role = groups.everyone_role_id(first)
    assert api.json("POST", "/api/v2/role/revoke/browse", [role], headers=inside)[0] == 200
    assert api.json("POST", "/api/v2/role/grant/events_management", [role], headers=inside)[0] == 200
    group = accounts.everyone_id(first)
    described = {"name": "Everyone", "description": "all of first"}
    assert api.json("PUT", f"{USERGROUP}/{group}", described, headers=inside)[0] == 200
    alert = {"name": "x", "condition": "ts(a) > 1", "minutes": 1, "severity": "INFO"}
    alert_id = api.json("POST", ALERT, alert, headers=inside)[1]["response"]["id"]
    acl = [{"entityId": alert_id, "viewAcl": [group], "modifyAcl": []}]
    assert api.json("PUT", f"{ALERT}/acl/set", acl, headers=inside)[0] == 200, acl
    # WHEN it is exported and imported into another tenant, ids kept
    status, exported = api.json("GET", "/api/v2/export", headers=inside)
    assert status == 200, exported
    there = {"X-Tenant-Id": second}
    status, result = api.json("POST", "/api/v2/import?ids=keep", exported, headers=there)
    assert status == 200, result
    # THEN the second tenant's own Everyone took what the first's gave and said (no second
    # Everyone), the alert's ACL names it, and the second tenant exports the same document
    assert groups.get_group(second, accounts.everyone_id(second)).doc["description"] == "all of first"
    assert [g.id for g in accounts.repo(second, accounts.GROUP).iterate()] == [accounts.everyone_id(second)]
    assert accounts.repo(second, accounts.POLICY).get(groups.everyone_role_id(second)).doc["acl"] == list(
        permissions.patterns_of(["events_management"])
    )
    status, got = api.json("GET", f"{ALERT}/acl?id={alert_id}", headers=there)
    assert status == 200 and [e["id"] for e in got["response"][0]["viewAcl"]] == [accounts.everyone_id(second)], got
    assert api.json("GET", "/api/v2/export", headers=there)[1] == exported
