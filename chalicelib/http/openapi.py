"""The OpenAPI 3.0.3 document, generated from the declared routes and their schemas.

pydantic emits JSON Schema 2020-12 while OpenAPI 3.0 speaks an older dialect (`nullable`
instead of `type: null`, boolean exclusive bounds, no `const`, `examples` or
`prefixItems`), so every schema is converted on its way in. Named schemas land in
components/schemas; operations reference them.

A dict schema may carry JSON Schema's `contentMediaType` to say that a body or an answer is
not JSON (the HTML page of the docs, a form): it becomes the media type of the operation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import TypeAdapter

from chalicelib.http import dialects, tenant_urls
from chalicelib.http.router import Route
from chalicelib.http.wavefront_operations import OPERATIONS as WAVEFRONT_OPERATIONS

OPENAPI_VERSION = "3.0.3"
REF_TEMPLATE = "#/components/schemas/{model}"
# The shared wire shapes live under a dotted prefix pydantic never generates, so a model
# named like one of them (a category's own `Sort`) cannot replace it.
JSON = "application/json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
NO_CONTENT = 204
Mode = Literal["validation", "serialization"]  # pydantic's schema of what it reads / what it writes

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT or API token",
        "description": "`Authorization: Bearer <token>`: a session JWT or an API token.",
    },
    "wavefrontToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-AUTH-TOKEN",
        "description": "Wavefront clients: `X-AUTH-TOKEN: [Bearer ]<token>`.",
    },
    "wazoToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "Wazo clients: `X-Auth-Token: <token>`.",
    },
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "Username and password. Browser-originated state changes need `X-Requested-By`.",
    },
    "oauth2": {
        "type": "oauth2",
        "description": "OAuth2 client credentials (RFC 6749 section 4.4); the access token is a bearer token.",
        "flows": {"clientCredentials": {"tokenUrl": "/auth/oauth/token", "scopes": {}}},
    },
}
# Every authenticated route accepts every credential style (ARCHITECTURE.md, identity).
AUTHENTICATED: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]

_STATUS = {
    "type": "object",
    "required": ["result", "code"],
    "properties": {
        "result": {"type": "string", "enum": ["OK", "ERROR"]},
        "code": {"type": "integer"},
        "message": {"type": "string"},
    },
}
BASE_SCHEMAS: dict[str, Any] = {
    "opsplane.NativeStatus": _STATUS,
    "opsplane.NativeError": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"$ref": REF_TEMPLATE.format(model="opsplane.NativeStatus")}},
    },
    "opsplane.GrafanaError": {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string"},
            "status": {"type": "string", "description": "version-mismatch or name-exists on 412"},
        },
    },
    "opsplane.WazoError": {
        "type": "object",
        "required": ["error_id", "message", "reason", "status_code"],
        "properties": {
            "error_id": {"type": "string"},
            "message": {"type": "string"},
            "reason": {"type": "array", "items": {"type": "string"}},
            "status_code": {"type": "integer"},
            "details": {"type": "object", "additionalProperties": True},
            "timestamp": {"type": "number"},
        },
    },
    "opsplane.CloverError": {
        "type": "object",
        "required": ["status", "error", "message"],
        "properties": {"status": {"type": "integer"}, "error": {"type": "string"}, "message": {"type": "string"}},
    },
    "opsplane.OAuthError": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    },
    "opsplane.ThrottledError": {
        "type": "object",
        "description": "429 in every dialect: the OAuth-style error fields, alone in the bare dialects "
        "(Wazo, Grafana, OAuth) and inside the envelope (`status`) in the native one.",
        "required": ["error", "error_description"],
        "properties": {
            "status": {"$ref": REF_TEMPLATE.format(model="opsplane.NativeStatus")},
            "error": {"type": "string", "enum": ["throttled"]},
            "error_description": {"type": "string"},
        },
        "additionalProperties": True,
    },
    "opsplane.Sort": {
        "type": "object",
        "required": ["field", "ascending"],
        "properties": {"field": {"type": "string"}, "ascending": {"type": "boolean"}},
    },
}
ERROR_SCHEMA = {
    dialects.NATIVE: "opsplane.NativeError",
    dialects.GRAFANA: "opsplane.GrafanaError",
    dialects.WAZO: "opsplane.WazoError",
    dialects.OAUTH: "opsplane.OAuthError",
    dialects.CLOVER: "opsplane.CloverError",
}
# What a route may answer besides its success, by what the route is (docs/architecture.md):
# declared so that a client (or a fuzzer checking status conformance) meets no surprise.
ERRORS_EVERY = {
    400: "Bad request",
    404: "Not found (or another tenant's object)",
    405: "Method not allowed on this path",
    503: "A dependency is throttled or down; see Retry-After",
}
ERRORS_WITH_BODY = {
    409: "Conflict: a stale version, or a name or id taken",
    413: "Request body too large",
    415: "Unsupported media type",
}
ERRORS_AUTHENTICATED = {
    401: "Missing, invalid or expired credentials",
    403: "The principal lacks the required ACL",
    410: "The tenant is deactivated",
    429: "Rate limit exceeded; see Retry-After",
}
# Public routes that check credentials themselves (Wazo's Basic login, OAuth client secrets).
ERRORS_LOGIN = {
    401: "Wrong credentials",
    429: "Too many failed attempts; see Retry-After",
}
# Public routes whose requests prove themselves with a signature (inbound webhook deliveries).
SIGNED_PREFIXES = ("/hooks/",)
ERRORS_SIGNED = {401: "The request's signature does not verify"}
ERRORS_GRAFANA = {412: "Grafana: version-mismatch or name-exists", 422: "Grafana: a limit out of range"}
# The MSP platform's routes (and every route reached through a tenant URL) say so with 407.
ERRORS_MSP = {407: "MSP routes: the token has expired (Token expired.)"}
# Every route is also served below a tenant URL (http/tenant_urls.py): one server, not a copy of every path.
SERVERS: list[dict[str, Any]] = [
    {"url": "/", "description": "The caller's home tenant, or the one Wazo-Tenant / X-Tenant-Id names"},
    {
        "url": tenant_urls.MSP_PREFIX + "/{tenantId}",
        "description": "The MSP platform's tenant URL: acting in {tenantId}, a descendant of the caller's tenant",
        "variables": {"tenantId": {"default": "tenantId", "description": "The tenant to act in"}},
    },
]


def error_statuses(route: Route) -> dict[int, str]:
    """The error statuses a route may answer, with what each means."""
    dialect = dialects.dialect_of(route.path)
    found = dict(ERRORS_EVERY)
    if route.method in BODY_METHODS or route.body is not None:
        found.update(ERRORS_WITH_BODY)
    if not route.public:
        found.update(ERRORS_AUTHENTICATED)
    elif dialect in (dialects.WAZO, dialects.OAUTH):
        found.update(ERRORS_LOGIN)
    elif route.path.startswith(SIGNED_PREFIXES):
        found.update(ERRORS_SIGNED)
    if dialect == dialects.GRAFANA:
        found.update(ERRORS_GRAFANA)
    if not route.public and tenant_urls.is_msp(route.path):
        found.update(ERRORS_MSP)
    return dict(sorted(found.items()))


QUERY_TYPES = {"integer", "number", "boolean", "string"}

# ---- JSON Schema 2020-12 -> OpenAPI 3.0 schema objects ---------------------------------

_KEYWORDS = frozenset(
    {
        "title",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "minProperties",
        "required",
        "enum",
        "type",
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "items",
        "properties",
        "additionalProperties",
        "description",
        "format",
        "default",
        "nullable",
        "discriminator",
        "readOnly",
        "writeOnly",
        "example",
        "externalDocs",
        "deprecated",
    }
)
_NULL = {"type": "null"}


def schema_ref(ref: str) -> str:
    """A JSON Schema local reference rewritten into components/schemas."""
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            return REF_TEMPLATE.format(model=ref[len(prefix) :])
    return ref


def to_openapi(schema: Any) -> Any:
    """One JSON Schema (2020-12, as pydantic writes it) as an OpenAPI 3.0 schema object."""
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    if not isinstance(schema, dict):
        return schema
    s = dict(schema)
    if "$ref" in s:
        ref = {"$ref": schema_ref(str(s.pop("$ref")))}
        rest = to_openapi(s)
        # OpenAPI 3.0 ignores siblings of $ref: keep them by wrapping the reference.
        return {"allOf": [ref], **rest} if rest else ref
    out: dict[str, Any] = {}
    kind = s.pop("type", None)
    if isinstance(kind, list):
        if "null" in kind:
            out["nullable"] = True
        kinds = [k for k in kind if k != "null"]
        if len(kinds) == 1:
            out["type"] = kinds[0]
        elif kinds:
            out["anyOf"] = [{"type": k} for k in kinds]
    elif kind == "null":
        return {"nullable": True, "enum": [None]}
    elif kind is not None:
        out["type"] = kind
    if "const" in s:
        s["enum"] = [s.pop("const")]
    examples = s.pop("examples", None)
    if isinstance(examples, list) and examples and "example" not in s:
        s["example"] = examples[0]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = s.get(bound)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            s[plain] = value
            s[bound] = True
    prefix = s.pop("prefixItems", None)
    if isinstance(prefix, list) and prefix:
        if "items" not in s or s["items"] is False:
            s["items"] = {"anyOf": prefix}
        s.setdefault("minItems", len(prefix))
        s.setdefault("maxItems", len(prefix))
    for combinator in ("anyOf", "oneOf"):
        members = s.get(combinator)
        if not isinstance(members, list):
            continue
        if _NULL in members:
            out["nullable"] = True
            members = [m for m in members if m != _NULL]
        if len(members) == 1:
            del s[combinator]
            only = to_openapi(members[0])
            if "$ref" in only:
                out["allOf"] = [only]
            else:
                for key, value in only.items():
                    out.setdefault(key, value)
        elif members:
            s[combinator] = members
        else:
            del s[combinator]
    for key, value in s.items():
        if key not in _KEYWORDS and not key.startswith("x-"):
            continue  # JSON Schema keywords OpenAPI 3.0 does not know ($schema, propertyNames, ...)
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: to_openapi(sub) for name, sub in value.items()}
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = out.get(key, []) + [to_openapi(sub) for sub in value]
        elif key in ("items", "not"):
            out[key] = to_openapi(value)
        elif key == "additionalProperties":
            out[key] = value if isinstance(value, bool) else to_openapi(value)
        elif key == "discriminator" and isinstance(value, dict):
            mapping = {k: schema_ref(v) for k, v in (value.get("mapping") or {}).items()}
            out[key] = {**value, **({"mapping": mapping} if mapping else {})}
        elif key in ("required", "enum") and not value:
            continue  # OpenAPI 3.0 wants these non-empty
        else:
            out[key] = value
    if out.get("type") == "array" and "items" not in out:
        out["items"] = {}
    return out


# ---- the document --------------------------------------------------------------------


def unique_names(components: dict[str, Any]) -> None:
    """Fail when two models would share a name. pydantic then qualifies each with its module
    path (`chalicelib__categories__alert_views__Tags`) and generators name classes by `title`,
    so one of the two would be dropped or renamed: rename the models instead."""
    titles: dict[str, str] = {}
    for name, schema in components.items():
        title = schema.get("title") if isinstance(schema, dict) else None
        if "__" in name:
            raise ValueError(f"Two models are named {title} (one is {name.replace('__', '.')}): rename one")
        if isinstance(title, str) and titles.setdefault(title, name) != name:
            raise ValueError(f"Schemas {titles[title]} and {name} are both titled {title}: rename one")


class _Schemas:
    """components/schemas, filled from pydantic types (one shared namespace) and dict schemas."""

    def __init__(self, routes: list[Route]) -> None:
        self.components: dict[str, Any] = {name: dict(schema) for name, schema in BASE_SCHEMAS.items()}
        self._typed: dict[tuple[Any, Mode], Any] = {}
        inputs: list[tuple[Any, Mode, TypeAdapter[Any]]] = []
        seen: set[tuple[Any, Mode]] = set()
        declared: tuple[tuple[Any, Mode], ...]
        for route in routes:
            declared = ((route.body, "validation"), (route.response, "serialization"))
            for spec, mode in declared:
                if spec is None or isinstance(spec, dict) or (spec, mode) in seen:
                    continue
                seen.add((spec, mode))
                inputs.append((spec, mode, TypeAdapter(spec)))
        if inputs:
            found, defs = TypeAdapter.json_schemas(inputs, ref_template=REF_TEMPLATE)
            for name, sub in (defs.get("$defs") or {}).items():
                self.components[name] = to_openapi(sub)
            self._typed = {key: to_openapi(schema) for key, schema in found.items()}
        unique_names(self.components)

    def of(self, spec: Any, mode: Mode) -> tuple[str, Any]:
        """The (media type, OpenAPI schema) of a route's body or response declaration."""
        if spec is None:
            return JSON, {}
        if isinstance(spec, dict):
            spec = dict(spec)
            media = str(spec.pop("contentMediaType", JSON))
            for holder in ("$defs", "definitions"):
                for name, sub in (spec.pop(holder, None) or {}).items():
                    converted = to_openapi(sub)
                    if self.components.setdefault(name, converted) != converted:
                        raise ValueError(f"Schema {name} is defined twice, differently")
            return media, to_openapi(spec)
        return JSON, self._typed[(spec, mode)]


