"""Wire shapes per dialect: native envelope (Wavefront), Wazo, Grafana, OAuth2, CloverDX.

Domain errors become the caller's dialect here and only here.
"""

from __future__ import annotations

import time
import uuid
from http import HTTPStatus
from typing import Any

from chalicelib.errors import OpsplaneError, ProxyTokenExpired, Throttled, TokenExpired, Unavailable

NATIVE = "native"
WAZO = "wazo"
GRAFANA = "grafana"
OAUTH = "oauth"
CLOVER = "clover"

# Under /api/, everything that is neither Wavefront's /api/v2 (and /api/access/{entity})
# nor Wazo's /api/auth (bar Grafana's own /api/auth/keys) is Grafana's: its unknown paths
# answer {"message"} too. (Grafana's /api/access-control is not /api/access/.)
_NATIVE_PREFIX = "/api/v2/"
_NATIVE_ACCESS = "/api/access/"
_WAZO_PREFIX = "/api/auth/"
_GRAFANA_KEYS = "/api/auth/keys"


def dialect_of(path: str) -> str:
    """Which dialect answers a path."""
    if path == _GRAFANA_KEYS or path.startswith(_GRAFANA_KEYS + "/"):
        return GRAFANA
    if path.startswith(_WAZO_PREFIX):
        return WAZO
    if path.startswith("/auth/oauth"):
        return OAUTH
    if path.startswith("/clover/"):
        return CLOVER
    if path.startswith(_NATIVE_ACCESS):
        return NATIVE
    if path.startswith("/api/") and not path.startswith(_NATIVE_PREFIX) and path != "/api/v2":
        return GRAFANA
    return NATIVE


def envelope(payload: Any, code: int = 200) -> dict[str, Any]:
    """The native success envelope."""
    return {"status": {"result": "OK", "code": code, "message": ""}, "response": payload}


def paged(
    items: list[Any],
    *,
    offset: int,
    limit: int,
    total: int,
    more: bool,
    cursor: str | None = None,
    sort: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The native paged payload (moreItems is a JSON boolean; sort only when complete)."""
    body: dict[str, Any] = {
        "items": items,
        "offset": offset,
        "limit": limit,
        "totalItems": total,
        "moreItems": bool(more),
    }
    if cursor:
        body["cursor"] = cursor
    if sort and "field" in sort and "ascending" in sort:
        body["sort"] = {"field": sort["field"], "ascending": bool(sort["ascending"])}
    return body


# Grafana's save conflicts: 412 with {"message", "status": <code>}.
GRAFANA_PRECONDITIONS = ("version-mismatch", "name-exists")

_OAUTH_CODES = {400: "invalid_request", 401: "invalid_client", 403: "unauthorized_client"}


def error_body(dialect: str, error: OpsplaneError) -> dict[str, Any]:
    """The error body a dialect's clients expect."""
    status, message = error.status, error.message
    if dialect == GRAFANA:
        body: dict[str, Any] = {"message": message}
        if error.code in GRAFANA_PRECONDITIONS:
            body["status"] = error.code
    elif dialect == WAZO:
        body = {
            "error_id": error.code.replace("-", "_"),
            "message": message,
            "reason": [message],
            "status_code": status,
            "details": dict(error.context.get("details", {})),
            "timestamp": time.time(),
        }
    elif dialect == CLOVER:
        # CloverDX Server answers errors as its servlet container does: status, reason, message.
        body = {"status": status, "error": _reason(status), "message": message}
    elif dialect == OAUTH:
        body = {
            "error": error.context.get("oauth_error") or _OAUTH_CODES.get(status, error.code),
            "error_description": message,
        }
    else:
        body = {"status": {"result": "ERROR", "code": status, "message": message}}
    if isinstance(error, Throttled):
        # Every client of a 429 reads these two fields; the native dialect keeps its envelope
        # around them, the bare dialects answer them alone (never another dialect's shape).
        throttled = {"error": "throttled", "error_description": "Too Many Requests"}
        return {**body, **throttled} if dialect == NATIVE else throttled
    if isinstance(error, Unavailable) and dialect == OAUTH:
        body["error"] = "temporarily_unavailable"  # RFC 6749's code for a server that cannot answer now
    return body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_status(dialect: str, error: OpsplaneError) -> int:
    """The HTTP status of an error in a dialect (Grafana answers save conflicts with 412)."""
    if dialect == GRAFANA and error.code in GRAFANA_PRECONDITIONS:
        return 412
    return error.status


def on_msp(error: OpsplaneError) -> OpsplaneError:
    """An error as the MSP platform's routes state it (seed 003): an expired token is 407
    "Token expired."; the body keeps the shape of the path's dialect."""
    if isinstance(error, TokenExpired) and not isinstance(error, ProxyTokenExpired):
        translated = ProxyTokenExpired(**error.context)
        translated.__cause__ = error
        return translated
    return error


def error_headers(error: OpsplaneError) -> dict[str, str]:
    """Headers an error carries (Retry-After, WWW-Authenticate, Proxy-Authenticate)."""
    headers: dict[str, str] = {}
    if isinstance(error, (Throttled, Unavailable)):
        headers["Retry-After"] = str(max(1, int(error.retry_after)))
    if isinstance(error, ProxyTokenExpired):  # RFC 9110 15.5.8: a 407 names its challenge
        headers["Proxy-Authenticate"] = 'Bearer error="invalid_token", error_description="Token expired."'
    if isinstance(error, TokenExpired):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token", error_description="The token has expired"'
    elif error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="opsplane", Basic realm="opsplane"'
    return headers


def new_request_id() -> str:
    return uuid.uuid4().hex
