"""The category registry is found, not listed: every module that declares CATEGORY."""

from __future__ import annotations

import pytest

from chalicelib import api
from chalicelib.auth import permissions
from chalicelib.auth.acl import allows
from chalicelib.http.router import required_access


def test_can_find_every_category_by_its_declaration():
    names = [c.name for c in api.every()]
    assert {"alert", "dashboard", "account", "apitoken", "grafana", "wazo", "oauth", "health", "docs"} <= set(names)
    assert len(names) == len(set(names))


def test_can_import_only_the_category_a_function_serves():
    (alert,) = api.selected(("alert",))
    assert alert.name == "alert" and alert.router.routes


def test_can_refuse_an_unknown_category():
    with pytest.raises(ValueError, match="Unknown category 'nope'"):
        api.selected(("nope",))
    with pytest.raises(ValueError, match="Unknown category 'crud'"):
        api.selected(("crud",))  # a module of the package, but no category


@pytest.mark.parametrize("category", api.every(), ids=lambda c: c.name)
def test_can_grant_every_route_of_a_category_with_its_declared_permission(category):
    # GIVEN a category that names the Wavefront permission granting it
    if category.permission is None:
        pytest.skip(f"{category.name} declares no permission")
    granted = permissions.patterns_of([category.permission])
    # THEN an ACL holding just that permission may call each of its guarded routes
    for route in category.router.routes:
        if route.public or route.self_param:
            continue
        access = required_access(route, {p: "x1" for p in _params(route.path)})
        assert allows(granted, access), f"{category.permission} does not grant {access}"


def _params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