def path_parameters(path: str) -> list[str]:
    """The names of the {placeholders} of a route path, in order."""
    return re.findall(r"\{([^}]+)\}", path)


def _query_parameter(name: str, kind: str, description: str) -> dict[str, Any]:
    low = kind.strip().lower()
    if low in ("array", "list") or low.endswith("[]"):
        item = low[:-2] if low.endswith("[]") and low[:-2] in QUERY_TYPES else "string"
        # Repeated keys (`?id=a&id=b`), as the Wavefront client sends lists.
        schema: dict[str, Any] = {"type": "array", "items": {"type": item}}
        return {"name": name, "in": "query", "description": description, "schema": schema, "explode": True}
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": low if low in QUERY_TYPES else "string"},
    }


def _paged(payload: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "offset", "limit", "totalItems", "moreItems"],
        "properties": {
            "items": {"type": "array", "items": payload},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "totalItems": {"type": "integer"},
            "moreItems": {"type": "boolean"},
            "cursor": {"type": "string"},
            "sort": {"$ref": REF_TEMPLATE.format(model="opsplane.Sort")},
        },
    }


def _is_paged_shape(schema: Any, components: dict[str, Any]) -> bool:
    """Does a payload schema already describe the paged object (items + moreItems)?"""
    if isinstance(schema, dict) and "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return "items" in props and "moreItems" in props


