"""Stage configuration: what differs between dev and prod, read from CDK context."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from chalicelib.tiers import TIERS, Tier

STAGES = ("dev", "prod")


# One usage plan per tier (throttle, burst, monthly quota): the numbers are chalicelib/tiers.py's,
# which the app's limiter reads too.
DEFAULT_TIERS: tuple[Tier, ...] = TIERS


@dataclass(frozen=True)
class StageConfig:
    """Everything the stack varies per stage."""

    stage: str
    # Production data survives a stack deletion and cannot be dropped by accident.
    protect_data: bool
    log_retention: logs.RetentionDays
    # Usage plans only meter methods that require an API key; the key comes from the
    # authorizer (usageIdentifierKey), bound to a tier's plan at tenant onboarding.
    api_key_required: bool
    stage_rate: float = 500
    stage_burst: int = 1000
    timeout_seconds: int = 29  # API Gateway's integration limit
    tiers: tuple[Tier, ...] = field(default=DEFAULT_TIERS)
    code_dir: str | None = None  # a pre-built Lambda package (README); None: the repo root

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.protect_data else RemovalPolicy.DESTROY

    def table_name(self, table: str) -> str:
        """The physical table name; the same default chalicelib/settings.py derives."""
        return f"opsplane-{self.stage}-{table}"

    def plan_name(self, tier: str) -> str:
        """A tier's usage plan; the name chalicelib/settings.py's usage_plan_prefix derives."""
        return f"opsplane-{self.stage}-{tier}"

    def fallback_key(self, tier: str) -> str:
        """The name and value of a tier's shared fallback API key (fallback_key_prefix's)."""
        return f"opsplane-{self.stage}-fallback-{tier}"


BASE = {
    "dev": StageConfig("dev", protect_data=False, log_retention=logs.RetentionDays.TWO_WEEKS, api_key_required=False),
    "prod": StageConfig(
        "prod", protect_data=True, log_retention=logs.RetentionDays.THREE_MONTHS, api_key_required=True
    ),
}

_TRUE = ("1", "true", "yes", "on")


def stage_config(context: Any) -> StageConfig:
    """The configuration named by context `stage` (dev|prod), with optional overrides:
    `apiKeyRequired` (true|false) and `codeDir` (path of a pre-built Lambda package)."""
    stage = str(context("stage") or "dev")
    if stage not in BASE:
        raise ValueError(f"Unknown stage {stage!r}: expected one of {', '.join(STAGES)}")
    config = BASE[stage]
    required = context("apiKeyRequired")
    if required is not None:
        config = replace(config, api_key_required=str(required).strip().lower() in _TRUE)
    code_dir = context("codeDir")
    if code_dir:
        config = replace(config, code_dir=str(code_dir))
    return config
