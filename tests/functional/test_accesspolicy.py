"""The access policy (AccessPolicyApi): a tenant's allow / deny list of client address
ranges, enforced on every credential kind before any other work, IPv4 and IPv6, and never
saved when it would lock out the address saving it.

The source address of a chalice.test.Client request is chalice's LambdaEventConverter
LOCAL_SOURCE_IP (API Gateway's requestContext.identity.sourceIp): `from_address` sets it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.conftest import ADMIN_PASSWORD, Api
from tests.functional.test_oauth import access_token, credentials, grant, make_service_account, token_request

POLICY = "/api/v2/accesspolicy"
ALERTS = "/api/v2/alert"
OFFICE_V4 = "203.0.113.0/24"
OFFICE_V6 = "2001:db8:1::/48"


@pytest.fixture
def from_address(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Make the next requests come from an address."""
    from chalice.local import LambdaEventConverter

    def use(address: str) -> None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


def rule(action: str, subnet: str, name: str | None = None) -> dict[str, Any]:
    found = {"action": action, "subnet": subnet}
    if name:
        found["name"] = name
    return found


def save(api: Api, *rules: dict[str, Any], **kw: Any) -> tuple[int, Any]:
    return api.json("PUT", POLICY, {"policyRules": list(rules)}, **kw)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def office_only(api: Api, from_address: Callable[[str], None]) -> None:
    """GIVEN a tenant allowing its IPv4 and IPv6 office ranges only, saved from the office."""
    from_address("203.0.113.7")
    status, body = save(api, rule("ALLOW", OFFICE_V4, "office"), rule("ALLOW", OFFICE_V6, "office v6"))
    assert status == 200, body


# ---- the policy itself ------------------------------------------------------------------------


def test_can_answer_an_empty_policy_until_one_is_saved(api: Api) -> None:
    status, body = api.json("GET", POLICY)
    assert status == 200
    assert body["response"] == {"customer": api.root, "policyRules": []}
    assert api.json("GET", f"{POLICY}/validate?ip=198.51.100.1")[1]["response"] == "ALLOW"


def test_can_save_and_read_back_rules_in_canonical_form(api: Api, from_address: Callable[[str], None]) -> None:
    from_address("2001:db8::1")
    status, body = save(api, rule("DENY", "10.1.2.3/8", "lab"), rule("ALLOW", "2001:DB8::1"))
    assert status == 200, body
    saved = body["response"]
    assert saved["policyRules"] == [
        {"action": "DENY", "subnet": "10.0.0.0/8", "name": "lab"},
        {"action": "ALLOW", "subnet": "2001:db8::1/128"},
    ]
    assert saved["customer"] == api.root and saved["lastUpdatedMs"] > 0
    assert api.json("GET", POLICY)[1]["response"] == saved


@pytest.mark.parametrize(
    ("rules", "ip", "verdict"),
    [
        ([], "198.51.100.1", "ALLOW"),
        ([rule("ALLOW", OFFICE_V4)], "203.0.113.200", "ALLOW"),
        ([rule("ALLOW", OFFICE_V4)], "198.51.100.1", "DENY"),
        ([rule("ALLOW", OFFICE_V4)], "2001:db8:1::5", "DENY"),  # an allow list of IPv4 only
        ([rule("ALLOW", OFFICE_V6)], "2001:db8:1:ffff::1", "ALLOW"),
        ([rule("ALLOW", OFFICE_V6)], "2001:db8:2::1", "DENY"),
        ([rule("DENY", "198.51.100.0/24")], "198.51.100.9", "DENY"),
        ([rule("DENY", "198.51.100.0/24")], "192.0.2.1", "ALLOW"),  # a deny list only
        ([rule("ALLOW", "0.0.0.0/0"), rule("DENY", "203.0.113.66/32")], "203.0.113.66", "DENY"),  # deny wins
        ([rule("ALLOW", "::/0"), rule("DENY", "2001:db8:5::/48")], "2001:db8:5::1", "DENY"),
        ([rule("ALLOW", OFFICE_V4)], "::ffff:203.0.113.9", "ALLOW"),  # IPv4 written as IPv6
    ],
)
def test_can_validate_an_address_against_the_policy(
    api: Api, from_address: Callable[[str], None], rules: list[Any], ip: str, verdict: str
) -> None:
    # GIVEN the policy, saved and queried from an address it allows (v4 or v6 office)
    from_address("2001:db8:1::10" if rules and all(":" in r["subnet"] for r in rules) else "203.0.113.10")
    assert save(api, *rules)[0] == 200
    # WHEN an address is validated THEN the verdict is the policy's
    status, body = api.json("GET", f"{POLICY}/validate?ip={ip.replace(':', '%3A')}")
    assert (status, body["response"]) == (200, verdict), body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "policyRules"),
        ({"policyRules": [{"action": "MAYBE", "subnet": "10.0.0.0/8"}]}, "action"),
        ({"policyRules": [{"action": "ALLOW", "subnet": "10.0.0.300/8"}]}, "subnet"),
        ({"policyRules": [{"action": "ALLOW", "subnet": "10.0.0.0/33"}]}, "subnet"),
        ({"policyRules": [{"action": "ALLOW", "subnet": "2001:db8::/129"}]}, "subnet"),
        ({"policyRules": [{"action": "ALLOW"}]}, "subnet"),
        ({"policyRules": [{"action": "ALLOW", "subnet": "x" * 65}]}, "subnet"),
        ({"policyRules": [{"action": "ALLOW", "subnet": "10.0.0.0/8", "name": "n" * 257}]}, "name"),
        ({"policyRules": [{"action": "ALLOW", "subnet": "10.0.0.0/8", "description": "d" * 1025}]}, "description"),
        ({"policyRules": [{"action": "DENY", "subnet": "10.0.0.0/8"}] * 201}, "policyRules"),
    ],
)
def test_can_refuse_a_bad_policy_naming_the_field_and_write_nothing(api: Api, body: Any, field: str) -> None:
    status, answer = api.json("PUT", POLICY, body)
    assert status == 400, answer
    assert field in answer["status"]["message"]
    assert api.json("GET", POLICY)[1]["response"]["policyRules"] == []


