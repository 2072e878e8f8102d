"""The contract suite's inputs: the kinds declared on the shared CRUD (crud.DECLARED), a
valid sample body for each (samples.py) and the routes that create and update them.
"""

from __future__ import annotations

import pytest

from chalicelib.categories import crud
from tests.contract.conftest import WRITES, body_schema, write_route
from tests.contract.samples import SAMPLES, required_fields, sample_for

# ---- the declarations themselves --------------------------------------------------------------


def test_can_find_kinds_declared_on_the_shared_crud():
    names = [d.kind.name for d in crud.DECLARED]
    assert {"alert", "dashboard"} <= set(names)
    assert len(names) == len(set(names)), f"a kind is declared twice: {names}"


def test_can_find_a_valid_sample_for_every_declared_kind(declared):
    sample = sample_for(declared.kind.name)
    body = sample.body("check")
    missing = set(required_fields(declared.kind.schema)) - set(body)
    assert not missing, f"the sample body of {declared.kind.name!r} lacks required fields {sorted(missing)}"
    declared.kind.schema.model_validate(body)


@pytest.mark.parametrize("write", WRITES)
def test_can_route_create_and_update_of_every_declared_kind(declared, write: str):
    # THEN the kind's create and update paths (shared, or its own) are routes with a body model
    route = write_route(declared, write)
    where = "tests/contract/samples.py (Sample.create / Sample.update)"
    assert route is not None, f"{declared.kind.name}: no route to {write} with; say where it is in {where}"
    assert body_schema(declared, write) is not None, f"{declared.kind.name}: the {write} route declares no body model"


def test_can_keep_samples_only_for_declared_kinds():
    stale = set(SAMPLES) - {d.kind.name for d in crud.DECLARED}
    assert not stale, f"samples for kinds nobody declares: {sorted(stale)}"
