"""The OpenAPI document: valid OpenAPI 3.0.3, every route in it, schemas converted from pydantic."""

from __future__ import annotations

import datetime
import dis
import enum
import types
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from pydantic import BaseModel, Field, create_model

from chalicelib.api import routers
from chalicelib.http import dialects
from chalicelib.http.openapi import SECURITY_SCHEMES, document, path_shape, to_openapi
from chalicelib.http.router import PUBLIC, Route, Router
from chalicelib.http.wavefront_operations import OPERATIONS as WAVEFRONT_OPERATIONS


def registered_routes():
    return [route for router in routers() for route in router.routes]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow one $ref into components/schemas."""
    ref = schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


class Severity(enum.StrEnum):
    INFO = "INFO"
    WARN = "WARN"


class Target(BaseModel):
    id: str
    note: str | None = None


class AlertIn(BaseModel):
    name: str = Field(min_length=1, description="Shown in lists")
    minutes: int = Field(gt=0, le=1440)
    severity: Severity = Severity.WARN
    kind: Literal["CLASSIC"] = "CLASSIC"
    targets: list[Target] = []
    primary: Target | None = None
    window: tuple[int, int] | None = None
    labels: dict[str, str] = {}
    created: datetime.datetime | None = Field(default=None, examples=["2024-01-01T00:00:00Z"])


class AlertOut(AlertIn):
    id: str


class Sort(BaseModel):
    """A category's own model named like a shared wire shape."""

    field: str
    descending: bool = False


def sample_router() -> Router:
    """A category with every kind of declaration the generator meets."""
    router = Router("alert")

    @router.get(
        "/api/v2/alert",
        acl="alert.read",
        response=AlertOut,
        paged=True,
        query=(("offset", "integer", "first item"), ("limit", "integer", "page size"), ("id", "array", "ids")),
    )
    def list_alerts(req):
        """List alerts."""

    @router.post("/api/v2/search/alert", acl="alert.read", body=Sort, response=AlertOut, paged=True)
    def search_alerts(req):
        """Search alerts."""

    @router.post("/api/v2/alert", acl="alert.create", body=AlertIn, response=AlertOut)
    def create_alert(req):
        """Create an alert."""

    @router.put("/api/v2/alert/{id}", acl="alert.{id}.update", body=AlertIn, response=AlertOut)
    def update_alert(req):
        """Update an alert."""

    @router.put("/api/v2/account/{id}/password", acl="account.{id}.update", self_param="id")
    def change_password(req):
        """Change a password."""

    @router.get("/api/v2/alert/{id}/history", acl="alert.{id}.read", response=list[AlertOut], envelope=False)
    def history(req):
        """History of an alert."""

    @router.get("/api/v2/dashboard/{id}/history", acl="dashboard.{id}.read", response={"type": ["array", "null"]})
    def history_dup(req):
        """Same handler name elsewhere."""

    history_dup.__name__ = "history"

    @router.post(
        "/api/auth/0.1/token",
        acl=PUBLIC,
        envelope=False,
        body={"type": "object", "properties": {"expiration": {"type": "integer", "exclusiveMinimum": 0}}},
    )
    def wazo_token(req):
        """Issue a token."""

    @router.head("/api/auth/0.1/token/{token}", acl=PUBLIC, envelope=False)
    def check_token(req):
        """Check a token."""

    @router.delete("/api/auth/0.1/users/{user_uuid}", acl="user.{user_uuid}.delete", envelope=False, status=204)
    def delete_user(req):
        """Delete a user (an empty 204 answer)."""

    @router.post(
        "/auth/oauth/token",
        acl=PUBLIC,
        envelope=False,
        body={
            "type": "object",
            "contentMediaType": "application/x-www-form-urlencoded",
            "properties": {"grant_type": {"const": "client_credentials"}},
        },
    )
    def oauth_token(req):
        """OAuth2 token."""

    return router


