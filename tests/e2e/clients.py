"""Helpers the e2e modules share: the unmodified Wavefront client, plain Wazo HTTP calls, and
the Wazo flow that provisions a tenant / user / policy and logs in (as a user of the product would).

Only public HTTP routes are used here, never chalicelib: these tests see the server from outside.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import wavefront_api_client
from wavefront_api_client.rest import ApiException

WAZO = "/api/auth/0.1"
TIMEOUT = 30


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wavefront(url: str, token: str, *, bearer: bool = False) -> wavefront_api_client.ApiClient:
    """The Wavefront client configured the way its users do (X-AUTH-TOKEN, or Authorization: Bearer)."""
    cfg = wavefront_api_client.Configuration()
    cfg.host = url
    if bearer:
        return wavefront_api_client.ApiClient(cfg, header_name="Authorization", header_value=f"Bearer {token}")
    return wavefront_api_client.ApiClient(cfg, header_name="X-AUTH-TOKEN", header_value=token)


def wazo(
    url: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    tenant: str | None = None,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> requests.Response:
    """One call to the Wazo dialect (X-Auth-Token, Wazo-Tenant)."""
    h: dict[str, str] = {}
    if token:
        h["X-Auth-Token"] = token
    if tenant:
        h["Wazo-Tenant"] = tenant
    h.update(headers or {})
    return requests.request(method, url + WAZO + path, headers=h, timeout=TIMEOUT, **kw)


def ok(resp: requests.Response, *expected: int) -> Any:
    """The JSON of an answer whose status is expected (200 by default), with a readable failure."""
    codes = expected or (200,)
    assert resp.status_code in codes, f"{resp.request.method} {resp.url} -> {resp.status_code} {resp.text[:500]}"
    return resp.json() if resp.content else None


def login(url: str, username: str, password: str, **body: Any) -> dict[str, Any]:
    """POST /token with Basic credentials; the `data` of the answer."""
    resp = requests.post(url + WAZO + "/token", auth=(username, password), json=body, timeout=TIMEOUT)
    return ok(resp)["data"]


def new_tenant(url: str, token: str, *, parent: str | None = None, everyone: bool = False) -> dict[str, Any]:
    """A sub-tenant of the caller's tenant (or of parent, named by Wazo-Tenant). Its Everyone
    role gives nothing unless everyone=True (the product's default: Browse), so that the people
    made in it hold exactly what a test gives them (tests/functional/conftest.py does the same)."""
    made = ok(wazo(url, "POST", "/tenants", token=token, tenant=parent, json={"name": unique("tenant")}))
    if not everyone:
        empty_everyone(url, token, made["uuid"])
    return made


def empty_everyone(url: str, token: str, tenant: str) -> None:
    """Take every grant off the tenant's Everyone role, as its administrator may."""
    role = str(uuid.uuid5(uuid.NAMESPACE_URL, f"opsplane:{tenant}:everyone-role"))
    ok(wazo(url, "PUT", f"/policies/{role}", token=token, tenant=tenant, json={"acl": []}))


@dataclass
class Person:
    """A user provisioned over the Wazo routes, logged in."""

    uuid: str
    username: str
    password: str
    tenant: str
    policy: str
    token: str


def new_person(url: str, token: str, acl: list[str], *, tenant: str | None = None) -> Person:
    """A user in tenant (the caller's own by default) holding exactly acl through one policy, logged in."""
    username, password = unique("user"), "pw-" + uuid.uuid4().hex
    if tenant is None:  # the caller's own: the shared server's root (its Everyone emptied once)
        empty_everyone(url, token, whoami(url, token))
    policy = ok(wazo(url, "POST", "/policies", token=token, tenant=tenant, json={"name": unique("policy"), "acl": acl}))
    user = ok(
        wazo(
            url,
            "POST",
            "/users",
            token=token,
            tenant=tenant,
            json={"username": username, "password": password, "firstname": "E2e", "purpose": "user"},
        )
    )
    ok(wazo(url, "PUT", f"/users/{user['uuid']}/policies/{policy['uuid']}", token=token, tenant=tenant), 200, 204)
    session = login(url, username, password)
    return Person(user["uuid"], username, password, user["tenant_uuid"], policy["uuid"], session["token"])


def new_tenant_admin(url: str, token: str) -> Person:
    """A fresh sub-tenant and a user who may do anything in it (listings there hold only what a test made)."""
    tenant = new_tenant(url, token)["uuid"]
    return new_person(url, token, ["#"], tenant=tenant)


def refused_status(call: Callable[[], Any]) -> int:
    """The HTTP status of a wavefront-api-client call that must fail."""
    with pytest.raises(ApiException) as refused:
        call()
    return int(refused.value.status)


def raw_json(call: Callable[..., Any]) -> Any:
    """The JSON the server sent, read past the client's models (which drop unknown keys)."""
    return json.loads(call(_preload_content=False).data)


def whoami(url: str, token: str) -> str:
    """The tenant of a token (Wazo's token check)."""
    answer = ok(wazo(url, "GET", f"/token/{token}", token=token))
    return str(answer.get("data", answer)["metadata"]["tenant_uuid"])
