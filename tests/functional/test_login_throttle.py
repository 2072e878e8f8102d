"""The login throttle holds: per canonical account (any padding or casing of a username),
per client address, and under concurrency (a password is checked only after a slot was
taken by a conditional write), for passwords and OAuth client secrets alike (docs/auth.md).

Concurrent guesses call the domain function from threads (chalice.test.Client cannot serve
threads); the password checks are counted through login's injected verifier.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from chalicelib.auth.passwords import verify_password
from chalicelib.errors import Throttled, Unauthenticated
from chalicelib.http.gateway import authorizer_response
from chalicelib.identity import authorize
from tests.functional.conftest import ADMIN_PASSWORD
from tests.functional.test_alert_concurrency import race
from tests.functional.test_oauth import credentials, grant, make_service_account, token_request
from tests.functional.test_wazo_tokens import basic, login

ALERTS = "/api/v2/alert"
ATTACKER = "203.0.113.7"


class CountingVerifier:
    """verify_password, counting its calls (thread-safe)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, digest: Any, password: str) -> bool:
        with self._lock:
            self.calls += 1
        return verify_password(digest, password)


def spellings(name: str) -> list[str]:
    """Six ways to write one username that all reach its account."""
    return [name, f" {name}", f"{name} ", f"{name}\t", name.upper(), name.capitalize()]


def test_can_check_at_most_five_passwords_for_thirty_concurrent_guesses_in_any_spelling(api, make_user):
    # GIVEN a user, and an attacker with 30 concurrent wrong guesses under six spellings of its name
    victim = make_user(["alert.read"], username="victim")
    verifier = CountingVerifier()
    guesses = [
        (lambda name=name, i=i: authorize.login(name, f"guess-{i}", verify=verifier))
        for i, name in enumerate(spellings(victim.username) * 5)
    ]

    # WHEN they run at once
    results = race(guesses)

    # THEN five passwords were checked (and refused); the 25 others never reached a check
    assert verifier.calls == 5, results
    assert sum(isinstance(r, Unauthenticated) for r in results) == 5, results
    assert sum(isinstance(r, Throttled) for r in results) == 25, results
    # AND the right password, in any spelling or path, is throttled too (429, Retry-After)
    resp = api.call("POST", "/api/auth/0.1/token", {}, token="", headers=basic(victim.username, victim.password))
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert api.call("GET", ALERTS, token="", headers=basic(f" {victim.username}", victim.password)).status_code == 429
    with pytest.raises(Throttled):
        authorize.login(victim.username.upper(), victim.password, verify=verifier)
    assert verifier.calls == 5
    # AND the victim's existing session keeps working, and other users log in normally
    assert api.json("GET", ALERTS, token=victim.token)[0] == 200
    other = make_user(["alert.read"])
    assert login(api, other.username, other.password)[0] == 200
    assert login(api, "admin", ADMIN_PASSWORD)[0] == 200


def test_can_count_every_basic_path_against_one_key(api, make_user):
    # GIVEN a user guessed wrong through Wazo's login and Basic on a route, in several spellings
    victim = make_user(["alert.read"], username="Victim2")
    assert login(api, "victim2", "wrong-1")[0] == 401
    assert login(api, " VICTIM2", "wrong-2")[0] == 401
    assert api.call("GET", ALERTS, token="", headers=basic("victim2 ", "wrong-3")).status_code == 401
    assert api.call("GET", ALERTS, token="", headers=basic("Victim2", "wrong-4")).status_code == 401
    assert api.call("GET", ALERTS, token="", headers=basic("vIcTiM2\t", "wrong-5")).status_code == 401
    # WHEN the right password comes sixth THEN 429
    assert api.call("GET", ALERTS, token="", headers=basic(victim.username, victim.password)).status_code == 429


def test_can_give_back_the_slot_of_a_successful_login(api, make_user):
    # GIVEN a user who mistyped four times
    user = make_user(["alert.read"])
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            authorize.login(user.username, "typo")
    # WHEN it logs in right many times (Basic on every request does)
    for _ in range(8):
        authorize.login(user.username, user.password)
    # THEN it is never throttled, and the four failures still count: one more is the last
    with pytest.raises(Unauthenticated):
        authorize.login(user.username, "typo")
    with pytest.raises(Throttled):
        authorize.login(user.username, user.password)


def test_can_throttle_one_address_spraying_many_accounts(api, make_user):
    # GIVEN an address that failed 20 times (OPSPLANE_LOGIN_FAILURES_PER_ADDRESS), 4 per account
    users = [make_user(["alert.read"]) for _ in range(6)]
    for user in users[:5]:
        for _ in range(4):
            with pytest.raises(Unauthenticated):
                authorize.login(user.username, "spray", source=ATTACKER)
    # WHEN it tries a sixth account, even with its right password
    # THEN 429 for the address, while the account itself logs in from elsewhere (or from no
    # known address) and the sprayed accounts are not locked out for their owners
    with pytest.raises(Throttled, match="from 203.0.113.7"):
        authorize.login(users[5].username, users[5].password, source=ATTACKER)
    assert authorize.login(users[5].username, users[5].password, source="198.51.100.1")[1]["uuid"] == users[5].uuid
    assert authorize.login(users[0].username, users[0].password, source="198.51.100.2")[1]["uuid"] == users[0].uuid


def test_can_throttle_an_address_at_the_api_gateway_authorizer(api, make_user):
    # GIVEN an address that failed 20 times through the authorizer (requestContext.identity.sourceIp)
    users = [make_user(["alert.read"]) for _ in range(6)]

    def event(user: Any, password: str, source: str) -> dict[str, Any]:
        return {
            "headers": basic(user.username, password),
            "httpMethod": "GET",
            "methodArn": "arn:aws:execute-api:us-east-1:1:api/dev/GET/api/v2/alert",
            "requestContext": {"identity": {"sourceIp": source}},
        }

    for user in users[:5]:
        for _ in range(4):
            with pytest.raises(Exception, match="Unauthorized"):
                authorizer_response(event(user, "spray", ATTACKER))
    # WHEN a sixth account is tried from it THEN denied; from another address it is allowed
    denied = authorizer_response(event(users[5], users[5].password, ATTACKER))
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "Too many failed logins" in denied["context"]["reason"]
    allowed = authorizer_response(event(users[5], users[5].password, "198.51.100.1"))
    assert allowed["principalId"] == users[5].uuid


def test_can_throttle_wrong_oauth_client_secrets(api):
    # GIVEN a client whose secret was guessed wrong five times
    make_service_account(api.root)
    creds = credentials(api)
    for i in range(5):
        resp = token_request(api, grant({**creds, "clientSecret": f"wrong-{i}"}))
        assert resp.status_code == 401, resp.body
    # WHEN the right secret comes sixth THEN 429 with Retry-After
    resp = token_request(api, grant(creds))
    assert resp.status_code == 429, resp.body
    assert int(resp.headers["Retry-After"]) >= 1
    # AND another client of the same account is not affected
    other = credentials(api)
    assert token_request(api, grant(other)).status_code == 200
