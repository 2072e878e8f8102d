""".chalice/config.json and its IAM policies stay consistent with the code that reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CHALICE = Path(__file__).resolve().parents[2] / ".chalice"
CONFIG = json.loads((CHALICE / "config.json").read_text())
DEPLOYABLE = ("sandbox", "prod")


def test_can_run_the_dev_stage_locally_without_overriding_the_launcher():
    # GIVEN the dev stage that `make run` (chalice local --stage dev) uses
    env = {**CONFIG.get("environment_variables", {}), **CONFIG["stages"]["dev"]["environment_variables"]}

    # THEN it leaves the endpoint, the state dir and the key secret to the launcher
    assert CONFIG["app_name"] == "opsplane"
    assert env["OPSPLANE_STAGE"] == "dev"
    assert not {"OPSPLANE_DYNAMODB_ENDPOINT", "OPSPLANE_STATE_DIR", "OPSPLANE_SIGNING_KEYS_SECRET"} & set(env)


@pytest.mark.parametrize("stage", DEPLOYABLE)
def test_can_deploy_a_stage_with_its_own_tables_secret_and_policy(stage):
    # GIVEN a deployable stage
    conf = CONFIG["stages"][stage]
    env = conf["environment_variables"]
    policy = json.loads((CHALICE / conf["iam_policy_file"]).read_text())
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    resources = [
        r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    ]

    # THEN it names its own tables and secret, and its policy grants item access to exactly those
    assert CONFIG["autogen_policy"] is False
    assert env["OPSPLANE_STAGE"] == stage
    assert env["OPSPLANE_SIGNING_KEYS_SECRET"] == f"opsplane-{stage}-signing-keys"
    for table in ("ENTITIES", "TOKENS", "USAGE"):
        name = env[f"OPSPLANE_{table}_TABLE"]
        assert name.startswith(f"opsplane-{stage}-")
        assert f"arn:aws:dynamodb:*:*:table/{name}" in resources
    assert "dynamodb:Scan" not in actions
    assert not [a for a in actions if a.endswith(":*") or a == "*"]
    assert all(f"opsplane-{stage}-" in r for r in resources)
    assert "secretsmanager:GetSecretValue" in actions
    # and the bucket large documents overflow to (Settings' default name for the stage)
    bucket = env.get("OPSPLANE_BLOBS_BUCKET", f"opsplane-{stage}-blobs")
    assert f"arn:aws:s3:::{bucket}/*" in resources and f"arn:aws:s3:::{bucket}" in resources
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"} <= set(actions)
