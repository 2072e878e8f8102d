"""Grafana's people routes over the one identity model (chalicelib/identity): users
(opsplane user accounts), teams (user groups and their members) and orgs (the acting
tenant and the tenants below it).

Answers are bare JSON; errors are Grafana's {"message"}, rendered at the edge
(chalicelib/http/dialects.py). Its own category, beside the service accounts' one
(compat/grafana_access), because it needs what `user_management` grants.
"""

from __future__ import annotations

from chalicelib.compat.grafana_people import orgs, teams, users
from chalicelib.http.router import Category, Router

router = Router("grafana_people", routes=[r for part in (teams, users, orgs) for r in part.router.routes])


CATEGORY = Category(router, tables=("entities",), permission="user_management")
