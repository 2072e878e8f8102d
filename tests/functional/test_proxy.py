"""Proxies: what the shared contract suite does not cover. A proxy's check-in as the real
Wavefront proxy sends it (registers on first sight, refreshes, answers its configuration),
the reported fields a PUT cannot erase, derived status, preprocessor rules (YAML, bounded,
no aliases), config, permissions, and the real ProxyApi driven in process.
"""

from __future__ import annotations

import uuid
from typing import Any

import wavefront_api_client as wf
from wavefront_api_client.rest import ApiException

from tests.functional.test_alert import client_reads, wavefront

PROXY = "/api/v2/proxy"
CHECKIN = "/api/v2/wfproxy/checkin"
METRICS = {"~proxy.points.2878.received": 42, "build": {"version": "13.4"}}
RULES = """
'2878':
  - rule: drop-test
    action: dropTag
    tag: test
global:
  - rule: rename-env
    action: renameTag
    tag: environment
    newtag: env
"""


def check_in(api, proxy_id: str, hostname: str = "proxy-host-1", token: str | None = None, **query: Any):
    params = {"hostname": hostname, "version": "13.4", "currentMillis": "1700000000000", **query}
    path = CHECKIN + "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return api.json("POST", path, METRICS, token=token, headers={"X-WF-PROXY-ID": proxy_id})


def registered(api, hostname: str = "proxy-host-1") -> str:
    proxy_id = str(uuid.uuid4())
    status, config = check_in(api, proxy_id, hostname)
    assert status == 200, config
    return proxy_id


def refused(answer: tuple[int, Any], code: int, *words: str) -> None:
    status, body = answer
    assert status == code, body
    for word in words:
        assert word in body["status"]["message"], body


# ---- check-in -----------------------------------------------------------------------------------


def test_can_register_a_proxy_at_its_first_check_in_and_answer_its_configuration(api):
    # WHEN a proxy checks in for the first time
    proxy_id = str(uuid.uuid4())
    status, config = check_in(api, proxy_id, ephemeral="true", proxyname="edge")
    # THEN it reads its configuration, bare (no envelope): nothing set yet, the server's time
    assert status == 200, config
    assert config["shutOffAgents"] is False and config["histogramDisabled"] is False
    assert isinstance(config["currentTime"], int) and "preprocessorRules" not in config
    # AND its record exists under its UUID, with what it reported
    status, body = api.json("GET", f"{PROXY}/{proxy_id}")
    assert status == 200, body
    proxy = body["response"]
    assert (proxy["id"], proxy["name"], proxy["hostname"], proxy["proxyname"]) == (
        proxy_id,
        "edge",
        "proxy-host-1",
        "edge",
    )
    assert proxy["version"] == "13.4" and proxy["status"] == "ACTIVE" and proxy["ephemeral"] is True
    assert proxy["timeDrift"] == 1_700_000_000_000 - proxy["lastCheckInTime"]
    assert client_reads(body, "ResponseContainerProxy").response.status == "ACTIVE"


def test_can_refresh_a_proxy_at_each_check_in_without_losing_what_the_api_set(api):
    # GIVEN a registered proxy renamed through the API
    proxy_id = registered(api)
    status, body = api.json("PUT", f"{PROXY}/{proxy_id}", {"name": "renamed", "collectorRateLimit": 500})
    assert status == 200, body
    before = body["response"]["lastCheckInTime"]
    # WHEN it checks in again from a new host with a new build
    status, config = check_in(api, proxy_id, "proxy-host-2", version="13.5")
    assert status == 200, config
    # THEN the report is refreshed and the API's settings stay (and reach the proxy)
    assert config["collectorRateLimit"] == 500 and config["name"] == "renamed"
    proxy = api.json("GET", f"{PROXY}/{proxy_id}")[1]["response"]
    assert (proxy["name"], proxy["hostname"], proxy["version"]) == ("renamed", "proxy-host-2", "13.5")
    assert proxy["lastCheckInTime"] >= before
    # AND a PUT cannot overwrite what the proxy reports
    status, body = api.json("PUT", f"{PROXY}/{proxy_id}", {"name": "again", "hostname": "forged", "version": "0.1"})
    assert status == 200 and body["response"]["hostname"] == "proxy-host-2" and body["response"]["version"] == "13.5"
    assert api.json("GET", PROXY)[1]["response"]["totalItems"] == 1


def test_can_bring_a_trashed_proxy_back_when_it_checks_in(api):
    proxy_id = registered(api)
    assert api.json("DELETE", f"{PROXY}/{proxy_id}")[1]["response"]["inTrash"] is True
    assert check_in(api, proxy_id)[0] == 200
    assert api.json("GET", f"{PROXY}/{proxy_id}")[1]["response"]["inTrash"] is False
    # AND one deleted for good registers anew
    assert api.json("DELETE", f"{PROXY}/{proxy_id}?skipTrash=true")[0] == 200
    assert api.json("GET", f"{PROXY}/{proxy_id}")[0] == 404
    assert check_in(api, proxy_id)[0] == 200
    assert api.json("GET", f"{PROXY}/{proxy_id}")[0] == 200


def test_can_refuse_a_check_in_without_a_proxy_id_host_or_json_object(api):
    refused(api.json("POST", CHECKIN + "?hostname=h", METRICS), 400, "X-WF-PROXY-ID")
    refused(check_in(api, "not-a-uuid"), 400, "X-WF-PROXY-ID")
    refused(api.json("POST", CHECKIN, METRICS, headers={"X-WF-PROXY-ID": str(uuid.uuid4())}), 400, "hostname")
    refused(check_in(api, str(uuid.uuid4()), hostname="h" * 300), 400, "hostname")
    status, body = api.json("POST", CHECKIN + "?hostname=h", [1, 2], headers={"X-WF-PROXY-ID": str(uuid.uuid4())})
    assert status == 400, body
    assert api.json("GET", PROXY)[1]["response"]["totalItems"] == 0


