"""The request as handlers see it: decoded path params, parsed query and body, and the
authorized principal and tenant."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, unquote

from pydantic import BaseModel, ValidationError

from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, Unauthenticated, UnsupportedMedia
from chalicelib.settings import Settings, get_settings

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

M = TypeVar("M", bound=BaseModel)

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def decode_params(params: dict[str, str] | None) -> dict[str, str]:
    """Percent-decode path parameters (Chalice hands them over raw)."""
    return {k: unquote(v) for k, v in (params or {}).items()}


def parse_bool(value: str | None, name: str, default: bool = False) -> bool:
    """`True`/`False` as the Wavefront client sends them (any case, or 1/0)."""
    if value is None or value == "":
        return default
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise Invalid(f"Query parameter {name} must be true or false")


def validation_message(exc: ValidationError) -> str:
    """One readable line from a pydantic error."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{where}: {err.get('msg')}")
    return "; ".join(parts)


def parse_json(text: str, settings: Settings) -> Any:
    """A JSON body that reads back as it came: no NaN / Infinity, no number beyond the
    bounds, no string UTF-8 cannot hold or holding NUL, nesting and arrays / objects within
    the settings' bounds (400 naming the bound or the field otherwise)."""

    def constant(name: str) -> Any:
        raise Invalid(f"Malformed JSON body: {name} is not a JSON number")

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise Invalid(f"Malformed JSON body: number {text[:40]} is out of range")
        return value

    def integer(text: str) -> int:
        if len(text.lstrip("-")) > settings.max_number_digits:
            raise Invalid(
                f"Malformed JSON body: an integer has more than {settings.max_number_digits} digits"
                " (OPSPLANE_MAX_NUMBER_DIGITS)"
            )
        return int(text)

    try:
        value = json.loads(text, parse_constant=constant, parse_float=number, parse_int=integer)
    except ValueError as exc:
        raise Invalid(f"Malformed JSON body: {exc}") from exc
    except RecursionError as exc:  # nesting deeper than the parser's stack
        raise Invalid(f"Malformed JSON body: nested deeper than {settings.max_json_depth} levels") from exc
    check_json(value, settings)
    return value


def _field(where: tuple[Any, ...] | None) -> str:
    """The dotted path of a node from its (parent, key) chain."""
    keys: list[str] = []
    while where is not None:
        where, key = where
        keys.append(str(key))
    path = ".".join(reversed(keys)) or "body"
    return path if len(path) <= 120 else f"...{path[-117:]}"


def _check_text(text: str, where: tuple[Any, ...] | None, limit: int) -> None:
    if len(text) > limit:
        raise Invalid(
            f"{_field(where)}: a string of {len(text)} characters, at most {limit} (OPSPLANE_MAX_STRING_CHARS)"
        )
    if "\x00" in text:
        raise Invalid(f"{_field(where)}: NUL characters are not allowed")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800" in the JSON)
            raise Invalid(f"{_field(where)}: a lone surrogate (\\u{ord(text[exc.start]):04x}) is not text") from exc


def check_json(value: Any, settings: Settings) -> None:
    """One walk of a parsed JSON value: nesting within max_json_depth, arrays and objects of
    at most max_json_items entries, every key and string valid UTF-8 text without NUL, of at
    most max_string_chars characters."""
    max_depth, max_items, max_chars = settings.max_json_depth, settings.max_json_items, settings.max_string_chars
    stack: list[tuple[Any, int, tuple[Any, ...] | None]] = [(value, 1, None)]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, str):
            _check_text(node, where, max_chars)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > max_depth:
            raise Invalid(f"{_field(where)}: JSON nested deeper than {max_depth} levels (OPSPLANE_MAX_JSON_DEPTH)")
        if len(node) > max_items:
            raise Invalid(f"{_field(where)}: more than {max_items} entries (OPSPLANE_MAX_JSON_ITEMS)")
        if isinstance(node, dict):
            for key, child in node.items():
                _check_text(key, where, max_chars)
                stack.append((child, depth + 1, (where, key)))
        else:
            stack.extend((child, depth + 1, (where, i)) for i, child in enumerate(node))


