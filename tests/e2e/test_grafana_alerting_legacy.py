"""grafana-client's legacy notification channels (`notifications`) against the live server:
every one of its 10 operations; a channel is an alert target in Wavefront's dialect.

Not driven (named in docs/grafana-objects.md): the legacy `alerting` group (Grafana's
ruler and Prometheus rule APIs under /api/ruler and /api/prometheus): not built."""

from __future__ import annotations

import warnings

import pytest
import requests
from grafana_client.client import GrafanaBadInputError, GrafanaClientError

from tests.e2e.grafana_fixtures import grafana, person  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

HOOK = {"name": "ops", "type": "webhook", "settings": {"url": "https://h.example/x"}}


def test_can_drive_every_notification_channel_operation(grafana, person, server):  # noqa: F811
    warnings.simplefilter("ignore", DeprecationWarning)
    api = grafana.notifications
    # create_channel: an alert target in Wavefront's dialect
    made = api.create_channel(HOOK)
    headers = {"Authorization": f"Bearer {person.token}"}
    target = requests.get(f"{server.url}/api/v2/notificant/{made['uid']}", headers=headers, timeout=30).json()
    assert target["response"]["method"] == "WEBHOOK" and target["response"]["title"] == "ops"
    # get_channels, lookup_channels, get_channel_by_uid, get_channel_by_id: the same target
    assert api.get_channels() == [made]
    assert api.lookup_channels() == [{k: made[k] for k in ("id", "uid", "name", "type", "isDefault")}]
    assert api.get_channel_by_uid(made["uid"]) == made == api.get_channel_by_id(made["id"])
    # update_channel_by_uid, update_channel_by_id
    email = {"name": "mail", "type": "email", "settings": {"addresses": "a@x.example"}}
    assert api.update_channel_by_uid(made["uid"], email)["type"] == "email"
    assert api.update_channel_by_id(made["id"], {**email, "disableResolveMessage": True})["disableResolveMessage"]
    # reminders do not exist here
    with pytest.raises(GrafanaBadInputError):
        api.create_channel({**HOOK, "sendReminder": True})
    # delete_notification_by_uid, delete_notification_by_id
    assert api.delete_notification_by_uid(made["uid"])["message"] == "Notification deleted"
    second = api.create_channel(HOOK)
    assert api.delete_notification_by_id(second["id"])["message"] == "Notification deleted"
    with pytest.raises(GrafanaClientError) as gone:
        api.get_channel_by_id(second["id"])
    assert gone.value.status_code == 404
    assert api.get_channels() == []
