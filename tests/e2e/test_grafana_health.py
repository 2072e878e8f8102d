"""grafana-client's `health` group (its one method) against the live server, and Grafana's
own /api/health."""

from __future__ import annotations

import pytest
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

pytestmark = pytest.mark.e2e


def test_can_answer_the_health_check(server, admin_token):
    grafana = GrafanaApi.from_url(server.url, credential=admin_token, timeout=30)
    info = grafana.health.check()
    assert info["version"] == grafana.version and info["edition"] == "Open Source"


def test_can_answer_unknown_grafana_paths_in_grafanas_shape(server, admin_token):
    grafana = GrafanaApi.from_url(server.url, credential=admin_token, timeout=30)
    with pytest.raises(GrafanaClientError) as missing:
        grafana.client.GET("/no/such/grafana/path")
    assert missing.value.status_code == 404 and missing.value.response == {"message": "Not found"}