def test_can_refuse_to_validate_what_is_not_an_address(api: Api) -> None:
    for query in ("", "?ip=", "?ip=10.0.0.0/8", "?ip=not-an-ip", "?ip=" + "1" * 65):
        status, body = api.json("GET", f"{POLICY}/validate{query}")
        assert status == 400, (query, body)
        assert "ip" in body["status"]["message"]


def test_can_refuse_a_policy_that_would_lock_out_the_address_saving_it(
    api: Api, from_address: Callable[[str], None]
) -> None:
    # GIVEN an admin calling from 198.51.100.20 (IPv4) and another from 2001:db8:9::1 (IPv6)
    for caller, rules in (
        ("198.51.100.20", [rule("ALLOW", OFFICE_V4)]),
        ("198.51.100.20", [rule("DENY", "198.51.100.0/24")]),
        ("2001:db8:9::1", [rule("ALLOW", OFFICE_V6)]),
        ("2001:db8:9::1", [rule("ALLOW", "::/0"), rule("DENY", "2001:db8:9::/48")]),
    ):
        from_address(caller)
        # WHEN it saves a policy that denies its own address
        status, body = save(api, *rules)
        # THEN 400 saying why, and nothing is saved
        assert status == 400, body
        assert "lock you out" in body["status"]["message"]
        assert api.json("GET", POLICY)[1]["response"]["policyRules"] == []


def test_can_need_the_accounts_permission_to_read_or_change_the_policy(api: Api, make_user: Any) -> None:
    reader = make_user(["*.read", "*.*.read"])  # browse
    assert api.json("GET", POLICY, token=reader.token)[0] == 200
    assert save(api, rule("DENY", "192.0.2.0/24"), token=reader.token)[0] == 403
    nobody = make_user([])
    assert api.json("GET", POLICY, token=nobody.token)[0] == 403
    admin = make_user(["accesspolicy.#"])
    assert save(api, rule("DENY", "192.0.2.0/24"), token=admin.token)[0] == 200


def test_can_keep_each_tenant_to_its_own_policy(api: Api, make_tenant: Any, make_user: Any, from_address: Any) -> None:
    # GIVEN a sub-tenant whose admin denies 192.0.2.0/24
    child = make_tenant("Acme")
    child_admin = make_user(["#"], tenant=child, username="acme-admin")
    assert save(api, rule("DENY", "192.0.2.0/24"), token=child_admin.token)[0] == 200
    # THEN the root's policy is untouched, and from that range the child's admin is refused
    # while the root's is not
    assert api.json("GET", POLICY)[1]["response"]["policyRules"] == []
    from_address("192.0.2.1")
    assert api.json("GET", ALERTS, token=child_admin.token)[0] == 403
    assert api.json("GET", ALERTS)[0] == 200


# ---- enforcement: every credential kind -----------------------------------------------------


