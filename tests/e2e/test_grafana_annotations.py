"""Every operation of grafana-client's annotations group against the live server: an
annotation made through Grafana's dialect is an event in Wavefront's, and back."""

from __future__ import annotations

import pytest
import requests
from grafana_client.client import GrafanaClientError

from tests.e2e.grafana_fixtures import grafana, person  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

T0 = 1_700_000_000_000
MINUTE = 60_000


def test_can_drive_every_annotation_operation(grafana, person, server):  # noqa: F811
    api = grafana.annotations
    # add_annotation: a region on a dashboard's panel
    made = api.add_annotation(
        dashboard_uid="dash-1", panel_id=3, time_from=T0, time_to=T0 + MINUTE, tags=["deploy"], text="Deploy v1"
    )
    assert made["message"] == "Annotation added" and isinstance(made["id"], int)
    # add_annotation_graphite: what + data become the text, when is in seconds
    graphite = api.add_annotation_graphite(what="Restart", tags=["ops"], when=T0 // 1000 + 120, data="web-1")
    assert graphite["message"] == "Graphite annotation added"
    # find_annotations (and the deprecated get_annotation): by time, tags, dashboard, panel, type, limit
    found = api.find_annotations(time_from=T0, time_to=T0 + 10 * MINUTE)
    assert [a["id"] for a in found] == [graphite["id"], made["id"]]
    assert found[0]["text"] == "Restart\nweb-1" and found[1]["timeEnd"] == T0 + MINUTE
    assert [a["id"] for a in api.find_annotations(tags=["deploy"], dashboard_uid="dash-1", panel_id=3)] == [made["id"]]
    assert [a["id"] for a in api.find_annotations(ann_type="annotation", limit=1)] == [graphite["id"]]
    assert api.find_annotations(ann_type="alert") == []
    with pytest.warns(DeprecationWarning):
        assert len(api.get_annotation(tags=["ops"])) == 1
    # the annotation is an event in Wavefront's dialect
    headers = {"Authorization": f"Bearer {person.token}"}
    events = requests.get(f"{server.url}/api/v2/event", headers=headers, timeout=30).json()["response"]["items"]
    [event] = [e for e in events if e["startTime"] == T0]
    assert event["name"] == "Deploy v1" and event["annotations"]["dashboardUID"] == "dash-1"
    # update_annotation (PUT) and partial_update_annotation (PATCH)
    assert api.update_annotation(
        made["id"], time_from=T0, time_to=T0 + 2 * MINUTE, tags=["deploy", "v2"], text="Deploy v2"
    ) == {"message": "Annotation updated"}
    assert (
        api.partial_update_annotation(made["id"], text="Deploy v2 done", tags=["deploy"])["message"]
        == "Annotation patched"
    )
    [changed] = api.find_annotations(dashboard_uid="dash-1")
    assert (
        changed["text"] == "Deploy v2 done" and changed["tags"] == ["deploy"] and changed["timeEnd"] == T0 + 2 * MINUTE
    )
    got = requests.get(f"{server.url}/api/v2/event/{event['id']}", headers=headers, timeout=30).json()["response"]
    assert got["name"] == "Deploy v2 done" and got["endTime"] == T0 + 2 * MINUTE
    # delete_annotations_by_id: the event is gone too
    assert api.delete_annotations_by_id(made["id"]) == {"message": "Annotation deleted"}
    assert requests.get(f"{server.url}/api/v2/event/{event['id']}", headers=headers, timeout=30).status_code == 404
    with pytest.raises(GrafanaClientError) as gone:
        api.delete_annotations_by_id(made["id"])
    assert gone.value.status_code == 404
