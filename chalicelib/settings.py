"""Environment -> typed settings. Read once per process, cheap (no I/O).

A bad value fails at start: get_settings() raises SettingsError naming every bad variable
and why (docs/configuration.md lists the variables).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(ValueError):
    """The environment holds values the service cannot run with; one line per bad variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid settings:\n" + "\n".join(self.problems))

    @classmethod
    def from_validation(cls, exc: ValidationError) -> SettingsError:
        """The problems of a pydantic ValidationError, each under its variable's name."""
        return cls([f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e['input']!r})" for e in exc.errors()])


def _env(name: str, default: Any, **bounds: Any) -> Any:
    """A field read from the variable `name` (keyword construction uses the field's name)."""
    return Field(default, validation_alias=name, **bounds)


def _derived(name: str, suffix: str) -> Any:
    """A field whose default is derived from the stage: opsplane-<stage>-<suffix>."""
    return Field(default_factory=lambda data: f"opsplane-{data['stage']}-{suffix}", validation_alias=name)


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    Settings() reads the environment; keyword arguments (by attribute name) win over it.
    An empty variable counts as unset.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,
        env_ignore_empty=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    stage: str = _env("OPSPLANE_STAGE", "dev")
    region: str = Field(default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    entities_table: str = _derived("OPSPLANE_ENTITIES_TABLE", "entities")
    tokens_table: str = _derived("OPSPLANE_TOKENS_TABLE", "tokens")
    usage_table: str = _derived("OPSPLANE_USAGE_TABLE", "usage")
    timeseries_table: str = _derived("OPSPLANE_TIMESERIES_TABLE", "timeseries")
    # SQS queues are named <prefix><queue> (chalicelib/workers: "ingest", ...).
    queue_prefix: str = _derived("OPSPLANE_QUEUE_PREFIX", "")
    # A tier's usage plan is named <prefix><tier>, its shared fallback key (name and value)
    # <fallback prefix><tier>: the names infra/ gives them.
    usage_plan_prefix: str = _derived("OPSPLANE_USAGE_PLAN_PREFIX", "")
    fallback_key_prefix: str = _derived("OPSPLANE_FALLBACK_KEY_PREFIX", "fallback-")
    sqs_endpoint: str | None = _env("OPSPLANE_SQS_ENDPOINT", None)
    dynamodb_endpoint: str | None = _env("OPSPLANE_DYNAMODB_ENDPOINT", None)
    blobs_bucket: str = _derived("OPSPLANE_BLOBS_BUCKET", "blobs")
    s3_endpoint: str | None = _env("OPSPLANE_S3_ENDPOINT", None)
    state_dir: str = _env("OPSPLANE_STATE_DIR", ".local")
    signing_keys_file: str | None = _env("OPSPLANE_SIGNING_KEYS_FILE", None)
    signing_keys_secret: str | None = _env("OPSPLANE_SIGNING_KEYS_SECRET", None)
    session_ttl_seconds: int = _env("OPSPLANE_SESSION_TTL", 7200, ge=1)
    oauth_token_ttl_seconds: int = _env("OPSPLANE_OAUTH_TOKEN_TTL", 3600, ge=1)
    max_body_bytes: int = _env("OPSPLANE_MAX_BODY_BYTES", 1024 * 1024, ge=1)
    # API Gateway hands Lambda at most 6 MB, event envelope included (docs/configuration.md).
    max_document_bytes: int = _env("OPSPLANE_MAX_DOCUMENT_BYTES", 5 * 1024 * 1024, ge=1)
    # An ingestion batch (/report) once decompressed: streamed line by line, never held whole
    # (chalicelib/ingest/body.py); past it, 413 and nothing kept.
    max_ingest_bytes: int = _env("OPSPLANE_MAX_INGEST_BYTES", 64 * 1024 * 1024, ge=1)
    # How long ingested points, histograms and spans are kept (DynamoDB TTL) for every
    # tenant; unset: each tenant's tier decides (chalicelib/domain/ingestion.py, retention_days).
    retention_days: int | None = _env("OPSPLANE_RETENTION_DAYS", None, ge=1, le=3650)
    # Bounds on what a request can carry and a tenant can grow (docs/configuration.md, "Bounds").
    max_json_depth: int = _env("OPSPLANE_MAX_JSON_DEPTH", 64, ge=2, le=500)
    max_json_items: int = _env("OPSPLANE_MAX_JSON_ITEMS", 1000, ge=1)
    max_number_digits: int = _env("OPSPLANE_MAX_NUMBER_DIGITS", 38, ge=1, le=4000)
    max_string_chars: int = _env("OPSPLANE_MAX_STRING_CHARS", 1024 * 1024, ge=256)
    max_tags: int = _env("OPSPLANE_MAX_TAGS", 100, ge=0)
    max_header_bytes: int = _env("OPSPLANE_MAX_HEADER_BYTES", 8192, ge=256)
    max_username_bytes: int = _env("OPSPLANE_MAX_USERNAME_BYTES", 256, ge=1, le=1024)
    max_api_tokens_per_account: int = _env("OPSPLANE_MAX_API_TOKENS", 20, ge=0)
    login_failures_before_throttle: int = _env("OPSPLANE_LOGIN_FAILURES", 5, ge=1)
    login_throttle_seconds: int = _env("OPSPLANE_LOGIN_THROTTLE_SECONDS", 300, ge=1)
    # Failed logins from one client address (any accounts) per window (docs/auth.md).
    login_failures_per_address: int = _env("OPSPLANE_LOGIN_FAILURES_PER_ADDRESS", 20, ge=1)
    # How long a container keeps a verified credential's principal (0: no cache). Writes made
    # through the container invalidate at once; elsewhere this is how late they show (docs/auth.md).
    auth_cache_seconds: int = _env("OPSPLANE_AUTH_CACHE_SECONDS", 30, ge=0, le=3600)
    csrf_strict: bool = _env("OPSPLANE_CSRF_STRICT", False)
    # How long audit records are kept (DynamoDB TTL; docs/audit.md).
    audit_retention_days: int = _env("OPSPLANE_AUDIT_RETENTION_DAYS", 400, ge=1, le=36500)
    # CloverDX's rule on /clover/api/rest/v1: X-Requested-By on every request (docs/cloverdx.md).
    clover_csrf: bool = _env("OPSPLANE_CLOVER_CSRF", True)
    # The tenant Wazo's POST /users/register creates users in; unset: registration is off.
    registration_tenant: str | None = _env("OPSPLANE_REGISTRATION_TENANT", None)
    # Per-tenant API Gateway API keys (chalicelib/identity/tenant_keys.py, docs/deploy.md):
    # off, tenants are metered under their tier's shared fallback key; infra/ turns it on.
    api_keys: bool = _env("OPSPLANE_API_KEYS", False)
    apigateway_endpoint: str | None = _env("OPSPLANE_APIGATEWAY_ENDPOINT", None)
    # The standard tier's budgets; the other tiers' are shares of them (chalicelib/tiers.py).
    rate_limit_get: int = _env("OPSPLANE_RATE_LIMIT_GET", 500, ge=1)
    rate_limit_get_paged: int = _env("OPSPLANE_RATE_LIMIT_GET_PAGED", 50, ge=1)
    rate_limit_write: int = _env("OPSPLANE_RATE_LIMIT_WRITE", 50, ge=1)
    rate_limit_enabled: bool = _env("OPSPLANE_RATE_LIMIT_ENABLED", True)
    # A container flushes its count of a key after this many hits or seconds, whichever
    # first (http/limits.py; the error bound is in docs/configuration.md).
    rate_limit_flush_hits: int = _env("OPSPLANE_RATE_LIMIT_FLUSH_HITS", 5, ge=1)
    rate_limit_flush_seconds: int = _env("OPSPLANE_RATE_LIMIT_FLUSH_SECONDS", 5, ge=1)
    # A comma-separated list, not JSON (NoDecode): "alert,dashboard".
    categories: Annotated[tuple[str, ...], NoDecode] = _env("OPSPLANE_CATEGORIES", ())
    version: str = _env("OPSPLANE_VERSION", "0.1.0")
    # The Grafana version the Grafana dialect reports (clients gate features on it).
    grafana_version: str = _env("OPSPLANE_GRAFANA_VERSION", "10.4.0")

    @field_validator("categories", mode="before")
    @classmethod
    def _split_categories(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(c.strip() for c in value.split(",") if c.strip())
        return value

    @field_validator("csrf_strict", "clover_csrf", "rate_limit_enabled", "api_keys", mode="before")
    @classmethod
    def _strip_boolean(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the process environment (cached; call reset_settings() in tests).
    Raises SettingsError when a variable holds a bad value."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError.from_validation(exc) from None


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
