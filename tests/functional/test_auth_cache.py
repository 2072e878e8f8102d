"""A warm request costs no AWS call for its authorization; a write made through this
container applies at once, one made elsewhere within auth_cache_seconds.

AWS calls are counted with botocore's event system: a `before-call` handler on the clients of
the PynamoDB connections records each DynamoDB operation and its tables. The clock of the
cache is an attribute (auth/cache.py): time moves without sleeping. The rate limiter is off
in the functional tests (tests/conftest.py), so every call counted is auth's or the route's.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.conftest import ADMIN_PASSWORD, Api
from tests.functional.test_alert import ALERT, new_alert

W = "/api/auth/0.1"
HANDLER_ID = "opsplane-test-call-count"


class Calls:
    """Every DynamoDB call of the PynamoDB connections: (operation, tables)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[str, ...]]] = []
        self.clients: list[Any] = []

    def attach(self) -> None:
        from chalicelib.store.models import MODELS, transaction_connection

        connections = [model._get_connection().connection for model in MODELS]  # type: ignore[attr-defined]
        for connection in [*connections, transaction_connection()]:
            client = connection.client
            client.meta.events.register("before-call.dynamodb", self._record, unique_id=HANDLER_ID)
            self.clients.append(client)

    def detach(self) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call.dynamodb", unique_id=HANDLER_ID)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params.get("body") or b"{}")
        tables = body.get("RequestItems") or {}
        names = tuple(sorted(tables)) if tables else (str(body.get("TableName", "")),)
        self.seen.append((model.name, tuple(n.rsplit("-", 1)[-1] for n in names)))

    def during(self, act: Any) -> list[tuple[str, tuple[str, ...]]]:
        """The calls act() makes."""
        start = len(self.seen)
        act()
        return self.seen[start:]


@pytest.fixture
def calls(api: Api) -> Iterator[Calls]:
    counted = Calls()
    counted.attach()
    yield counted
    counted.detach()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(api: Api) -> Iterator[Clock]:
    from chalicelib.auth.cache import AUTH_CACHE

    fake = Clock()
    AUTH_CACHE.clock = fake
    yield fake
    AUTH_CACHE.clock = time.time


@pytest.fixture
def no_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("OPSPLANE_AUTH_CACHE_SECONDS", "0")
    reset_settings()
    yield
    monkeypatch.delenv("OPSPLANE_AUTH_CACHE_SECONDS")
    reset_settings()


def _get(api: Api, alert_id: str, **kw: Any) -> int:
    return int(api.call("GET", f"{ALERT}/{alert_id}", **kw).status_code)


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# An alert read: the alert, then its evaluation state (alerting registry row)
ALERT_READ = [("GetItem", ("entities",)), ("GetItem", ("entities",))]


# ---- warm: no AWS call for auth --------------------------------------------------------------


def test_can_serve_a_warm_jwt_with_the_alert_read_only(api: Api, calls: Calls) -> None:
    # GIVEN an alert and a JWT used once (the cache is cold)
    alert = new_alert(api)
    assert _get(api, alert["id"]) == 200
    # WHEN the same token reads it again
    # THEN the request makes one AWS call: the alert's own read
    assert calls.during(lambda: _get(api, alert["id"])) == ALERT_READ


def test_can_serve_a_warm_api_token_with_the_alert_read_only(api: Api, calls: Calls) -> None:
    from chalicelib.auth import apitokens

    # GIVEN an API token of the admin, used once
    alert = new_alert(api)
    secret, _ = apitokens.create(api.root, api.admin, "user")
    assert _get(api, alert["id"], token=secret) == 200
    # WHEN it is used again, twice: THEN only the alert is read (no lookup, no last-use write)
    assert calls.during(lambda: _get(api, alert["id"], token=secret)) == ALERT_READ
    assert calls.during(lambda: _get(api, alert["id"], headers={"X-AUTH-TOKEN": secret}, token="")) == ALERT_READ


def test_can_serve_warm_basic_credentials_with_the_alert_read_only(api: Api, calls: Calls) -> None:
    alert = new_alert(api)
    assert _get(api, alert["id"], token="", headers=_basic("admin", ADMIN_PASSWORD)) == 200
    assert calls.during(lambda: _get(api, alert["id"], token="", headers=_basic("admin", ADMIN_PASSWORD))) == ALERT_READ