def path_shape(path: str) -> str:
    """A path template with every {parameter} written {}: Wavefront's and ours name them apart."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def derived_operation_id(method: str, path: str) -> str:
    """A stable id from method and path alone: `GET /api/auth/0.1/token/{token}` ->
    `get_api_auth_0_1_token_token`."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", path).lower()  # {clientId} -> client_id
    words = [re.sub(r"[^0-9a-z]+", "_", part).strip("_") for part in snake.split("/")]
    return "_".join([method.lower(), *(word for word in words if word)])


def operation_id(route: Route) -> str:
    """The route's operationId: its own declaration, else Wavefront's id for the operation
    (the pinned client's, see scripts/gen_wavefront_operations.py), else one derived from
    method and path. Never the handler's name, which changes when code moves."""
    if route.operation_id:
        return route.operation_id
    known = WAVEFRONT_OPERATIONS.get((route.method, path_shape(route.path)))  # /api/v2 paths only
    return known or derived_operation_id(route.method, route.path)


def _operation_ids(routes: list[Route]) -> dict[tuple[str, str], str]:
    """The operationId of every route; two routes with one id fail the document."""
    ids: dict[tuple[str, str], str] = {}
    owners: dict[str, Route] = {}
    for route in routes:
        chosen = operation_id(route)
        other = owners.setdefault(chosen, route)
        if other is not route:
            raise ValueError(
                f"operationId {chosen!r} names both {other.method} {other.path} and {route.method} {route.path}: "
                "declare operation_id= on one of them"
            )
        ids[(route.path, route.method)] = chosen
    return ids


