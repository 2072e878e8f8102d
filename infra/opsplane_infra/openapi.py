"""The REST API as one OpenAPI (Swagger 2.0) body with API Gateway extensions.

One body rather than a CloudFormation resource per path and method: the route table
grows with every category, and a stack holds at most 500 resources.

Per path: when every method of the path goes to one category's function under one rule
(behind the authorizer, or PUBLIC), the path has one ANY operation: the function answers
each method, HEAD (as GET) and a wrong method (405 in the caller's dialect) itself. A path
shared by categories or mixing public and guarded methods keeps one operation per method,
HEAD following GET, and ANY for the rest on the first method's function. `/` and `/{proxy+}` (any path API Gateway does not know) go to the default
function, which answers 404 in the dialect.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.http.router import Route

AUTHORIZER = "opsplane-authorizer"
API_KEY = "api_key"
ANY = "x-amazon-apigateway-any-method"
CATCH_ALL = "/{proxy+}"
# The MSP dialect's tenant URLs (chalicelib/http/tenant_urls.py): any route of any category
# under a tenant's prefix, served by one function that serves every category.
TENANT_URLS = "/api/v2/tenants/{tenantId}/{proxy+}"
INTEGRATION = "x-amazon-apigateway-integration"

_PARAM = re.compile(r"{([^}]+)}")
# API Gateway resource path parts: letters, digits and . _ - : (or one {variable}).
_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._:-]+|{[A-Za-z0-9_]+\+?})$")

# API Gateway's own refusals, in a body every dialect's client can read: the native
# status block, Grafana's and Wazo's message, OAuth2's error pair.
_GATEWAY_ERRORS = {
    "UNAUTHORIZED": (401, "unauthorized", "$context.error.messageString"),
    "ACCESS_DENIED": (403, "forbidden", '"$context.authorizer.reason"'),
    "THROTTLED": (429, "throttled", "$context.error.messageString"),
    "QUOTA_EXCEEDED": (429, "throttled", "$context.error.messageString"),
}


def check_paths(paths: Iterable[str]) -> None:
    """Raise when the paths cannot form one API Gateway resource tree: a segment API
    Gateway refuses, or two differently named path variables under one parent."""
    variables: dict[str, str] = {}
    for path in paths:
        if path == "/":
            continue
        parent = ""
        segments = path.strip("/").split("/")
        for position, segment in enumerate(segments, 1):
            if not _SEGMENT.match(segment):
                raise ValueError(f"{path}: API Gateway cannot route segment {segment!r}")
            if segment.endswith("+}") and position < len(segments):
                raise ValueError(f"{path}: a greedy variable must end the path")
            if segment.startswith("{"):
                other = variables.setdefault(parent, segment)
                if other != segment:
                    raise ValueError(f"{path}: {segment} and {other} are both variables under {parent or '/'}")
            parent = f"{parent}/{segment}"


def _operation(uri: Any, path: str, security: list[dict[str, list[str]]] | None) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    params = _PARAM.findall(path)
    if params:
        operation["parameters"] = [
            {"name": name.rstrip("+"), "in": "path", "required": True, "type": "string"} for name in params
        ]
    operation["responses"] = {"200": {"description": "OK"}}
    if security is not None:
        operation["security"] = security
    operation[INTEGRATION] = {"type": "aws_proxy", "httpMethod": "POST", "uri": uri}
    return operation


def _gateway_responses() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for name, (status, error, message) in _GATEWAY_ERRORS.items():
        body = (
            f'{{"status":{{"result":"ERROR","code":{status},"message":{message}}},'
            f'"message":{message},"error":"{error}","error_description":{message}}}'
        )
        response: dict[str, Any] = {"statusCode": status, "responseTemplates": {"application/json": body}}
        if status == 401:
            response["responseParameters"] = {
                "gatewayresponse.header.WWW-Authenticate": '\'Bearer realm="opsplane", Basic realm="opsplane"\''
            }
        responses[name] = response
    return responses


def build(
    *,
    title: str,
    version: str,
    routes: Iterable[tuple[str, Route]],
    uri_for: Callable[[str], Any],
    default_uri: Any,
    authorizer_uri: Any,
    tenant_urls_uri: Any = None,
    binary_types: list[str],
    api_key_required: bool,
) -> dict[str, Any]:
    """The API body. routes: (category name, route); uri_for(category) -> integration URI."""
    by_path: dict[str, dict[str, tuple[str, Route]]] = defaultdict(dict)
    for category, route in routes:
        by_path[route.path][route.method.lower()] = (category, route)
    check_paths([*by_path, CATCH_ALL, *([TENANT_URLS] if tenant_urls_uri is not None else [])])

    guarded: list[dict[str, list[str]]] = [{AUTHORIZER: [], API_KEY: []} if api_key_required else {AUTHORIZER: []}]
    paths: dict[str, Any] = {}
    for path in sorted(by_path):
        methods = by_path[path]
        owners = {category for category, _ in methods.values()}
        public = {route.public for _, route in methods.values()}
        if len(owners) == 1 and len(public) == 1:
            # One function and one rule for every method: one ANY operation (the function
            # answers HEAD and a wrong method itself), a third of the body of one per method.
            # CloudFormation takes a template of at most 1 MB, and this body is most of it.
            paths[path] = {ANY: _operation(uri_for(owners.pop()), path, None if public.pop() else guarded)}
            continue
        item: dict[str, Any] = {}
        for method, (category, route) in sorted(methods.items()):
            item[method] = _operation(uri_for(category), path, None if route.public else guarded)
        if "get" in methods and "head" not in methods:
            category, route = methods["get"]
            item["head"] = _operation(uri_for(category), path, None if route.public else guarded)
        owner = methods[min(methods)][0]
        item[ANY] = _operation(uri_for(owner), path, None)
        paths[path] = item
    for path in ("/", CATCH_ALL):
        paths.setdefault(path, {})
        paths[path].setdefault(ANY, _operation(default_uri, path, None))
    if tenant_urls_uri is not None:  # behind the authorizer: every tenant URL is authenticated
        paths[TENANT_URLS] = {ANY: _operation(tenant_urls_uri, TENANT_URLS, guarded)}

    return {
        "swagger": "2.0",
        "info": {"title": title, "version": version},
        "schemes": ["https"],
        "paths": paths,
        "securityDefinitions": {
            AUTHORIZER: {
                # A REQUEST authorizer without identity sources, uncached: clients send
                # either Authorization or X-AUTH-TOKEN, and API Gateway refuses (401,
                # without calling the authorizer) a request lacking any declared source.
                # The authorizer function keeps verified principals itself instead
                # (auth_cache_seconds, docs/auth.md "The principal cache").
                "type": "apiKey",
                "name": "Unused",
                "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {
                    "type": "request",
                    "authorizerUri": authorizer_uri,
                    "authorizerResultTtlInSeconds": 0,
                },
            },
            API_KEY: {"type": "apiKey", "name": "x-api-key", "in": "header"},
        },
        "x-amazon-apigateway-api-key-source": "AUTHORIZER",
        "x-amazon-apigateway-binary-media-types": binary_types,
        "x-amazon-apigateway-gateway-responses": _gateway_responses(),
    }
