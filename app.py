"""Composition root: the Chalice app, its routes, and the Lambda authorizer entry point."""

from __future__ import annotations

from typing import Any

from chalice import Chalice

from chalicelib.api import load_router, routers
from chalicelib.api.manifest import ROUTES
from chalicelib.http.edge import Edge
from chalicelib.settings import get_settings
from chalicelib.store import models

# A bad variable raises SettingsError here, naming it: Lambda reports that as the init error.
settings = get_settings()
models.bind(settings)

app = Chalice(app_name="opsplane")
app.api.binary_types.extend(["application/octet-stream", "image/png", "font/woff2"])
if settings.categories:  # one deployed function: its categories, imported now
    edge = Edge(app, routers(settings.categories))
else:  # every category: each imported by the first request that reaches it
    edge = Edge(app, manifest=ROUTES, load=load_router)
edge.register()


@app.lambda_function(name="authorizer")
def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REQUEST authorizer: runs authorize() and hands the principal on."""
    from chalicelib.http.gateway import authorizer_response

    return authorizer_response(event)
