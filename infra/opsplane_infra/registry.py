"""What the stack deploys, read from the application itself: the tables from the
PynamoDB models, the categories from the registry, the routes from each category's
router, and the DynamoDB actions each function needs. Nothing here lists a path or a
category by hand, so a new category or route needs no infra edit."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from chalicelib import api
from chalicelib.http.router import Category, Route
from chalicelib.store.models import MODELS, EntityItem, TimeseriesItem, TokenItem, UsageItem
from chalicelib.workers import Worker

from . import REPO_ROOT

# Settings name every table "<key>_table", read from OPSPLANE_<KEY>_TABLE (chalicelib/settings.py).
TABLE_MODELS: dict[str, type] = {
    "entities": EntityItem,
    "tokens": TokenItem,
    "usage": UsageItem,
    "timeseries": TimeseriesItem,
}

# Item-level actions only: no Scan, no table management, no wildcard.
GET = "dynamodb:GetItem"
PUT = "dynamodb:PutItem"
UPDATE = "dynamodb:UpdateItem"
DELETE = "dynamodb:DeleteItem"
QUERY = "dynamodb:Query"
BATCH_GET = "dynamodb:BatchGetItem"
BATCH_WRITE = "dynamodb:BatchWriteItem"
# TransactWrite needs the action of each part; a condition-only part needs ConditionCheckItem.
CONDITION_CHECK = "dynamodb:ConditionCheckItem"
ITEM_ACTIONS = (GET, PUT, UPDATE, DELETE, QUERY, BATCH_GET, BATCH_WRITE, CONDITION_CHECK)

# What the edge itself does for every authenticated route, whatever the category:
# resolve and check the acting tenant (entities, read) and count the request against the
# tenant's per-category window (usage, one atomic update).
EDGE_ACCESS: dict[str, tuple[str, ...]] = {"entities": (GET, QUERY), "usage": (UPDATE,)}

# What authorize() does: read accounts, groups, policies and tenants (entities); look up
# API tokens and revoked JWT ids, record token use and login throttling (tokens).
AUTHORIZER_ACCESS: dict[str, tuple[str, ...]] = {
    "entities": (GET, QUERY, BATCH_GET),
    "tokens": (GET, QUERY, PUT, UPDATE, DELETE),
}


# What every worker Lambda (chalicelib/workers) may do: read and write entities (sources,
# policies, messages), count usage and write the time series. A worker has no category, so
# no narrower declaration; the blobs grant follows the entities access (claim checks too).
WORKER_ACCESS: dict[str, tuple[str, ...]] = {
    "entities": ITEM_ACTIONS,
    "usage": ITEM_ACTIONS,
    "timeseries": ITEM_ACTIONS,
}
# What a route that sends to a worker queue may do on it (store/queues.py: send).
QUEUE_SEND = ("sqs:GetQueueUrl", "sqs:SendMessage")
# What a worker that assumes customers' roles may do (store/cloudwatch.py): any role, since
# the customer names it, but only with an external id (the confused-deputy guard: each
# tenant's ids are its own, docs/cloud-integrations.md). The customer's trust policy
# decides the rest.
ASSUME_ROLE = "sts:AssumeRole"
ASSUME_ROLE_CONDITION = {"Null": {"sts:ExternalId": "false"}}


# The blobs bucket holds the entity documents too large for their item (chalicelib/store/
# blobs.py): whoever reads entities may have to read a blob, whoever writes entities writes
# new blobs and deletes replaced ones. ListBucket (on the bucket, no object access) makes a
# missing key answer 404 rather than 403, which the repository relies on to tell a blob
# replaced meanwhile from a denied one.
BLOB_READ = ("s3:GetObject",)
BLOB_WRITE = ("s3:PutObject", "s3:DeleteObject")
BLOB_LIST = "s3:ListBucket"
ENTITY_WRITES = frozenset({PUT, UPDATE, DELETE, BATCH_WRITE})


def blob_access(table_access: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The object actions on the blobs bucket that go with a function's table access."""
    entities = set(table_access.get("entities", ()))
    if not entities:
        return ()
    return BLOB_READ + (BLOB_WRITE if entities & ENTITY_WRITES else ())


@dataclass(frozen=True)
class TableSpec:
    """One DynamoDB table as its PynamoDB model declares it."""

    key: str
    hash_key: tuple[str, str]  # (attribute, S|N|B)
    range_key: tuple[str, str] | None
    indexes: tuple[dict[str, Any], ...]  # PynamoDB's GSI schema entries
    ttl_attribute: str | None

    @property
    def env_var(self) -> str:
        return f"OPSPLANE_{self.key.upper()}_TABLE"


