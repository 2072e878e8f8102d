"""The access policy through the unmodified Wavefront client (AccessPolicyApi) against the live
server, its three operations, and its enforcement on real TCP peers: the local server passes
each client's own loopback address (127.0.0.2, 127.0.0.3, ...) as API Gateway's sourceIp.

The client is bound to a source address through its own transport (urllib3's pool
`source_address`), exactly as a user behind a given address would call."""

from __future__ import annotations

import base64
import http.client
from urllib.parse import urlsplit

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import new_tenant_admin, refused_status, wavefront

pytestmark = pytest.mark.e2e

OFFICE = "127.0.0.2"
OUTSIDE = "127.0.0.3"


def client_from(url: str, token: str, source: str) -> wf.ApiClient:
    """The Wavefront client, its connections made from source."""
    client = wavefront(url, token)
    client.rest_client.pool_manager.connection_pool_kw["source_address"] = (source, 0)
    return client


def wazo_login(url: str, source: str, username: str, password: str) -> int:
    """POST /token with Basic credentials from the loopback address source; the status."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10, source_address=(source, 0))
    try:
        basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
        conn.request("POST", "/api/auth/0.1/token", body="{}", headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_can_drive_every_operation_and_enforce_the_policy(server, admin_token):
    # GIVEN the admin of a fresh tenant, calling from the office address
    boss = new_tenant_admin(server.url, admin_token)
    office = wf.AccessPolicyApi(client_from(server.url, boss.token, OFFICE))

    # THEN the policy has no rules yet, and every address is allowed
    empty = office.get_access_policy().response
    assert empty.customer == boss.tenant and empty.policy_rules == []
    assert office.validate_url(ip=OUTSIDE).response == "ALLOW"

    # WHEN a policy that would deny the office is saved from the office: THEN 400, nothing saved
    outside_only = wf.AccessPolicy(policy_rules=[wf.AccessPolicyRuleDTO(action="ALLOW", subnet=f"{OUTSIDE}/32")])
    assert refused_status(lambda: office.update_access_policy(body=outside_only)) == 400
    assert office.get_access_policy().response.policy_rules == []

    # WHEN the office allows itself (and an IPv6 range) only
    rules = [
        wf.AccessPolicyRuleDTO(action="ALLOW", subnet=OFFICE, name="office", description="the office"),
        wf.AccessPolicyRuleDTO(action="ALLOW", subnet="2001:db8::/32", name="office v6"),
        wf.AccessPolicyRuleDTO(action="DENY", subnet="2001:db8:bad::/48", name="lab"),
    ]
    saved = office.update_access_policy(body=wf.AccessPolicy(policy_rules=rules)).response
    assert [(r.action, r.subnet, r.name) for r in saved.policy_rules] == [
        ("ALLOW", f"{OFFICE}/32", "office"),
        ("ALLOW", "2001:db8::/32", "office v6"),
        ("DENY", "2001:db8:bad::/48", "lab"),
    ]
    assert saved.last_updated_ms > 0

    # THEN validate answers the policy's verdicts, IPv4 and IPv6
    verdicts = {ip: office.validate_url(ip=ip).response for ip in (OFFICE, OUTSIDE, "2001:db8:1::1", "2001:db8:bad::1")}
    assert verdicts == {OFFICE: "ALLOW", OUTSIDE: "DENY", "2001:db8:1::1": "ALLOW", "2001:db8:bad::1": "DENY"}

    # AND the same token from another address is refused (403) before anything else,
    # through the client and on a new login
    for address in (OUTSIDE, "127.0.0.1"):
        outside = wf.AccessPolicyApi(client_from(server.url, boss.token, address))
        assert refused_status(outside.get_access_policy) == 403
        assert wazo_login(server.url, address, boss.username, boss.password) == 403
    assert wazo_login(server.url, OFFICE, boss.username, boss.password) == 200

    # AND other tenants are not affected by this tenant's policy
    other = new_tenant_admin(server.url, admin_token)
    assert (
        wf.AccessPolicyApi(client_from(server.url, other.token, OUTSIDE)).get_access_policy().response.policy_rules
        == []
    )

    # WHEN the office clears the policy THEN the outside address works again
    assert office.update_access_policy(body=wf.AccessPolicy(policy_rules=[])).response.policy_rules == []
    assert (
        wf.AccessPolicyApi(client_from(server.url, boss.token, OUTSIDE)).get_access_policy().response.policy_rules == []
    )