def test_can_generate_a_valid_document_of_every_registered_route():
    # GIVEN every route the registry knows today
    routes = registered_routes()
    # WHEN the document is generated
    doc = document(routes)
    # THEN it is valid OpenAPI 3.0.3 and names every route with its method
    validate(doc)
    assert doc["openapi"] == "3.0.3"
    for route in routes:
        assert route.method.lower() in doc["paths"][route.path], f"{route.method} {route.path} missing"
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) == len(routes)


def test_can_describe_the_sample_category_validly():
    # GIVEN a category using models, dict schemas, paging, HEAD, forms and duplicate handler names
    doc = document(sample_router().routes)
    # THEN the document validates and every operation id is unique
    validate(doc)
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    # two handlers named alike do not matter: /api/v2 operations carry Wavefront's ids
    assert {"getAlertHistory", "getDashboardHistory"} <= set(ids)


def operation_ids(routes: list[Route]) -> dict[tuple[str, str], str]:
    doc = document(routes)
    return {(m.upper(), p): op["operationId"] for p, ops in doc["paths"].items() for m, op in ops.items()}


def test_can_name_operations_as_wavefront_does_whatever_the_handler_is_called():
    # GIVEN the sample category, whose handlers have names of their own
    ids = operation_ids(sample_router().routes)
    # THEN /api/v2 operations carry the client's operationIds (path parameters may be named apart)
    assert ids[("POST", "/api/v2/alert")] == "createAlert"
    assert ids[("GET", "/api/v2/alert")] == "getAllAlert"
    assert ids[("PUT", "/api/v2/alert/{id}")] == "updateAlert"
    assert ids[("POST", "/api/v2/search/alert")] == "searchAlertEntities"
    # and the others an id derived from method and path alone
    assert ids[("HEAD", "/api/auth/0.1/token/{token}")] == "head_api_auth_0_1_token_token"
    assert ids[("POST", "/auth/oauth/token")] == "post_auth_oauth_token"


def test_can_name_every_registered_wavefront_operation_as_the_client_does():
    # GIVEN every /api/v2 route the client knows
    routes = registered_routes()
    ids = operation_ids(routes)
    known = [r for r in routes if (r.method, path_shape(r.path)) in WAVEFRONT_OPERATIONS]
    assert len(known) > 100
    # THEN each carries the client's id, unless it declares its own
    for route in known:
        expected = route.operation_id or WAVEFRONT_OPERATIONS[(route.method, path_shape(route.path))]
        assert ids[(route.method, route.path)] == expected
    assert ids[("GET", "/api/v2/alert/{id}/history")] == "getAlertHistory"


def test_can_declare_an_operation_id_and_fail_on_duplicates():
    # GIVEN a route declaring its id
    router = Router("sample")
    router.get("/api/v2/alert/{id}", acl="alert.{id}.read", operation_id="readOneAlert")(lambda req: None)
    assert operation_ids(router.routes)[("GET", "/api/v2/alert/{id}")] == "readOneAlert"
    # WHEN another route declares the same id THEN the document refuses to be built
    router.get("/api/v2/dashboard/{id}", acl="dashboard.{id}.read", operation_id="readOneAlert")(lambda req: None)
    with pytest.raises(ValueError, match="operationId 'readOneAlert' names both"):
        document(router.routes)
    # AND so does a declared id that is another route's Wavefront id
    clash = Router("sample")
    clash.get("/api/v2/alert", acl="alert.read")(lambda req: None)
    clash.get("/api/v2/alerts", acl="alert.read", operation_id="getAllAlert")(lambda req: None)
    with pytest.raises(ValueError, match="getAllAlert"):
        document(clash.routes)


def test_can_refuse_two_models_with_one_name():
    # GIVEN two different models both named Tags (as two categories might write them)
    first = create_model("Tags", customerTags=(list[str] | None, None))
    second = create_model("Tags", customerTags=(list[str] | None, None), extra=(int, 0))
    router = Router("sample")
    router.post("/api/v2/alert", acl="alert.create", body=first)(lambda req: None)
    router.post("/api/v2/dashboard", acl="dashboard.create", body=second)(lambda req: None)
    # WHEN documented THEN the generator fails and names the model, instead of leaking module paths
    with pytest.raises(ValueError, match="Two models are named Tags"):
        document(router.routes)


