"""Functional fixtures: the real app on moto, a bootstrapped installation, tokens."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

ADMIN_PASSWORD = "admin-secret-pw"
# Marks a test that runs with the product's default Everyone (its role gives Browse to every
# account) instead of one that gives nothing: see empty_everyone.
EVERYONE_DEFAULT = "everyone_default"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{EVERYONE_DEFAULT}: tenants keep Everyone's default grant (Browse)")


@dataclass
class Api:
    """chalice.test.Client with JSON helpers and a default token."""

    client: Client
    token: str
    root: str
    admin: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> Any:
        h = {"Content-Type": "application/json"}
        use = self.token if token is None else token
        if use:
            h["Authorization"] = f"Bearer {use}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.client.http.request(method, path, headers=h, body=data)

    def json(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        resp = self.call(method, path, body, **kw)
        try:
            return resp.status_code, json.loads(resp.body) if resp.body else None
        except ValueError:
            return resp.status_code, resp.body

    def context(self) -> Any:
        """The domain Context of the bootstrap admin: what a worker or a thread hands to the
        domain operations (chalice.test.Client cannot serve threads)."""
        from chalicelib.auth.principal import Principal
        from chalicelib.domain.context import Context

        return Context(self.root, Principal(id=self.admin, name="admin", tenant=self.root, acl=["#"]))


def mint(account_uuid: str, tenant: str, name: str = "admin", ttl: int = 3600) -> str:
    from chalicelib.auth import sessions

    token, _ = sessions.issue(sub=account_uuid, tenant=tenant, name=name, kind="user", method="jwt", ttl=ttl)
    return token


def _queues_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Create a worker queue (and its dead-letter queue) when a test first uses it: most
    tests send to none, and creating all of them costs ~0.3 s a test (make run and
    deployments create them all up front)."""
    from chalicelib.store import queues

    made: set[str] = set()
    url_of = queues.url_of

    def on_first_use(queue: str) -> str:
        base = queue.removesuffix("-dlq")
        if base not in made:
            made.add(base)
            queues.create_queues([base])
        return url_of(queue)

    monkeypatch.setattr(queues, "url_of", on_first_use)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for AWS. moto does not apply a conditional write atomically against other
    threads, as DynamoDB does per item: serialize its request handling so concurrency
    tests see DynamoDB's guarantee."""
    lock = threading.Lock()
    original = BotocoreStubber.process_request

    def one_at_a_time(self: Any, request: Any) -> Any:
        with lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)
    with mock_aws():
        from tests.moto_tables import fresh_tables

        fresh_tables()
        _queues_on_first_use(monkeypatch)
        yield


@pytest.fixture
def aws_calls(aws: None) -> Iterator[Any]:
    """The AWS calls the store makes, by operation and table (tests/calls.py)."""
    from tests.calls import AwsCalls

    calls = AwsCalls().attach()
    yield calls
    calls.detach()


def empty_everyone(request: pytest.FixtureRequest, tenant: str) -> None:
    """Take every grant off the tenant's Everyone role, as an administrator may, unless the
    test is marked everyone_default. Every account belongs to Everyone, which gives Browse
    by default: a test that states the exact ACL an account holds (make_user) needs a tenant
    where Everyone gives nothing, or every "refused without X" would be answered by Browse.
    The default grant itself is tested in test_everyone.py and the tests marked so."""
    if request.node.get_closest_marker(EVERYONE_DEFAULT):
        return
    from chalicelib.identity import groups, policies

    policies.update_policy(tenant, groups.everyone_role_id(tenant), {"acl": []}, held=["#"], by="test")


@pytest.fixture
def api(aws: None, request: pytest.FixtureRequest) -> Iterator[Api]:
    from app import app
    from chalicelib.identity.bootstrap import bootstrap

    inst = bootstrap(ADMIN_PASSWORD)
    empty_everyone(request, inst.root_tenant)
    with Client(app) as client:
        yield Api(
            client=client, token=mint(inst.admin_uuid, inst.root_tenant), root=inst.root_tenant, admin=inst.admin_uuid
        )


@dataclass
class User:
    uuid: str
    username: str
    password: str
    token: str
    tenant: str


@pytest.fixture
def make_user(api: Api):
    """Create an account in a tenant (default: root) holding exactly `acl` (its tenant's
    Everyone gives nothing: empty_everyone), with a session token."""
    from chalicelib.identity import accounts

    counter = {"n": 0}

    def make(
        acl: list[str], *, tenant: str | None = None, username: str | None = None, password: str = "user-password-1"
    ) -> User:
        counter["n"] += 1
        tenant = tenant or api.root
        name = username or f"user{counter['n']}"
        account = accounts.create_account(
            tenant, username=name, password=password, fields={"acl": list(acl)}, by="test"
        )
        return User(account.id, name, password, mint(account.id, tenant, name), tenant)

    return make


@pytest.fixture
def make_tenant(api: Api, request: pytest.FixtureRequest):
    """Create a sub-tenant (of root by default) and return its uuid; its Everyone gives
    nothing, as the root's (empty_everyone)."""
    from chalicelib.identity import tenants

    def make(name: str, parent: str | None = None) -> str:
        made = tenants.create_tenant(name=name, slug=None, parent_uuid=parent or api.root, by="test")["uuid"]
        empty_everyone(request, made)
        return str(made)

    return make
