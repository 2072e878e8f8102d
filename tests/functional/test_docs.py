"""Docs in the product: the OpenAPI document and Swagger UI with its bundled assets."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate
from swagger_ui_bundle import swagger_ui_path


@pytest.fixture(scope="module")
def docs():
    """The app on moto, without an installation: the docs need none (they are public)."""
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from app import app
        from chalicelib.settings import get_settings
        from chalicelib.store import models

        models.bind(get_settings())
        models.create_tables()
        with Client(app) as client:
            yield client


def get(client, path, **headers):
    return client.http.request("GET", path, headers=headers)


def test_can_serve_a_valid_openapi_document_without_credentials(docs):
    # GIVEN the app with every registered category
    from app import edge

    # WHEN the document is fetched without credentials
    resp = get(docs, "/api/v2/swagger.json")
    # THEN it is bare JSON (no envelope), valid OpenAPI 3.0.3, and lists every route the app serves
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    doc = json.loads(resp.body)
    assert "status" not in doc
    validate(doc)
    for route in edge.routes:
        assert route.method.lower() in doc["paths"][route.path], f"{route.method} {route.path}"
    assert doc["paths"]["/api/v2/swagger.json"]["get"]["security"] == []


def test_can_serve_swagger_ui_with_and_without_trailing_slash(docs):
    for path in ("/api-docs/ui", "/api-docs/ui/"):
        resp = get(docs, path)
        assert resp.status_code == 200, path
        assert resp.headers["Content-Type"].startswith("text/html")
        page = resp.body.decode()
        # assets resolve under /api-docs/ui/assets/ whatever the page's own address
        assert 'var assets = base + "/api-docs/ui/assets/";' in page
        assert '"/api/v2/swagger.json"' in page
        assert "persistAuthorization: true" in page
        assert "https://" not in page  # nothing from a CDN


def test_can_serve_every_asset_the_page_loads(docs):
    # GIVEN the page
    page = get(docs, "/api-docs/ui").body.decode()
    names = re.findall(r'assets \+ "([^"]+)"', page)
    assert {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"} <= set(names)
    # WHEN each file it names is fetched THEN the app serves it
    for name in names:
        resp = get(docs, f"/api-docs/ui/assets/{name}", Accept="*/*")
        assert resp.status_code == 200, name


def test_can_redirect_the_docs_root_to_the_ui(docs):
    resp = get(docs, "/api-docs")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/api-docs/ui"


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("swagger-ui-bundle.js", "application/javascript"),
        ("swagger-ui-standalone-preset.js", "application/javascript"),
        ("swagger-ui.css", "text/css"),
        ("index.css", "text/css"),
        ("swagger-ui.css.map", "application/json"),
        ("oauth2-redirect.html", "text/html"),
    ],
)
def test_can_serve_bundled_text_assets_with_their_media_type(docs, name, media):
    resp = get(docs, f"/api-docs/ui/assets/{name}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] == media
    assert resp.headers["Cache-Control"].startswith("public")
    assert resp.body == (swagger_ui_path / name).read_bytes()


def test_can_serve_binary_icons(docs):
    resp = get(docs, "/api-docs/ui/assets/favicon-32x32.png", Accept="image/png")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.body == (swagger_ui_path / "favicon-32x32.png").read_bytes()


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2F__init__.py",
        "..%2Fswagger-ui-4.15.5%2Fswagger-ui.css",
        "%2Fetc%2Fpasswd",
        "index.j2",
        "index.html",  # the stock page loads a demo API from the internet
        "swagger-initializer.js",
        "nothing.js",
        "swagger-ui.CSS",
    ],
)
def test_can_refuse_anything_outside_the_asset_whitelist(docs, name):
    resp = get(docs, f"/api-docs/ui/assets/{name}")
    assert resp.status_code == 404
    assert json.loads(resp.body)["status"]["code"] == 404


def test_can_refuse_writes_to_the_docs(docs):
    resp = docs.http.request("POST", "/api/v2/swagger.json", headers={"Content-Type": "application/json"}, body=b"{}")
    assert resp.status_code == 405


def test_can_answer_the_root_with_an_index_of_the_docs_and_health(docs):
    # WHEN the root is asked without credentials (a browser opening the server's address)
    resp = get(docs, "/")
    # THEN it is not a 404 but a bare JSON index naming the API, Swagger UI, the document and health
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    index = json.loads(resp.body)
    assert index["name"] == "opsplane API"
    assert index["docs"] == "/api-docs/ui"
    assert index["openapi"] == "/api/v2/swagger.json"
    assert index["health"] == "/api/health"
    # AND every link it names answers
    for path in ("docs", "openapi", "health"):
        assert get(docs, index[path]).status_code == 200, index[path]
