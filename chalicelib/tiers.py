"""Tenant tiers: every number a tier changes, in one place.

Read by the app (http/limits.py: the per-category budgets; the data plane: the ingestion
budget and how long points are kept) and by infra/ (one API Gateway usage plan per tier:
infra/opsplane_infra/config.py builds its DEFAULT_TIERS from TIERS). Nothing here reads the
environment or AWS: infra/ imports it at synthesis time, the app at any layer.

The app's budgets are a share of the settings' budgets (OPSPLANE_RATE_LIMIT_GET,
_GET_PAGED, _WRITE: the MSP platform's 500 / 50 / 50 a minute), which are the standard
tier's: `budget_percent` 100 is the settings' numbers, 20 a fifth of them. One knob per
class then moves every tier together (`make run` raises them for local scripts).

A tenant record without a tier is a standard tenant (DEFAULT). Tiers are given from above:
identity/tenants.py lets a tenant give its descendants at most its own tier, except the
operator's root tenant (made at bootstrap), which may give any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args


@dataclass(frozen=True)
class Tier:
    """One tier: API Gateway's usage plan (requests/s, burst, monthly quota), the app's
    per-category budgets (percent of the settings' budgets) and the data plane's numbers."""

    name: str
    rate: float  # usage plan throttle: steady requests per second
    burst: int  # usage plan throttle: burst
    monthly_quota: int  # usage plan quota: requests a month
    budget_percent: int  # the app's GET / paged GET / write budgets, % of the settings'
    ingest_points_per_second: int  # points a tenant may ingest per second
    retention_days: int  # how long ingested points are kept

    def budget(self, base: int) -> int:
        """This tier's share of a budget the settings give for the standard tier (at least 1)."""
        return max(1, base * self.budget_percent // 100)


# In ascending order: a tier's rank is its position (a tier given must not exceed the giver's).
TIERS: tuple[Tier, ...] = (
    Tier(
        "free",
        rate=10,
        burst=20,
        monthly_quota=100_000,
        budget_percent=20,
        ingest_points_per_second=100,
        retention_days=7,
    ),
    Tier(
        "standard",
        rate=100,
        burst=200,
        monthly_quota=5_000_000,
        budget_percent=100,
        ingest_points_per_second=1_000,
        retention_days=30,
    ),
    Tier(
        "premium",
        rate=300,
        burst=600,
        monthly_quota=25_000_000,
        budget_percent=300,
        ingest_points_per_second=5_000,
        retention_days=90,
    ),
    Tier(
        "enterprise",
        rate=1000,
        burst=2000,
        monthly_quota=100_000_000,
        budget_percent=1000,
        ingest_points_per_second=20_000,
        retention_days=395,  # 13 months: a year-over-year comparison
    ),
)
BY_NAME: Mapping[str, Tier] = {tier.name: tier for tier in TIERS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
# The names as a type (request bodies validate against it: a 400 naming the field).
TierName = Literal["free", "standard", "premium", "enterprise"]
if get_args(TierName) != NAMES:  # pragma: no cover - caught by the first import
    raise RuntimeError("TierName must list TIERS' names in order")
DEFAULT = "standard"


def get(name: str) -> Tier:
    """The tier of that name (KeyError for an unknown one: callers validate names first)."""
    return BY_NAME[name]


def rank(name: str) -> int:
    """A tier's position, lowest first."""
    return NAMES.index(name)


def tier_of(tenant: Mapping[str, Any]) -> Tier:
    """The tier of a tenant record (DEFAULT for a record without one)."""
    name = tenant.get("tier")
    return BY_NAME[name] if isinstance(name, str) and name in BY_NAME else BY_NAME[DEFAULT]


def retention_days(tier: str | Tier) -> int:
    """How many days the data plane keeps a tenant's points (the ingestion worker's TTL)."""
    return (tier if isinstance(tier, Tier) else get(tier)).retention_days


def ingest_points_per_second(tier: str | Tier) -> int:
    """How many points a second a tenant may ingest."""
    return (tier if isinstance(tier, Tier) else get(tier)).ingest_points_per_second
