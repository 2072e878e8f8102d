"""The app as API Gateway invokes it when deployed (infra/): proxy events, not the local
router. No AWS and no CDK needed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.opsplane_infra import registry

pytestmark = pytest.mark.infra


def _event(resource: str, path: str, method: str = "GET") -> dict[str, Any]:
    """A REST API Lambda proxy event for stage 'prod'."""
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")} if "{proxy+}" in resource else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "req-infra-1",
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/api/v2/no-such-thing", lambda body: body["status"]["code"] == 404),
        ("/api/auth/0.1/no-such-thing", lambda body: body["status_code"] == 404 and "error_id" in body),
        ("/auth/oauth/no-such-thing", lambda body: "error" in body and "error_description" in body),
        ("/api/dashboards/no/such/thing", lambda body: "message" in body and "status" not in body),
    ],
)
def test_can_answer_unknown_paths_in_the_dialect_behind_api_gateway(path: str, check: Any) -> None:
    # GIVEN the default function's app WHEN API Gateway's catch-all sends it an unknown path
    app = registry.chalice_app().app
    response = app(_event("/{proxy+}", path), None)
    # THEN it answers 404 in the dialect of the path
    assert response["statusCode"] == 404
    assert check(json.loads(response["body"]))


def test_can_answer_the_bare_root_with_the_index() -> None:
    # GIVEN the app as API Gateway invokes it WHEN its root resource is asked
    app = registry.chalice_app().app
    response = app(_event("/", "/"), None)
    # THEN it answers the docs' index (the root is a route of the docs category), not a 404
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["docs"] == "/api-docs/ui"


def test_can_answer_a_wrong_method_with_405_in_the_dialect() -> None:
    # GIVEN a path the app serves WHEN the ANY fallback sends it a method the path lacks
    app = registry.chalice_app().app
    route = next(r for r in registry.all_routes() if r.path.startswith("/api/v2/") and "{" not in r.path)
    served = {r.method for r in registry.all_routes() if r.path == route.path}
    missing = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in served)
    response = app(_event(route.path, route.path, missing), None)
    # THEN it answers 405 in the native envelope, before any credential check
    assert response["statusCode"] == 405
    assert json.loads(response["body"])["status"]["code"] == 405
