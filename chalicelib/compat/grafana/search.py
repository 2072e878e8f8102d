"""Grafana's search (/api/search) and the frontend settings clients probe for the version.

Search reads summaries only (head keys and tags), never whole documents: folders first,
then dashboards, each by title; what the caller may not view is left out.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.compat.grafana import views
from chalicelib.dashboards import folders, store
from chalicelib.domain import entity_acl
from chalicelib.errors import Invalid, Unprocessable
from chalicelib.http.reply import Reply, bare
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Router
from chalicelib.settings import get_settings
from chalicelib.store.repository import Entity
from chalicelib.wire import Model

router = Router("grafana")

DASH_DB, DASH_FOLDER = "dash-db", "dash-folder"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000
GENERAL_NAMES = ("general", "")
SEARCH_QUERY = (
    ("query", "string", "Case-insensitive part of the title"),
    ("tag", "array", "Tags the dashboards must all carry (repeat the key)"),
    ("type", "string", "dash-db or dash-folder (absent: both)"),
    ("dashboardUIDs", "array", "Only these uids (repeated keys or comma-separated)"),
    ("dashboardIds", "array", "Only these numeric ids (deprecated by Grafana)"),
    ("folderUIDs", "array", 'Only inside these folders ("general" for the General folder)'),
    ("folderIds", "array", "Only inside these folders, by numeric id (0: General; deprecated by Grafana)"),
    ("starred", "boolean", "Only the caller's starred dashboards"),
    ("limit", "integer", f"Hits per page (default {DEFAULT_LIMIT}, max {MAX_LIMIT})"),
    ("page", "integer", "Page, from 1"),
)


class GrafanaHit(Model):
    """A search hit (folder keys only for a dashboard inside a folder)."""

    model_config = ConfigDict(extra="allow")

    id: int
    uid: str
    title: str
    uri: str
    url: str
    slug: str
    type: str
    tags: list[str]
    isStarred: bool
    sortMeta: int


class GrafanaBuildInfo(Model):
    """What the server says it is."""

    version: str
    commit: str
    edition: str
    env: str


class GrafanaFrontendSettings(Model):
    """The part of Grafana's frontend settings clients read."""

    model_config = ConfigDict(extra="allow")

    buildInfo: GrafanaBuildInfo


def _listed(req: Request, name: str) -> list[str]:
    """A list parameter sent as repeated keys, comma-separated, or both."""
    return [part.strip() for value in req.args(name) for part in value.split(",")]


def _numbers(req: Request, name: str) -> set[int]:
    try:
        return {int(v) for v in _listed(req, name) if v}
    except ValueError as exc:
        raise Invalid(f"{name} must be integers") from exc


def _limit(req: Request) -> int:
    limit = req.int_arg("limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise Unprocessable(f"Limit is above maximum allowed ({MAX_LIMIT}), use page")
    if limit < 1:
        raise Invalid("limit must be at least 1")
    return limit


@router.get("/api/search", acl="dashboard.read", query=SEARCH_QUERY, response=list[GrafanaHit])
def search(req: Request) -> Reply:
    """Dashboards and folders by title, tags, uid, folder and star."""
    limit = _limit(req)
    page = req.int_arg("page", 1)
    if page < 1:
        raise Invalid("page must be at least 1")
    kind = req.arg("type")
    if kind not in (None, "", DASH_DB, DASH_FOLDER):
        raise Invalid(f"type must be {DASH_DB} or {DASH_FOLDER}")
    principal = req.ctx.principal
    query = (req.arg("query") or "").casefold()
    tags = set(req.args("tag"))
    uids = set(_listed(req, "dashboardUIDs")) - {""}
    numbers = _numbers(req, "dashboardIds")
    in_folders = {store.GENERAL if u.lower() in GENERAL_NAMES else u for u in _listed(req, "folderUIDs")}
    folder_numbers = _numbers(req, "folderIds")
    only_starred = req.flag("starred")
    known = folders.every(req.ctx)
    by_number = {store.number_of(f): f.id for f in known.values()}
    in_folders |= {by_number.get(n, f"#{n}") if n else store.GENERAL for n in folder_numbers}
    wanted_folders = req.args("folderUIDs") or folder_numbers

    def keep(entity: Entity, title: str, parent: str) -> bool:
        return (
            (not query or query in title.casefold())
            and (not uids or entity.id in uids)
            and (not numbers or store.number_of(entity) in numbers)
            and (not wanted_folders or parent in in_folders)
        )

    hits: list[dict[str, Any]] = []
    if kind in (None, "", DASH_FOLDER) and not tags and not only_starred and principal.can("folder.read"):
        found = [f for f in known.values() if keep(f, folders.title_of(f), folders.parent_of(f))]
        hits += [views.folder_hit(f) for f in sorted(found, key=lambda f: (folders.title_of(f).casefold(), f.id))]
    if kind in (None, "", DASH_DB):
        found = [
            d
            for d in store.dashboards(req.ctx).summaries()
            if keep(d, views.dashboard_title(d), store.folder_of(d))
            and tags <= set(d.tags)
            and (not only_starred or store.is_starred(req.ctx, d))
            and entity_acl.may_view(principal, d)
        ]
        found.sort(key=lambda d: (views.dashboard_title(d).casefold(), d.id))
        hits += [views.dashboard_hit(d, known.get(store.folder_of(d)), store.is_starred(req.ctx, d)) for d in found]
    return bare(hits[(page - 1) * limit : page * limit])


@router.get("/api/frontend/settings", acl=PUBLIC, response=GrafanaFrontendSettings)
def frontend_settings(req: Request) -> Reply:
    """Build information (grafana-client reads buildInfo.version)."""
    settings = get_settings()
    return bare(
        {
            "buildInfo": {
                "version": settings.grafana_version,
                "commit": settings.stage,
                "edition": "Open Source",
                "env": "production",
            },
            "appSubUrl": "",
            "featureToggles": {"nestedFolders": True},
        }
    )
