"""Every route declares the ACL it needs; only a short allow-list is public."""

from __future__ import annotations

import re

from chalicelib.api import routers
from chalicelib.http.router import PUBLIC

# Public by design: health, the token endpoints (they authenticate themselves, the scope
# check of a token by that token), JWKS, docs
# (and the root's index of them, and /api's list of the dialects), Wazo's status, backends
# and self-registration (off unless the installation names a tenant for it), and inbound
# webhook deliveries (senders such as GitHub have no token: each delivery proves itself
# with its HMAC signature, checked before anything is read or written).
PUBLIC_ALLOWED = re.compile(
    r"^(/"
    r"|/api/health"
    r"|/api"
    r"|/api/auth/0\.1/token(/\{[a-z_]+\}(/scopes/check)?)?"
    r"|/api/auth/0\.1/(status|backends|users/register|users/password/reset|emails/\{email_uuid\}/confirm)"
    r"|/auth/oauth/token"
    r"|/\.well-known/jwks\.json"
    r"|/api/v2/swagger\.json"
    r"|/api-docs(/ui(/assets/\{[a-z_]+\})?)?"
    r"|/api/frontend/settings"
    r"|/hooks/\{tenantId\}/\{hookId\})$"
)


def all_routes():
    return [r for router in routers() for r in router.routes]


def test_can_find_an_acl_on_every_route():
    routes = all_routes()
    assert routes, "no routes registered"
    for route in routes:
        assert route.acl, f"{route.method} {route.path} declares no ACL"
        if route.acl == PUBLIC:
            assert PUBLIC_ALLOWED.match(route.path), f"{route.method} {route.path} is public"


def test_can_fill_every_acl_placeholder_from_the_path():
    for route in all_routes():
        for name in re.findall(r"\{([^}]+)\}", route.acl):
            assert "{" + name + "}" in route.path, f"{route.path}: ACL {route.acl} names {{{name}}}"


def test_can_name_acls_after_the_category():
    for route in all_routes():
        if route.acl == PUBLIC:
            continue
        first = route.acl.split(".")[0]
        assert re.fullmatch(r"[a-z]+", first), f"{route.path}: ACL {route.acl}"
        assert route.acl.count(".") >= 1


def test_can_refuse_every_protected_route_without_credentials(api):
    for route in all_routes():
        if route.acl == PUBLIC:
            continue
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        resp = api.call(route.method, path, {} if route.method != "GET" else None, token="")
        assert resp.status_code == 401, f"{route.method} {route.path} answered {resp.status_code}"


def test_can_refuse_every_protected_route_without_the_acl(api, make_user):
    nobody = make_user([])
    for route in all_routes():
        if route.acl == PUBLIC:
            continue
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        resp = api.call(route.method, path, {} if route.method != "GET" else None, token=nobody.token)
        assert resp.status_code == 403, f"{route.method} {route.path} answered {resp.status_code}"
