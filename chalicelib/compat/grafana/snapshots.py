"""Grafana's dashboard snapshots (/api/snapshots, /api/dashboard/snapshots,
/api/snapshots-delete): stored copies of a dashboard's JSON (with whatever data the
client embedded), read by key and deleted by key or by their separate deleteKey.

A snapshot is an entity of kind "snapshot" whose id is its key. Document: the dashboard
JSON under "dashboard", and server-managed keys `_number` (Grafana's numeric id, from a
per-tenant counter), `_deleteKey` and `_expires` (epoch ms; 0: never). A row
`<tenant>#snapshot-delete / <deleteKey>` naming the key is written in the same transaction,
so a delete by deleteKey is one GetItem away from its snapshot. An expired snapshot is
answered as absent (nothing removes it yet; a delete does).

External snapshots (published to another server) are refused: opsplane publishes nowhere.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from chalicelib.compat.grafana import views
from chalicelib.dashboards import store as dashboards
from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, NotFound
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import Router
from chalicelib.store import counters, names
from chalicelib.store.repository import Entity, Repository
from chalicelib.wire import Model

router = Router("grafana")

KIND = "snapshot"
DELETE_KEYS = "snapshot-delete"
NUMBER, DELETE_KEY, EXPIRES = "_number", "_deleteKey", "_expires"
HEAD_KEYS = (NUMBER, EXPIRES, "name")
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
MAX_NAME = 512
MAX_EXPIRES = 10 * 365 * 86400  # ten years, in seconds
DEFAULT_LIMIT, MAX_LIMIT = 1000, 5000
DELETED = "Snapshot deleted. It might take an hour before it's cleared from any CDN caches."

Key = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="1..64 of A-Z a-z 0-9 _ -")]


class SnapshotBody(Model):
    """POST /api/snapshots."""

    model_config = ConfigDict(extra="ignore")

    dashboard: dict[str, Any] = Field(description="The dashboard JSON (required)")
    name: StrictStr | None = Field(default=None, max_length=MAX_NAME, description="Default: the dashboard's title")
    expires: StrictInt | None = Field(default=None, ge=0, le=MAX_EXPIRES, description="Seconds (absent or 0: never)")
    external: StrictBool | None = Field(default=None, description="Must be false: external snapshots are not made")
    key: Key | None = Field(default=None, description="Chosen key (generated when absent)")
    deleteKey: Key | None = Field(default=None, description="Chosen delete key (generated when absent)")


class GrafanaSnapshotMade(Model):
    """The answer to a create."""

    deleteKey: str
    deleteUrl: str
    key: str
    url: str
    id: int


class GrafanaSnapshotItem(Model):
    """An entry of the snapshot list."""

    id: int
    name: str
    key: str
    orgId: int
    userId: int
    external: bool
    externalUrl: str
    expires: str
    created: str
    updated: str


class GrafanaSnapshot(Model):
    """GET /api/snapshots/{key}."""

    meta: dict[str, Any]
    dashboard: dict[str, Any]


class GrafanaSnapshotDeleted(Model):
    """The answer to a delete."""

    message: str
    id: int


def snapshots(ctx: Context) -> Repository:
    """The tenant's snapshots (heads hold what the list shows)."""
    return ctx.repo(KIND, head_keys=HEAD_KEYS)


def _live(ctx: Context, entity: Entity) -> bool:
    expires = int(entity.doc.get(EXPIRES, 0))
    return not expires or ctx.now() < expires


def load(ctx: Context, key: str) -> Entity:
    """A snapshot that has not expired (404 "Snapshot not found")."""
    found = snapshots(ctx).find(key) if KEY_PATTERN.match(key) else None
    if found is None or not _live(ctx, found):
        raise NotFound("Snapshot not found")
    return found


def create(ctx: Context, body: SnapshotBody) -> Entity:
    """Store a snapshot under its key, with the row naming it by its deleteKey."""
    if body.external:
        raise Invalid("External snapshots are not supported: opsplane publishes snapshots nowhere")
    key = body.key or secrets.token_urlsafe(24)
    delete_key = body.deleteKey or secrets.token_urlsafe(24)
    name = body.name if body.name is not None else str(body.dashboard.get("title") or "")
    doc = {
        "name": name[:MAX_NAME],
        "dashboard": body.dashboard,
        NUMBER: counters.next_value(ctx.tenant, KIND),
        DELETE_KEY: delete_key,
        EXPIRES: ctx.now() + body.expires * 1000 if body.expires else 0,
    }
    named = names.reserve(ctx.tenant, DELETE_KEYS, delete_key, {"key": key})
    return snapshots(ctx).create(key, doc, by=ctx.actor, extra=named)


