"""What a cold start loads: one category's function imports its category and the edge,
nothing else of the API; every AWS client comes from one botocore session.

Timings are not tested (bench/bench_coldstart.py measures them); what is imported is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Modules an alert function has no use for at import time.
OTHER_CATEGORIES = [
    "chalicelib.categories.account",
    "chalicelib.categories.apitoken",
    "chalicelib.categories.dashboard",
    "chalicelib.categories.health",
    "chalicelib.categories.role",
    "chalicelib.categories.usergroup",
    "chalicelib.compat.grafana",
    "chalicelib.compat.oauth",
    "chalicelib.compat.wazo",
    "chalicelib.api.docs",
    "chalicelib.dashboards",
]
HEAVY = [
    "lark",  # the query parser loads it on the first parse
    "argon2",  # only Basic logins and password changes hash
    "swagger_ui_bundle",  # the docs category's
    "chalicelib.http.openapi",  # the docs category's
    "boto3",  # store/ makes botocore clients; boto3 is not a runtime dependency
]
CRYPTO = ["jwt", "cryptography"]


def imported_by_app(categories: str) -> set[str]:
    """sys.modules after `import app` in a fresh interpreter serving `categories`."""
    env = {**os.environ, "OPSPLANE_CATEGORIES": categories}
    code = "import json, sys; import app; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def alert_function() -> set[str]:
    return imported_by_app("alert")


def loaded(modules: set[str], names: list[str]) -> list[str]:
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def test_can_start_an_alert_function_with_its_category_only(alert_function):
    assert "chalicelib.categories.alert" in alert_function
    assert loaded(alert_function, OTHER_CATEGORIES) == []


def test_can_start_an_alert_function_without_heavy_imports(alert_function):
    assert loaded(alert_function, HEAVY) == []


def test_can_start_an_alert_function_without_jwt_or_cryptography(alert_function):
    assert loaded(alert_function, CRYPTO) == []


def test_can_share_one_botocore_session_between_every_model_and_client():
    from chalicelib.settings import get_settings
    from chalicelib.store import aws, blobs, models

    # GIVEN freshly bound models
    models.bind(get_settings())
    # WHEN every model, the transactions and the blob store make their clients
    connections = {id(model._get_connection().connection) for model in models.MODELS}  # type: ignore[attr-defined]
    connections.add(id(models.transaction_connection()))
    clients = {id(model._get_connection().connection.client) for model in models.MODELS}  # type: ignore[attr-defined]
    # THEN there is one DynamoDB connection, one DynamoDB client, one session behind all
    assert len(connections) == 1 and len(clients) == 1
    session = aws.session()
    assert models.connection().session is session
    loader = session.get_component("data_loader")
    assert models.connection().client._loader is loader
    assert blobs._client()._loader is loader  # S3: a client of the same session
    # AND binding again starts afresh (tests and local runs re-point the store)
    models.bind(get_settings())
    assert aws.session() is not session


def test_can_start_the_whole_app_without_importing_any_category():
    # GIVEN the app serving every category (make run, a one-function deployment)
    modules = imported_by_app("")
    # THEN no category module is imported before a request reaches it
    categories = [m for m in modules if m.startswith(("chalicelib.categories.", "chalicelib.compat."))]
    assert categories == [] and "chalicelib.api.docs" not in modules


def test_can_import_only_the_category_a_request_reaches():
    # GIVEN the whole app in a fresh interpreter
    code = (
        "import json, sys; from chalice.test import Client; import app\n"
        "with Client(app.app) as c: status = c.http.get('/api/v2/alert/x').status_code\n"
        "print(json.dumps([status, sorted(sys.modules)]))"
    )
    env = {**os.environ, "OPSPLANE_CATEGORIES": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    status, modules = json.loads(done.stdout.strip().splitlines()[-1])
    # WHEN one request reaches an alert route (unauthenticated: 401 after the route is found)
    assert status == 401
    # THEN the alert category was imported for it, and no other
    assert "chalicelib.categories.alert" in modules
    assert loaded(set(modules), OTHER_CATEGORIES) == []


def test_can_keep_the_route_manifest_in_step_with_the_categories():
    from scripts.gen_route_manifest import OUTPUT, render

    assert OUTPUT.read_text(encoding="utf-8") == render(), "the route manifest is stale: run `make routes`"
