"""How dashboards and folders are stored, for both dialects.

A dashboard is one entity of kind "dashboard" whose id is both its Wavefront `id` and its
Grafana `uid`. Its document is the body its last writer posted, kept as posted (key order
included) so that it loads byte-for-byte, plus server-managed keys:

- `_dialect`: "grafana" (the document is Grafana dashboard JSON: title, panels, ...) or
  "wavefront" (a Wavefront Dashboard: name, sections, ...). Each dialect renders the
  other's documents through its own view; a save through a dialect stores that dialect's
  document.
- `_folder`: the Grafana folder uid ("" is the General folder; Wavefront writes keep it).
- `_number`: Grafana's numeric id, drawn from a per-tenant counter at creation.
- `_acl`: the Wavefront entity ACL (chalicelib/domain/entity_acl.py), enforced by both
  dialects.

The entity's tags are the dashboard's tags in both dialects (Wavefront customerTags,
Grafana `tags`). Titles are unique per folder (Grafana's rule, which the one store keeps
for both dialects): a reservation row is written in the same transaction as the
dashboard (Repository UniqueName), released while the dashboard is in the trash.
Versions are the repository's revisions; each keeps its save message (`note`).

Stars (Grafana) and favorites (Wavefront) are one thing: a row per account and dashboard.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.domain import entity_acl
from chalicelib.domain.context import Context
from chalicelib.domain.entities import describer
from chalicelib.errors import Conflict, Forbidden, Invalid, NameExists, NotFound, VersionMismatch
from chalicelib.store import counters, names
from chalicelib.store.repository import Entity, Repository, UniqueName, Writes, bounded_tags, check_tag

KIND = "dashboard"
FOLDER_KIND = "folder"
GRAFANA, WAVEFRONT = "grafana", "wavefront"
DIALECT, FOLDER, NUMBER, PARENT = "_dialect", "_folder", "_number", "_parent"
GENERAL = ""  # Grafana's General folder: dashboards outside any folder
# Keys a save through either dialect keeps from the stored document.
KEPT_ON_SAVE = (entity_acl.ACL_KEY, NUMBER)
# Keys listings (search, tags, folder contents) read without loading whole documents.
HEAD_KEYS = (DIALECT, FOLDER, NUMBER, entity_acl.ACL_KEY, "title", "name", "description")
FOLDER_HEAD_KEYS = (PARENT, NUMBER, "title", "description")
# History wording for the server-managed keys (each version is described as it is written).
LABEL = "Dashboard"
CHANGE_LABELS = {DIALECT: "Saved through another dialect", FOLDER: "Moved to another folder"}

UID_PATTERN = re.compile(r"[A-Za-z0-9_-]+\Z")
MAX_GRAFANA_UID = 40
MAX_TITLE = 512
UID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
UID_LENGTH = 14

# The Settings attribute bounding a dashboard save's body (Route.max_body), 5 MiB by default.
DOCUMENT_LIMIT = "max_document_bytes"

NAME_EXISTS = "A dashboard with the same name in the folder already exists"
CHANGED = "The dashboard has been changed by someone else"
FOLDER_NAME_EXISTS = "a folder with the same name already exists in the current location"


# ---- documents ----------------------------------------------------------------------------


def title_of(doc: dict[str, Any]) -> str:
    """The dashboard's title: Grafana's `title`, Wavefront's `name`."""
    value = doc.get("title") if doc.get(DIALECT) == GRAFANA else doc.get("name")
    return value if isinstance(value, str) else ""


def folder_of(entity: Entity) -> str:
    """The uid of the dashboard's folder ("" for General)."""
    return str(entity.doc.get(FOLDER) or GENERAL)


def number_of(entity: Entity) -> int:
    """Grafana's numeric id of a dashboard or folder."""
    return int(entity.doc.get(NUMBER) or 0)


