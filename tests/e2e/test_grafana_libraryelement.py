"""Every operation of grafana-client's libraryelement group against the live server,
with a dashboard using an element (its connections)."""

from __future__ import annotations

import pytest
from grafana_client.client import GrafanaClientError

from tests.e2e.grafana_fixtures import grafana, person  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

PANEL = {"type": "timeseries", "title": "CPU", "targets": [{"refId": "A", "expr": "ts(cpu)"}]}


def test_can_drive_every_library_element_operation(grafana):  # noqa: F811
    api = grafana.libraryelement
    folder = grafana.folder.create_folder("Library", uid="lib-folder")
    made = api.create_library_element(PANEL, uid="cpu-panel", folder_uid=folder["uid"])["result"]
    assert made["name"] == "CPU" and made["kind"] == api.Panel and made["folderUid"] == "lib-folder"
    variable = api.create_library_element({"type": "query", "name": "host"}, name="host", kind=api.Variable)["result"]
    assert api.get_library_element("cpu-panel")["result"]["version"] == 1
    assert [e["uid"] for e in api.get_library_element_by_name("CPU")["result"]] == ["cpu-panel"]
    listed = api.list_library_elements(search_string="", sort_direction="alpha-asc", per_page=10, page=1)["result"]
    assert [e["uid"] for e in listed["elements"]] == ["cpu-panel", variable["uid"]] and listed["totalCount"] == 2
    assert [e["uid"] for e in api.list_library_elements(kind=api.Variable)["result"]["elements"]] == [variable["uid"]]
    assert (
        api.list_library_elements(folder_filter="lib-folder", type_filter="timeseries", exclude_uid=variable["uid"])[
            "result"
        ]["totalCount"]
        == 1
    )
    # update on the version read (without one, the client looks for a top-level "version"
    # that Grafana's {"result": ...} answer does not have, and raises); a stale one is a 412
    with pytest.raises(ValueError):
        api.update_library_element("cpu-panel", PANEL)
    changed = api.update_library_element("cpu-panel", PANEL, name="CPU usage", version=1)["result"]
    assert changed["version"] == 2 and changed["name"] == "CPU usage"
    with pytest.raises(GrafanaClientError) as stale:
        api.update_library_element("cpu-panel", PANEL, version=1)
    assert stale.value.status_code == 412
    # a dashboard using the element is a connection; an element in use is not deleted
    panels = [{"id": 1, "libraryPanel": {"uid": "cpu-panel", "name": "CPU usage"}}]
    board = grafana.dashboard.update_dashboard({"dashboard": {"title": "Uses CPU", "panels": panels}})
    [connection] = api.get_library_element_connections("cpu-panel")["result"]
    assert connection["connectionUid"] == board["uid"]
    with pytest.raises(GrafanaClientError) as used:
        api.delete_library_element("cpu-panel")
    assert used.value.status_code == 403
    grafana.dashboard.delete_dashboard(board["uid"])
    assert api.delete_library_element("cpu-panel")["message"] == "Library element deleted"
    assert api.delete_library_element(variable["uid"])["id"] == variable["id"]
    with pytest.raises(GrafanaClientError) as gone:
        api.get_library_element("cpu-panel")
    assert gone.value.status_code == 404
