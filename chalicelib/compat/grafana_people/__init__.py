"""Grafana's people routes over the one identity model (chalicelib/identity): users
(opsplane user accounts) and the calling user, teams (user groups and their members),
orgs (the acting tenant and the tenants below it) and their users, preferences
(chalicelib/domain/preferences.py) and the admin routes.

Answers are bare JSON; errors are Grafana's {"message"}, rendered at the edge
(chalicelib/http/dialects.py). Its own category, beside the service accounts' one
(compat/grafana_access), because it needs what `user_management` grants.
"""

from __future__ import annotations

from chalicelib.compat.grafana_people import admin, me, orgs, preferences, teams, users
from chalicelib.http.router import Category, Router
from chalicelib.identity.tenants import KEYS_QUEUE

PARTS = (teams, users, me, orgs, preferences, admin)
router = Router("grafana_people", routes=[r for part in PARTS for r in part.router.routes])


# tokens: sessions and API tokens (deleting an account revokes them); the tenant-keys
# queue: making and deleting an org asks for its gateway key.
CATEGORY = Category(router, tables=("entities", "tokens"), permission="user_management", queues=(KEYS_QUEUE,))
