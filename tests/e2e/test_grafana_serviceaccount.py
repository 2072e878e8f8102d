"""grafana-client's `serviceaccount` group, every method, against the live server: service
accounts are opsplane service accounts, their tokens opsplane API tokens (usable as
`Authorization: Bearer`)."""

from __future__ import annotations

import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from tests.e2e.clients import new_tenant_admin, unique

pytestmark = pytest.mark.e2e


@pytest.fixture
def grafana(server, admin_token) -> GrafanaApi:
    person = new_tenant_admin(server.url, admin_token)
    return GrafanaApi.from_url(server.url, credential=person.token, timeout=30)


def test_can_drive_every_serviceaccount_method(server, grafana):
    sa = grafana.serviceaccount
    name = unique("bot")
    # create, get, update
    made = sa.create({"name": name, "role": "Viewer", "isDisabled": False})
    assert made["name"] == name and made["role"] == "Viewer" and made["tokens"] == 0
    assert sa.get(made["id"])["login"] == f"sa-{name}"
    changed = sa.update(made["id"], {"role": "Editor"})
    assert changed["role"] == "Editor"
    # search: one page, every page, one by name, streaming
    other = sa.create({"name": unique("other"), "role": "None"})
    pages = sa.search(perpage=1)
    assert [p["totalCount"] for p in pages] == [2, 2, 2] and pages[-1]["serviceAccounts"] == []
    assert [a["name"] for a in sa.search(query=name, page=1, perpage=10)[0]["serviceAccounts"]] == [name]
    assert sa.search_one(name)["id"] == made["id"]
    assert {a["id"] for a in sa.search_all()} == {made["id"], other["id"]}
    assert [a["id"] for a in sa.search_streaming(query=name)] == [made["id"]]
    # tokens: create (the key works as a bearer token), list, delete
    token = sa.create_token(made["id"], {"name": "ci"})
    assert token["key"].startswith("opsat_")
    as_bot = GrafanaApi.from_url(server.url, credential=token["key"], timeout=30)
    assert as_bot.search.search_dashboards() == []
    assert [t["name"] for t in sa.get_tokens(made["id"])] == ["ci"]
    sa.delete_token(made["id"], token["id"])
    assert sa.get_tokens(made["id"]) == []
    with pytest.raises(GrafanaClientError) as gone:
        as_bot.search.search_dashboards()
    assert gone.value.status_code == 401
    # delete
    assert sa.delete(other["id"])["message"] == "Service account deleted"
    with pytest.raises(GrafanaClientError) as missing:
        sa.get(other["id"])
    assert missing.value.status_code == 404 and missing.value.response == {"message": "service account not found"}


def test_can_use_an_api_key_made_the_grafana_way(server, grafana):
    made = grafana.client.POST("/auth/keys", json={"name": unique("key"), "role": "Viewer"})
    as_key = GrafanaApi.from_url(server.url, credential=made["key"], timeout=30)
    assert as_key.dashboard.get_dashboards_tags() == []
    assert [k["id"] for k in grafana.client.GET("/auth/keys")] == [made["id"]]
    grafana.client.DELETE(f"/auth/keys/{made['id']}")
    assert grafana.client.GET("/auth/keys") == []
