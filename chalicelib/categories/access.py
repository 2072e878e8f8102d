"""Access (Wavefront /api/access/{entity}): whether a metric, histogram or span (of some
hosts) was read by a query in the last days. Answered from the per-tenant, per-day Bloom
filters the queries fill (chalicelib/domain/access.py): "not accessed" is certain,
"accessed" may rarely be a false positive (docs/access.md gives the rate).

The caller needs both Direct Data Ingestion (this route's ACL) and Metrics (checked here:
a route declares one ACL), as Wavefront asks.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import access
from chalicelib.errors import Forbidden
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router

router = Router("access")

# The Metrics permission's grant (metrics_management: metric.#); Browse does not give it.
METRICS_ACCESS = "metric.access"

DAY = {
    "type": "object",
    "properties": {"date": {"type": "string", "format": "date"}, "accessed": {"type": "boolean"}},
}
ANSWER = {
    "type": "object",
    "properties": {
        "entity": {"type": "string", "enum": list(access.KINDS)},
        "name": {"type": "string"},
        "hostPrefix": {"type": "string"},
        "usageThresholdDays": {"type": "integer"},
        "accessed": {"type": "boolean"},
        "dailyDetail": {"type": "array", "items": DAY},
    },
}


@router.get(
    "/api/access/{entity}",
    acl="ingestion.access",
    query=(
        ("name", "string", "the metric, histogram or span name (required)"),
        ("hostPrefix", "string", "only hosts whose name starts with this"),
        ("usageThresholdDays", "integer", f"days to look back, 1..{access.MAX_DAYS} (default {access.DEFAULT_DAYS})"),
        ("includeDailyDetail", "boolean", "answer each day too"),
    ),
    response=ANSWER,
    summary="Whether an entity was read by a query in the last days (never a false 'not accessed')",
)
def entity_access(req: Request) -> dict[str, Any]:
    """Whether the entity was accessed in the last usageThresholdDays (and on which days)."""
    if not req.ctx.can(METRICS_ACCESS):
        raise Forbidden(f"Missing permission {METRICS_ACCESS} (Metrics)")
    kind, name, prefix = req.params["entity"], req.arg("name") or "", req.arg("hostPrefix")
    days = req.int_arg("usageThresholdDays", access.DEFAULT_DAYS, low=1, high=access.MAX_DAYS)
    found = access.accessed(req.ctx, kind, name, host_prefix=prefix, days=days)
    out: dict[str, Any] = {
        "entity": kind,
        "name": name,
        "usageThresholdDays": days,
        "accessed": any(hit for _, hit in found),
    }
    if prefix is not None:
        out["hostPrefix"] = prefix
    if req.flag("includeDailyDetail"):
        out["dailyDetail"] = [{"date": day.date, "accessed": hit} for day, hit in reversed(found)]
    return out


CATEGORY = Category(router, tables=("usage", "timeseries"), permission="ingestion")