def test_can_refuse_a_denied_address_for_every_credential_kind(api: Api, from_address: Callable[[str], None]) -> None:
    from chalicelib.auth import apitokens

    # GIVEN credentials of every kind: a JWT, an API token, Basic, an OAuth client
    secret, _ = apitokens.create(api.root, api.admin, "user")
    make_service_account(api.root, acl=["alert.read"])
    creds = credentials(api)
    oauth = access_token(api, creds)
    kinds: dict[str, dict[str, Any]] = {
        "jwt": {},
        "api token (Authorization)": {"token": secret},
        "api token (X-AUTH-TOKEN)": {"token": "", "headers": {"X-AUTH-TOKEN": secret}},
        "basic": {"token": "", "headers": basic("admin", ADMIN_PASSWORD)},
        "oauth": {"token": oauth},
    }
    for kind, kw in kinds.items():  # all of them work before the policy
        assert api.json("GET", ALERTS, **kw)[0] == 200, kind
    # AND the tenant allows its offices only
    office_only(api, from_address)

    for outside in ("198.51.100.1", "2001:db8:2::1", "::ffff:198.51.100.1"):
        from_address(outside)
        # WHEN any of them is used from outside THEN 403 in the caller's dialect
        for kind, kw in kinds.items():
            status, body = api.json("GET", ALERTS, **kw)
            assert status == 403, (outside, kind, body)
            assert body["status"]["result"] == "ERROR" and "access policy" in body["status"]["message"]
        status, body = api.json("GET", "/api/search", token=api.token)  # Grafana
        assert status == 403 and "access policy" in body["message"], body
        status, body = api.json("GET", "/api/auth/0.1/policies", token="", headers={"X-Auth-Token": api.token})
        assert status == 403 and "access policy" in body["message"], body  # Wazo
        # AND no new session can be had there: Wazo login, OAuth token
        resp = api.call("POST", "/api/auth/0.1/token", {}, token="", headers=basic("admin", ADMIN_PASSWORD))
        assert resp.status_code == 403, resp.body
        assert token_request(api, grant(creds)).status_code == 403

    for inside in ("203.0.113.99", "2001:db8:1:2::3"):
        from_address(inside)
        # WHEN used from an office THEN everything works (a new session too)
        for kind, kw in kinds.items():
            assert api.json("GET", ALERTS, **kw)[0] == 200, (inside, kind)
        resp = api.call("POST", "/api/auth/0.1/token", {}, token="", headers=basic("admin", ADMIN_PASSWORD))
        assert resp.status_code == 200, resp.body
        assert token_request(api, grant(creds)).status_code == 200


def test_can_refuse_before_any_other_work(api: Api, from_address: Callable[[str], None]) -> None:
    from tests.functional.test_alert import BODY

    office_only(api, from_address)
    from_address("198.51.100.1")
    # WHEN a denied address posts an alert THEN 403, and nothing is written
    assert api.json("POST", ALERTS, BODY)[0] == 403
    from_address("203.0.113.5")
    assert api.json("GET", ALERTS)[1]["response"]["items"] == []


def test_can_apply_a_new_policy_at_once_to_cached_principals(api: Api, from_address: Callable[[str], None]) -> None:
    # GIVEN a token used (its principal cached) from 198.51.100.1
    from_address("198.51.100.1")
    assert api.json("GET", ALERTS)[0] == 200
    # WHEN the policy changes from the office to allow the office only
    office_only(api, from_address)
    # THEN the cached principal is refused at once from outside
    from_address("198.51.100.1")
    assert api.json("GET", ALERTS)[0] == 403
    # AND clearing the policy from the office lets it in again
    from_address("203.0.113.7")
    assert save(api)[0] == 200
    from_address("198.51.100.1")
    assert api.json("GET", ALERTS)[0] == 200


def test_can_check_the_principal_an_api_gateway_authorizer_handed_on() -> None:
    from chalicelib.auth.principal import Principal
    from chalicelib.errors import Forbidden
    from chalicelib.identity import network

    # GIVEN a principal that travelled through the authorizer context with its policy
    principal = Principal(id="a", name="n", tenant="t", network=("ALLOW 203.0.113.0/24", "DENY 203.0.113.9/32"))
    back = Principal.from_context(principal.to_context())
    assert back.network == principal.network
    network.admit(back, "203.0.113.1")
    for denied in ("203.0.113.9", "198.51.100.1", None, "not-an-address"):
        with pytest.raises(Forbidden):
            network.admit(back, denied)
    network.admit(Principal(id="a", name="n", tenant="t"), None)  # no policy: nothing to check


def test_can_answer_the_gateway_authorizer_with_a_deny(api: Api, from_address: Callable[[str], None]) -> None:
    from chalicelib.http.gateway import authorizer_response

    office_only(api, from_address)
    event = {
        "headers": {"Authorization": f"Bearer {api.token}"},
        "httpMethod": "GET",
        "methodArn": "arn:aws:execute-api:eu-west-1:1:api/prod/GET/api/v2/alert",
        "requestContext": {"identity": {"sourceIp": "198.51.100.1"}},
    }
    denied = authorizer_response(event)
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "access policy" in denied["context"]["reason"]
    event["requestContext"] = {"identity": {"sourceIp": "2001:db8:1::1"}}
    allowed = authorizer_response(event)
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert json.loads(json.dumps(allowed["context"]))["principal_network"].split("\n") == [
        f"ALLOW {OFFICE_V4}",
        f"ALLOW {OFFICE_V6}",
    ]
