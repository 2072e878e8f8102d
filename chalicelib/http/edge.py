"""The request pipeline and its composition into Chalice routes.

request -> parse -> authorize (principal, tenant, ACL) -> rate limit -> handler ->
payload in the caller's dialect. Domain errors turn into the dialect's error body here.
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from chalice import Chalice, Response  # type: ignore[attr-defined]

from chalicelib import tiers
from chalicelib.auth.principal import Principal
from chalicelib.domain.context import actor_of
from chalicelib.errors import (
    Forbidden,
    Invalid,
    MethodNotAllowed,
    NotFound,
    OpsplaneError,
    PayloadTooLarge,
    Unavailable,
)
from chalicelib.http import dialects, limits, telemetry, tenant_urls
from chalicelib.http.redact import RedactingPowertoolsFormatter
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request, check_headers, decode_params
from chalicelib.http.router import Route, Router, required_access
from chalicelib.identity import network
from chalicelib.identity.authorize import active_tenant, authorize, enter_tenant
from chalicelib.ingest import body as ingest_body
from chalicelib.settings import Settings, get_settings
from chalicelib.store import audit, calls

# Every line is redacted (http/redact.py): no credential reaches the logs, whatever a record carries.
logger = Logger(service="opsplane", logger_formatter=RedactingPowertoolsFormatter())

METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]
# Every media type reaches the pipeline, so an unexpected one is refused in the
# caller's dialect (Request.json raises UnsupportedMedia), not in Chalice's shape.
CONTENT_TYPES = ["*/*"]
# Depth of the catch-all routes that make unknown paths answer 404 in their dialect, and
# that carry tenant URLs (the deepest route, 7 segments, below /api/v2/tenants/{tenantId}).
CATCH_ALL_DEPTH = 12
# The route of a path no route matches, in logs and metrics (never the path itself).
UNKNOWN_ROUTE = "unknown"


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def render(dialect: str, result: Any, envelope: bool = True) -> Response:
    """A handler's result as a Chalice response in the dialect."""
    status = 200
    headers: dict[str, Any] = {}
    content_type = "application/json"
    if isinstance(result, Reply):
        status, headers, content_type = result.status, dict(result.headers), result.content_type
        if result.raw:
            body = result.payload
            if not isinstance(body, (str, bytes)):
                body = _json(body)
            headers["Content-Type"] = content_type
            return Response(body=body if body is not None else "", status_code=status, headers=headers)
        result = result.payload
    if dialect == dialects.NATIVE and envelope:
        body_text = _json(dialects.envelope(result, status))
    else:
        body_text = _json(result)
    headers["Content-Type"] = content_type
    return Response(body=body_text, status_code=status, headers=headers)


def render_error(dialect: str, error: OpsplaneError) -> Response:
    """An error as a Chalice response in the dialect (status, body, its headers)."""
    headers: dict[str, Any] = {"Content-Type": "application/json", **dialects.error_headers(error)}
    headers.update(error.context.get("headers", {}))
    return Response(
        body=_json(dialects.error_body(dialect, error)),
        status_code=dialects.error_status(dialect, error),
        headers=headers,
    )


def source_address(context: dict[str, Any] | None) -> str | None:
    """The client's address in an API Gateway request context (identity.sourceIp)."""
    identity = (context or {}).get("identity") or {}
    source = identity.get("sourceIp") if isinstance(identity, dict) else None
    return str(source) if source else None


def without_body(response: Response) -> Response:
    """The answer to a HEAD: the GET's status and headers, no body (success and error alike).

    Content-Length is the length the GET's body would have (RFC 9110 9.3.2): a body sent
    after a HEAD's headers would be read as the start of the next answer on a kept-alive
    connection. The local server sends this header and no body (scripts/chalice_local.py)."""
    body = response.body if response.body is not None else ""
    if not isinstance(body, (str, bytes)):
        body = _json(body)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if response.status_code not in (204, 304):  # those never state a length (RFC 9110 8.6)
        response.headers["Content-Length"] = str(len(raw))
    response.body = ""
    return response