def content(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without server-managed keys (what its writer posted)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def slug(title: str) -> str:
    """Grafana's URL slug of a title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def url(uid: str, title: str) -> str:
    """The dashboard's Grafana URL path."""
    return f"/d/{uid}/{slug(title)}"


def new_uid() -> str:
    """A fresh Grafana-style uid."""
    return "".join(secrets.choice(UID_ALPHABET) for _ in range(UID_LENGTH))


def check_uid(uid: Any, *, max_length: int = MAX_GRAFANA_UID, label: str = "uid") -> str:
    """A uid (or Wavefront id: label "id") is 1..max_length letters, digits, '-' or '_'."""
    if not isinstance(uid, str) or not uid:
        raise Invalid(f"{label} must be a non-empty string")
    if len(uid) > max_length:
        raise Invalid(f"{label} too long, max {max_length} characters")
    if not UID_PATTERN.match(uid):
        raise Invalid(f"{label} contains illegal characters (use letters, digits, '-' and '_')")
    return uid


def check_title(title: Any, *, what: str = "Dashboard") -> str:
    """A non-empty title of at most MAX_TITLE characters (of a dashboard, or a folder)."""
    if not isinstance(title, str) or not title.strip():
        raise Invalid(f"{what} title cannot be empty")
    if len(title) > MAX_TITLE:
        raise Invalid(f"{what} title too long, max {MAX_TITLE} characters")
    return title


def check_tags(tags: Any) -> list[str]:
    """Grafana tags: a list of short printable strings, within settings.max_tags (checked
    here too: a save allocates the numeric id before the repository sees the tags)."""
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise Invalid("tags must be a list of strings")
    return bounded_tags((check_tag(t) for t in tags), before=0)


def _title_key(folder: str, title: str) -> str:
    return f"{folder}/{title.strip().lower()}"


def _dashboard_name(entity: Entity) -> str | None:
    if entity.deleted:
        return None  # the trash holds no names; undelete claims it again
    title = title_of(entity.doc)
    return _title_key(folder_of(entity), title) if title.strip() else None


def _folder_name(entity: Entity) -> str | None:
    title = str(entity.doc.get("title") or "")
    return None if entity.deleted or not title.strip() else _title_key(str(entity.doc.get(PARENT) or ""), title)


DASHBOARD_NAME = UniqueName(_dashboard_name, NAME_EXISTS)
FOLDER_NAME = UniqueName(_folder_name, FOLDER_NAME_EXISTS, error=Conflict)


# ---- repositories, numbers, permissions -------------------------------------------------------


def dashboards(ctx: Context) -> Repository:
    """The tenant's dashboards."""
    return ctx.repo(
        KIND, history=True, unique=DASHBOARD_NAME, head_keys=HEAD_KEYS, describe=describer(LABEL, CHANGE_LABELS)
    )


def folders(ctx: Context) -> Repository:
    """The tenant's folders."""
    return ctx.repo(FOLDER_KIND, unique=FOLDER_NAME, head_keys=FOLDER_HEAD_KEYS)


def next_number(tenant: str) -> int:
    """The next Grafana numeric id of the tenant (dashboards and folders share the series,
    as in Grafana). An atomic counter: gaps are possible, repeats are not."""
    return counters.next_value(tenant, "dashboard")


def require_access(principal: Principal, access: str) -> None:
    """Forbidden unless the principal's ACL allows access."""
    if not principal.can(access):
        raise Forbidden(f"Missing permission {access}")


def require_entity(principal: Principal, entity: Entity, *, modify: bool = False) -> None:
    """Forbidden unless the dashboard's entity ACL lets the principal view (and modify) it."""
    if not entity_acl.may_view(principal, entity):
        raise Forbidden(f"Dashboard {entity.id}: you are not allowed to view it")
    if modify and not entity_acl.may_modify(principal, entity):
        raise Forbidden(f"Dashboard {entity.id}: you are not allowed to modify it")


def load(ctx: Context, uid: str, *, modify: bool = False, head_only: bool = False) -> Entity:
    """A live dashboard the principal may view (and modify); 404 "Dashboard not found".
    head_only: its head row (title, folder, numeric id, ACL, version), not the document."""
    repo = dashboards(ctx)
    try:
        entity = repo.summary(uid) if head_only else repo.get(uid)
    except (NotFound, Invalid) as exc:
        raise NotFound("Dashboard not found") from exc
    require_entity(ctx.principal, entity, modify=modify)
    return entity


def by_number(ctx: Context, number: int) -> Entity:
    """The live dashboard whose Grafana numeric id is number (a Query of the tenant's head
    rows, as search does); 404 "Dashboard not found"."""
    for entity in dashboards(ctx).summaries():
        if number_of(entity) == number:
            require_entity(ctx.principal, entity)
            return entity
    raise NotFound("Dashboard not found")


def by_slug(ctx: Context, wanted: str) -> Entity:
    """The first live dashboard (oldest number first) the principal may view whose title's
    slug is wanted; 404 "Dashboard not found". Slugs are not unique (titles are unique per
    folder only), which is why Grafana deprecated this lookup."""
    found = sorted((e for e in dashboards(ctx).summaries() if slug(title_of(e.doc)) == wanted), key=number_of)
    for entity in found:
        if entity_acl.may_view(ctx.principal, entity):
            return load(ctx, entity.id)
    raise NotFound("Dashboard not found")


def create_wavefront(
    ctx: Context,
    uid: str,
    doc: dict[str, Any],
    tags: list[str] | None,
    *,
    note: str | None = None,
    extra: Writes | None = None,
) -> Entity:
    """A dashboard saved through the Wavefront dialect under its client-chosen id (note: its
    first version's save message; extra: writes that land in the same transaction)."""
    repo = dashboards(ctx)
    number = next_number(repo.tenant)
    doc = {**doc, DIALECT: WAVEFRONT, FOLDER: GENERAL, NUMBER: number}
    return repo.create(uid, doc, by=ctx.actor, tags=tags or [], note=note, extra=extra)


def update_wavefront(
    ctx: Context, uid: str, doc: dict[str, Any], tags: list[str] | None, *, expected_version: int | None
) -> Entity:
    """Replace a dashboard's document with a Wavefront one (server-managed keys and folder
    kept; tags only when given); a stale expected_version is a 409."""
    principal = ctx.principal

    def edit(entity: Entity) -> None:
        require_entity(principal, entity, modify=True)
        kept = {k: entity.doc[k] for k in (*KEPT_ON_SAVE, FOLDER) if k in entity.doc}
        entity.doc = {**doc, DIALECT: WAVEFRONT, **kept}
        if tags is not None:
            entity.tags = tags

    retries = 0 if expected_version is not None else 10
    return dashboards(ctx).update(uid, edit, by=ctx.actor, expected_version=expected_version, retries=retries)


def require_folder(ctx: Context, uid: str) -> Entity | None:
    """The folder a dashboard is saved into (None for General); 400 when it does not exist."""
    if uid == GENERAL:
        return None
    try:
        return folders(ctx).get(uid)
    except (NotFound, Invalid) as exc:
        raise Invalid("Folder not found") from exc


# ---- the Grafana save -----------------------------------------------------------------------


@dataclass(frozen=True)
class Save:
    """One POST /api/dashboards/db."""

    dashboard: dict[str, Any]
    folder_uid: str = GENERAL
    message: str | None = None
    overwrite: bool = False


SAVE_RETRIES = 5


def save_grafana(ctx: Context, save: Save) -> Entity:
    """Create or update a dashboard as Grafana does.

    Without overwrite: 412 version-mismatch when the posted version is not the stored one
    (the write itself is conditional on that version, so of N concurrent saves of one
    version exactly one wins), 412 name-exists when another dashboard of the folder has the
    title. overwrite skips both checks: it replaces the stored version, or the dashboard
    holding the title (taking its uid), as Grafana does.
    """
    dash = save.dashboard
    title = check_title(dash.get("title"))
    tags = check_tags(dash.get("tags"))
    raw_uid = dash.get("uid")
    uid = check_uid(raw_uid) if raw_uid not in (None, "") else _uid_of_number(ctx, dash.get("id"))
    folder = save.folder_uid or GENERAL
    if folder != GENERAL:
        check_uid(folder)
    require_folder(ctx, folder)
    in_folder = _folder_still_there(ctx, folder)
    principal = ctx.principal
    repo = dashboards(ctx)
    holder = repo.name_holder(_title_key(folder, title))
    if holder is not None and holder != uid:
        if not save.overwrite:
            raise NameExists(NAME_EXISTS)
        uid = holder
    try:
        existing: Entity | None = repo.get(uid, include_deleted=True)
    except NotFound:
        existing = None
    if existing is None:
        require_access(principal, "dashboard.create")
        doc = {**dash, DIALECT: GRAFANA, FOLDER: folder, NUMBER: next_number(repo.tenant)}
        try:
            return repo.create(uid, doc, by=ctx.actor, tags=tags, note=save.message, extra=in_folder)
        except NameExists:
            raise
        except Conflict as exc:  # someone created this uid meanwhile, or deleted the folder
            require_folder(ctx, folder)
            if not save.overwrite:
                raise VersionMismatch(CHANGED) from exc
            existing = repo.get(uid, include_deleted=True)
    require_access(principal, f"dashboard.{uid}.update")
    if not save.overwrite and dash.get("version") != existing.version:
        raise VersionMismatch(CHANGED)

    def edit(entity: Entity) -> None:
        require_entity(principal, entity, modify=True)
        kept = {k: entity.doc[k] for k in KEPT_ON_SAVE if k in entity.doc}
        entity.doc = {**dash, DIALECT: GRAFANA, FOLDER: folder, **kept}
        entity.tags = tags
        entity.deleted = False

    try:
        return repo.update(
            uid,
            edit,
            by=ctx.actor,
            expected_version=None if save.overwrite else existing.version,
            include_deleted=True,
            retries=SAVE_RETRIES if save.overwrite else 0,
            note=save.message,
            extra=in_folder,
        )
    except VersionMismatch as exc:
        require_folder(ctx, folder)
        raise VersionMismatch(CHANGED) from exc


def _uid_of_number(ctx: Context, number: Any) -> str:
    """The uid a save without one names: the dashboard of its numeric `id` (an update, as
    Grafana's older clients send it), or a fresh one when id is absent, null or 0."""
    if number in (None, 0):
        return new_uid()
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise Invalid("dashboard.id must be a positive integer or null")
    return by_number(ctx, number).id


def _folder_still_there(ctx: Context, folder: str) -> Writes | None:
    """A check, in the save's own transaction, that the folder was not deleted meanwhile (a
    dashboard never lands in a folder that is gone)."""
    if folder == GENERAL:
        return None
    return names.still_live(ctx.tenant, FOLDER_KIND, folder)


def restore(ctx: Context, uid: str, version: int) -> Entity:
    """Make an old version the newest one (a restore is a new version)."""
    repo = dashboards(ctx)
    current = load(ctx, uid, modify=True, head_only=True)
    old = repo.version(uid, version)
    principal = ctx.principal

    def edit(entity: Entity) -> None:
        require_entity(principal, entity, modify=True)
        kept = {k: entity.doc[k] for k in (*KEPT_ON_SAVE, FOLDER) if k in entity.doc}
        entity.doc = {**content(old.doc), DIALECT: old.doc.get(DIALECT, GRAFANA), **kept}
        entity.tags = list(old.tags)

    try:
        return repo.update(
            uid,
            edit,
            by=ctx.actor,
            expected_version=current.version,
            note=f"Restored from version {version}",
        )
    except VersionMismatch as exc:
        raise VersionMismatch(CHANGED) from exc


# ---- stars (Grafana) = favorites (Wavefront) ------------------------------------------------


STARRED = "starred"  # Context.memo keys: the caller's stars, read once per request,
STAR_LOOKUPS = "star-lookups"  # and the ones looked up one by one before that


def _stars(ctx: Context) -> Repository:
    ctx.memo.pop(STARRED, None)  # about to change, or to be read afresh
    ctx.memo.pop(STAR_LOOKUPS, None)
    return ctx.repo(f"star#{ctx.principal.id}")


def star(ctx: Context, uid: str) -> None:
    """Star a dashboard for the calling account (idempotent). The star names the dashboard's
    creation time, so a dashboard deleted and made again under the same uid is not starred."""
    mark = {"created": load(ctx, uid, head_only=True).created}
    stars = _stars(ctx)
    try:
        stars.create(uid, mark)
    except Conflict:
        stars.update(uid, lambda e: e.doc.update(mark), retries=3)


def unstar(ctx: Context, uid: str) -> None:
    """Remove the calling account's star (idempotent)."""
    load(ctx, uid, head_only=True)
    try:
        _stars(ctx).purge(uid)
    except NotFound:
        pass


def _starred(ctx: Context) -> dict[str, Any]:
    found = ctx.memo.get(STARRED)
    if found is None:
        found = {e.id: e.doc.get("created") for e in _stars(ctx).iterate()}
        ctx.memo[STARRED] = found
    return found


def is_starred(ctx: Context, dashboard: Entity) -> bool:
    """Has the calling account starred this dashboard (not an earlier one of the same uid)?
    The first dashboard a unit of work asks about costs one GetItem of its star; a second
    one reads all the caller's stars (one Query) for the rest of the unit of work."""
    found = ctx.memo.get(STARRED)
    if found is None:
        looked: dict[str, Any] | None = ctx.memo.get(STAR_LOOKUPS)
        if looked is not None and dashboard.id not in looked:
            found = _starred(ctx)
        else:
            if looked is None:
                mark = ctx.repo(f"star#{ctx.principal.id}").find(dashboard.id)
                looked = ctx.memo[STAR_LOOKUPS] = {dashboard.id: mark.doc.get("created") if mark else None}
            found = looked
    return found.get(dashboard.id, -1) == dashboard.created