def test_can_derive_stopped_states(api):
    from chalicelib.categories import proxy as category
    from chalicelib.domain import entities

    proxy_id = registered(api)
    status, body = api.json("PUT", f"{PROXY}/{proxy_id}", {"name": "p", "shutdown": True})
    assert body["response"]["status"] == "STOPPED_BY_SERVER"
    assert check_in(api, proxy_id)[1]["shutOffAgents"] is True
    api.json("PUT", f"{PROXY}/{proxy_id}", {"name": "p", "shutdown": False})
    ctx = api.context()
    later = type(ctx)(ctx.tenant, ctx.principal, ctx.settings, clock=lambda: ctx.now() + category.ACTIVE_MS + 60_000)
    assert category.status(later, entities.load(ctx, category.PROXY, proxy_id)) == "STOPPED_UNKNOWN"


# ---- preprocessor rules and config ------------------------------------------------------------------


def test_can_set_preprocessor_rules_that_reach_the_proxy(api):
    proxy_id = registered(api)
    status, body = api.json(
        "PUT", f"{PROXY}/{proxy_id}", {"name": "p", "preprocessorRules": RULES, "traceDisabled": True}
    )
    assert status == 200, body
    status, rules = api.json("GET", f"{PROXY}/{proxy_id}/preprocessorRules")
    assert status == 200, rules
    assert rules["response"]["2878"][0] == {"rule": "drop-test", "action": "dropTag", "tag": "test"}
    assert rules["response"]["global"][0]["action"] == "renameTag"
    status, config = api.json("GET", f"{PROXY}/{proxy_id}/config")
    assert config["response"]["preprocessorRules"] == RULES and config["response"]["traceDisabled"] is True
    assert check_in(api, proxy_id)[1]["preprocessorRules"] == RULES


def test_can_refuse_bad_preprocessor_rules_and_write_nothing(api):
    proxy_id = registered(api)
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\n"
    for rules, word in [
        ("a: [", "not YAML"),
        ("- just a list", "mapping"),
        ("'2878': not-a-list", "list"),
        ("'2878':\n  - rule: r\n", "action"),
        (bomb, "aliases"),
        ("x: []\n" + "#" * 70_000, "preprocessorRules"),
    ]:
        refused(api.json("PUT", f"{PROXY}/{proxy_id}", {"name": "p", "preprocessorRules": rules}), 400, word)
    assert api.json("GET", f"{PROXY}/{proxy_id}/preprocessorRules")[1]["response"] == {}
    refused(api.json("PUT", f"{PROXY}/{proxy_id}", {"name": "p", "collectorRateLimit": -1}), 400, "collectorRateLimit")


def test_can_answer_404_for_config_of_an_unknown_or_foreign_proxy(api, make_tenant, make_user):
    proxy_id = registered(api)
    assert api.json("GET", f"{PROXY}/{uuid.uuid4()}/config")[0] == 404
    stranger = make_user(["proxy.#"], tenant=make_tenant("other"))
    for suffix in ("", "/config", "/preprocessorRules"):
        assert api.json("GET", f"{PROXY}/{proxy_id}{suffix}", token=stranger.token)[0] == 404


# ---- permissions -------------------------------------------------------------------------------------


def test_can_require_the_proxies_permission_for_check_in_and_management(api, make_user):
    from chalicelib.auth.permissions import patterns_of

    nobody = make_user(["ingestion.#", "*.read", "*.*.read"])
    refused(check_in(api, str(uuid.uuid4()), token=nobody.token), 403)
    proxy_id = registered(api)
    assert api.json("GET", f"{PROXY}/{proxy_id}", token=nobody.token)[0] == 200  # Browse reads
    refused(api.json("PUT", f"{PROXY}/{proxy_id}", {"name": "x"}, token=nobody.token), 403)
    manager = make_user(list(patterns_of(["agent_management"])))
    assert check_in(api, str(uuid.uuid4()), token=manager.token)[0] == 200
    assert api.json("PUT", f"{PROXY}/{proxy_id}", {"name": "x"}, token=manager.token)[0] == 200


# ---- the real client ----------------------------------------------------------------------------------


def test_can_serve_the_real_client_through_every_proxy_operation(api):
    proxies = wf.ProxyApi(wavefront(api))
    proxy_id = registered(api)
    assert [p.id for p in proxies.get_all_proxy(offset=0, limit=10).response.items] == [proxy_id]
    got = proxies.get_proxy(proxy_id).response
    assert got.hostname == "proxy-host-1" and got.status == "ACTIVE"
    got.name = "client renamed"
    got.preprocessor_rules = RULES
    updated = proxies.update_proxy(proxy_id, body=got).response
    assert updated.name == "client renamed" and updated.version == "13.4"
    assert proxies.get_proxy_config(proxy_id).response["preprocessorRules"] == RULES
    assert proxies.get_proxy_preprocessor_rules(proxy_id).response["2878"][0]["rule"] == "drop-test"
    assert proxies.delete_proxy(proxy_id).response.in_trash is True
    assert proxies.undelete_proxy(proxy_id).response.in_trash is False
    assert proxies.delete_proxy(proxy_id, skip_trash=True).response.deleted is True
    try:
        proxies.get_proxy(proxy_id)
        raise AssertionError("a deleted proxy was found")
    except ApiException as exc:
        assert exc.status == 404