def _operation(route: Route, schemas: _Schemas, operation_id: str) -> dict[str, Any]:
    dialect = dialects.dialect_of(route.path)
    op: dict[str, Any] = {"tags": [route.tag], "operationId": operation_id}
    if route.summary:
        op["summary"] = route.summary
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in path_parameters(route.path)
    ]
    declared = {p["name"] for p in parameters}
    parameters += [_query_parameter(*q) for q in route.query if q[0] not in declared]
    if parameters:
        op["parameters"] = parameters
    if route.public:
        op["description"] = "Public: no credentials needed."
        op["security"] = []
    else:
        op["description"] = f"Requires ACL: {route.acl}"
        if route.self_param:
            op["description"] += f" (none when {{{route.self_param}}} is the caller's own id)"
        op["x-acl"] = route.acl
        op["security"] = AUTHENTICATED
    if route.body is not None and route.method in BODY_METHODS:
        media, schema = schemas.of(route.body, "validation")
        op["requestBody"] = {"required": True, "content": {media: {"schema": schema}}}
    media, payload = schemas.of(route.response, "serialization")
    if route.paged and not _is_paged_shape(payload, schemas.components):
        payload = _paged(payload)
    if media == JSON and dialect == dialects.NATIVE and route.envelope:
        payload = {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"$ref": REF_TEMPLATE.format(model="opsplane.NativeStatus")}, "response": payload},
        }
    ok: dict[str, Any] = {"description": "No content" if route.status == NO_CONTENT else "OK"}
    if 300 <= route.status < 400:
        ok = {"description": "Redirect", "headers": {"Location": {"schema": {"type": "string"}}}}
    elif route.method != "HEAD" and route.status != NO_CONTENT:
        ok["content"] = {media: {"schema": payload}}
    responses: dict[str, Any] = {str(route.status): ok}
    error_ref = {"$ref": REF_TEMPLATE.format(model=ERROR_SCHEMA[dialect])}
    for code, text in error_statuses(route).items():
        ref = {"$ref": REF_TEMPLATE.format(model="opsplane.ThrottledError")} if code == 429 else error_ref
        responses[str(code)] = {"description": text, "content": {JSON: {"schema": ref}}}
    op["responses"] = responses
    return op