def _types(schema: dict[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}


def _table_spec(key: str, model: Any) -> TableSpec:
    schema = model._get_schema()
    if schema.get("local_secondary_indexes"):
        raise ValueError(f"{model.__name__}: local secondary indexes are not deployed by infra/")
    types = _types(schema)
    keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
    ttl = model._ttl_attribute()
    return TableSpec(
        key=key,
        hash_key=(keys["HASH"], types[keys["HASH"]]),
        range_key=(keys["RANGE"], types[keys["RANGE"]]) if "RANGE" in keys else None,
        indexes=tuple(schema.get("global_secondary_indexes") or ()),
        ttl_attribute=ttl.attr_name if ttl is not None else None,
    )


def tables() -> list[TableSpec]:
    """Every table of the application, from its model."""
    unmapped = set(MODELS) - set(TABLE_MODELS.values())
    if unmapped:
        raise ValueError(f"Models without a table key in infra: {sorted(m.__name__ for m in unmapped)}")
    return [_table_spec(key, model) for key, model in TABLE_MODELS.items()]


@dataclass(frozen=True)
class Served:
    """A category as deployed: its registry entry and the routes its router declares."""

    category: Category
    routes: tuple[Route, ...]

    @property
    def name(self) -> str:
        return self.category.name

    @property
    def authenticated(self) -> bool:
        """Has routes behind the authorizer (so the edge checks tenants and rate limits)."""
        return any(not r.public for r in self.routes)

    @property
    def reads_keys(self) -> bool:
        """Needs the signing-key ring: authenticated routes (cursor secret, principal) or
        the token endpoints that issue and publish keys (they touch the tokens table)."""
        return self.authenticated or "tokens" in self.category.tables

    def table_access(self) -> dict[str, tuple[str, ...]]:
        """Table key -> the DynamoDB actions this category's function needs."""
        access: dict[str, set[str]] = {t: set(ITEM_ACTIONS) for t in self.category.tables}
        if self.authenticated:
            for table, actions in EDGE_ACCESS.items():
                access.setdefault(table, set()).update(actions)
        return {t: _ordered(a) for t, a in access.items()}


def _ordered(actions: Iterable[str]) -> tuple[str, ...]:
    wanted = set(actions)
    return tuple(a for a in ITEM_ACTIONS if a in wanted)


@cache
def served() -> tuple[Served, ...]:
    """Every category of the registry with the routes of its own router. Routes belong to the category whose router
    declares them: that is the router its function registers."""
    known = set(TABLE_MODELS)
    result = []
    seen: dict[tuple[str, str], str] = {}
    for category in api.every():
        unknown = set(category.tables) - known
        if unknown:
            raise ValueError(f"Category {category.name} names unknown tables {sorted(unknown)}")
        routes = tuple(category.router.routes)
        for route in routes:
            key = (route.method, route.path)
            if key in seen:
                raise ValueError(f"{route.method} {route.path} declared by {seen[key]} and {category.name}")
            seen[key] = category.name
        result.append(Served(category, routes))
    return tuple(result)


def all_routes() -> list[Route]:
    """The route table of the whole app."""
    return [r for s in served() for r in s.routes]


def edge_only_categories() -> tuple[str, ...]:
    """What the authorizer and the default (unknown path) function register: the first
    category that touches no table, so their cold start imports one small module rather
    than every category (an empty OPSPLANE_CATEGORIES means all)."""
    light = next((c.name for c in api.every() if not c.tables), None)
    return (light,) if light else ()


@cache
def chalice_app() -> ModuleType:
    """The application's app.py (the Chalice app and the authorizer entry point)."""
    spec = importlib.util.spec_from_file_location("opsplane_chalice_app", REPO_ROOT / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError("Cannot load app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def binary_types() -> list[str]:
    """Content types API Gateway must pass through as binary (the app's own list)."""
    return list(chalice_app().app.api.binary_types)


def authorizer_handler() -> str:
    """The Lambda handler of the authorizer, as Chalice records it for
    `@app.lambda_function(name="authorizer")` ("app.<function name>")."""
    for function in chalice_app().app.pure_lambda_functions:
        if function.name == "authorizer":
            return str(function.handler_string)
    raise LookupError("app.py defines no lambda function named 'authorizer'")


# What the tenant-keys worker does on API Gateway (store/gatewaykeys.py): create, read, tag and
# delete API keys; add and remove them on usage plans (a plan's keys are its sub-resource).
API_KEY_ACTIONS = ("apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:DELETE")


def workers() -> tuple[Worker, ...]:
    """Every worker of the application (chalicelib/workers), by queue name."""
    from chalicelib.workers import registry as worker_registry

    found = worker_registry()
    return tuple(found[q] for q in sorted(found))


def schedules() -> dict[str, Any]:
    """Every schedule of the application, by the queue of the worker it feeds."""
    from chalicelib.workers import schedules as worker_schedules

    return dict(sorted(worker_schedules().items()))


def schedule_input(queue: str) -> dict[str, str]:
    """What the schedule's rule hands the worker function (app.worker runs the schedule)."""
    from chalicelib.workers.runtime import schedule_event

    return schedule_event(queue)
