"""Environment -> typed settings. Read once per process, cheap (no I/O)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    stage: str = "dev"
    region: str = "us-east-1"
    entities_table: str = "opsplane-dev-entities"
    tokens_table: str = "opsplane-dev-tokens"
    usage_table: str = "opsplane-dev-usage"
    dynamodb_endpoint: str | None = None
    blobs_bucket: str = "opsplane-dev-blobs"
    s3_endpoint: str | None = None
    state_dir: str = ".local"
    signing_keys_file: str | None = None
    signing_keys_secret: str | None = None
    session_ttl_seconds: int = 7200
    oauth_token_ttl_seconds: int = 3600
    max_body_bytes: int = 1024 * 1024
    max_document_bytes: int = 5 * 1024 * 1024
    max_api_tokens_per_account: int = 20
    login_failures_before_throttle: int = 5
    login_throttle_seconds: int = 300
    csrf_strict: bool = False
    rate_limit_get: int = 500
    rate_limit_get_paged: int = 50
    rate_limit_write: int = 50
    rate_limit_enabled: bool = True
    categories: tuple[str, ...] = field(default_factory=tuple)
    version: str = "0.1.0"
    # The Grafana version the Grafana dialect reports (clients gate features on it).
    grafana_version: str = "10.4.0"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the process environment (cached; call reset_settings() in tests)."""
    stage = os.environ.get("OPSPLANE_STAGE", "dev")
    state_dir = os.environ.get("OPSPLANE_STATE_DIR", ".local")
    cats = os.environ.get("OPSPLANE_CATEGORIES", "")
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        entities_table=os.environ.get("OPSPLANE_ENTITIES_TABLE", f"opsplane-{stage}-entities"),
        tokens_table=os.environ.get("OPSPLANE_TOKENS_TABLE", f"opsplane-{stage}-tokens"),
        usage_table=os.environ.get("OPSPLANE_USAGE_TABLE", f"opsplane-{stage}-usage"),
        dynamodb_endpoint=os.environ.get("OPSPLANE_DYNAMODB_ENDPOINT") or None,
        blobs_bucket=os.environ.get("OPSPLANE_BLOBS_BUCKET") or f"opsplane-{stage}-blobs",
        s3_endpoint=os.environ.get("OPSPLANE_S3_ENDPOINT") or None,
        state_dir=state_dir,
        signing_keys_file=os.environ.get("OPSPLANE_SIGNING_KEYS_FILE") or None,
        signing_keys_secret=os.environ.get("OPSPLANE_SIGNING_KEYS_SECRET") or None,
        session_ttl_seconds=_int("OPSPLANE_SESSION_TTL", 7200),
        oauth_token_ttl_seconds=_int("OPSPLANE_OAUTH_TOKEN_TTL", 3600),
        max_body_bytes=_int("OPSPLANE_MAX_BODY_BYTES", 1024 * 1024),
        # API Gateway hands Lambda at most 6 MB, event envelope included (docs/configuration.md).
        max_document_bytes=_int("OPSPLANE_MAX_DOCUMENT_BYTES", 5 * 1024 * 1024),
        max_api_tokens_per_account=_int("OPSPLANE_MAX_API_TOKENS", 20),
        login_failures_before_throttle=_int("OPSPLANE_LOGIN_FAILURES", 5),
        login_throttle_seconds=_int("OPSPLANE_LOGIN_THROTTLE_SECONDS", 300),
        csrf_strict=_bool("OPSPLANE_CSRF_STRICT", False),
        rate_limit_get=_int("OPSPLANE_RATE_LIMIT_GET", 500),
        rate_limit_get_paged=_int("OPSPLANE_RATE_LIMIT_GET_PAGED", 50),
        rate_limit_write=_int("OPSPLANE_RATE_LIMIT_WRITE", 50),
        rate_limit_enabled=_bool("OPSPLANE_RATE_LIMIT_ENABLED", True),
        categories=tuple(c.strip() for c in cats.split(",") if c.strip()),
        version=os.environ.get("OPSPLANE_VERSION", "0.1.0"),
        grafana_version=os.environ.get("OPSPLANE_GRAFANA_VERSION") or "10.4.0",
    )


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
