"""The Grafana dialect over the one dashboard store (chalicelib/dashboards): dashboards
(/api/dashboards), versions, stars, folders (/api/folders), search (/api/search), the
frontend settings clients probe for the version, and the views over the other objects:
annotations (events), data sources, snapshots and library elements.

Answers are bare JSON; errors are {"message"} (plus "status" for Grafana's 412 save
conflicts), rendered at the edge (chalicelib/http/dialects.py).
"""

from __future__ import annotations

from chalicelib.compat.grafana import (
    dashboards,
    datasources,
    folders,
    library,
    permissions,
    search,
    snapshots,
)
from chalicelib.http.router import Category, Router

PARTS = (dashboards, folders, permissions, search, datasources, snapshots, library)
router = Router("grafana", routes=[r for part in PARTS for r in part.router.routes])


CATEGORY = Category(router, permission="dashboard_management")
