"""scripts/provision.py prepares an AWS account for `chalice deploy` (on moto)."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from moto import mock_aws

from scripts.provision import provision

STAGE_VARIABLES = (
    "OPSPLANE_STAGE",
    "OPSPLANE_ENTITIES_TABLE",
    "OPSPLANE_TOKENS_TABLE",
    "OPSPLANE_USAGE_TABLE",
    "OPSPLANE_SIGNING_KEYS_SECRET",
    "OPSPLANE_CSRF_STRICT",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
)


@pytest.fixture
def restore_environment():
    saved = {k: os.environ.get(k) for k in STAGE_VARIABLES}
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    from chalicelib.auth.keys import forget_cached_keys
    from chalicelib.settings import get_settings, reset_settings
    from chalicelib.store import models

    reset_settings()
    forget_cached_keys()
    models.bind(get_settings())


def test_can_provision_tables_secret_and_admin_once(restore_environment):
    with mock_aws():
        # GIVEN an empty account
        # WHEN the sandbox stage is provisioned twice
        first = provision("sandbox", "sandbox-admin-pw")
        second = provision("sandbox", None)

        # THEN the stage's tables and key ring secret exist, and the admin was made once
        tables = boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"]
        assert {"opsplane-sandbox-entities", "opsplane-sandbox-tokens", "opsplane-sandbox-usage"} <= set(tables)
        secret = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(
            SecretId="opsplane-sandbox-signing-keys"
        )
        ring = json.loads(secret["SecretString"])
        assert len(ring["keys"]) == 1 and len(bytes.fromhex(ring["cursor_secret"])) == 32
        assert first["secret_created"] and not second["secret_created"]
        assert first["admin_password"] == "sandbox-admin-pw"
        assert second["admin_password"] is None
        assert second["root_tenant"] == first["root_tenant"]


def test_can_refuse_a_stage_without_a_signing_key_secret(restore_environment):
    with mock_aws():
        # GIVEN the dev stage, which keeps its keys in a local file
        # WHEN it is provisioned for AWS THEN that is refused
        with pytest.raises(SystemExit, match="OPSPLANE_SIGNING_KEYS_SECRET"):
            provision("dev", None)
