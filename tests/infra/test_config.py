"""Stage configuration and the API body's path checks (no synthesis)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.opsplane_infra import openapi
from infra.opsplane_infra.config import stage_config

pytestmark = pytest.mark.infra


def _context(**values: Any) -> Any:
    return values.get


def test_can_protect_data_and_require_api_keys_in_prod_only() -> None:
    dev, prod = stage_config(_context()), stage_config(_context(stage="prod"))
    assert (dev.stage, dev.protect_data, dev.api_key_required) == ("dev", False, False)
    assert (prod.stage, prod.protect_data, prod.api_key_required) == ("prod", True, True)
    assert prod.table_name("entities") == "opsplane-prod-entities"


def test_can_override_api_keys_and_code_dir_from_context() -> None:
    config = stage_config(_context(stage="prod", apiKeyRequired="false", codeDir="../build/lambda"))
    assert config.api_key_required is False
    assert config.code_dir == "../build/lambda"
    assert stage_config(_context(apiKeyRequired="true")).api_key_required is True


def test_can_refuse_an_unknown_stage() -> None:
    with pytest.raises(ValueError, match="Unknown stage"):
        stage_config(_context(stage="staging"))


def test_can_accept_the_paths_of_one_resource_tree() -> None:
    openapi.check_paths(["/api/v2/alert/{id}", "/api/v2/alert/{id}/tag/{tagValue}", "/.well-known/jwks.json", "/"])


@pytest.mark.parametrize(
    "paths",
    [
        ["/api/v2/alert/{id}", "/api/v2/alert/{alertId}/history"],  # two variables under one parent
        ["/api/v2/{kind}", "/{proxy+}", "/{other}"],
        ["/api/v2/alert list"],  # a segment API Gateway cannot route
        ["/api/v2/alert/{id"],
        ["/files/{path+}/meta"],  # a greedy variable before the end
    ],
)
def test_can_refuse_paths_api_gateway_cannot_route(paths: list[str]) -> None:
    with pytest.raises(ValueError):
        openapi.check_paths(paths)
