"""The contract suite's fixtures: every test parametrized over the kinds declared on the
shared CRUD (crud.DECLARED, filled as the categories are imported: every one, below), one installation
(moto + bootstrap + app) per kind and module, and a fresh tenant per test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws
from pydantic import BaseModel

from app import app, edge
from chalicelib.categories import crud
from chalicelib.http.router import Route
from tests.contract.samples import SAMPLES, Body, Sample, refusals, sample_for
from tests.functional.conftest import ADMIN_PASSWORD, Api, mint

edge.load_all()  # the app imports a category when a request first reaches it: the suite needs every kind now

HERE = Path(__file__).parent


def kind_id(declared: crud.Declared) -> str:
    return declared.kind.name


WRITES = ("create", "update")


def write_route(declared: crud.Declared, write: str) -> Route | None:
    """The route that creates ("create") or updates ("update") entities of the kind: the
    shared one, or the kind's own (samples.py says where)."""
    sample = SAMPLES.get(declared.kind.name, Sample(body=dict))
    method, template = ("POST", sample.create) if write == "create" else ("PUT", sample.update)
    return edge.table.get(template.format(base=declared.base, id="{id}"), {}).get(method)


def body_schema(declared: crud.Declared, write: str) -> type[BaseModel] | None:
    """The pydantic model the kind's create or update route declares for its body."""
    route = write_route(declared, write)
    body = route.body if route is not None else None
    return body if isinstance(body, type) and issubclass(body, BaseModel) else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`declared`: every declared kind; with `refusal`, every bad body of that kind."""
    if "declared" not in metafunc.fixturenames:
        return
    if "refusal" in metafunc.fixturenames:
        cases = [
            pytest.param(d, way, r, id=f"{d.kind.name}-{way}-{r.name}")
            for d in crud.DECLARED
            for way in WRITES
            for r in refusals(body_schema(d, way) or d.kind.schema)
        ]
        metafunc.parametrize(("declared", "write", "refusal"), cases)
    else:
        metafunc.parametrize("declared", crud.DECLARED, ids=kind_id)


@contextmanager
def installed() -> Iterator[Api]:
    """The app on moto with a bootstrapped root tenant."""
    from chalicelib.identity.bootstrap import bootstrap
    from tests.moto_tables import fresh_tables

    with mock_aws():
        fresh_tables()
        inst = bootstrap(ADMIN_PASSWORD)
        with Client(app) as client:
            token = mint(inst.admin_uuid, inst.root_tenant)
            yield Api(client=client, token=token, root=inst.root_tenant, admin=inst.admin_uuid)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run each contract module's tests kind by kind, so each kind needs one installation."""

    def kind_of(item: pytest.Item) -> str:
        callspec = getattr(item, "callspec", None)
        declared = callspec.params.get("declared") if callspec else None
        return declared.kind.name if declared is not None else ""

    positions = [n for n, item in enumerate(items) if item.path.parent == HERE]
    ordered = sorted((items[n] for n in positions), key=lambda item: (str(item.path), kind_of(item)))
    for position, item in zip(positions, ordered, strict=True):
        items[position] = item


@pytest.fixture(scope="module")
def installations() -> Iterator[dict[str, Api]]:
    """One installation per kind, shared by a module's tests of that kind (each works in a
    tenant of its own), one alive at a time. No wider: moto sorts a whole partition on each
    Query, so a long-lived installation slows every list down."""
    with ExitStack() as stack:

        class PerKind(dict):
            def __missing__(self, name: str) -> Api:
                stack.close()
                self.clear()
                self[name] = stack.enter_context(installed())
                return self[name]

        alive = PerKind()
        yield alive


@pytest.fixture
def installation(installations: dict[str, Api], declared: crud.Declared) -> Api:
    return installations[declared.kind.name]


@dataclass
class User:
    uuid: str
    token: str


