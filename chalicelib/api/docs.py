"""API documentation in the product: the index at `/`, the OpenAPI document and Swagger UI.

Swagger UI's files come from the pinned `swagger-ui-bundle` package and are served by the app
itself (no CDN: users may be offline). Only the bundle's own files are served, by name.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.errors import NotFound
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Category, Router
from chalicelib.settings import get_settings

router = Router("docs")

SPEC_PATH = "/api/v2/swagger.json"
UI_PATH = "/api-docs/ui"
HEALTH_PATH = "/api/health"
MEDIA_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".map": "application/json; charset=utf-8",
}
# The bundle's files only change with the pinned package version.
ASSET_CACHE = "public, max-age=86400"
HTML = {"type": "string", "contentMediaType": "text/html"}

# The page finds its own prefix (an API Gateway stage such as /api, or none behind a custom
# domain) from its address, so that it works as /api-docs/ui and /api-docs/ui/ alike. Its
# files are added by script with absolute URLs: relative ones would be fetched (by the
# browser's preload scanner) against the page's address before any <base> could apply.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>opsplane API</title>
  <script>
    (function () {
      var base = window.location.pathname.replace(/\\/api-docs\\/ui\\/?$/, "");
      var assets = base + "/api-docs/ui/assets/";
      window.opsplaneBase = base;
      function add(tag, attributes) {
        var element = document.createElement(tag);
        Object.keys(attributes).forEach(function (name) { element.setAttribute(name, attributes[name]); });
        if (tag === "script") { element.async = false; }  // run in order, before window.onload
        document.head.appendChild(element);
      }
      add("link", {rel: "stylesheet", type: "text/css", href: assets + "swagger-ui.css"});
      add("link", {rel: "stylesheet", type: "text/css", href: assets + "index.css"});
      add("link", {rel: "icon", type: "image/png", href: assets + "favicon-32x32.png", sizes: "32x32"});
      add("link", {rel: "icon", type: "image/png", href: assets + "favicon-16x16.png", sizes: "16x16"});
      add("script", {src: assets + "swagger-ui-bundle.js", charset: "UTF-8"});
      add("script", {src: assets + "swagger-ui-standalone-preset.js", charset: "UTF-8"});
    })();
  </script>
</head>
<body>
  <div id="swagger-ui"></div>
  <noscript>Swagger UI needs JavaScript. The OpenAPI document is at __SPEC__.</noscript>
  <script>
    window.onload = function () {
      var base = window.opsplaneBase;
      window.ui = SwaggerUIBundle({
        url: base + "__SPEC__",
        dom_id: "#swagger-ui",
        deepLinking: true,
        persistAuthorization: true,
        displayRequestDuration: true,
        validatorUrl: null,
        oauth2RedirectUrl: window.location.origin + base + "/api-docs/ui/assets/oauth2-redirect.html",
        // Operations are documented from the root: put the stage prefix (if any) in front of
        // every call but the document's own fetch, whose URL already carries it.
        requestInterceptor: function (req) {
          var url = new URL(req.url, window.location.href);
          if (base && !req.loadSpec && url.origin === window.location.origin) {
            url.pathname = base + url.pathname;
            req.url = url.toString();
          }
          return req;
        },
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout"
      });
    };
  </script>
</body>
</html>
"""


def bundle_dir() -> Path:
    """Where the pinned swagger-ui-bundle keeps Swagger UI's files."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


# The bundle's stock page and initializer load a demo API from the internet: not served.
NOT_SERVED = frozenset({"index.html", "swagger-initializer.js"})


@lru_cache(maxsize=1)
def asset_names() -> frozenset[str]:
    """The whitelist: the bundle's files of a served type (nothing else is ever read)."""
    return frozenset(
        p.name for p in bundle_dir().iterdir() if p.is_file() and p.suffix in MEDIA_TYPES and p.name not in NOT_SERVED
    )


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of every category (built once per process)."""
    from chalicelib.api import routers
    from chalicelib.http.openapi import document

    routes = [route for r in routers() for route in r.routes]
    return document(routes, title="opsplane API", version=get_settings().version)


@lru_cache(maxsize=1)
def openapi_text() -> str:
    """The document as sent (serialized once: it is large and never changes in a process)."""
    return json.dumps(openapi_document(), separators=(",", ":"), ensure_ascii=False)


INDEX = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "docs": {"type": "string", "description": "Swagger UI"},
        "openapi": {"type": "string", "description": "the OpenAPI 3 document"},
        "health": {"type": "string"},
    },
    "required": ["name", "version", "docs", "openapi", "health"],
}


@router.get("/", acl=PUBLIC, envelope=False, response=INDEX)
def index(req: Request) -> Reply:
    """What this API is and where its documentation and health check are (the root is not a 404)."""
    return Reply(
        {
            "name": "opsplane API",
            "version": get_settings().version,
            "docs": UI_PATH,
            "openapi": SPEC_PATH,
            "health": HEALTH_PATH,
        },
        raw=True,
    )


@router.get(SPEC_PATH, acl=PUBLIC, envelope=False, response={"type": "object", "additionalProperties": True})
def swagger_json(req: Request) -> Reply:
    """The OpenAPI 3 document of this API."""
    return Reply(openapi_text(), raw=True)


@router.get("/api-docs", acl=PUBLIC, envelope=False, response=HTML, status=302)
def docs_home(req: Request) -> Reply:
    """Redirect to Swagger UI."""
    return Reply("", status=302, headers={"Location": UI_PATH}, raw=True, content_type="text/html; charset=utf-8")


@router.get(UI_PATH, acl=PUBLIC, envelope=False, response=HTML)
def swagger_ui(req: Request) -> Reply:
    """Swagger UI: browse the API and try it out."""
    return Reply(PAGE.replace("__SPEC__", SPEC_PATH), raw=True, content_type=MEDIA_TYPES[".html"])


@router.get(
    UI_PATH + "/assets/{name}",
    acl=PUBLIC,
    envelope=False,
    response={"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"},
)
def swagger_ui_asset(req: Request) -> Reply:
    """One of Swagger UI's bundled files (scripts, styles, icons)."""
    name = req.params["name"]
    if name not in asset_names():
        raise NotFound(f"No asset {name}")
    path = bundle_dir() / name
    media = MEDIA_TYPES[path.suffix]
    # Binary types go out as bytes (API Gateway base64-encodes them); text as str.
    body: str | bytes = path.read_bytes() if media == "image/png" else path.read_text(encoding="utf-8")
    return Reply(body, raw=True, content_type=media, headers={"Cache-Control": ASSET_CACHE})


CATEGORY = Category(router, tables=())
