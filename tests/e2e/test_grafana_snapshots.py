"""Every operation of grafana-client's snapshots group against the live server."""

from __future__ import annotations

import pytest
from grafana_client.client import GrafanaClientError

from tests.e2e.grafana_fixtures import grafana, person  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

BOARD = {"title": "Snap", "panels": [{"type": "stat", "title": "up", "snapshotData": [{"value": 1}]}]}


def test_can_drive_every_snapshot_operation(grafana):  # noqa: F811
    api = grafana.snapshots
    made = api.create_new_snapshot(dashboard=BOARD, name="First", expires=3600, key="snap-1", delete_key="del-1")
    assert made["key"] == "snap-1" and made["deleteKey"] == "del-1" and made["id"] > 0
    other = api.create_new_snapshot(dashboard=BOARD)
    got = api.get_snapshot_by_key("snap-1")
    assert got["dashboard"] == BOARD and got["meta"]["isSnapshot"] is True
    assert sorted(s["name"] for s in api.get_dashboard_snapshots()) == ["First", "Snap"]
    with pytest.raises(GrafanaClientError) as external:
        api.create_new_snapshot(dashboard=BOARD, external=True, key="x", delete_key="y")
    assert external.value.status_code == 400
    assert api.delete_snapshot_by_key("snap-1")["id"] == made["id"]
    assert api.delete_snapshot_by_delete_key(other["deleteKey"])["id"] == other["id"]
    assert api.get_dashboard_snapshots() == []
    with pytest.raises(GrafanaClientError) as gone:
        api.get_snapshot_by_key("snap-1")
    assert gone.value.status_code == 404
