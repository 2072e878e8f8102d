"""Request bodies above the limit answer 413 in the caller's dialect, naming the limit."""

from __future__ import annotations

from chalicelib.settings import get_settings


def test_can_refuse_a_body_one_byte_above_the_global_limit(api):
    # GIVEN the default global limit and an existing route that sets none of its own
    limit = get_settings().max_body_bytes
    assert limit == 1024 * 1024

    # WHEN a body of exactly the limit, then one byte more, is posted
    at_limit, _ = api.json("POST", "/api/v2/alert", raw=b"x" * limit)
    status, body = api.json("POST", "/api/v2/alert", raw=b"x" * (limit + 1))

    # THEN the first passes the edge (and is refused as bad JSON), the second is 413 naming the limit
    assert at_limit == 400
    assert status == 413
    assert body["status"]["result"] == "ERROR" and body["status"]["code"] == 413
    assert str(limit) in body["status"]["message"]
