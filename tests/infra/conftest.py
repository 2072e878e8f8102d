"""Infra test setup: the CDK stack synthesizes on Node.js through jsii."""

from __future__ import annotations

import os

import pytest

# Node 20 (the machine's) still runs aws-cdk-lib, with an end-of-life banner on every start
# (infra/README.md): it is known, so keep it out of the test output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "infra: synthesizes the production CDK stack (needs Node.js)")