def test_can_name_every_registered_schema_once_without_module_paths():
    # GIVEN every registered route's schemas
    schemas = document(registered_routes())["components"]["schemas"]
    # THEN no name carries a module path, and no two schemas share a title
    assert not [name for name in schemas if "__" in name]
    titles = [s["title"] for s in schemas.values() if "title" in s]
    assert len(titles) == len(set(titles))


def test_can_wrap_native_payloads_in_the_envelope_and_pages():
    doc = document(sample_router().routes)
    listing = doc["paths"]["/api/v2/alert"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing["required"] == ["status"]
    assert listing["properties"]["status"] == {"$ref": "#/components/schemas/opsplane.NativeStatus"}
    page = listing["properties"]["response"]
    assert {"items", "offset", "limit", "totalItems", "moreItems"} <= set(page["required"])
    assert page["properties"]["moreItems"] == {"type": "boolean"}
    assert resolve(doc, page["properties"]["items"]["items"])["properties"]["id"] == {"title": "Id", "type": "string"}
    # a native route without the envelope answers its payload as is
    bare = doc["paths"]["/api/v2/alert/{id}/history"]["get"]["responses"]["200"]["content"]["application/json"]
    assert bare["schema"]["type"] == "array"


def test_can_hoist_model_definitions_into_components():
    doc = document(sample_router().routes)
    schemas = doc["components"]["schemas"]
    body = doc["paths"]["/api/v2/alert"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    alert_in = resolve(doc, body)
    assert body["$ref"].startswith("#/components/schemas/")
    assert "Target" in schemas and "Severity" in schemas
    # a model named like a shared shape does not replace it
    assert schemas["Sort"]["properties"]["descending"]["type"] == "boolean"
    assert schemas["opsplane.Sort"]["properties"]["ascending"]["type"] == "boolean"
    # every reference in the document points at a component that exists
    refs = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    for ref in refs:
        assert ref.rsplit("/", 1)[-1] in schemas, ref
    assert alert_in["properties"]["minutes"]["minimum"] == 0
    assert alert_in["properties"]["minutes"]["exclusiveMinimum"] is True


def test_can_show_acl_and_security_per_route():
    doc = document(sample_router().routes)
    update = doc["paths"]["/api/v2/alert/{id}"]["put"]
    assert "Requires ACL: alert.{id}.update" in update["description"]
    assert update["x-acl"] == "alert.{id}.update"
    assert {"bearerAuth": []} in update["security"] and {"wavefrontToken": []} in update["security"]
    assert update["parameters"][0] == {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    # AND every status the route may answer is declared (a write with a body: conflicts, sizes, media)
    assert set(update["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "405",
        "409",
        "410",
        "413",
        "415",
        "429",
        "503",
    }
    assert update["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/opsplane.ThrottledError"
    )
    own = doc["paths"]["/api/v2/account/{id}/password"]["put"]["description"]
    assert own == "Requires ACL: account.{id}.update (none when {id} is the caller's own id)"
    token = doc["paths"]["/api/auth/0.1/token"]["post"]
    assert token["security"] == []
    assert token["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/opsplane.WazoError")
    oauth = doc["paths"]["/auth/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in oauth["requestBody"]["content"]
    assert oauth["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/opsplane.OAuthError")
    # AND the public routes that check credentials themselves declare 401 and 429; Grafana saves 412
    assert {"401", "429"} <= set(oauth["responses"]) and {"401", "429"} <= set(token["responses"])
    full = document(registered_routes())
    assert "412" in full["paths"]["/api/dashboards/db"]["post"]["responses"]
    assert "503" in full["paths"]["/api/health"]["get"]["responses"]
    head = doc["paths"]["/api/auth/0.1/token/{token}"]["head"]
    assert "content" not in head["responses"]["200"]
    gone = doc["paths"]["/api/auth/0.1/users/{user_uuid}"]["delete"]["responses"]
    assert "200" not in gone and gone["204"] == {"description": "No content"}
    schemes = doc["components"]["securitySchemes"]
    assert schemes == SECURITY_SCHEMES
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/auth/oauth/token"
    assert schemes["wavefrontToken"] == {**schemes["wavefrontToken"], "in": "header", "name": "X-AUTH-TOKEN"}


def test_can_declare_query_parameters_with_types():
    doc = document(sample_router().routes)
    params = {p["name"]: p for p in doc["paths"]["/api/v2/alert"]["get"]["parameters"]}
    assert params["offset"]["schema"] == {"type": "integer"} and params["offset"]["in"] == "query"
    assert params["id"]["schema"] == {"type": "array", "items": {"type": "string"}}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"type": "null"}, {"nullable": True, "enum": [None]}),
        ({"type": ["string", "null"]}, {"type": "string", "nullable": True}),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, {"type": "integer", "nullable": True}),
        (
            {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]},
            {"nullable": True, "allOf": [{"$ref": "#/components/schemas/A"}]},
        ),
        (
            {"$ref": "#/$defs/A", "description": "d"},
            {"allOf": [{"$ref": "#/components/schemas/A"}], "description": "d"},
        ),
        ({"const": "x"}, {"enum": ["x"]}),
        ({"type": "number", "exclusiveMaximum": 5}, {"type": "number", "maximum": 5, "exclusiveMaximum": True}),
        ({"type": "array"}, {"type": "array", "items": {}}),
        ({"type": "object", "required": [], "propertyNames": {"pattern": "a"}}, {"type": "object"}),
        ({"examples": [1, 2], "type": "integer"}, {"type": "integer", "example": 1}),
        (
            {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
            {
                "type": "array",
                "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "minItems": 2,
                "maxItems": 2,
            },
        ),
        (True, {}),
    ],
)
def test_can_convert_json_schema_to_openapi_30(given, expected):
    assert to_openapi(given) == expected


