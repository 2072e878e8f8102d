"""Shared fixtures: an isolated environment per test session, moto for AWS."""

from __future__ import annotations

import os
import tempfile

# Settings are read from the environment: fix them before anything imports chalicelib.
_STATE = tempfile.mkdtemp(prefix="opsplane-test-")
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "OPSPLANE_STATE_DIR": _STATE,
        "OPSPLANE_STAGE": "test",
        # Functional tests make many writes a minute; tests of the limiter turn it on.
        "OPSPLANE_RATE_LIMIT_ENABLED": "false",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
    }
)
for _name in ("OPSPLANE_DYNAMODB_ENDPOINT", "OPSPLANE_S3_ENDPOINT", "OPSPLANE_BLOBS_BUCKET"):
    os.environ.pop(_name, None)  # tests never reach past moto
