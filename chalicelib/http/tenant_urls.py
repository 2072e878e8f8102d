"""Tenant-scoped URLs, the MSP platform's way of naming the tenant a request acts in
(seed 003, docs/msp.md): `/api/v2/tenants/{tenantId}/<path>` is the request `<path>` with
`X-Tenant-Id: {tenantId}`, for every route the API serves, rewritten once at the edge.

Two spellings of `<path>`:
- the full path of any route (`/api/v2/tenants/T/api/v2/alert`, `.../api/dashboards/uid/x`,
  `.../api/auth/0.1/users`): an unmodified client whose base URL is the tenant URL;
- the short, native form the seed uses (`/api/v2/tenants/T/alert` for `/api/v2/alert`).

The routes declared under `/api/v2/tenants` themselves (the partner's tenant routes) are
matched by their own views first, so a tenant URL never shadows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

# Everything under it is the MSP dialect's: an expired token answers 407 there.
MSP_PREFIX = "/api/v2/tenants"
_SCOPE = MSP_PREFIX + "/"
_NATIVE = "/api/v2"
_FULL = "/api/"


@dataclass(frozen=True)
class Scoped:
    """A tenant URL, split: the tenant it names and the path it reaches."""

    tenant: str
    path: str


def is_msp(path: str) -> bool:
    """Does path belong to the MSP dialect (the tenant routes and the tenant URLs)?"""
    return path == MSP_PREFIX or path.startswith(_SCOPE)


def split(path: str) -> Scoped | None:
    """The tenant and inner path of a tenant URL; None for any other path (or a tenant URL
    with nothing after the tenant: that is the tenant's own record)."""
    if not path.startswith(_SCOPE):
        return None
    tenant, sep, rest = path[len(_SCOPE) :].partition("/")
    if not tenant or not sep or not rest:
        return None
    inner = "/" + rest
    if not inner.startswith(_FULL):
        inner = _NATIVE + inner
    return Scoped(unquote(tenant), inner)


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def match(templates: Iterable[str], path: str) -> tuple[str, dict[str, str]] | None:
    """The route template a concrete path reaches, and its raw path parameters; a literal
    segment wins over a `{variable}` at the same place, as API Gateway and Chalice choose
    (`/alert/summary` before `/alert/{id}`)."""
    parts = _segments(path)
    best: tuple[tuple[bool, ...], str, dict[str, str]] | None = None
    for template in templates:
        pattern = _segments(template)
        if len(pattern) != len(parts):
            continue
        params: dict[str, str] = {}
        literal: list[bool] = []
        for want, got in zip(pattern, parts, strict=True):
            if want.startswith("{") and want.endswith("}"):
                if not got:
                    break
                params[want[1:-1]] = got
                literal.append(False)
            elif want != got:
                break
            else:
                literal.append(True)
        else:
            rank = tuple(literal)
            if best is None or rank > best[0]:
                best = (rank, template, params)
    return (best[1], best[2]) if best else None
