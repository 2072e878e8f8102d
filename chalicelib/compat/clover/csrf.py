"""CloverDX's CSRF rule on its REST base path: every request carries `X-Requested-By` (any
value), whatever its method or credentials, while the global setting is on
(OPSPLANE_CLOVER_CSRF, on by default, as CloverDX's `security.csrf.protection.enabled`) or
the acting tenant's `csrf_strict` switch is set. The rest of the API keeps the lighter rule
of identity/authorize.py (state-changing Basic requests from browsers).
"""

from __future__ import annotations

import functools

from chalicelib.errors import CsrfRefused
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request
from chalicelib.http.router import Handler
from chalicelib.identity import authorize
from chalicelib.settings import get_settings

HEADER = "x-requested-by"
MESSAGE = "Missing X-Requested-By header: every request to the CloverDX REST API must carry it"


def required(tenant: str) -> bool:
    """Does the rule apply to requests acting in tenant?"""
    return get_settings().clover_csrf or bool(authorize.active_tenant(tenant).get("csrf_strict"))


def check(req: Request) -> None:
    """CsrfRefused (403) when the rule applies and the header is absent or empty."""
    if not req.headers.get(HEADER, "").strip() and required(req.need_tenant()):
        raise CsrfRefused(MESSAGE)


def guarded(handler: Handler) -> Handler:
    """handler, after the check (runs once the edge has authenticated the caller)."""

    @functools.wraps(handler)
    def run(req: Request) -> Reply:
        check(req)
        result: Reply = handler(req)
        return result

    return run
