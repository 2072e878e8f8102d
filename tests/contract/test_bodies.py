"""The shared CRUD's body contract, for every declared kind: bad bodies are 400, bodies
over the route's limit 413, and neither writes anything; unknown fields are treated as
the kind's schema says (model_config extra).
"""

from __future__ import annotations

import pytest

from chalicelib.http.edge import body_limit
from chalicelib.settings import get_settings
from tests.contract.conftest import WRITES, KindApi, oversize, refused, write_route
from tests.contract.samples import Refusal, unknown_fields


def test_can_refuse_a_bad_body_with_400_and_write_nothing(kind: KindApi, write: str, refusal: Refusal):
    # GIVEN one entity
    body = kind.body()
    created = kind.create(body)
    eid = created["id"]
    # WHEN a bad body is sent to create one more, or to update it
    if write == "create":
        status, answer = kind.post_create(raw=refusal.make(kind.body()))
    else:
        status, answer = kind.call("PUT", kind.update_path(eid), raw=refusal.make(body))
    # THEN 400, and nothing was written
    refused(status, answer, 400)
    assert kind.total() == 1
    assert kind.get(eid) == created


@pytest.mark.parametrize("write", WRITES)
def test_can_refuse_an_oversize_body_with_413_and_write_nothing(kind: KindApi, write: str):
    # GIVEN one entity, and the body limit of the route
    body = kind.body()
    created = kind.create(body)
    eid = created["id"]
    route = write_route(kind.declared, write)
    assert route is not None
    limit = body_limit(route, get_settings())
    # WHEN an otherwise valid body one byte over the limit is sent
    if write == "create":
        status, answer = kind.post_create(raw=oversize(kind.body(), limit))
    else:
        status, answer = kind.call("PUT", kind.update_path(eid), raw=oversize(body, limit))
    # THEN 413 naming the limit, and nothing was written
    refused(status, answer, 413)
    assert str(limit) in answer["status"]["message"]
    assert kind.total() == 1
    assert kind.get(eid) == created


def test_can_treat_unknown_fields_as_the_schema_says(kind: KindApi):
    # GIVEN a valid body with a field the schema does not declare
    extra = unknown_fields(kind.schema)
    body = {**kind.body(), "contractColour": "blue"}
    status, answer = kind.post_create(body)
    if extra == "forbid":
        # THEN a schema that forbids them refuses the body and writes nothing
        refused(status, answer, 400)
        assert kind.total() == 0
        return
    # THEN the body is accepted: the field is dropped ('ignore') or kept as posted ('allow')
    assert status == 200, answer
    got = kind.get(answer["response"]["id"])
    if extra == "allow":
        assert answer["response"]["contractColour"] == got["contractColour"] == "blue"
    else:
        assert "contractColour" not in answer["response"] and "contractColour" not in got
