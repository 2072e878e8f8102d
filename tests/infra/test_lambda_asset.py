"""The Lambda asset starts: built as infra/ ships it, imported by a bare Python 3.11 that
sees nothing but the asset (no dev venv, no site-packages), it serves a request of every
category and runs the authorizer, against a moto server on loopback (moto stays here: it
is not in the asset)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.opsplane_infra import asset

pytestmark = pytest.mark.infra

# Run inside the asset's interpreter: Lambda puts the package first on sys.path and calls
# app.app (API Gateway proxy events) and app.authorizer (REQUEST authorizer events).
CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])

import app
from chalicelib import api
from chalicelib.auth import apitokens
from chalicelib.identity import accounts
from chalicelib.identity.bootstrap import bootstrap
from chalicelib.store import models

models.create_tables()
inst = bootstrap("asset-password-1")
secret, _ = apitokens.create(inst.root_tenant, inst.admin_uuid, accounts.USER, name="asset")
headers = {"Accept": "application/json", "Authorization": f"Bearer {secret}", "X-Requested-By": "asset"}  # CloverDX CSRF


def event(method, resource, params):
    path = resource
    for name, value in params.items():
        path = path.replace("{" + name + "}", value).replace("{" + name + "+}", value)
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": params or None, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": "/prod" + path,
                           "stage": "prod", "requestId": "asset-1"},
        "body": None, "isBase64Encoded": False,
    }


answers = {}
for category in api.every():
    routes = sorted(category.router.routes, key=lambda r: (r.method != "GET", r.path.count("{"), r.path))
    route = routes[0]
    params = {p.strip("{}+"): "x" for p in route.path.split("/") if p.startswith("{")}
    answer = app.app(event(route.method, route.path, params), None)
    answers[category.name] = [route.method, route.path, answer["statusCode"], answer["body"][:300]]

auth = app.authorizer({"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:1:api/prod/GET/x",
                       "httpMethod": "GET", "headers": headers}, None)
print(json.dumps({"answers": answers, "authorizer": auth["policyDocument"]["Statement"][0]["Effect"],
                  "modules": sorted(sys.modules)}))
"""


def base_python() -> str:
    """The interpreter the venv was made from: no venv, nothing installed by the tests."""
    return str(getattr(sys, "_base_executable", "") or sys.executable)


@pytest.fixture(scope="module")
def built() -> Path:
    return asset.build()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def started(built: Path, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path_factory.mktemp("home")),
        "AWS_ACCESS_KEY_ID": "asset",
        "AWS_SECRET_ACCESS_KEY": "asset",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "OPSPLANE_STAGE": "asset",
        "OPSPLANE_STATE_DIR": str(tmp_path_factory.mktemp("state")),
        "OPSPLANE_DYNAMODB_ENDPOINT": moto_endpoint,
        "OPSPLANE_S3_ENDPOINT": moto_endpoint,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    # -I: no user site, no PYTHON* variables; -S: no site-packages at all.
    done = subprocess.run(
        [base_python(), "-I", "-S", "-c", CHILD, str(built)],
        cwd=tmp_path_factory.mktemp("cwd"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_can_import_app_and_serve_every_category_from_the_asset_alone(started: dict[str, Any]) -> None:
    answers = started["answers"]
    assert {"alert", "dashboard", "account", "grafana", "wazo", "oauth", "health", "docs"} <= set(answers)
    for name, (method, path, status, body) in answers.items():
        # A real answer of the category (a 404 of an absent "x" is one), never a failure.
        assert status < 500, (name, method, path, status, body)
        assert status not in (401, 403), (name, method, path, status, body)


def test_can_authorize_from_the_asset_alone(started: dict[str, Any]) -> None:
    assert started["authorizer"] == "Allow"


def test_can_start_without_any_dev_or_test_package(started: dict[str, Any]) -> None:
    modules = {m.split(".")[0] for m in started["modules"]}
    assert not modules & {"moto", "boto3", "pytest", "aws_cdk", "jsii", "hypothesis"}