def check_headers(headers: dict[str, str], settings: Settings) -> None:
    """Refuse headers no lookup should see: any value over max_header_bytes (400), a Basic
    username over max_username_bytes (401: no account has one; DynamoDB keys stop at 2 KB)."""
    limit = settings.max_header_bytes
    for name, value in headers.items():
        if len(value) > limit or len(value.encode("utf-8", "surrogateescape")) > limit:
            raise Invalid(f"Header {name} exceeds {limit} bytes (OPSPLANE_MAX_HEADER_BYTES)")
    scheme, _, rest = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        username = base64.b64decode(rest.strip(), validate=True).partition(b":")[0]
    except (binascii.Error, ValueError):
        return  # malformed: authorize() answers it
    if len(username) > settings.max_username_bytes:
        raise Unauthenticated(f"Basic username exceeds {settings.max_username_bytes} bytes")


@dataclass
class Request:
    """One HTTP request, parsed, with its authorization."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    raw_body: bytes
    request_id: str
    # The client's address as API Gateway (or chalice local) saw it: requestContext.identity.
    # sourceIp, never X-Forwarded-For (the client writes that). None when unknown.
    source: str | None = None
    principal: Principal | None = None
    tenant: str | None = None
    _json: Any = field(default=None, repr=False)
    _json_parsed: bool = field(default=False, repr=False)
    _ctx: Context | None = field(default=None, repr=False)

    # ---- query -------------------------------------------------------------

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of a repeated key (`?id=a&id=b`), commas not split."""
        return list(self.query.get(name, []))

    def flag(self, name: str, default: bool = False) -> bool:
        return parse_bool(self.arg(name), name, default)

    def int_arg(self, name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise Invalid(f"Query parameter {name} must be an integer") from exc
        if (low is not None and value < low) or (high is not None and value > high):
            raise Invalid(f"Query parameter {name} must be between {low} and {high}")
        return value

    # ---- body --------------------------------------------------------------

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self, *, default: Any = None) -> Any:
        """The JSON body (default when empty); malformed JSON is a 400."""
        if not self._json_parsed:
            self._json_parsed = True
            try:
                text = self.raw_body.decode("utf-8") if self.raw_body else ""
            except UnicodeDecodeError as exc:
                raise Invalid(f"The body is not UTF-8 (byte {exc.start})") from exc
            if text.strip() == "":
                self._json = None
            else:
                if self.content_type not in ("", "application/json", "text/plain") and not self.content_type.endswith(
                    "+json"
                ):
                    raise UnsupportedMedia(f"Expected application/json, got {self.content_type}")
                self._json = parse_json(text, get_settings())
        return default if self._json is None else self._json

    def form(self) -> dict[str, list[str]]:
        """A form-urlencoded body."""
        try:
            text = self.raw_body.decode("utf-8") if self.raw_body else ""
        except UnicodeDecodeError as exc:
            raise Invalid("Body is not UTF-8") from exc
        form = parse_qs(text, keep_blank_values=True)
        for key, values in form.items():
            for value in values:
                _check_text(value, (None, key), get_settings().max_string_chars)
        return form

    def model(self, schema: type[M], *, default: Any = None) -> M:
        """The JSON body validated by a pydantic schema (400 with the reasons otherwise)."""
        data = self.json(default=default)
        if data is None:
            raise Invalid("A JSON body is required")
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            raise Invalid(validation_message(exc)) from exc

    def json_object(self) -> dict[str, Any]:
        data = self.json(default={})
        if not isinstance(data, dict):
            raise Invalid("The body must be a JSON object")
        return data

    def json_list(self, *, of: type = str) -> list[Any]:
        """A JSON array body of one item type (Wavefront sends id lists this way)."""
        data = self.json(default=[])
        if isinstance(data, dict) and not data:
            data = []
        if not isinstance(data, list) or not all(isinstance(x, of) for x in data):
            raise Invalid(f"The body must be a JSON array of {of.__name__}")
        return data

    # ---- authorization -----------------------------------------------------

    @property
    def ctx(self) -> Context:
        """The domain context of this authorized request: what handlers hand to the domain."""
        if self._ctx is None:
            if self.principal is None or not self.tenant:
                raise Unauthenticated()
            self._ctx = Context(self.tenant, self.principal, get_settings(), source=self.source)
        return self._ctx

    @property
    def actor(self) -> str:
        """Who is acting, for created_by / updated_by."""
        return self.principal.name if self.principal else "anonymous"

    def need_tenant(self) -> str:
        if not self.tenant:
            raise Invalid("No tenant")
        return self.tenant

    # ---- shared query parameters ---------------------------------------------

    def paging(self, *, default_limit: int = 100, max_limit: int = 1000) -> tuple[int, int]:
        """offset (>= 0) and limit (1..max_limit) from the query string."""
        return self.int_arg("offset", 0, low=0), self.int_arg("limit", default_limit, low=1, high=max_limit)