def test_can_enter_a_descendant_tenant_warm_with_no_auth_call(api: Api, calls: Calls, make_tenant: Any) -> None:
    # GIVEN an alert in a sub-tenant, read once by the root admin naming it
    child = make_tenant("Acme")
    inside = {"Wazo-Tenant": child}
    alert = new_alert(api, headers=inside)
    assert _get(api, alert["id"], headers=inside) == 200
    # THEN a warm read checks the descendant tenant without reading it
    assert calls.during(lambda: _get(api, alert["id"], headers=inside)) == ALERT_READ


def test_can_read_a_cold_principal_in_a_few_batched_calls(api: Api, calls: Calls, make_tenant: Any) -> None:
    from chalicelib.identity import accounts, groups
    from tests.functional.conftest import mint

    # GIVEN a user two levels down (two ancestors), in three groups, and an alert there
    partner = make_tenant("Partner")
    client = make_tenant("Client", parent=partner)
    user = accounts.create_account(client, username="deep", password="deep-password", fields={"acl": ["alert.#"]})
    for n in range(3):
        group = groups.create_group(client, name=f"g{n}", slug=None, description=None, by="test")
        groups.add_member(client, group.id, user.id, held=["#"], by="test")
    alert = new_alert(api, headers={"Wazo-Tenant": client})
    token = mint(user.id, client, "deep")
    # WHEN its token is first used
    seen = calls.during(lambda: _get(api, alert["id"], token=token))
    # THEN auth reads account + tenant + revocation row in one batch, the two ancestors in
    # another, the tenant's groups in one Query (none has policies to read), then the alert
    assert seen == [
        ("BatchGetItem", ("entities", "tokens")),
        ("BatchGetItem", ("entities",)),
        ("Query", ("entities",)),
        *ALERT_READ,
    ]


def test_can_give_everyones_grant_to_a_cold_basic_login_without_a_call(api: Api, calls: Calls, make_user: Any) -> None:
    # GIVEN a user with no role, whose tenant's verdict is cached (the admin's requests read it)
    user = make_user(["alert.#"])
    alert = new_alert(api)
    # WHEN it first logs in with Basic
    seen = calls.during(lambda: _get(api, alert["id"], token="", headers=_basic(user.username, user.password)))
    # THEN Everyone's role came with the tenant's cached verdict: no batch read of policies
    # (the login's own rows, the groups' Query and the alert are all it reads)
    assert [c for c in seen if c[0] in ("BatchGetItem", "Query")] == [("Query", ("entities",))]
    assert seen[-len(ALERT_READ) :] == ALERT_READ


# ---- writes through this container apply at once ----------------------------------------------


def test_can_refuse_a_revoked_session_at_once(api: Api) -> None:
    # GIVEN a Wazo session token, used (so cached)
    resp = api.call("POST", f"{W}/token", {}, token="", headers=_basic("admin", ADMIN_PASSWORD))
    token = json.loads(resp.body)["data"]["token"]
    alert = new_alert(api)
    assert _get(api, alert["id"], token=token) == 200
    # WHEN it is revoked
    assert api.call("DELETE", f"{W}/token/{token}", token="").status_code in (200, 204)
    # THEN it is refused at once
    assert _get(api, alert["id"], token=token) == 401


def test_can_refuse_a_revoked_api_token_at_once(api: Api) -> None:
    from chalicelib.auth import apitokens

    alert = new_alert(api)
    secret, token = apitokens.create(api.root, api.admin, "user")
    assert _get(api, alert["id"], token=secret) == 200
    assert api.call("DELETE", f"/api/v2/apitoken/{token.public_id}").status_code == 200
    assert _get(api, alert["id"], token=secret) == 401


def test_can_refuse_a_deactivated_account_at_once(api: Api, make_user: Any) -> None:
    from chalicelib.identity import directory

    user = make_user(["alert.#"])
    alert = new_alert(api)
    assert _get(api, alert["id"], token=user.token) == 200
    directory.set_enabled(api.root, user.uuid, False, by="test")
    assert _get(api, alert["id"], token=user.token) == 401


def test_can_refuse_a_deleted_account_at_once(api: Api, make_user: Any) -> None:
    from chalicelib.identity import users

    user = make_user(["alert.#"])
    alert = new_alert(api)
    assert _get(api, alert["id"], token=user.token) == 200
    users.delete_user(api.root, user.uuid)
    assert _get(api, alert["id"], token=user.token) == 401


