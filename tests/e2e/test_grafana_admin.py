"""grafana-client's `admin` group against the live server (docs/grafana.md): a Grafana
server admin is an opsplane tenant administrator (user_management); settings and
pause_all_alerts are not built."""

from __future__ import annotations

import pytest
import requests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from tests.e2e.clients import login, new_tenant_admin, unique

pytestmark = pytest.mark.e2e


def test_can_drive_the_admin_methods(server, admin_token):
    admin = new_tenant_admin(server.url, admin_token)
    grafana = GrafanaApi.from_url(server.url, credential=admin.token, timeout=30)
    username = unique("jo")
    made = grafana.admin.create_user(
        {"name": "Jo Doe", "email": f"{username}@example.com", "login": username, "password": "first-password-1"}
    )
    assert made["message"] == "User created"
    user_id = made["id"]
    assert grafana.users.get_user(user_id)["name"] == "Jo Doe"
    assert grafana.admin.change_user_password(user_id, "second-password-2")["message"]
    session = login(server.url, username, "second-password-2")["token"]
    assert grafana.admin.change_user_permissions(user_id, True)["message"]
    assert grafana.users.get_user(user_id)["isGrafanaAdmin"] is True
    assert grafana.admin.change_user_permissions(user_id, False)["message"]
    assert grafana.users.get_user(user_id)["isGrafanaAdmin"] is False
    # disabled, its session stops working and it cannot log in; enabled again, it can
    assert grafana.admin.set_user_enabled(user_id, False)["message"] == "User disabled"
    assert grafana.users.get_user(user_id)["isDisabled"] is True
    assert (
        requests.get(server.url + "/api/user", headers={"Authorization": f"Bearer {session}"}, timeout=30).status_code
        == 401
    )
    assert grafana.admin.set_user_enabled(user_id, True)["message"] == "User enabled"
    assert login(server.url, username, "second-password-2")["token"]
    stats = grafana.admin.stats()
    assert (stats["orgs"], stats["users"]) == (1, 2)
    assert grafana.admin.delete_user(user_id)["message"] == "User deleted"
    with pytest.raises(GrafanaClientError) as gone:
        grafana.users.get_user(user_id)
    assert gone.value.status_code == 404
