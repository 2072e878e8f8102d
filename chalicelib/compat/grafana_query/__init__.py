"""Grafana's data source queries (/api/ds/query) and health checks over opsplane's metric
store, with the data plane's query engine (frames.py says how).

Its own category, beside the data source configurations (compat/grafana/datasources.py),
because it reads the time series table and needs what `browse` grants, as Wavefront's
chart API (categories/chart.py) does.
"""

from __future__ import annotations

from chalicelib.compat.grafana import datasources
from chalicelib.compat.grafana_query import frames
from chalicelib.compat.grafana_query.frames import DsQueryBody, QueryResults
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store import series

router = Router("grafana_query")

HEALTHY = "opsplane's metric store answers queries (Wavefront's language)"


@router.post("/api/ds/query", acl="chart.read", body=DsQueryBody, response=QueryResults)
def ds_query(req: Request) -> Reply:
    """Run a request's queries: opsplane's store answers data frames, other data sources fail."""
    answer, status = frames.query(req.ctx, req.model(DsQueryBody))
    return bare(answer, status=status)


@router.get(f"{datasources.BASE}/uid/{{uid}}/health", acl="datasource.{uid}.read", response=datasources.GrafanaHealth)
def health(req: Request) -> Reply:
    """Whether a data source answers: opsplane's store does (one read of its metric names);
    a stored one never does from here (Grafana's 400 ERROR)."""
    uid = req.params["uid"]
    if uid == datasources.BUILT_IN:
        next(iter(series.metric_names(req.ctx.tenant)), None)
        return bare({"status": "OK", "message": HEALTHY})
    entity = datasources.by_uid(req.ctx, uid)
    message = datasources.UNREACHABLE.format(url=entity.doc.get("url") or "it")
    return bare({"status": "ERROR", "message": message}, status=400)


CATEGORY = Category(router, tables=("entities", "timeseries", "usage"), permission="browse")