def test_can_forbid_at_once_when_a_permission_is_removed(api: Api, make_user: Any) -> None:
    from chalicelib.identity import directory
    from chalicelib.identity.accounts import ACCOUNT

    user = make_user(["alert.#"])
    alert = new_alert(api)
    assert _get(api, alert["id"], token=user.token) == 200
    directory.edit_acl(api.root, ACCOUNT, user.uuid, lambda acl: [], by="test")
    assert _get(api, alert["id"], token=user.token) == 403


def test_can_forbid_at_once_when_a_policy_loses_an_entry(api: Api, make_user: Any) -> None:
    from chalicelib.identity import policies, users

    user = make_user([])
    policy = policies.create_policy(
        api.root, name="alerts", slug=None, description=None, acl=["alert.#"], held=None, by="test"
    )
    users.attach_policy(api.root, user.uuid, policy.id, held=["#"], by="test")
    alert = new_alert(api)
    assert _get(api, alert["id"], token=user.token) == 200
    policies.remove_access(api.root, policy.id, "alert.#", held=["#"], by="test")
    assert _get(api, alert["id"], token=user.token) == 403


def test_can_refuse_an_old_basic_password_at_once(api: Api, make_user: Any) -> None:
    from chalicelib.identity import users

    user = make_user(["alert.#"])
    alert = new_alert(api)
    old = _basic(user.username, user.password)
    assert _get(api, alert["id"], token="", headers=old) == 200
    users.change_password(
        api.root, user.uuid, new_password="a-new-password", old_password=None, self_service=False, by="test"
    )
    assert _get(api, alert["id"], token="", headers=old) == 401
    assert _get(api, alert["id"], token="", headers=_basic(user.username, "a-new-password")) == 200


def test_can_refuse_a_deactivated_descendant_tenant_at_once(api: Api, make_tenant: Any) -> None:
    from chalicelib.identity import tenants

    child = make_tenant("Acme")
    inside = {"Wazo-Tenant": child}
    alert = new_alert(api, headers=inside)
    assert _get(api, alert["id"], headers=inside) == 200
    tenants.update_tenant(child, {"active": False}, by="test")
    assert _get(api, alert["id"], headers=inside) == 410


# ---- writes made elsewhere apply within the bound ---------------------------------------------


def _revoke_acl_elsewhere(tenant: str, account_uuid: str) -> None:
    """What another container's write looks like here: the row changes, nothing is invalidated."""
    from chalicelib.store.repository import Repository

    def drop(entity: Any) -> None:
        entity.doc["acl"] = []

    Repository(tenant, "account").update(account_uuid, drop)


def test_can_apply_an_acl_change_made_elsewhere_after_the_bound(api: Api, make_user: Any, clock: Clock) -> None:
    # GIVEN a user whose principal is cached
    user = make_user(["alert.#"])
    alert = new_alert(api)
    assert _get(api, alert["id"], token=user.token) == 200
    # WHEN another container takes its ACL away
    _revoke_acl_elsewhere(api.root, user.uuid)
    # THEN within the bound the old ACL applies
    clock.now += 29
    assert _get(api, alert["id"], token=user.token) == 200
    # AND past it the new one does
    clock.now += 2
    assert _get(api, alert["id"], token=user.token) == 403


def test_can_turn_the_cache_off(api: Api, make_user: Any, calls: Calls, no_cache: None) -> None:
    # GIVEN OPSPLANE_AUTH_CACHE_SECONDS=0 and a user who made a request
    user = make_user(["alert.#"])
    alert = new_alert(api)
    assert _get(api, alert["id"], token=user.token) == 200
    # THEN every request reads its principal again
    assert len(calls.during(lambda: _get(api, alert["id"], token=user.token))) > len(ALERT_READ)
    # AND a change made elsewhere applies at once
    _revoke_acl_elsewhere(api.root, user.uuid)
    assert _get(api, alert["id"], token=user.token) == 403


def test_can_record_an_api_token_use_at_most_once_a_minute(api: Api, calls: Calls, no_cache: None) -> None:
    from chalicelib.auth import apitokens

    # GIVEN no cache (every request looks the token up) and a fresh token
    alert = new_alert(api)
    secret, _ = apitokens.create(api.root, api.admin, "user")
    # WHEN it is used three times
    seen = [c for _ in range(3) for c in calls.during(lambda: _get(api, alert["id"], token=secret))]
    # THEN its use is written once (lookup row and listed row), not three times
    assert [c for c in seen if c[0] == "UpdateItem"] == [("UpdateItem", ("tokens",))] * 2
