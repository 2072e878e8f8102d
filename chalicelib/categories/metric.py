"""Metric details (Wavefront MetricApi, GET /api/v2/chart/metric/detail): the series of one
metric as the series index knows them (store/series.py), one entry per series: its host,
its point tags and when it last reported.

`last_update` is the index's last-seen time, which ingestion refreshes when a series is
new or its last-seen time is INDEX_REFRESH_MS (10 minutes) old: it may lag the newest
point by up to that. Entries come in (host, series) order, `l` at a time; the answer's
`continuationToken` is the `c` that reads on.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
from typing import Any

from chalicelib.domain.context import Context
from chalicelib.errors import Invalid
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store import series
from chalicelib.wire.wavefront import MetricDetailsResponse

router = Router("metric")

MAX_NAME = 256
MAX_PATTERNS = 50
MAX_PATTERN = 256
MAX_LIMIT = 1000


def _cursor(host: str, series_id: str) -> str:
    return base64.urlsafe_b64encode(f"{host}\x00{series_id}".encode()).decode().rstrip("=")


def _position(cursor: str) -> tuple[str, str]:
    """The (host, series id) a continuation token names (400 when it names none)."""
    try:
        host, series_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("\x00")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Invalid("c: not a continuation token this API issued") from exc
    return host, series_id


def details(ctx: Context, metric: str, patterns: list[str], cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of a metric's series (hosts matching any glob pattern, when given)."""
    if not metric or len(metric) > MAX_NAME:
        raise Invalid(f"m: a metric name of 1 to {MAX_NAME} characters is required")
    if len(patterns) > MAX_PATTERNS or any(not p or len(p) > MAX_PATTERN for p in patterns):
        raise Invalid(f"h: up to {MAX_PATTERNS} glob patterns of 1 to {MAX_PATTERN} characters")
    found = sorted(series.find_series(ctx.tenant, "metric", metric), key=lambda s: (s.key.source, s.key.id))
    if patterns:
        found = [s for s in found if any(fnmatch.fnmatchcase(s.key.source, p) for p in patterns)]
    if cursor is not None:
        after = _position(cursor)
        found = [s for s in found if (s.key.source, s.key.id) > after]
    page = found[:limit]
    out: dict[str, Any] = {
        "hosts": [{"host": s.key.source, "last_update": s.last_seen, "tags": s.key.tag_map} for s in page]
    }
    if len(found) > limit:
        out["continuationToken"] = _cursor(page[-1].key.source, page[-1].key.id)
    return out


@router.get(
    "/api/v2/chart/metric/detail",
    acl="metric.read",
    query=(
        ("m", "string", "the metric name (required)"),
        ("h", "string", "glob patterns of the hosts to include (repeated)"),
        ("c", "string", "the continuation token of the page before"),
        ("l", "integer", f"page size, 1..{MAX_LIMIT}"),
    ),
    response=MetricDetailsResponse,
    envelope=False,
    summary="The hosts of a metric, each with its point tags and last update",
)
def metric_details(req: Request) -> dict[str, Any]:
    """The series of a metric: host, point tags, last update."""
    limit = req.int_arg("l", MAX_LIMIT, low=1, high=MAX_LIMIT)
    return details(req.ctx, req.arg("m") or "", req.args("h"), req.arg("c"), limit)


CATEGORY = Category(router, tables=("timeseries",), permission="metrics_management")