@dataclass
class KindApi:
    """One declared kind's routes, called as a user holding every permission of the kind
    in a tenant of its own."""

    declared: crud.Declared
    sample: Sample
    api: Api
    tenant: str
    owner: User = field(init=False)
    made: int = 0

    def __post_init__(self) -> None:
        self.owner = self.user()

    # ---- what the kind is -----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.declared.kind.name

    @property
    def base(self) -> str:
        return self.declared.base

    @property
    def schema(self) -> Any:
        return self.declared.kind.schema

    def has(self, feature: str) -> bool:
        return feature in self.declared.features

    def needs(self, feature: str) -> None:
        """Skip a test of a shared route the kind does not declare."""
        if not self.has(feature):
            pytest.skip(f"{self.name} does not declare the shared {feature!r} routes")

    @property
    def name_path(self) -> tuple[str, ...]:
        """Where the entity's name is in a body and an answer."""
        return self.sample.name or (self.declared.kind.name_key,)

    def renamed(self, body: Body, name: str) -> Body:
        """A copy of body with its name set to name."""
        copy = json.loads(json.dumps(body))
        *parents, last = self.name_path
        node = copy
        for key in parents:
            node = node[key]
        node[last] = name
        return copy

    def name_of(self, entity: dict[str, Any]) -> Any:
        """The name of a body or an answer."""
        value: Any = entity
        for key in self.name_path:
            value = value[key]
        return value

    def item(self, entity_id: str, suffix: str = "") -> str:
        return f"{self.base}/{entity_id}{suffix}"

    @property
    def create_path(self) -> str:
        return self.sample.create.format(base=self.base)

    def update_path(self, entity_id: str) -> str:
        return self.sample.update.format(base=self.base, id=entity_id)

    # ---- principals -----------------------------------------------------------------------

    def user(self, acl: list[str] | None = None, tenant: str | None = None) -> User:
        """An account (no password) holding acl (default: every permission of the kind)."""
        from chalicelib.identity import accounts

        tenant = tenant or self.tenant
        name = f"contract-{uuid.uuid4().hex[:12]}"
        fields = {"acl": acl if acl is not None else [f"{self.name}.#"]}
        account = accounts.create_account(tenant, username=name, password=None, fields=fields, by="test")
        return User(account.id, mint(account.id, tenant, name))

    def stranger(self) -> User:
        """A user of another tenant holding every permission of the kind."""
        return self.user(tenant=new_tenant(self.api))

    # ---- calls ------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        as_: User | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        return self.api.json(method, path, body, raw=raw, token=(as_ or self.owner).token, headers=headers)

    def post_create(self, body: Any = None, *, raw: bytes | None = None, as_: User | None = None) -> tuple[int, Any]:
        """A create call: the body POSTed to the create path, or the kind's own way (Sample.create_call)."""
        if self.sample.create_call is None:
            return self.call("POST", self.create_path, body, raw=raw, as_=as_)

        def send(method: str, path: str, payload: Any = None, **options: Any) -> tuple[int, Any]:
            return self.call(method, path, payload, as_=as_, **options)

        return self.sample.create_call(send, body, raw)

    def body(self) -> Body:
        """A fresh valid body."""
        self.made += 1
        return self.own(self.sample.body(f"{uuid.uuid4().hex[:8]}-{self.made}"), self.owner)

    def own(self, body: Body, user: User) -> Body:
        """The body made ready for the user's tenant (Sample.prepare), else as it is."""
        if self.sample.prepare is None:
            return body
        return self.sample.prepare(body, lambda method, path: self.call(method, path, as_=user))

    def create(self, body: Body | None = None) -> dict[str, Any]:
        status, answer = self.post_create(body if body is not None else self.body())
        assert status == 200, answer
        return answer["response"]

    def get(self, entity_id: str, as_: User | None = None) -> dict[str, Any]:
        status, answer = self.call("GET", self.item(entity_id), as_=as_)
        assert status == 200, answer
        return answer["response"]

    def page(self, query: str = "", as_: User | None = None) -> dict[str, Any]:
        status, answer = self.call("GET", f"{self.base}{query}", as_=as_)
        assert status == 200, answer
        return answer["response"]

    def total(self, as_: User | None = None) -> int:
        return self.page(as_=as_)["totalItems"]


def new_tenant(api: Api) -> str:
    from chalicelib.identity import tenants

    name = f"contract-{uuid.uuid4().hex[:12]}"
    return tenants.create_tenant(name=name, slug=None, parent_uuid=api.root, by="test")["uuid"]


@pytest.fixture
def kind(installation: Api, declared: crud.Declared) -> KindApi:
    """The declared kind, in a fresh tenant (fails, naming what to add, without a sample)."""
    return KindApi(declared, sample_for(declared.kind.name), installation, new_tenant(installation))


def refused(status: int, answer: Any, code: int) -> None:
    """A refusal in the Wavefront envelope: {status: {result: ERROR, code, message}}."""
    assert status == code, answer
    assert answer["status"]["result"] == "ERROR" and answer["status"]["code"] == code, answer
    assert answer["status"]["message"], answer


def oversize(body: Body, limit: int) -> bytes:
    """A valid body padded (with an unknown field) to one byte over limit."""
    padded = {**body, "contractPadding": ""}
    short = limit + 1 - len(json.dumps(padded).encode())
    return json.dumps({**body, "contractPadding": "x" * short}).encode()
