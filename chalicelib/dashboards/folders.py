"""Grafana folders: create, rename, move, list and delete (with their contents on request).

A folder is one entity of kind "folder" whose id is its uid. Its document holds `title`,
`_parent` (the parent folder's uid, "" at the top) and `_number` (Grafana's numeric id,
from the series dashboards use). Titles are unique among siblings (store.FOLDER_NAME: a
reservation row written in the folder's own transaction, 409 when taken). Dashboards point
at their folder by uid (`_folder`), so a move or a rename never touches them. A folder's
entity ACL (`_acl`, set through Grafana's folder permissions) guards the folder itself:
the dashboards inside keep their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.dashboards import store
from chalicelib.domain import entity_acl
from chalicelib.domain.context import Context
from chalicelib.errors import Forbidden, Invalid, NotFound, VersionMismatch
from chalicelib.store.repository import Entity

FOLDER_NOT_FOUND = "Folder not found"
FOLDER_CHANGED = "the folder has been changed by someone else"
NOT_EMPTY = "Folder contains dashboards or folders; pass forceDeleteRules=true to delete them too"
# Nesting deeper than this is refused (Grafana allows a handful of levels); it also bounds
# every walk up the parent chain.
MAX_DEPTH = 8


def parent_of(folder: Entity) -> str:
    """The parent folder's uid ("" at the top level)."""
    return str(folder.doc.get(store.PARENT) or store.GENERAL)


def title_of(folder: Entity) -> str:
    """The folder's title."""
    return str(folder.doc.get("title") or "")


def url(uid: str, title: str) -> str:
    """The folder's Grafana URL path."""
    return f"/dashboards/f/{uid}/{store.slug(title)}"


def get(ctx: Context, uid: str, *, modify: bool = False) -> Entity:
    """A folder the principal's entity ACL lets it view (and modify); 404 "Folder not found"."""
    try:
        folder = store.folders(ctx).get(uid)
    except (NotFound, Invalid) as exc:
        raise NotFound(FOLDER_NOT_FOUND) from exc
    if not entity_acl.may_view(ctx.principal, folder):
        raise Forbidden(f"Folder {uid}: you are not allowed to view it")
    if modify and not entity_acl.may_modify(ctx.principal, folder):
        raise Forbidden(f"Folder {uid}: you are not allowed to modify it")
    return folder


def by_number(ctx: Context, number: int) -> Entity:
    """The folder whose Grafana numeric id is number; 404 "Folder not found"."""
    for folder in store.folders(ctx).summaries():
        if store.number_of(folder) == number:
            return get(ctx, folder.id)
    raise NotFound(FOLDER_NOT_FOUND)


def every(ctx: Context) -> dict[str, Entity]:
    """Every folder of the tenant by uid (summaries: title, parent and number only)."""
    return {f.id: f for f in store.folders(ctx).summaries()}


def chain(uid: str, known: dict[str, Entity]) -> list[Entity]:
    """The ancestors of a folder, top-level first (uid itself excluded)."""
    found: list[Entity] = []
    current = known.get(uid)
    while current is not None and parent_of(current) and len(found) < MAX_DEPTH:
        current = known.get(parent_of(current))
        if current is not None:
            found.append(current)
    return list(reversed(found))


def subtree(uid: str, known: dict[str, Entity]) -> list[str]:
    """uid and the uids of every folder below it, parents before children."""
    found, frontier = [uid], [uid]
    while frontier:
        frontier = [f.id for f in known.values() if parent_of(f) in frontier and f.id not in found]
        found += frontier
    return found


def children(ctx: Context, parent: str) -> list[Entity]:
    """The folders directly inside parent ("" for the top level), by title."""
    inside = [f for f in store.folders(ctx).summaries() if parent_of(f) == parent]
    return sorted(inside, key=lambda f: (title_of(f).casefold(), f.id))


def _require_parent(ctx: Context, parent: str) -> dict[str, Entity]:
    """Every folder by uid, once parent ("" for the top) is known to exist and has room below."""
    known = every(ctx)
    if parent == store.GENERAL:
        return known
    store.check_uid(parent)
    if parent not in known:
        raise Invalid("Parent folder not found")
    if len(chain(parent, known)) + 1 >= MAX_DEPTH:
        raise Invalid(f"Folders nest at most {MAX_DEPTH} levels deep")
    return known


