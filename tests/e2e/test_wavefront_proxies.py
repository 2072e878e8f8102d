"""Proxies through the unmodified Wavefront client (ProxyApi) against the live server: a proxy
checks in as the real Wavefront proxy does (POST /api/v2/wfproxy/checkin, Bearer token,
X-WF-PROXY-ID, its metrics as JSON), then every one of the 7 ProxyApi operations reads and
manages the record it made; every answer deserializes through the client's models."""

from __future__ import annotations

import uuid

import pytest
import requests
import wavefront_api_client as wf

from tests.e2e.clients import TIMEOUT, new_person, refused_status, wavefront

pytestmark = pytest.mark.e2e

RULES = "'2878':\n  - rule: drop-test\n    action: dropTag\n    tag: test\n"


def check_in(url: str, token: str, proxy_id: str, hostname: str = "edge-1") -> requests.Response:
    """What the Wavefront proxy sends every minute (ProxyV2API.proxyCheckin)."""
    return requests.post(
        f"{url}/api/v2/wfproxy/checkin",
        params={"hostname": hostname, "version": "13.4", "currentMillis": 1_700_000_000_000, "ephemeral": "false"},
        headers={"Authorization": f"Bearer {token}", "X-WF-PROXY-ID": proxy_id},
        json={"~proxy.buffer.bytes-left": 1024, "build": {"version": "13.4"}},
        timeout=TIMEOUT,
    )


def test_can_register_by_check_in_and_drive_every_proxy_operation(server, fresh):
    # GIVEN a proxy that checked in (and read its configuration back, bare)
    proxy_id = str(uuid.uuid4())
    answer = check_in(server.url, fresh.token, proxy_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["shutOffAgents"] is False and isinstance(answer.json()["currentTime"], int)
    api = wf.ProxyApi(wavefront(server.url, fresh.token))
    # THEN get_all_proxy and get_proxy read it
    listed = api.get_all_proxy(offset=0, limit=10).response
    assert [p.id for p in listed.items] == [proxy_id] and listed.total_items == 1
    proxy = api.get_proxy(proxy_id).response
    assert (proxy.hostname, proxy.version, proxy.status, proxy.in_trash) == ("edge-1", "13.4", "ACTIVE", False)
    # WHEN update_proxy renames it and sets preprocessor rules and a rate limit
    proxy.name, proxy.preprocessor_rules, proxy.collector_rate_limit = "edge proxy", RULES, 5000
    updated = api.update_proxy(proxy_id, body=proxy).response
    assert updated.name == "edge proxy" and updated.collector_rate_limit == 5000 and updated.hostname == "edge-1"
    # THEN get_proxy_config and get_proxy_preprocessor_rules answer what the proxy will read
    config = api.get_proxy_config(proxy_id).response
    assert config["preprocessorRules"] == RULES and config["collectorRateLimit"] == 5000
    assert api.get_proxy_preprocessor_rules(proxy_id).response == {
        "2878": [{"rule": "drop-test", "action": "dropTag", "tag": "test"}]
    }
    assert check_in(server.url, fresh.token, proxy_id).json()["preprocessorRules"] == RULES
    # AND delete_proxy trashes it, undelete_proxy restores it, skip_trash deletes it for good
    assert api.delete_proxy(proxy_id).response.in_trash is True
    assert api.undelete_proxy(proxy_id).response.in_trash is False
    assert api.delete_proxy(proxy_id, skip_trash=True).response.deleted is True
    assert refused_status(lambda: api.get_proxy(proxy_id)) == 404


def test_can_refuse_check_in_and_management_without_the_proxies_permission(server, fresh):
    reader = new_person(server.url, fresh.token, ["ingestion.#", "*.read", "*.*.read"])
    assert check_in(server.url, reader.token, str(uuid.uuid4())).status_code == 403
    proxy_id = str(uuid.uuid4())
    assert check_in(server.url, fresh.token, proxy_id).status_code == 200
    api = wf.ProxyApi(wavefront(server.url, reader.token))
    assert api.get_proxy(proxy_id).response.id == proxy_id
    assert refused_status(lambda: api.update_proxy(proxy_id, body=wf.Proxy(name="x"))) == 403
    assert refused_status(lambda: api.delete_proxy(proxy_id)) == 403


def test_can_refuse_bad_rules_and_keep_proxies_of_other_tenants_apart(server, fresh, admin_token):
    proxy_id = str(uuid.uuid4())
    assert check_in(server.url, fresh.token, proxy_id).status_code == 200
    api = wf.ProxyApi(wavefront(server.url, fresh.token))
    bad = wf.Proxy(name="p", preprocessor_rules="a: &x [1]\nb: *x\n")
    assert refused_status(lambda: api.update_proxy(proxy_id, body=bad)) == 400
    stranger = wf.ProxyApi(wavefront(server.url, admin_token))
    assert refused_status(lambda: stranger.get_proxy(proxy_id)) == 404
