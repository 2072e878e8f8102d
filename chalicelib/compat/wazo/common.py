"""What the Wazo dialect's routes share: the acting principal, the Wazo list answer
({items, total, filtered} with limit / offset / order / direction / search) and the wire
views of the identity records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from pydantic import ConfigDict, Field, StrictStr

from chalicelib import tiers
from chalicelib.auth.principal import Principal
from chalicelib.errors import Invalid, Unauthenticated
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.identity import accounts, tenants
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

PREFIX = "/api/auth/0.1"
LIST_QUERY = (
    ("limit", "integer", "At most this many items (default: all)"),
    ("offset", "integer", "Skip this many items"),
    ("order", "string", "Sort column"),
    ("direction", "string", "asc or desc"),
    ("search", "string", "Case-insensitive substring of the searchable columns"),
    ("recurse", "boolean", "Include the sub-tenants of the acting tenant"),
)

USER_SORT = ("username", "firstname", "lastname")
USER_SEARCH = ("uuid", "username", "firstname", "lastname", "purpose", "tenant_uuid")
POLICY_SORT = ("name", "slug", "description", "uuid")
POLICY_SEARCH = ("uuid", "name", "slug", "tenant_uuid")
GROUP_SORT = ("name", "slug", "uuid")
GROUP_SEARCH = ("uuid", "name", "slug", "tenant_uuid")


class WazoList(Model):
    """A Wazo list answer."""

    items: list[dict[str, Any]]
    total: int
    filtered: int


class NamedChange(Model):
    """PUT body of a named record (group, policy): the slug never changes, as in Wazo."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr | None = Field(default=None, min_length=1, max_length=128)
    description: StrictStr | None = Field(default=None, max_length=4096)


class Named(Model):
    """A named record of a tenant (group, policy) as Wazo shows it."""

    uuid: str
    tenant_uuid: str
    name: str | None
    slug: str | None
    description: str | None


def acting(req: Request) -> Principal:
    """The authenticated principal (the edge sets it on every protected route)."""
    if req.principal is None:
        raise Unauthenticated("No credentials")
    return req.principal


def no_content() -> Reply:
    """Wazo's empty 204 answer."""
    return Reply("", status=204, raw=True)


def scope(req: Request) -> list[str]:
    """The tenants a listing covers: the acting one, and its descendants with recurse=true."""
    tenant = req.need_tenant()
    if not req.flag("recurse"):
        return [tenant]
    return [tenant, *(t["uuid"] for t in tenants.descendants(tenant))]


def in_scope(req: Request, kind: str) -> Iterable[Entity]:
    """Every record of a kind (account, policy, group) in the tenants the listing covers."""
    return (e for t in scope(req) for e in accounts.repo(t, kind).iterate())


def listed(
    req: Request,
    records: Iterable[Any],
    view: Callable[[Any], dict[str, Any]],
    *,
    sort: Sequence[str],
    search: Sequence[str],
) -> Reply:
    """The Wazo list answer of records, each shown by view."""
    return bare(listing(req, (view(r) for r in records), sort=sort, search=search))


class LinkChange(Protocol):
    """A domain call that links or unlinks two records (user and policy, group and member...)."""

    def __call__(self, tenant: str, owner: str, other: str, /, *, held: list[str], by: str | None) -> Any: ...


def relink(req: Request, change: LinkChange, owner: str, other: str) -> Reply:
    """Apply change to the records named by the path parameters owner and other, with the
    caller's ACL as the limit of what may be granted; Wazo answers 204."""
    change(req.need_tenant(), req.params[owner], req.params[other], held=acting(req).acl, by=req.actor)
    return no_content()


def named_changes(body: NamedChange) -> dict[str, Any]:
    """The name and description a PUT body gives (a null name leaves the name as is)."""
    changes: dict[str, Any] = {k: getattr(body, k) for k in ("name", "description") if k in body.model_fields_set}
    if changes.get("name", "") is None:
        changes.pop("name")
    return changes


def listing(
    req: Request,
    items: Iterable[dict[str, Any]],
    *,
    sort: Sequence[str],
    search: Sequence[str],
) -> dict[str, Any]:
    """Filter (search, and exact `?column=value` on searchable columns), sort and slice."""
    everything = list(items)
    chosen = everything
    needle = (req.arg("search") or "").lower()
    if needle:
        chosen = [i for i in chosen if any(needle in str(i.get(f) or "").lower() for f in search)]
    for column in search:
        wanted = req.arg(column)
        if wanted is not None:
            chosen = [i for i in chosen if str(i.get(column)) == wanted]
    order = req.arg("order") or sort[0]
    if order not in sort:
        raise Invalid(f"order must be one of {', '.join(sort)}")
    direction = (req.arg("direction") or "asc").lower()
    if direction not in ("asc", "desc"):
        raise Invalid("direction must be asc or desc")
    chosen = sorted(chosen, key=lambda i: str(i.get(order) or "").lower(), reverse=direction == "desc")
    offset = req.int_arg("offset", 0, low=0)
    limit = req.int_arg("limit", len(chosen), low=0)
    return {"items": chosen[offset : offset + limit], "total": len(everything), "filtered": len(chosen)}


# ---- wire views ---------------------------------------------------------------------------


def tenant_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A tenant as Wazo shows it."""
    return {
        "uuid": doc["uuid"],
        "name": doc.get("name"),
        "slug": doc.get("slug"),
        "parent_uuid": doc.get("parent_uuid"),
        "active": doc.get("active", True),
        "tier": tiers.tier_of(doc).name,
    }


def user_view(user: Entity) -> dict[str, Any]:
    """A user as Wazo shows it (listed field by field: secrets never leave)."""
    doc = user.doc
    email = doc.get("email")
    return {
        "uuid": user.id,
        "tenant_uuid": user.tenant,
        "username": doc.get("username"),
        "firstname": doc.get("firstname"),
        "lastname": doc.get("lastname"),
        "purpose": doc.get("purpose") or "user",
        "enabled": bool(doc.get("enabled", True)),  # as authorize() reads it
        "emails": [{"address": email, "main": True, "confirmed": True}] if email else [],
    }


def _named_view(record: Entity) -> dict[str, Any]:
    doc = record.doc
    return {
        "uuid": record.id,
        "tenant_uuid": record.tenant,
        "name": doc.get("name"),
        "slug": doc.get("slug"),
        "description": doc.get("description"),
    }


def policy_view(policy: Entity) -> dict[str, Any]:
    """A policy as Wazo shows it."""
    return {**_named_view(policy), "acl": list(policy.doc.get("acl", []))}


def group_view(group: Entity) -> dict[str, Any]:
    """A group as Wazo shows it."""
    return _named_view(group)
