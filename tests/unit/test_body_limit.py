"""Which request body limit applies to a route (chalicelib/http/edge.py body_limit)."""

from __future__ import annotations

import pytest

from chalicelib.http.edge import body_limit
from chalicelib.http.router import Route, Router
from chalicelib.settings import Settings

SETTINGS = Settings(max_body_bytes=1000, max_document_bytes=5000)


def _route(**options) -> Route:
    router = Router(tag="test")
    router.put("/api/v2/thing/{id}", acl="thing.{id}.update", **options)(lambda request: None)
    return router.routes[0]


def test_can_apply_the_global_limit_to_a_route_without_its_own():
    # GIVEN a route that sets no limit THEN the global one applies
    assert body_limit(_route(), SETTINGS) == 1000


def test_can_apply_a_route_limit_in_bytes():
    # GIVEN a route with its own limit THEN it applies, above or below the global one
    assert body_limit(_route(max_body=3000), SETTINGS) == 3000
    assert body_limit(_route(max_body=10), SETTINGS) == 10


def test_can_read_a_route_limit_from_the_settings_at_request_time():
    # GIVEN a route whose limit names a setting WHEN the settings differ THEN the current value applies
    route = _route(max_body="max_document_bytes")
    assert body_limit(route, SETTINGS) == 5000
    assert body_limit(route, Settings(max_document_bytes=7 * 1024 * 1024)) == 7 * 1024 * 1024


def test_can_refuse_a_route_limit_naming_no_setting():
    # GIVEN a misspelt setting name WHEN the route is declared THEN it fails at once, not per request
    with pytest.raises(ValueError, match="max_document_byte"):
        _route(max_body="max_document_byte")
