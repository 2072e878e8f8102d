"""grafana-client's `organization` and `organizations` groups against the live server
(docs/grafana.md): an org is a tenant, its users the tenant's user accounts, an org role
the account's own permissions."""

from __future__ import annotations

import warnings

import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError
from grafana_client.model import PersonalPreferences

from tests.e2e.clients import new_person, new_tenant_admin, unique

pytestmark = pytest.mark.e2e


def status_of(call, *args) -> int:
    with pytest.raises(GrafanaClientError) as refused:
        call(*args)
    return refused.value.status_code


def test_can_drive_the_current_orgs_methods(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    person = new_person(server.url, admin_token, [], tenant=admin.tenant)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    org = grafana.organization
    current = org.get_current_organization()
    assert current["id"] == admin.tenant
    assert org.find_organization(current["name"])["id"] == admin.tenant
    renamed = unique("org")
    assert org.update_current_organization({"name": renamed}) == {"message": "Organization updated"}
    assert org.get_current_organization()["name"] == renamed
    # users: list, role, add (refused: an account has one org), remove
    assert {u["userId"] for u in org.get_current_organization_users()} == {admin.uuid, person.uuid}
    assert org.update_user_current_organization(person.uuid, {"role": "Editor"})["message"]
    assert next(u for u in org.get_current_organization_users() if u["userId"] == person.uuid)["role"] == "Editor"
    assert status_of(org.add_user_current_organization, {"loginOrEmail": person.username, "role": "Viewer"}) == 409
    assert status_of(org.add_user_current_organization, {"loginOrEmail": unique("x"), "role": "Viewer"}) == 400
    assert org.delete_user_current_organization(person.uuid)["message"] == "User removed from organization"
    assert [u["userId"] for u in org.get_current_organization_users()] == [admin.uuid]
    # preferences: replace, patch, read
    assert org.update_preferences(PersonalPreferences(theme="light", weekStart="sunday"))["message"]
    assert org.patch_preferences(PersonalPreferences(timezone="Europe/Berlin"))["message"]
    prefs = org.get_preferences()
    assert (prefs["theme"], prefs["weekStart"], prefs["timezone"]) == ("light", "sunday", "Europe/Berlin")


def test_can_drive_the_organizations_methods(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    orgs = grafana.organizations
    name = unique("client")
    made = grafana.organization.create_organization({"name": name})
    child = made["orgId"]
    assert [o["id"] for o in orgs.list_organization()] == [admin.tenant, child]
    assert orgs.update_organization(child, {"name": name + "-renamed"})["message"] == "Organization updated"
    assert grafana.organization.find_organization(name + "-renamed")["id"] == child
    # its users: one made there through the admin API
    made_user = grafana.admin.create_user({"login": unique("u"), "password": "long-password-1", "OrgId": child})
    assert [u["userId"] for u in orgs.organization_user_list(child)] == [made_user["id"]]
    assert orgs.organization_user_update(child, made_user["id"], "Viewer")["message"]
    assert orgs.organization_user_list(child)[0]["role"] == "Viewer"
    assert status_of(orgs.organization_user_add, child, {"loginOrEmail": admin.username, "role": "Viewer"}) == 400
    assert orgs.organization_user_delete(child, made_user["id"])["message"]
    assert orgs.organization_user_list(child) == []
    # switching: the org it acts in is done, another one is refused with the reason
    assert orgs.switch_organization(admin.tenant)["message"] == "Active organization changed"
    assert status_of(orgs.switch_organization, child) == 400
    # the deprecated preference methods
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert orgs.organization_preference_update(theme="dark", timezone="utc")["message"]
        prefs = orgs.organization_preference_get()
    assert (prefs["theme"], prefs["timezone"], prefs["homeDashboardId"]) == ("dark", "utc", 0)
    # delete; one's own org stays
    assert orgs.delete_organization(child) == {"message": "Organization deleted"}
    assert status_of(orgs.delete_organization, child) == 410  # gone: a deleted tenant answers 410, never reused
    assert status_of(orgs.delete_organization, admin.tenant) == 403
