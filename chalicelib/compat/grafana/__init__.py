"""The Grafana dialect over the one dashboard store (chalicelib/dashboards): dashboards
(/api/dashboards), versions, stars, folders (/api/folders), search (/api/search) and the
frontend settings clients probe for the version.

Answers are bare JSON; errors are {"message"} (plus "status" for Grafana's 412 save
conflicts), rendered at the edge (chalicelib/http/dialects.py).
"""

from __future__ import annotations

from chalicelib.compat.grafana import dashboards, folders, permissions, search
from chalicelib.http.router import Category, Router

router = Router(
    "grafana", routes=[r for part in (dashboards, folders, permissions, search) for r in part.router.routes]
)


CATEGORY = Category(router, permission="dashboard_management")