FIELD_TYPES = st.sampled_from(
    [
        str,
        int,
        float,
        bool,
        str | None,
        int | None,
        list[str],
        dict[str, int],
        Target,
        Target | None,
        list[Target],
        Severity,
        Literal["A", "B"],
        tuple[int, str],
        datetime.datetime,
        bytes,
        set[int],
    ]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), FIELD_TYPES, min_size=1, max_size=6))
def test_can_describe_any_model_validly(fields):
    # GIVEN a model of arbitrary fields, used as body and answer
    model = create_model("Generated", **{name: (kind, ...) for name, kind in fields.items()})
    router = Router("generated")
    router.post("/api/v2/generated/{id}", acl="generated.{id}.update", body=model, response=model)(lambda req: None)
    # WHEN documented THEN the document is valid OpenAPI 3.0.3
    validate(document(router.routes))


# ---- every registered route documents what it reads and answers --------------------------

BODY_READERS = frozenset({"json", "json_object", "json_list", "model", "form"})  # Request's body readers


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def reads_body(handler: Callable[..., Any]) -> bool:
    """Does the handler, or a chalicelib function it reaches (by name, through module
    attributes and closures), call one of Request's body readers?"""
    seen: set[types.CodeType] = set()
    todo = [handler]
    while todo:
        fn = todo.pop()
        if fn.__code__ in seen:
            continue
        seen.add(fn.__code__)
        cells = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ()), strict=True))
        names = {**fn.__globals__, **cells}
        for code in _code_objects(fn.__code__):
            owner = None
            for ins in dis.get_instructions(code):
                target = None
                if ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                    if isinstance(owner, types.ModuleType):
                        target = getattr(owner, ins.argval, None)
                    elif ins.argval in BODY_READERS:
                        return True
                elif ins.opname in ("LOAD_GLOBAL", "LOAD_DEREF"):
                    target = names.get(ins.argval)
                if isinstance(target, types.FunctionType) and target.__module__.startswith("chalicelib."):
                    todo.append(target)
                owner = target
    return False


def _read_through_a_helper(req):
    return _helper_reading(req)