def create(ctx: Context, title: Any, uid: Any = None, parent: Any = None) -> Entity:
    """A new folder (uid generated when absent) inside parent (None or "" for the top)."""
    title = store.check_title(title, what="Folder")
    uid = store.check_uid(uid) if uid not in (None, "") else store.new_uid()
    parent = _parent_uid(parent)
    _require_parent(ctx, parent)
    repo = store.folders(ctx)
    doc = {"title": title, store.PARENT: parent, store.NUMBER: store.next_number(repo.tenant)}
    return repo.create(uid, doc, by=ctx.actor)


def rename(ctx: Context, uid: str, title: Any, *, version: int | None, overwrite: bool) -> Entity:
    """Change a folder's title; without overwrite, version must be the stored one (412)."""
    title = store.check_title(title, what="Folder") if title is not None else None
    current = get(ctx, uid, modify=True)
    if not overwrite and version != current.version:
        raise VersionMismatch(FOLDER_CHANGED)

    def edit(folder: Entity) -> None:
        if title is not None:
            folder.doc["title"] = title

    try:
        return store.folders(ctx).update(
            uid,
            edit,
            by=ctx.actor,
            expected_version=None if overwrite else current.version,
            retries=3 if overwrite else 0,
        )
    except VersionMismatch as exc:
        raise VersionMismatch(FOLDER_CHANGED) from exc


def move(ctx: Context, uid: str, parent: Any) -> Entity:
    """Put a folder under another one (None or "" for the top); a cycle is refused (400)."""
    parent = _parent_uid(parent)
    get(ctx, uid, modify=True)
    known = _require_parent(ctx, parent)
    if parent == uid or uid in {f.id for f in chain(parent, known)}:
        raise Invalid("A folder cannot be moved into itself or one of its subfolders")
    depth_below = max(len(chain(f, known)) for f in subtree(uid, known)) - len(chain(uid, known))
    if parent and len(chain(parent, known)) + 1 + depth_below >= MAX_DEPTH:
        raise Invalid(f"Folders nest at most {MAX_DEPTH} levels deep")

    def edit(folder: Entity) -> None:
        folder.doc[store.PARENT] = parent

    return store.folders(ctx).update(uid, edit, by=ctx.actor, retries=3)


def contents(ctx: Context, uids: Iterable[str], *, deleted: bool = False) -> list[Entity]:
    """Dashboards (summaries) whose folder is one of uids."""
    inside = set(uids)
    return [d for d in store.dashboards(ctx).summaries(deleted=deleted) if store.folder_of(d) in inside]


def remove(ctx: Context, uid: str, *, cascade: bool) -> Entity:
    """Delete a folder. One holding dashboards or folders is refused (400) unless cascade,
    which purges them all (subfolders recursively) first; every one must be deletable by
    the caller, or nothing is deleted. Trashed dashboards of a folder deleted without
    cascade go back to the General folder."""
    folder = get(ctx, uid, modify=True)
    known = every(ctx)
    below = subtree(uid, known)
    live = contents(ctx, below)
    if (live or len(below) > 1) and not cascade:
        raise Invalid(NOT_EMPTY)
    principal = ctx.principal
    for sub in below[1:]:
        store.require_access(principal, f"folder.{sub}.delete")
    for dash in live:
        store.require_access(principal, f"dashboard.{dash.id}.delete")
        store.require_entity(principal, dash, modify=True)
    dashboards = store.dashboards(ctx)
    for dash in live:
        dashboards.purge(dash.id)
    for dash in contents(ctx, below, deleted=True):
        if cascade:
            dashboards.purge(dash.id)
        else:
            dashboards.update(dash.id, _to_general, by=ctx.actor, include_deleted=True, retries=3)
    repo = store.folders(ctx)
    for sub in reversed(below):
        repo.purge(sub)
    return folder


def _to_general(entity: Entity) -> None:
    entity.doc[store.FOLDER] = store.GENERAL


def _parent_uid(parent: Any) -> str:
    if parent is None:
        return store.GENERAL
    if not isinstance(parent, str):
        raise Invalid("parentUid must be a string")
    return parent