def document(routes: Iterable[Route], *, title: str = "opsplane API", version: str = "0.1.0") -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of routes."""
    ordered = sorted(routes, key=lambda r: (r.path, r.method))
    schemas = _Schemas(ordered)
    ids = _operation_ids(ordered)
    paths: dict[str, dict[str, Any]] = {}
    for route in ordered:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route, schemas, ids[(route.path, route.method)]
        )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": (
                "The opsplane management API. Native routes (/api/v2) answer in the Wavefront envelope "
                "{status, response}; /api/auth/0.1 speaks Wazo, /api/dashboards and /api/search speak Grafana, "
                "/auth/oauth speaks OAuth2. Every authenticated route accepts any of the security schemes "
                "and names the ACL it requires. Every route is also served below the tenant URL "
                "/api/v2/tenants/{tenantId} (the second server), acting in that tenant as the X-Tenant-Id "
                "header does; native routes also in the short form /api/v2/tenants/{tenantId}/<path after "
                "/api/v2/>. There an expired token answers 407 (docs/msp.md)."
            ),
        },
        "servers": SERVERS,
        "tags": [{"name": tag} for tag in sorted({r.tag for r in ordered})],
        "paths": paths,
        "components": {"schemas": schemas.components, "securitySchemes": SECURITY_SCHEMES},
    }
