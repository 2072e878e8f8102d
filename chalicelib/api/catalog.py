"""GET /api: the APIs this service speaks (one per dialect), each with where its operations
are documented, as Wazo's quickstart expects to find them (the list of available APIs, and
the Swagger UI to try them).

One OpenAPI document describes every dialect; each dialect's operations carry their own
tags, and the Swagger UI opens on a tag by its fragment (`/api-docs/ui#/wazo`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.api.docs import SPEC_PATH, UI_PATH
from chalicelib.http import dialects
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Category, Router
from chalicelib.wire import Model

router = Router("catalog")

# What each dialect is, for people: the product whose clients it serves, and its base path.
DIALECTS: dict[str, tuple[str, str]] = {
    dialects.NATIVE: ("Wavefront REST API (opsplane's own)", "/api/v2"),
    dialects.WAZO: ("wazo-auth", "/api/auth/0.1"),
    dialects.GRAFANA: ("Grafana HTTP API", "/api"),
    dialects.OAUTH: ("OAuth 2.0 client credentials", "/auth/oauth"),
    dialects.CLOVER: ("CloverDX Server REST API", "/clover/api/rest/v1"),
}


class Api(Model):
    """One available API."""

    name: str
    dialect: str
    prefix: str
    tags: list[str]
    document: str
    swagger_ui: list[str]


class Catalog(Model):
    """GET /api's answer."""

    apis: list[Api]
    document: str
    swagger_ui: str


@lru_cache(maxsize=1)
def catalog() -> dict[str, Any]:
    """The APIs of every registered category, by dialect (built once per process)."""
    from chalicelib.api import routers

    tags: dict[str, set[str]] = {name: set() for name in DIALECTS}
    for route in (r for router in routers() for r in router.routes):
        tags.setdefault(dialects.dialect_of(route.path), set()).add(route.tag)
    apis = [
        {
            "name": DIALECTS[dialect][0],
            "dialect": dialect,
            "prefix": DIALECTS[dialect][1],
            "tags": sorted(found),
            "document": SPEC_PATH,
            "swagger_ui": [f"{UI_PATH}#/{tag}" for tag in sorted(found)],
        }
        for dialect, found in tags.items()
        if found and dialect in DIALECTS
    ]
    return {"apis": apis, "document": SPEC_PATH, "swagger_ui": UI_PATH}


@router.get("/api", acl=PUBLIC, envelope=False, response=Catalog)
def list_apis(req: Request) -> Reply:
    """The available APIs (one per dialect), their documents and the Swagger UI."""
    return bare(catalog())


CATEGORY = Category(router, tables=())
