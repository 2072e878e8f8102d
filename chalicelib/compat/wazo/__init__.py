"""The Wazo auth dialect (/api/auth/0.1): tenants, users, policies, groups, session tokens,
sessions and refresh tokens over the one identity model (chalicelib/identity), plus the JWKS.

Answers are bare (Wazo has no envelope); errors take Wazo's shape at the edge.
"""

from __future__ import annotations

from chalicelib.compat.wazo import groups, policies, service, sessions, tenants, tokens, users
from chalicelib.http.router import Category, Router
from chalicelib.identity.tenants import KEYS_QUEUE

router = Router(
    "wazo",
    routes=[r for part in (tokens, sessions, service, tenants, users, policies, groups) for r in part.router.routes],
)


CATEGORY = Category(router, tables=("entities", "tokens"), permission="user_management", queues=(KEYS_QUEUE,))
