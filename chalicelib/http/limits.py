"""Per-tenant, per-category rate limits: one-minute windows, counted in this container and
flushed to a shared counter in batches, so that no request waits for DynamoDB to count it.

Budgets follow the MSP platform: GET non-paginated, GET paginated, and writes each have
their own budget per tenant per category per minute, sized by the tenant's tier
(chalicelib/tiers.py: a share of the settings' budgets). A key is (tenant, category, budget
class); its window is the wall-clock minute. The limit is worked out on every request from
the tier the caller hands in (the edge reads it from the tenant record, kept per container
like the principal: auth/cache.py), never kept with the counts: a tier change applies to the
next request, to the window's count so far.

Each container keeps, per key and window, `pending` hits not yet written and `shared`, the
window's count as the last flush returned it (every container's flushed hits, ours
included). A request is admitted when shared + pending + 1 <= limit, decided in memory. A
flush is one UpdateItem ADD of the pending hits on the key's usage row
(store/usage.py), made by the request that brings pending to `flush_after` (`flush_hits`,
or 2% of the budget left when that is more), or by the first
request `flush_seconds` after the key's last flush, whichever comes first; that request is
then decided on the fresh count. So a request makes at most one AWS call, and most make
none.

The flush whose ADD takes a window's shared count past 80% of its limit is the only one
that sees the crossing (every flush adds to the same row atomically): that one flush tells
the tenant's administrators (`warn`, domain/messages.py budget_passed), so the message is
written once per key and window, by one request, and no other request pays for it.

The error bound this buys (how far over the limit a tenant can get with several warm
containers) is in docs/configuration.md, next to the settings. Deployed, API Gateway usage
plans stay the hard limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from chalicelib.domain import messages
from chalicelib.errors import Throttled, Unavailable
from chalicelib.settings import Settings
from chalicelib.store import usage
from chalicelib.tiers import Tier

WINDOW = 60
# A container may hold up to this fraction (1/50: 2%) of what is left of a budget unwritten.
HEADROOM_SHARE = 50

logger = Logger(service="opsplane", child=True)

Clock = Callable[[], float]
# Adds hits to the shared row (pk, sk) and returns its new count: store/usage.add.
Flush = Callable[..., int]
# Tells a tenant a window passed the warning share of its budget: messages.budget_passed.
Warn = Callable[..., object]


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


@dataclass
class _Window:
    """One key's count in one window, as this container knows it."""

    start: int
    shared: int = 0  # the shared row's count as the last flush returned it
    pending: int = 0  # hits admitted here and not flushed yet
    flushed_at: float = 0.0
    flushing: bool = False  # a thread is flushing this key: the others count locally
    failed: bool = False  # the last flush failed


def budget_class(method: str, paged: bool) -> str:
    if method in ("GET", "HEAD"):
        return "get_paged" if paged else "get"
    return "write"


def row(tenant: str, category: str, budget: str) -> str:
    """The usage row of a key (one per window: the window's start is the sort key)."""
    return f"{tenant}#rate#{category}#{budget}"


def limit_of(settings: Settings, budget: str, tier: Tier | None = None) -> int:
    """The per-minute limit of a budget class: the settings' (the standard tier's), or the
    tier's share of it."""
    base = {
        "get": settings.rate_limit_get,
        "get_paged": settings.rate_limit_get_paged,
        "write": settings.rate_limit_write,
    }[budget]
    return tier.budget(base) if tier is not None else base


def flush_after(settings: Settings, limit: int, shared: int) -> int:
    """How many hits a container keeps before writing them: the flush setting N, or a
    HEADROOM_SHARE-th of the budget still left when that is more. A large budget far from
    spent is then written every few seconds rather than every N hits, and as it runs down
    the container writes as often as the setting says."""
    return max(settings.rate_limit_flush_hits, (limit - shared) // HEADROOM_SHARE)


class Limiter:
    """This container's counts; thread-safe (`chalice local` serves requests on threads)."""

    def __init__(self, clock: Clock = time.time, flush: Flush = usage.add, warn: Warn = messages.budget_passed) -> None:
        self.clock = clock
        self.flush = flush
        self.warn = warn
        self.flushes = 0  # flushes made (one AWS call each), for bench/ and the logs
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._current = 0

    def take(
        self, settings: Settings, tenant: str, category: str, method: str, paged: bool, tier: Tier | None = None
    ) -> Budget:
        """Count one request against the tenant's window at its tier's budget; Throttled when
        over budget."""
        budget = budget_class(method, paged)
        limit = limit_of(settings, budget, tier)
        key = row(tenant, category, budget)
        now = self.clock()
        start = int(now // WINDOW) * WINDOW
        reset = start + WINDOW
        with self._lock:
            window = self._window(key, start, now)
            if window.shared + window.pending + 1 > limit:
                raise self._throttled(limit, reset, now)
            window.pending += 1
            # After a failed flush, only time triggers the next: never one call per request.
            due = (window.pending >= flush_after(settings, limit, window.shared) and not window.failed) or (
                now - window.flushed_at >= settings.rate_limit_flush_seconds
            )
            if not due or window.flushing:
                return Budget(limit, limit - window.shared - window.pending, reset)
            hits, window.pending, window.flushing = window.pending, 0, True
        count = self._flush(key, window, hits, now)
        with self._lock:
            window.flushing = False
            window.flushed_at = now
            window.failed = count is None
            if count is None:  # the store is unavailable: keep the hits for the next flush
                window.pending += hits
            else:
                window.shared = max(window.shared, count)
            used = window.shared + window.pending
        if count is not None and messages.crossed(limit, count, hits):
            self.warn(tenant, category, budget, limit=limit, count=count, window_start=window.start)
        if used > limit:  # the fresh count says another container spent the budget
            raise self._throttled(limit, reset, now)
        return Budget(limit, limit - used, reset)

    def _window(self, key: str, start: int, now: float) -> _Window:
        if start > self._current:
            # A new minute: the last one's counts are over (its unflushed hits count for
            # nothing any more), so forget every key's.
            self._windows = {k: w for k, w in self._windows.items() if w.start >= start}
            self._current = start
        window = self._windows.get(key)
        if window is None or window.start != start:
            window = self._windows[key] = _Window(start=start, flushed_at=now)
        return window

    def _flush(self, key: str, window: _Window, hits: int, now: float) -> int | None:
        """Add hits to the key's shared row: its new count, or None when the store cannot
        answer (the request is then decided on this container's counts alone)."""
        self.flushes += 1
        try:
            return self.flush(key, str(window.start), hits, expires=window.start + 2 * WINDOW)
        except Unavailable as exc:
            logger.warning("rate-limit flush failed", extra={"key": key, "hits": hits, "context": exc.context})
            return None

    @staticmethod
    def _throttled(limit: int, reset: int, now: float) -> Throttled:
        # Honest Retry-After: the budget refills when the window ends, not before.
        error = Throttled("Too Many Requests", retry_after=max(1, math.ceil(reset - now)))
        error.context["headers"] = Budget(limit, 0, reset).headers()
        return error
