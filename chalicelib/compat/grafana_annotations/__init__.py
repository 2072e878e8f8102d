"""Grafana's annotations over the one event model (chalicelib/domain/events.py): an
annotation is an event, with Grafana's tags, dashboardUID, panelId and region.

Answers are bare JSON; errors are Grafana's {"message"}, rendered at the edge. Its own
category, beside the dashboards' one (compat/grafana), because its routes need what
`events_management` grants, not `dashboard_management`.
"""

from __future__ import annotations

from chalicelib.compat.grafana_annotations import annotation
from chalicelib.http.router import Category, Router

router = Router("grafana_annotations", routes=list(annotation.router.routes))

CATEGORY = Category(router, permission="events_management")