def _authorizer_principal(context: dict[str, Any]) -> Principal | None:
    """The principal an API Gateway Lambda authorizer put in the request context."""
    ctx = (context or {}).get("authorizer") or {}
    if "principal_id" in ctx and "principal_tenant" in ctx:
        return Principal.from_context(ctx)
    return None


@dataclass
class _Seen:
    """What the pipeline learnt of a request, for its log line and telemetry."""

    route: Route | None = None
    tenant: str | None = None

    @property
    def category(self) -> str | None:
        return self.route.tag if self.route else None


# A category's paths and the methods of each (chalicelib/api/manifest.py), and how to get
# its router (importing its module) when a request first reaches it.
Manifest = Mapping[str, Mapping[str, tuple[str, ...]]]
Load = Callable[[str], Router]


class Edge:
    """Dispatches Chalice requests to declared routes.

    Given routers, every route is known at once. Given a manifest and a loader (the app
    serving every category), only the paths and methods are: a category's module is
    imported by the first request that reaches one of its paths, so a cold start pays
    for the categories it serves, not for all of them (bench/bench_coldstart.py)."""

    def __init__(
        self,
        app: Chalice,
        routers: Iterable[Router] = (),
        limiter: limits.Limiter | None = None,
        *,
        manifest: Manifest | None = None,
        load: Load | None = None,
    ) -> None:
        self.app = app
        # One per container: its counts are what keeps rate limiting off the request path.
        self.limiter = limiter or limits.Limiter()
        self._table: dict[str, dict[str, Route]] = defaultdict(dict)
        self._routes: list[Route] = []
        # path -> its methods, and (lazily loaded categories) path -> category not loaded yet.
        self._methods: dict[str, set[str]] = defaultdict(set)
        self._pending: dict[str, str] = {}
        self._load = load
        self._loading = threading.Lock()
        for router in routers:
            self._add(router)
        for name, paths in (manifest or {}).items():
            for path, methods in paths.items():
                if path in self._pending or path in self._table:
                    raise ValueError(f"Path {path} is declared twice")
                self._pending[path] = name
                self._methods[path].update(methods)
        if self._pending and load is None:
            raise ValueError("A manifest needs a loader")

    def _add(self, router: Router) -> None:
        for route in router.routes:
            if route.method in self._table[route.path]:
                raise ValueError(f"Duplicate route {route.method} {route.path}")
            self._table[route.path][route.method] = route
            self._methods[route.path].add(route.method)
            self._routes.append(route)

    def _category_of(self, path: str) -> dict[str, Route]:
        """The routes of path, importing its category first when it is not loaded yet."""
        if path in self._pending:
            with self._loading:
                name = self._pending.get(path)
                if name is not None:
                    assert self._load is not None
                    router = _without_collection(self._load, name)
                    for stale in [p for p, owner in self._pending.items() if owner == name]:
                        del self._pending[stale]
                    self._add(router)
        return self._table[path]

    def load_all(self) -> None:
        """Import every category not loaded yet (the OpenAPI document, tests)."""
        for path in list(self._pending):
            self._category_of(path)

    @property
    def table(self) -> dict[str, dict[str, Route]]:
        """Every route, by path and method (loading every category)."""
        self.load_all()
        return self._table

    @property
    def routes(self) -> list[Route]:
        """Every route (loading every category)."""
        self.load_all()
        return self._routes

    def register(self) -> None:
        """Register one Chalice view per path (all methods) plus the catch-all paths."""
        for path in sorted(self._methods):
            self.app.route(path, methods=METHODS, content_types=CONTENT_TYPES, name=_view_name(path))(self._view(path))
        for depth in range(1, CATCH_ALL_DEPTH + 1):
            path = "".join(f"/{{p{i}}}" for i in range(depth))
            if path not in self._methods:
                self.app.route(path, methods=METHODS, content_types=CONTENT_TYPES, name=f"unknown_{depth}")(
                    self._view(None)
                )
        self.app.register_middleware(self._unknown_resource, "http")

    def _unknown_resource(self, event: Any, get_response: Any) -> Response:
        """Deployed, API Gateway sends every path it has no resource for to its `/{proxy+}`
        and `/` catch-alls (infra/): Chalice has no such route, so answer 404 in the dialect.
        A method no view is registered for (OPTIONS deployed, TRACE or PROPFIND locally) would
        get Chalice's own 405: the pipeline answers it instead, 405 in the dialect."""
        resource = (event.context or {}).get("resourcePath")
        if resource not in self.app.routes:
            return self.handle(None, {})
        if event.method.upper() not in self.app.routes[resource]:
            return self.handle(resource if resource in self._methods else None, dict(event.uri_params or {}))
        return get_response(event)

    def _view(self, path: str | None) -> Any:
        def view(**raw_params: str) -> Response:
            return self.handle(path, raw_params)

        return view

    def handle(self, path: str | None, raw_params: dict[str, str]) -> Response:
        """Run one request through the pipeline; log it and report its telemetry."""
        chalice_request: Any = self.app.current_request
        started = time.perf_counter()
        request_id = _request_id(chalice_request)
        logger.append_keys(request_id=request_id, tenant=None, principal=None)
        seen = _Seen()
        method = chalice_request.method.upper()
        with calls.counted() as made, telemetry.traced(f"{method} {path or UNKNOWN_ROUTE}") as trace:
            response = self._respond(chalice_request, path, raw_params, request_id, seen)
            trace.annotate(tenant=seen.tenant, category=seen.category)
        response.headers["X-Request-Id"] = request_id
        ms = round((time.perf_counter() - started) * 1000, 1)
        route = seen.route.path if seen.route else (path or UNKNOWN_ROUTE)  # the template: never a token
        logger.info(
            "request",
            extra={"method": method, "route": route, "status": response.status_code, "ms": ms, "aws_calls": made.total},
        )
        telemetry.publish(
            telemetry.Sample(
                route=route,
                method=method,
                status=response.status_code,
                ms=ms,
                aws_calls=made.total,
                aws_operations=dict(made.operations),
                request_id=request_id,
                tenant=seen.tenant,
                category=seen.category,
            )
        )
        return response

    def _respond(
        self, chalice_request: Any, path: str | None, raw_params: dict[str, str], request_id: str, seen: _Seen
    ) -> Response:
        """The pipeline: every answer of an identified tenant carries its X-RateLimit-* headers."""
        outer = _actual_path(chalice_request, path)
        # A tenant URL reaches no view of its own: it is rewritten here, once, for every route.
        scoped = tenant_urls.split(outer) if path is None else None
        if scoped is not None:
            path, raw_params = tenant_urls.match(self._methods, scoped.path) or (None, {})
        actual_path = scoped.path if scoped else outer
        dialect = dialects.dialect_of(actual_path)
        method = chalice_request.method.upper()
        budget_headers: dict[str, str] = {}
        try:
            if path is None:  # Grafana's clients match its own words
                raise NotFound("Not found" if dialect == dialects.GRAFANA else f"No route for {actual_path}")
            routes = self._category_of(path)
            route = routes.get(method)
            if route is None and method == "HEAD":
                route = routes.get("GET")
            if route is None:
                raise MethodNotAllowed(f"Method {method} not allowed on {path}", headers={"Allow": self._allow(path)})
            seen.route = route
            request = self._parse(chalice_request, route, raw_params, request_id, actual_path, scoped)
            if not route.public:
                try:
                    self._authorize(chalice_request, request, route)
                finally:
                    # Once the caller is identified, even a refusal (403, 410) spends its
                    # budget and carries the headers; a Throttled raised here wins over it.
                    identified = request.tenant or (request.principal.tenant if request.principal else None)
                    seen.tenant = identified
                    if identified:
                        budget_headers = self._limit(identified, route.tag, method, route.paged)
            # Every change the handler makes is audited as the caller's (store/audit.py).
            with audit.acting(actor_of(request.principal, request.source)):
                result = route.handler(request)
            response = render(dialect, result, envelope=route.envelope)
        except OpsplaneError as raised:
            error = raised
            if seen.route is None:  # 404 or 405 before any route: still counted for a known caller
                try:
                    budget_headers = self._unrouted_budget(chalice_request, path, scoped, seen)
                except OpsplaneError as throttled:
                    error = throttled
            if tenant_urls.is_msp(outer):
                error = dialects.on_msp(error)
            if isinstance(error, Unavailable):  # throttled or down after botocore's retries: it passes
                logger.warning("store unavailable", extra={"code": error.code, "context": error.context})
            elif error.status >= 500:  # a broken backend (StoreError): the caller cannot fix it
                logger.error("server error", extra={"code": error.code, "context": error.context})
            response = render_error(dialect, error)
        except Exception:  # the last line of defence: log it, answer 500 in the dialect
            logger.exception("unhandled error")
            response = render_error(dialect, OpsplaneError("Internal server error"))
        response.headers.update(budget_headers)
        if method == "HEAD":
            without_body(response)
        return response

    def _unrouted_budget(
        self, chalice_request: Any, path: str | None, scoped: tenant_urls.Scoped | None, seen: _Seen
    ) -> dict[str, str]:
        """The budget headers of a request no route answers (404, 405), when its credentials
        identify a tenant: it is counted like any answer to that tenant (Throttled when the
        budget is spent). An anonymous or unidentifiable caller gets its 404 / 405 as before."""
        headers = {k.lower(): v for k, v in (chalice_request.headers or {}).items()}
        # Without a limiter there are no headers to give: the 404 / 405 costs no lookup.
        if not get_settings().rate_limit_enabled or not (headers.get("authorization") or headers.get("x-auth-token")):
            return {}
        method = chalice_request.method.upper()
        try:
            principal = _authorizer_principal(chalice_request.context) or authorize(
                headers, method, source=source_address(chalice_request.context)
            )
        except OpsplaneError:
            return {}
        requested = scoped.tenant if scoped else _requested_tenant(headers)
        try:
            tenant = enter_tenant(principal.tenant, requested)
        except OpsplaneError:  # a tenant it may not enter: the caller is still its home tenant's
            tenant = principal.tenant
        seen.tenant = tenant
        category = next(iter(self._table[path].values())).tag if path and self._table.get(path) else UNKNOWN_ROUTE
        return self._limit(tenant, category, method, False)

    def _allow(self, path: str) -> str:
        """The methods path answers, for a 405's Allow header (HEAD wherever GET is)."""
        methods = set(self._methods[path])
        if "GET" in methods:
            methods.add("HEAD")
        return ", ".join(m for m in METHODS if m in methods)

    def _parse(
        self,
        chalice_request: Any,
        route: Route,
        raw_params: dict[str, str],
        request_id: str,
        path: str,
        scoped: tenant_urls.Scoped | None,
    ) -> Request:
        body = chalice_request.raw_body or b""
        limit = body_limit(route, get_settings())
        if len(body) > limit:
            raise PayloadTooLarge(f"Request body exceeds {limit} bytes")
        query: dict[str, list[str]] = {}
        qp = chalice_request.query_params
        if qp:
            for key in qp:
                query[key] = list(qp.getlist(key))
        headers = {k.lower(): v for k, v in (chalice_request.headers or {}).items()}
        check_headers(headers, get_settings())
        if scoped is not None:
            _scope_headers(headers, scoped.tenant)
        if route.decode_body and body:
            # Inflated within the same limit: a small gzip bomb is 413 like a large body.
            body = ingest_body.inflate(body, headers.get("content-encoding"), limit)
        return Request(
            method=chalice_request.method.upper(),
            path=path,
            params=decode_params(raw_params),
            query=query,
            headers=headers,
            raw_body=body,
            request_id=request_id,
            source=source_address(chalice_request.context),
        )

    def _authorize(self, chalice_request: Any, request: Request, route: Route) -> None:
        principal = _authorizer_principal(chalice_request.context)
        if principal is None:
            principal = authorize(request.headers, request.method, source=request.source)  # checks the address too
        else:  # the authorizer checked it; checked again here, where the 403 is in the dialect
            network.admit(principal, request.source)
        request.principal = principal
        tenant = enter_tenant(
            principal.tenant, _requested_tenant(request.headers)
        )  # kept per container (auth/cache.py)
        request.tenant = tenant
        logger.append_keys(tenant=tenant, principal=principal.id)
        access = required_access(route, request.params)
        acting_on_self = bool(route.self_param) and request.params.get(route.self_param) == principal.id
        if not acting_on_self and not principal.can(access):
            raise Forbidden(f"Missing permission {access}")

    def _limit(self, tenant: str, category: str, method: str, paged: bool) -> dict[str, str]:
        """Count a request against its tenant's budget (in memory: http/limits.py); the headers."""
        settings = get_settings()
        if not settings.rate_limit_enabled:
            return {}
        return self.limiter.take(settings, tenant, category, method, paged, _tier(tenant)).headers()


