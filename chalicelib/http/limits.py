"""Per-tenant, per-category rate limits (DynamoDB counters, one-minute windows).

Budgets follow the MSP platform: GET non-paginated, GET paginated, and writes each have
their own budget per tenant per minute. Every answer carries X-RateLimit-* headers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.errors import Throttled
from chalicelib.settings import Settings
from chalicelib.store import usage

WINDOW = 60


@dataclass
class Budget:
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(self.reset),
        }


def budget_class(method: str, paged: bool) -> str:
    if method in ("GET", "HEAD"):
        return "get_paged" if paged else "get"
    return "write"


def take(settings: Settings, tenant: str, category: str, method: str, paged: bool) -> Budget:
    """Count one request against the tenant's window; Throttled when over budget."""
    cls = budget_class(method, paged)
    limit = {
        "get": settings.rate_limit_get,
        "get_paged": settings.rate_limit_get_paged,
        "write": settings.rate_limit_write,
    }[cls]
    now = int(time.time())
    window_start = now - now % WINDOW
    reset = window_start + WINDOW
    used = usage.hit(f"{tenant}#rate#{category}#{cls}", str(window_start), expires=reset + WINDOW)
    budget = Budget(limit=limit, remaining=limit - used, reset=reset)
    if used > limit:
        error = Throttled("Too Many Requests", retry_after=max(1, reset - now))
        error.context["headers"] = budget.headers()
        raise error
    return budget