def _helper_reading(req):
    return req.json_list(of=str)


def test_can_tell_which_handlers_read_a_body():
    # GIVEN handlers that read the body directly, through a helper, through a closure, or not at all
    def direct(req):
        return req.model(Target)

    def closure(req):
        return _read_through_a_helper(req)

    def query_only(req):
        return req.int_arg("seconds", 0) and req.params["id"]

    _read_through_a_helper.__module__ = _helper_reading.__module__ = "chalicelib.sample"
    # THEN the walker finds every reader and no other
    assert reads_body(direct) and reads_body(closure) and reads_body(_read_through_a_helper)
    assert not reads_body(query_only)
    assert reads_body(next(r.handler for r in registered_routes() if (r.method, r.path) == ("POST", "/api/v2/alert")))


def _payload(doc: dict[str, Any], route: Route) -> Any:
    """The documented success payload of a route (inside the envelope when it has one)."""
    ok = doc["paths"][route.path][route.method.lower()]["responses"][str(route.status)]
    (schema,) = [media["schema"] for media in ok["content"].values()]
    if route.envelope and dialects.dialect_of(route.path) == dialects.NATIVE:
        return schema["properties"]["response"]
    return schema


def test_can_describe_the_answer_of_every_native_read():
    # GIVEN every authenticated GET route of the native dialect
    routes = registered_routes()
    reads = [r for r in routes if r.method == "GET" and not r.public and dialects.dialect_of(r.path) == dialects.NATIVE]
    assert len(reads) > 20
    # WHEN documented
    doc = document(routes)
    # THEN each declares its answer and the document shows a schema that is not empty
    for route in reads:
        payload = _payload(doc, route)
        assert route.response is not None and payload, f"GET {route.path} documents no answer"
        assert resolve(doc, payload), f"GET {route.path} answers an empty schema"


def test_can_describe_the_answer_of_every_route():
    # GIVEN every registered route, of every dialect and method
    routes = registered_routes()
    doc = document(routes)
    # THEN each documents a payload schema, or answers without a body (HEAD, 204, a redirect)
    for route in routes:
        if route.method == "HEAD" or route.status == 204 or 300 <= route.status < 400:
            ok = doc["paths"][route.path][route.method.lower()]["responses"][str(route.status)]
            assert "content" not in ok, f"{route.method} {route.path}"
            continue
        assert route.response is not None and _payload(doc, route), f"{route.method} {route.path} documents no answer"


def test_can_describe_the_body_of_every_route_that_reads_one():
    # GIVEN every POST / PUT route, and whether its handler reads the request body
    routes = registered_routes()
    writes = [r for r in routes if r.method in ("POST", "PUT")]
    readers = [r for r in writes if reads_body(r.handler)]
    assert len(readers) > 40 and len(readers) < len(writes)
    doc = document(routes)
    # THEN each one that reads a body declares it, and the document shows its schema
    for route in readers:
        assert route.body is not None, f"{route.method} {route.path} reads a body it does not declare"
        (media,) = doc["paths"][route.path][route.method.lower()]["requestBody"]["content"].values()
        assert resolve(doc, media["schema"]), f"{route.method} {route.path} documents an empty body"


def test_can_document_each_searchable_kind_with_its_own_wire_model():
    # GIVEN the kinds declared with search fields
    from chalicelib.categories import crud

    routes = [r for router in routers() for r in router.routes]
    searchable = [d for d in crud.DECLARED if d.kind.search is not None and "search" in d.features]
    assert searchable
    by_path = {r.path: r for r in routes if r.method == "POST"}
    for declared in searchable:
        # THEN their trash search (kinds with a trash) answers the kind's own wire model, and
        # the live one its search page (or the wire model)
        kind = declared.kind
        root = f"/api/v2/search/{kind.search_name or kind.name}"
        if "trash" in declared.features:
            assert by_path[f"{root}/deleted"].response is kind.wire, kind.name
        else:
            assert f"{root}/deleted" not in by_path, kind.name
        assert by_path[root].response is (kind.search_page or kind.wire), kind.name