def _without_collection(load: Load, name: str) -> Router:
    """A category imported with the garbage collector off, what it built then frozen (as
    app.py does for the app itself: a module's import allocates long-lived objects)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return load(name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _tier(tenant: str) -> tiers.Tier:
    """The tier sizing a tenant's budget: its record's, kept per container (auth/cache.py);
    the default tier for a tenant that is gone or unknown (its refusal is answered anyway)."""
    try:
        return tiers.tier_of(active_tenant(tenant))
    except OpsplaneError:
        return tiers.get(tiers.DEFAULT)


def body_limit(route: Route, settings: Settings) -> int:
    """The largest request body route accepts: its own max_body (bytes, or the name of a
    setting), else settings.max_body_bytes."""
    limit = route.max_body
    if limit is None:
        return settings.max_body_bytes
    if isinstance(limit, str):
        return int(getattr(settings, limit))
    return limit


def _view_name(path: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in path).strip("_")
    return f"v_{cleaned}"


# The headers that name the tenant a request acts in (Wazo's, and the generic one).
TENANT_HEADERS = ("wazo-tenant", "x-tenant-id")


def _requested_tenant(headers: Mapping[str, str]) -> str | None:
    """The tenant a request names (lower-cased header names), if any."""
    return headers.get("wazo-tenant") or headers.get("x-tenant-id")


def _scope_headers(headers: dict[str, str], tenant: str) -> None:
    """A tenant URL names its tenant as X-Tenant-Id would; a header naming another one
    contradicts it (400), whichever the route would have read."""
    for name in TENANT_HEADERS:
        named = headers.get(name)
        if named is not None and named != tenant:
            raise Invalid(f"Header {name} names tenant {named}, the URL tenant {tenant}")
    headers["x-tenant-id"] = tenant


def _actual_path(chalice_request: Any, fallback: str | None) -> str:
    ctx = chalice_request.context or {}
    path = str(ctx.get("path") or ctx.get("resourcePath") or fallback or "/").split("?")[0]
    stage = ctx.get("stage")
    if stage and path.startswith(f"/{stage}/"):  # API Gateway puts the stage in front
        path = path[len(stage) + 1 :]
    return path


def _request_id(chalice_request: Any) -> str:
    ctx = chalice_request.context or {}
    return str(ctx.get("requestId") or dialects.new_request_id())
