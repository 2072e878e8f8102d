"""grafana-client's `users`, `organization` and `organizations` groups against the live
server, for the methods built (docs/grafana.md): a user is an opsplane user account, an
org a tenant."""

from __future__ import annotations

import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from tests.e2e.clients import new_person, new_tenant_admin

pytestmark = pytest.mark.e2e


def test_can_search_get_and_look_up_users(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    person = new_person(server.url, admin_token, [], tenant=admin.tenant)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    users = grafana.users
    # search: every page (the client stops at an empty one), one page, by query
    assert {u["id"] for u in users.search_users()} == {admin.uuid, person.uuid}
    assert {u["id"] for u in users.search_users(perpage=1)} == {admin.uuid, person.uuid}
    assert [u["login"] for u in users.search_users(query=person.username, page=1, perpage=10)] == [person.username]
    # get and lookup
    assert users.get_user(person.uuid)["login"] == person.username
    assert users.find_user(person.username)["id"] == person.uuid
    assert users.get_user_teams(person.uuid) == []
    with pytest.raises(GrafanaClientError) as missing:
        users.get_user("no-such-user")
    assert missing.value.status_code == 404


def test_can_read_the_current_org_and_list_orgs(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    current = grafana.organization.get_current_organization()
    assert current["id"] == admin.tenant
    assert [o["id"] for o in grafana.organizations.list_organization()] == [admin.tenant]
    assert grafana.organization.find_organization(current["name"])["id"] == admin.tenant
