"""Grafana's identity routes over the one identity model (chalicelib/identity): service
accounts and their tokens (opsplane service accounts and API tokens) and API keys.

Answers are bare JSON; errors are Grafana's {"message"}, rendered at the edge
(chalicelib/http/dialects.py). Its own category, beside the dashboards' one (compat/grafana),
because it needs what `user_management` grants.
"""

from __future__ import annotations

from chalicelib.compat.grafana_access import serviceaccounts
from chalicelib.http.router import Category, Router

router = Router("grafana_access", routes=[r for part in (serviceaccounts,) for r in part.router.routes])


CATEGORY = Category(router, tables=("entities", "tokens"), permission="user_management")
