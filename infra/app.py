"""CDK entry point: `cdk synth -c stage=dev|prod` (see README.md)."""

from __future__ import annotations

import os

import aws_cdk as cdk
from opsplane_infra.config import stage_config
from opsplane_infra.stack import OpsplaneStack

app = cdk.App()
config = stage_config(app.node.try_get_context)
OpsplaneStack(
    app,
    f"opsplane-{config.stage}",
    config=config,
    env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
)
app.synth()
