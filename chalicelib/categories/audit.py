"""The audit log (GET /api/v2/audit): who changed what in the acting tenant, when, from
where, with which credential, and how (a before/after diff without secrets). The records
are written by the changes themselves, in their own transactions (store/audit.py); this
route only reads them, newest first, by signed cursor.

Reading needs `audit.query`, which the `audit_log` permission grants (so `#` holds it):
not `audit.read`, which Browse's `*.read` would hand to every account.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.auth.keys import cursor_secret
from chalicelib.errors import Invalid
from chalicelib.http import dialects
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router
from chalicelib.store import audit
from chalicelib.wire import Model

router = Router("audit")

BASE = "/api/v2/audit"
MAX_FILTER = 512  # characters of an entity kind, id, actor or action filter
DAY_MS = 86_400_000


class AuditActor(Model):
    """The acting principal (both None: a change made by the system, no request)."""

    id: str | None = None
    name: str | None = None


class AuditEntity(Model):
    """What changed: its kind (alert, dashboard, account, apitoken, ...), id and the version
    the change made (None for credentials, which keep no versions)."""

    kind: str
    id: str
    version: int | None = None


class AuditRecord(Model):
    """One change."""

    id: Annotated[str, Field(description="the record's key: epoch ms and a random suffix")]
    at: Annotated[int, Field(description="epoch milliseconds")]
    action: Literal["create", "update", "delete", "trash", "undelete", "tag"]
    entity: AuditEntity
    actor: AuditActor
    credential: Annotated[
        str | None, Field(description="method and session: jwt:<jti>, apitoken:<public id>, oauth:<jti>, basic")
    ] = None
    source: Annotated[str | None, Field(description="the request's source address")] = None
    diff: Annotated[dict[str, Any], Field(description="before / after of the changed fields, secrets redacted")]
    tags: dict[str, list[str]] | None = None


@router.get(
    BASE,
    acl="audit.query",
    query=(
        ("entityKind", "string", "only changes of this kind (alert, dashboard, account, ...)"),
        ("entityId", "string", "only changes of this object"),
        ("actor", "string", "only changes by this principal (id or name)"),
        ("action", "string", "only this action: create, update, delete, trash, undelete, tag"),
        ("from", "integer", "earliest time, epoch ms (default: retention ago)"),
        ("to", "integer", "latest time, epoch ms (default: now)"),
        ("cursor", "string", "the cursor of the page before"),
        ("limit", "integer", "page size, 1..1000 (default 100)"),
    ),
    response=AuditRecord,
    paged=True,
    summary="List the tenant's audit records, newest first",
)
def list_audit(req: Request) -> dict[str, Any]:
    """One page of the acting tenant's audit records, newest first."""
    ctx = req.ctx
    latest = req.int_arg("to", ctx.now(), low=0)
    earliest = req.int_arg("from", latest - ctx.settings.audit_retention_days * DAY_MS, low=0)
    filters = audit.Filters(
        kind=_filter(req, "entityKind"),
        entity_id=_filter(req, "entityId"),
        actor=_filter(req, "actor"),
        action=_filter(req, "action"),
    )
    limit = req.int_arg("limit", 100, low=1, high=1000)
    found = audit.query(
        ctx.tenant,
        secret=cursor_secret(),
        earliest=earliest,
        latest=latest,
        filters=filters,
        limit=limit,
        cursor=req.arg("cursor") or None,
    )
    more = found.cursor is not None
    total = len(found.items) + (1 if more else 0)
    return dialects.paged(found.items, offset=0, limit=limit, total=total, more=more, cursor=found.cursor)


def _filter(req: Request, name: str) -> str | None:
    value = req.arg(name) or None
    if value is not None and len(value) > MAX_FILTER:
        raise Invalid(f"{name}: at most {MAX_FILTER} characters")
    return value


CATEGORY = Category(router, permission="audit_log")
