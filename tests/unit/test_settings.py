"""Environment -> Settings (chalicelib/settings.py): defaults, derived names, refusals."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.settings import Settings, SettingsError, get_settings, reset_settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    """An environment without any variable Settings reads; settings re-read per test."""
    for name in [n for n in os.environ if n.startswith("OPSPLANE_")] + ["AWS_REGION", "AWS_DEFAULT_REGION"]:
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    yield monkeypatch
    reset_settings()


def test_can_default_every_setting_when_the_environment_is_empty(env):
    # GIVEN no variable set WHEN the settings are read THEN every default applies
    settings = get_settings()
    assert settings == Settings(
        stage="dev",
        region="us-east-1",
        entities_table="opsplane-dev-entities",
        tokens_table="opsplane-dev-tokens",
        usage_table="opsplane-dev-usage",
        dynamodb_endpoint=None,
        blobs_bucket="opsplane-dev-blobs",
        s3_endpoint=None,
        state_dir=".local",
        signing_keys_file=None,
        signing_keys_secret=None,
        session_ttl_seconds=7200,
        oauth_token_ttl_seconds=3600,
        max_body_bytes=1024 * 1024,
        max_document_bytes=5 * 1024 * 1024,
        max_api_tokens_per_account=20,
        login_failures_before_throttle=5,
        login_throttle_seconds=300,
        login_failures_per_address=20,
        csrf_strict=False,
        rate_limit_get=500,
        rate_limit_get_paged=50,
        rate_limit_write=50,
        rate_limit_enabled=True,
        categories=(),
        version="0.1.0",
        grafana_version="10.4.0",
    )


def test_can_derive_table_and_bucket_names_from_the_stage(env):
    # GIVEN a stage and no table names WHEN read THEN the names are opsplane-<stage>-*
    env.setenv("OPSPLANE_STAGE", "prod")
    settings = get_settings()
    assert (settings.entities_table, settings.tokens_table, settings.usage_table, settings.blobs_bucket) == (
        "opsplane-prod-entities",
        "opsplane-prod-tokens",
        "opsplane-prod-usage",
        "opsplane-prod-blobs",
    )


def test_can_prefer_named_tables_and_bucket_over_derived_ones(env):
    # GIVEN a stage and explicit names WHEN read THEN the explicit names win
    env.setenv("OPSPLANE_STAGE", "prod")
    env.setenv("OPSPLANE_ENTITIES_TABLE", "e")
    env.setenv("OPSPLANE_TOKENS_TABLE", "t")
    env.setenv("OPSPLANE_USAGE_TABLE", "u")
    env.setenv("OPSPLANE_BLOBS_BUCKET", "cfn-generated-name")
    settings = get_settings()
    assert (settings.entities_table, settings.tokens_table, settings.usage_table, settings.blobs_bucket) == (
        "e",
        "t",
        "u",
        "cfn-generated-name",
    )


@pytest.mark.parametrize(
    ("variables", "region"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-central-1"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "eu-central-1"}, "eu-central-1"),
        ({"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-central-1"}, "eu-central-1"),
        ({}, "us-east-1"),
    ],
)
def test_can_read_the_region_from_aws_region_then_aws_default_region(env, variables, region):
    for name, value in variables.items():
        env.setenv(name, value)
    assert get_settings().region == region


@pytest.mark.parametrize(
    ("variable", "attribute", "default"),
    [
        ("OPSPLANE_DYNAMODB_ENDPOINT", "dynamodb_endpoint", None),
        ("OPSPLANE_S3_ENDPOINT", "s3_endpoint", None),
        ("OPSPLANE_SIGNING_KEYS_FILE", "signing_keys_file", None),
        ("OPSPLANE_SIGNING_KEYS_SECRET", "signing_keys_secret", None),
        ("OPSPLANE_BLOBS_BUCKET", "blobs_bucket", "opsplane-dev-blobs"),
        ("OPSPLANE_GRAFANA_VERSION", "grafana_version", "10.4.0"),
        ("OPSPLANE_SESSION_TTL", "session_ttl_seconds", 7200),
        ("OPSPLANE_RATE_LIMIT_ENABLED", "rate_limit_enabled", True),
        ("OPSPLANE_CATEGORIES", "categories", ()),
        ("OPSPLANE_STAGE", "entities_table", "opsplane-dev-entities"),
    ],
)
def test_can_treat_an_empty_variable_as_unset(env, variable, attribute, default):
    # GIVEN a variable set to "" (as `make run` does for an endpoint it does not use)
    env.setenv(variable, "")
    # THEN the default applies
    assert getattr(get_settings(), attribute) == default


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("OPSPLANE_SESSION_TTL", "abc", "Input should be a valid integer"),
        ("OPSPLANE_SESSION_TTL", "-5", "greater than or equal to 1"),
        ("OPSPLANE_OAUTH_TOKEN_TTL", "0", "greater than or equal to 1"),
        ("OPSPLANE_MAX_BODY_BYTES", "1.5", "Input should be a valid integer"),
        ("OPSPLANE_MAX_DOCUMENT_BYTES", "-1", "greater than or equal to 1"),
        ("OPSPLANE_MAX_API_TOKENS", "-1", "greater than or equal to 0"),
        ("OPSPLANE_LOGIN_FAILURES", "0", "greater than or equal to 1"),
        ("OPSPLANE_LOGIN_THROTTLE_SECONDS", "5m", "Input should be a valid integer"),
        ("OPSPLANE_RATE_LIMIT_GET", "-10", "greater than or equal to 1"),
        ("OPSPLANE_RATE_LIMIT_GET_PAGED", "many", "Input should be a valid integer"),
        ("OPSPLANE_RATE_LIMIT_WRITE", "0", "greater than or equal to 1"),
        ("OPSPLANE_RATE_LIMIT_ENABLED", "maybe", "Input should be a valid boolean"),
        ("OPSPLANE_CSRF_STRICT", "2", "Input should be a valid boolean"),
    ],
)
def test_can_refuse_a_bad_value_naming_its_variable(env, variable, value, reason):
    # GIVEN a variable holding a value the service cannot run with WHEN the settings are read
    env.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        get_settings()
    # THEN the error names the variable, the reason and the value, on one line
    (line,) = refused.value.problems
    assert line.startswith(f"{variable}: ")
    assert reason in line
    assert line.endswith(f"(got {value!r})")
    assert line in str(refused.value)


def test_can_report_every_bad_variable_one_line_each(env):
    # GIVEN two bad variables WHEN read THEN both are reported, one line each
    env.setenv("OPSPLANE_SESSION_TTL", "abc")
    env.setenv("OPSPLANE_RATE_LIMIT_ENABLED", "maybe")
    with pytest.raises(SettingsError) as refused:
        get_settings()
    assert str(refused.value).splitlines() == [
        "invalid settings:",
        "OPSPLANE_SESSION_TTL: Input should be a valid integer, unable to parse string as an integer (got 'abc')",
        "OPSPLANE_RATE_LIMIT_ENABLED: Input should be a valid boolean, unable to interpret input (got 'maybe')",
    ]
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), (" on ", True), ("0", False), ("False", False), ("no", False)],
)
def test_can_read_booleans(env, value, expected):
    env.setenv("OPSPLANE_CSRF_STRICT", value)
    assert get_settings().csrf_strict is expected


@pytest.mark.parametrize(
    ("value", "categories"),
    [
        ("alert", ("alert",)),
        ("alert,dashboard", ("alert", "dashboard")),
        (" alert , dashboard,,", ("alert", "dashboard")),
    ],
)
def test_can_read_categories_as_a_comma_separated_list(env, value, categories):
    env.setenv("OPSPLANE_CATEGORIES", value)
    assert get_settings().categories == categories


@given(st.lists(st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True), max_size=6))
def test_can_read_back_any_list_of_category_names(names):
    # GIVEN category names joined as infra/ joins them THEN the same names come back, in order
    assert Settings(categories=",".join(names)).categories == tuple(names)


def test_can_construct_by_keyword_over_the_environment(env):
    # GIVEN an environment WHEN Settings is built with keywords THEN they win, and derived
    # names follow the stage given
    env.setenv("OPSPLANE_MAX_BODY_BYTES", "10")
    env.setenv("OPSPLANE_SESSION_TTL", "60")
    settings = Settings(stage="snap", max_body_bytes=1000)
    assert (settings.max_body_bytes, settings.session_ttl_seconds) == (1000, 60)
    assert settings.entities_table == "opsplane-snap-entities"


def test_can_refuse_a_keyword_naming_no_setting(env):
    with pytest.raises(ValueError, match="max_body_byte"):
        Settings(max_body_byte=1000)


def test_can_read_the_environment_once_until_reset(env):
    # GIVEN settings read once WHEN the environment changes THEN the cached ones stay until reset
    first = get_settings()
    env.setenv("OPSPLANE_VERSION", "9.9.9")
    assert get_settings() is first
    reset_settings()
    assert get_settings().version == "9.9.9"
