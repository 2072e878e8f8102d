"""Route declarations. Every category declares its routes on a Router; the app composes
them into Chalice routes (one view per path, every method dispatched here, so wrong
methods and unknown paths answer in the caller's dialect)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.settings import Settings

PUBLIC = "public"  # the acl value of routes that need no credentials

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    """One method on one path, and what it needs.

    operation_id: the operation's OpenAPI id, when the document's own choice will not do.
    max_body: the largest request body the route accepts, in bytes, or the name of a
    Settings attribute holding it (e.g. "max_document_bytes"), read at request time so a
    route declared at import time follows the environment; None: settings.max_body_bytes.
    """

    method: str
    path: str
    handler: Handler
    acl: str
    tag: str
    summary: str = ""
    body: Any = None  # pydantic model (or JSON schema dict) of the request body
    response: Any = None  # pydantic model (or JSON schema dict) of the answer payload
    query: tuple[tuple[str, str, str], ...] = ()  # (name, type, description)
    paged: bool = False
    # Only the native (Wavefront) dialect wraps answers in {status, response}: other dialects
    # never do, whatever this says. False marks a native operation that answers bare (the
    # client's UserModel operations, the health check, the docs).
    envelope: bool = True
    status: int = 200  # the success status, for the document (204: an empty answer)
    # A principal whose id is this path parameter acts on itself and needs no ACL; the
    # handler applies its own rule (changing one's own password needs the old one).
    self_param: str = ""
    max_body: int | str | None = None
    # The edge inflates a gzip or deflate body (Content-Encoding) before the handler sees it,
    # within the same limit as the body itself. False: the handler gets the body as sent and
    # decodes it itself (POST /report streams it: chalicelib.ingest.body.lines).
    decode_body: bool = True
    # The OpenAPI operationId; "" lets the document choose (Wavefront's own id on /api/v2,
    # else one derived from method and path), never the handler's name.
    operation_id: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.max_body, str) and self.max_body not in Settings.model_fields:
            raise ValueError(f"{self.method} {self.path}: max_body names no setting {self.max_body!r}")

    @property
    def public(self) -> bool:
        return self.acl == PUBLIC


@dataclass
class Router:
    """The routes of one category (or one dialect)."""

    tag: str
    routes: list[Route] = field(default_factory=list)

    def route(self, method: str, path: str, *, acl: str, **options: Any) -> Callable[[Handler], Handler]:
        """Declare handler for method + path, guarded by acl (a template such as
        'alert.{id}.update', or PUBLIC)."""

        def register(handler: Handler) -> Handler:
            summary = options.pop("summary", None) or (handler.__doc__ or "").strip().split("\n")[0]
            self.routes.append(
                Route(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    acl=acl,
                    tag=options.pop("tag", self.tag),
                    summary=summary,
                    **options,
                )
            )
            return handler

        return register

    def get(self, path: str, *, acl: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, acl=acl, **options)

    def post(self, path: str, *, acl: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, acl=acl, **options)

    def put(self, path: str, *, acl: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, acl=acl, **options)

    def delete(self, path: str, *, acl: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, acl=acl, **options)

    def head(self, path: str, *, acl: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("HEAD", path, acl=acl, **options)


@dataclass(frozen=True)
class Category:
    """One REST category, declared once, at the end of its module, as `CATEGORY`.

    router: its routes (their ACLs, schemas and operationIds); the category's name is the
    router's tag and its module's name. tables: the tables its function may touch (infra/
    grants exactly these). queues: the worker queues it sends to. permission: the Wavefront permission whose grant gives its ACLs
    (chalicelib/auth/permissions.py; None for categories every account may use).
    """

    router: Router
    tables: tuple[str, ...] = ("entities",)
    permission: str | None = None
    memory_mb: int = 512
    # The worker queues (chalicelib/workers) its routes send to: infra/ grants SendMessage.
    queues: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.router.tag


def required_access(route: Route, params: dict[str, str]) -> str:
    """The concrete ACL string a request needs: the template with path values filled in."""
    access = route.acl
    for name, value in params.items():
        access = access.replace("{" + name + "}", value)
    return access
