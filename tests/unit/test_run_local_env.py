"""`make run` gives its `chalice local` child the local rate-limit budget (no server needed)."""

from __future__ import annotations

from chalicelib.settings import Settings
from scripts.run_local import LOCAL_RATE_LIMITS, child_environment


def test_can_give_the_child_the_local_budget():
    # GIVEN an environment without budgets WHEN the child's environment is built
    env = child_environment({"PATH": "/usr/bin", "OPSPLANE_RATE_LIMIT_GET": ""})
    # THEN every budget is the local one, and the rest is kept
    assert {name: env[name] for name in LOCAL_RATE_LIMITS} == {
        "OPSPLANE_RATE_LIMIT_GET": "10000",
        "OPSPLANE_RATE_LIMIT_GET_PAGED": "10000",
        "OPSPLANE_RATE_LIMIT_WRITE": "10000",
    }
    assert env["PATH"] == "/usr/bin"
    # AND the service reads it as such
    settings = Settings.model_validate({k: v for k, v in env.items() if k.startswith("OPSPLANE_")})
    assert (settings.rate_limit_get, settings.rate_limit_get_paged, settings.rate_limit_write) == (10000,) * 3


def test_can_keep_a_budget_the_user_set():
    env = child_environment({"OPSPLANE_RATE_LIMIT_GET_PAGED": "2"})
    assert env["OPSPLANE_RATE_LIMIT_GET_PAGED"] == "2"
    assert env["OPSPLANE_RATE_LIMIT_WRITE"] == "10000"


def test_can_leave_the_deployed_defaults_alone():
    # The settings' defaults are the MSP platform's: only `make run` raises them.
    settings = Settings.model_validate({})
    assert (settings.rate_limit_get, settings.rate_limit_get_paged, settings.rate_limit_write) == (500, 50, 50)