def delete(ctx: Context, entity: Entity) -> None:
    """Delete a snapshot for good, with its deleteKey row."""
    release = names.release(ctx.tenant, DELETE_KEYS, str(entity.doc.get(DELETE_KEY, "")))
    snapshots(ctx).purge(entity.id, extra=release)


def by_delete_key(ctx: Context, delete_key: str) -> Entity:
    """The snapshot a deleteKey deletes (404 when none)."""
    found = names.holder(ctx.tenant, DELETE_KEYS, delete_key) if KEY_PATTERN.match(delete_key) else None
    key = found.get("key") if found else None
    if not isinstance(key, str):
        raise NotFound("Snapshot not found")
    return load(ctx, key)


def _expires(entity: Entity) -> str:
    expires = int(entity.doc.get(EXPIRES, 0))
    return views.iso(expires) if expires else views.NEVER


def item(entity: Entity) -> dict[str, Any]:
    """A snapshot as the list shows it."""
    return {
        "id": int(entity.doc.get(NUMBER, 0)),
        "name": str(entity.doc.get("name", "")),
        "key": entity.id,
        "orgId": 1,
        "userId": 0,
        "external": False,
        "externalUrl": "",
        "expires": _expires(entity),
        "created": views.iso(entity.created),
        "updated": views.iso(entity.updated),
    }


def url(key: str) -> str:
    """Where Grafana's UI shows a snapshot (relative: opsplane knows no public root URL)."""
    return f"/dashboard/snapshot/{key}"


# ---- routes ---------------------------------------------------------------------------------


@router.post(
    "/api/snapshots",
    acl="snapshot.create",
    body=SnapshotBody,
    response=GrafanaSnapshotMade,
    max_body=dashboards.DOCUMENT_LIMIT,
)
def create_snapshot(req: Request) -> Reply:
    """Store a snapshot of a dashboard."""
    made = create(req.ctx, req.model(SnapshotBody))
    delete_key = str(made.doc[DELETE_KEY])
    return bare(
        {
            "deleteKey": delete_key,
            "deleteUrl": f"/api/snapshots-delete/{delete_key}",
            "key": made.id,
            "url": url(made.id),
            "id": int(made.doc[NUMBER]),
        }
    )


@router.get(
    "/api/dashboard/snapshots",
    acl="snapshot.read",
    query=(
        ("query", "string", "Case-insensitive part of the name"),
        ("limit", "integer", f"How many (default {DEFAULT_LIMIT}, max {MAX_LIMIT})"),
    ),
    response=list[GrafanaSnapshotItem],
)
def list_snapshots(req: Request) -> Reply:
    """The tenant's snapshots that have not expired, by name."""
    ctx = req.ctx
    limit = req.int_arg("limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    query = (req.arg("query") or "").casefold()
    found = [s for s in snapshots(ctx).summaries() if _live(ctx, s) and query in str(s.doc.get("name", "")).casefold()]
    found.sort(key=lambda s: (str(s.doc.get("name", "")).casefold(), s.id))
    return bare([item(s) for s in found[:limit]])


@router.get("/api/snapshots/{key}", acl="snapshot.{key}.read", response=GrafanaSnapshot)
def get_snapshot(req: Request) -> Reply:
    """A snapshot's dashboard and meta."""
    entity = load(req.ctx, req.params["key"])
    meta = {
        "isSnapshot": True,
        "type": "snapshot",
        "canSave": False,
        "canEdit": False,
        "canStar": False,
        "canDelete": req.ctx.can(f"snapshot.{entity.id}.delete"),
        "slug": "",
        "url": url(entity.id),
        "expires": _expires(entity),
        "created": views.iso(entity.created),
        "updated": views.iso(entity.updated),
        "createdBy": entity.created_by or "Anonymous",
    }
    return bare({"meta": meta, "dashboard": entity.doc.get("dashboard", {})})


@router.delete("/api/snapshots/{key}", acl="snapshot.{key}.delete", response=GrafanaSnapshotDeleted)
def delete_snapshot(req: Request) -> Reply:
    """Delete a snapshot by its key."""
    entity = load(req.ctx, req.params["key"])
    delete(req.ctx, entity)
    return bare({"message": DELETED, "id": int(entity.doc.get(NUMBER, 0))})


@router.get(
    "/api/snapshots-delete/{deleteKey}",
    acl="snapshot.read",
    response=GrafanaSnapshotDeleted,
    summary="Delete a snapshot by its deleteKey (holding the key is the authority, as in Grafana)",
)
def delete_by_delete_key(req: Request) -> Reply:
    """Delete a snapshot by its deleteKey."""
    entity = by_delete_key(req.ctx, req.params["deleteKey"])
    delete(req.ctx, entity)
    return bare({"message": DELETED, "id": int(entity.doc.get(NUMBER, 0))})
