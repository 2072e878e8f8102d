"""Grafana's alerting provisioning (/api/v1/provisioning) over the one data model: contact
points are alert targets, mute timings are maintenance windows, alert rules (and rule
groups) are alerts; message templates and the notification policy tree are stored;
Grafana's legacy notification channels (/api/alert-notifications) are alert targets too.

Answers are bare JSON; errors are Grafana's {"message"}, rendered at the edge
(chalicelib/http/dialects.py). Its own category, beside the dashboards' one (compat/grafana),
because its routes need what `alerts_management` grants, not `dashboard_management`.
"""

from __future__ import annotations

from chalicelib.compat.grafana_alerting import channels, contactpoints, mutetimings, notifications, rules
from chalicelib.http.router import Category, Router

PARTS = (contactpoints, mutetimings, rules, notifications, channels)
router = Router("grafana_alerting", routes=[r for part in PARTS for r in part.router.routes])

CATEGORY = Category(router, permission="alerts_management")
