"""grafana-client's `dashboard` group methods this round added (by slug, home, permissions by
uid and by numeric id, saves by numeric id), folder permissions and folders by id, and stars
by numeric id, against the live server. The rest of the group: tests/e2e/test_grafana_client.py."""

from __future__ import annotations

import pytest
import requests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from tests.e2e.clients import new_tenant_admin, unique

pytestmark = pytest.mark.e2e


@pytest.fixture
def grafana(server, admin_token) -> GrafanaApi:
    person = new_tenant_admin(server.url, admin_token)
    return GrafanaApi.from_url(server.url, credential=person.token, timeout=30)


def test_can_get_by_slug_and_save_by_numeric_id(grafana):
    title = unique("Slug board")
    made = grafana.dashboard.update_dashboard({"dashboard": {"title": title, "panels": []}})
    got = grafana.dashboard.get_dashboard_by_name(made["slug"])
    assert got["dashboard"]["uid"] == made["uid"]
    # a save naming the dashboard by numeric id renames it in place
    renamed = grafana.dashboard.update_dashboard({"dashboard": {"id": made["id"], "title": title + " 2", "version": 1}})
    assert (renamed["uid"], renamed["version"]) == (made["uid"], 2)
    with pytest.raises(GrafanaClientError) as stale:
        grafana.dashboard.update_dashboard({"dashboard": {"id": made["id"], "title": title + " 3", "version": 1}})
    assert stale.value.status_code == 412 and stale.value.response["status"] == "version-mismatch"


def test_can_answer_the_home_dashboard(grafana):
    home = grafana.dashboard.get_home_dashboard()
    assert home["meta"]["isHome"] is True


def test_can_read_and_replace_dashboard_and_folder_permissions(server, grafana):
    folder = grafana.folder.create_folder(unique("perm folder"))
    made = grafana.dashboard.update_dashboard({"dashboard": {"title": unique("perm"), "panels": []}})
    bot = grafana.serviceaccount.create({"name": unique("viewer"), "role": "Viewer"})
    items = [{"userId": bot["id"], "permission": 1}]
    for update, read, ref in (
        (grafana.dashboard.update_permissions_by_uid, grafana.dashboard.get_permissions_by_uid, made["uid"]),
        (grafana.dashboard.update_permissions_by_id, grafana.dashboard.get_permissions_by_id, made["id"]),
        (grafana.dashboard.update_dashboard_permissions, grafana.dashboard.get_dashboard_permissions, made["id"]),
    ):
        update(ref, items)
        assert [(p["userId"], p["permissionName"]) for p in read(ref)] == [(bot["id"], "View")]
        update(ref, [])
        assert read(ref) == []
    grafana.folder.update_folder_permissions(folder["uid"], {"items": items})
    assert [p["userId"] for p in grafana.folder.get_folder_permissions(folder["uid"])] == [bot["id"]]
    assert grafana.folder.get_folder_by_id(folder["id"])["uid"] == folder["uid"]


def test_can_star_by_numeric_id(grafana):
    made = grafana.dashboard.update_dashboard({"dashboard": {"title": unique("star"), "panels": []}})
    grafana.user.star_dashboard(made["id"])
    assert [h["uid"] for h in grafana.search.search_dashboards(starred=True)] == [made["uid"]]
    grafana.user.unstar_dashboard(made["id"])
    assert grafana.search.search_dashboards(starred=True) == []


def test_can_refuse_unknown_grafana_paths_in_grafanas_shape(server):
    resp = requests.get(f"{server.url}/api/teams/search", timeout=10)
    assert resp.status_code in (401, 404) and set(resp.json()) == {"message"}
