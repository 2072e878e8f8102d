"""The context every domain operation takes: which tenant, who acts, with which settings,
at what time. The edge builds one per authorized request; a worker or a script builds one
with `Context.service(...)`, with no request at all."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth.cache import AUTHORIZING_KINDS, InvalidatingRepository
from chalicelib.auth.keys import cursor_secret
from chalicelib.auth.principal import Principal
from chalicelib.errors import Invalid
from chalicelib.settings import Settings, get_settings
from chalicelib.store import audit
from chalicelib.store.repository import Repository, now_ms

Clock = Callable[[], int]  # epoch milliseconds


@dataclass
class Context:
    """Tenant, acting principal, settings and clock of one unit of work."""

    tenant: str
    principal: Principal
    settings: Settings = field(default_factory=get_settings)
    clock: Clock = now_ms
    # Values one unit of work reads once and uses many times (the caller's dashboard stars).
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    # The address the request came from (None for a worker or a script): the audit log's.
    source: str | None = None

    def __post_init__(self) -> None:
        if not self.tenant or "#" in self.tenant:
            raise Invalid("Invalid tenant")

    @property
    def actor(self) -> str:
        """Who is acting, for created_by / updated_by."""
        return self.principal.name

    def now(self) -> int:
        """The current time of this unit of work, epoch milliseconds."""
        return self.clock()

    def repo(self, kind: str, *, history: bool = False, **options: Any) -> Repository:
        """The tenant-scoped repository of one kind (options: Repository's unique, head_keys)."""
        # Accounts, policies and groups decide what authorizing returns: their writes
        # invalidate the cached principals (auth/cache.py).
        make = InvalidatingRepository if kind in AUTHORIZING_KINDS else Repository
        return make(self.tenant, kind, cursor_secret=cursor_secret, history=history, **options)

    @contextmanager
    def acting(self) -> Iterator[audit.Actor]:
        """Record the changes made inside the block as this context's principal's
        (store/audit.py): the edge runs each request's handler in one, a worker each batch."""
        with audit.acting(actor_of(self.principal, self.source)) as actor:
            yield actor

    def can(self, access: str) -> bool:
        """Does the acting principal's ACL grant access?"""
        return self.principal.can(access)

    @classmethod
    def service(
        cls,
        tenant: str,
        name: str = "opsplane-worker",
        *,
        acl: Iterable[str] = ("#",),
        settings: Settings | None = None,
        clock: Clock = now_ms,
    ) -> Context:
        """A context acting as a service principal of a tenant (workers, scripts)."""
        principal = Principal(id=f"service:{name}", name=name, tenant=tenant, kind="service", acl=list(acl))
        return cls(tenant, principal, settings or get_settings(), clock)


def actor_of(principal: Principal | None, source: str | None) -> audit.Actor:
    """Who the audit log names for a principal (None: a request not authenticated yet, such
    as a login) calling from source: its credential is the method and the session's id
    (a JWT's jti, an API token's public id)."""
    if principal is None:
        return audit.Actor(address=source)
    credential = f"{principal.method}:{principal.session}" if principal.session else principal.method
    return audit.Actor(principal.id, principal.name, credential, source)
