"""Exports (the MSP seed's category): a tenant's configuration as one document
(`GET /api/v2/export`) and that document written into a tenant (`POST /api/v2/import`).
Both act on the request's tenant, so `/api/v2/tenants/{tenantId}/export` reaches them too.

The document and its rules are chalicelib/domain/export.py; this module says which kinds
it holds, in which order (a kind before the kinds that name it), what each kind's
documents may carry, and how references are rewritten when ids are remapped. An answer
larger than settings.max_export_bytes is written to the blobs bucket and answered with
303 and a short-lived download URL (Lambda answers at most 6 MB). docs/export.md.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from chalicelib.categories.alert import ALERT
from chalicelib.categories.dashboard import BOOKKEEPING
from chalicelib.categories.dashboard_views import DashboardBody
from chalicelib.categories.derivedmetric import DERIVED_METRIC
from chalicelib.categories.event import EVENT
from chalicelib.categories.extlink import EXTERNAL_LINK
from chalicelib.categories.maintenancewindow import MAINTENANCE_WINDOW
from chalicelib.categories.notificant import NOTIFICANT, references
from chalicelib.categories.source import SOURCE
from chalicelib.dashboards import store as dashboards
from chalicelib.domain import entities, entity_acl, events
from chalicelib.domain import export as document
from chalicelib.domain.context import Context
from chalicelib.domain.delivery import SECRET as SIGNING_SECRET
from chalicelib.domain.entities import Kind, valid_tag
from chalicelib.domain.export import Doc, Section
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request, validation_message
from chalicelib.http.router import Category, Router
from chalicelib.store import blobs, counters, names
from chalicelib.store.repository import Writes

router = Router("export")

# The largest export answered in the response itself; past it, a download URL. Lambda's
# response payload limit is 6 MB, and the envelope-free JSON needs a margin.
MAX_ANSWER_BYTES = 5 * 1024 * 1024
DOWNLOAD_SECONDS = 900
IDS = (document.KEEP, document.REMAP)

Known = Any  # Callable[[str, str], bool]: is (section, id) in the tenant after the import


# ---- checking a kind's documents ------------------------------------------------------------


def _acl(ctx: Context, doc: Doc) -> None:
    """An entity ACL may name only accounts and groups of the receiving tenant."""
    acl = doc.get(entity_acl.ACL_KEY)
    if acl is None:
        return
    if not isinstance(acl, dict) or set(acl) - {"view", "modify"}:
        raise Invalid(f"{entity_acl.ACL_KEY}: must be {{view: [...], modify: [...]}}")
    named = [p for key in ("view", "modify") for p in acl.get(key, [])]
    if not all(isinstance(p, str) for p in named):
        raise Invalid(f"{entity_acl.ACL_KEY}: principals are ids (strings)")
    unknown = sorted(set(named) - set(entities.principal_names(ctx, named)))
    if unknown:
        raise Invalid(f"{entity_acl.ACL_KEY}: no account or group {', '.join(unknown)} in this tenant")


def _tags(tags: list[str]) -> None:
    for tag in tags:
        valid_tag(tag)


def kind_check(kind: Kind, *, body_of: Any = None) -> Any:
    """A Section.check for a Wavefront kind: the document's public keys must be a body of
    the kind's schema that its to_doc stores unchanged (so the import stores exactly what a
    create would), its tags valid, the kind's own tenant rule (Kind.check) met."""

    def check(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
        public = {k: v for k, v in doc.items() if not k.startswith("_")}
        body = body_of(entity_id, public) if body_of is not None else public
        try:
            model = kind.schema.model_validate(body)
        except ValidationError as exc:
            raise Invalid(validation_message(exc)) from exc
        stored, _ = kind.to_doc(model)
        changed = sorted(k for k in set(stored) | set(public) if stored.get(k) != public.get(k))
        if changed:
            raise Invalid(f"{changed[0]}: not as a {kind.label.lower()} stores it")
        _tags(tags)
        if kind.check is not None:
            kind.check(ctx, model)
        _acl(ctx, doc)

    return check


def fresh_id(ctx: Context, entity_id: str, doc: Doc) -> str:
    """A new Wavefront-style id (remap mode)."""
    return entities.new_id(ctx)


# ---- alerts: the alert targets they name ------------------------------------------------------

TARGET_PREFIX = "target:"


def _target_lists(doc: Doc) -> list[tuple[str | None, str]]:
    """(severity or None, text) of every target list of an alert document."""
    found: list[tuple[str | None, str]] = [(None, doc["target"])] if isinstance(doc.get("target"), str) else []
    targets = doc.get("targets")
    if isinstance(targets, dict):
        found += [(sev, text) for sev, text in targets.items() if isinstance(text, str)]
    return found


def rewrite_alert(doc: Doc, ids: dict[str, dict[str, str]]) -> None:
    """`target:<id>` entries name the alert targets by their new ids."""
    mapping = ids.get(NOTIFICANT.name, {})

    def moved(text: str) -> str:
        parts = references(text)
        return ",".join(
            f"{TARGET_PREFIX}{mapping.get(p[len(TARGET_PREFIX) :], p[len(TARGET_PREFIX) :])}"
            if p.startswith(TARGET_PREFIX)
            else p
            for p in parts
        )

    for severity, text in _target_lists(doc):
        if severity is None:
            doc["target"] = moved(text)
        else:
            doc["targets"][severity] = moved(text)


def check_alert(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """A Wavefront alert whose `target:<id>` entries name alert targets there will be."""
    kind_check(ALERT)(ctx, entity_id, doc, tags, known)
    for severity, text in _target_lists(doc):
        for part in references(text):
            if part.startswith(TARGET_PREFIX) and not known(NOTIFICANT.name, part[len(TARGET_PREFIX) :]):
                where = "target" if severity is None else f"targets.{severity}"
                raise Invalid(f"{where}: no alert target {part[len(TARGET_PREFIX) :]}")


# ---- events: their Grafana numbers, the alert that fired them ---------------------------------


def event_number(ctx: Context, entity_id: str, doc: Doc) -> tuple[Doc, Writes | None]:
    """An imported event gets the tenant's next event number and the row naming it."""
    number = counters.next_value(ctx.tenant, events.KIND)
    return {events.NUMBER: number}, names.reserve(ctx.tenant, events.NUMBERS, str(number), {"id": entity_id})


def event_id(ctx: Context, entity_id: str, doc: Doc) -> str:
    """`<startTime>:<name>:<random>` (remap mode)."""
    return f"{next(iter(events.new_ids(doc)))}:{secrets.token_hex(3)}"


def rewrite_event(doc: Doc, ids: dict[str, dict[str, str]]) -> None:
    """A firing names its alert by its new id."""
    firing = doc.get("_firing")
    if isinstance(firing, dict) and isinstance(firing.get("alertId"), str):
        firing["alertId"] = ids.get(ALERT.name, {}).get(firing["alertId"], firing["alertId"])


def check_event(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """A Wavefront event; a system or alert event keeps who made it."""
    kind_check(EVENT)(ctx, entity_id, doc, tags, known)
    creator = doc.get("_creator")
    if creator is not None and creator not in (events.ALERT, events.SYSTEM):
        raise Invalid("_creator: must be ALERT or SYSTEM")
    firing = doc.get("_firing")
    if firing is not None and not isinstance(firing, dict):
        raise Invalid("_firing: must be an object")


# ---- folders and dashboards ---------------------------------------------------------------------


def grafana_number(ctx: Context, entity_id: str, doc: Doc) -> tuple[Doc, Writes | None]:
    """An imported folder or dashboard gets the tenant's next Grafana number."""
    return {dashboards.NUMBER: dashboards.next_number(ctx.tenant)}, None


def new_uid(ctx: Context, entity_id: str, doc: Doc) -> str:
    """A fresh Grafana-style uid (remap mode)."""
    return dashboards.new_uid()


def rewrite_folder(doc: Doc, ids: dict[str, dict[str, str]]) -> None:
    """A folder names its parent by the parent's new uid."""
    parent = doc.get(dashboards.PARENT)
    if isinstance(parent, str) and parent:
        doc[dashboards.PARENT] = ids.get(FOLDERS, {}).get(parent, parent)


def check_folder(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """A folder: a uid, a title, a parent folder there will be, no other keys."""
    dashboards.check_uid(entity_id)
    dashboards.check_title(doc.get("title"), what="Folder")
    extra = set(doc) - {"title", "description", dashboards.PARENT}
    if extra:
        raise Invalid(f"{sorted(extra)[0]}: not a folder field")
    if "description" in doc and not isinstance(doc["description"], str):
        raise Invalid("description: must be a string")
    parent = doc.get(dashboards.PARENT) or dashboards.GENERAL
    if not isinstance(parent, str) or (parent and not known(FOLDERS, parent)):
        raise Invalid(f"{dashboards.PARENT}: no folder {parent}")
    if tags:
        raise Invalid("tags: folders have none")


def parents_first(found: list[Doc]) -> list[Doc]:
    """Folders ordered so that each comes after its parent (a cycle is Invalid)."""
    by_id = {f["id"]: f for f in found}
    done: dict[str, None] = {}

    def place(uid: str, seen: tuple[str, ...]) -> None:
        if uid in done or uid not in by_id:
            return
        if uid in seen:
            raise Invalid(f"{FOLDERS}[{uid}].doc.{dashboards.PARENT}: folders form a cycle")
        place(str(by_id[uid]["doc"].get(dashboards.PARENT) or ""), (*seen, uid))
        done[uid] = None

    for f in found:
        place(f["id"], ())
    return [by_id[uid] for uid in done]


def rewrite_dashboard(doc: Doc, ids: dict[str, dict[str, str]]) -> None:
    """A dashboard names its folder by the folder's new uid; a Grafana document's own
    `uid` is the dashboard's new one."""
    folder = doc.get(dashboards.FOLDER)
    if isinstance(folder, str) and folder:
        doc[dashboards.FOLDER] = ids.get(FOLDERS, {}).get(folder, folder)
    uid = doc.get("uid")
    if doc.get(dashboards.DIALECT) == dashboards.GRAFANA and isinstance(uid, str):
        doc["uid"] = ids.get(dashboards.KIND, {}).get(uid, uid)


def check_dashboard(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """A dashboard of either dialect, in a folder there will be, as its dialect stores it."""
    dialect = doc.get(dashboards.DIALECT)
    folder = doc.get(dashboards.FOLDER, dashboards.GENERAL)
    if not isinstance(folder, str) or (folder and not known(FOLDERS, folder)):
        raise Invalid(f"{dashboards.FOLDER}: no folder {folder}")
    if dialect == dashboards.GRAFANA:
        dashboards.check_uid(entity_id)
        dashboards.check_title(doc.get("title"))
        dashboards.check_tags(tags)
    elif dialect == dashboards.WAVEFRONT:
        # Stored as posted, less the bookkeeping a client echoes back (dashboard.parse).
        public = {k: v for k, v in doc.items() if not k.startswith("_")}
        echoed = sorted(set(public) & BOOKKEEPING)
        if echoed:
            raise Invalid(f"{echoed[0]}: bookkeeping, not a stored dashboard field")
        try:
            DashboardBody.model_validate({**public, "id": entity_id})
        except ValidationError as exc:
            raise Invalid(validation_message(exc)) from exc
    else:
        raise Invalid(f"{dashboards.DIALECT}: must be {dashboards.GRAFANA} or {dashboards.WAVEFRONT}")
    _tags(tags)
    _acl(ctx, doc)


# ---- the sections, in the document's order ------------------------------------------------------

FOLDERS = dashboards.FOLDER_KIND


def _kind_section(kind: Kind, **options: Any) -> Section:
    options.setdefault("check", kind_check(kind))
    options.setdefault("new_id", fresh_id)
    return Section(
        name=kind.name,
        label=kind.label,
        repo=lambda ctx: entities.repo(ctx, kind),
        history=kind.history,
        unique=kind.unique,
        **options,
    )


SECTIONS: list[Section] = [
    _kind_section(NOTIFICANT, secret=(SIGNING_SECRET,)),  # a signing secret is never exported
    _kind_section(ALERT, check=check_alert, rewrite=rewrite_alert, managed=("_snoozed", "_hidden", "_acl")),
    _kind_section(MAINTENANCE_WINDOW),
    _kind_section(
        EVENT,
        check=check_event,
        new_id=event_id,
        local=(events.NUMBER,),
        managed=("_creator", "_firing"),
        on_create=event_number,
        rewrite=rewrite_event,
    ),
    _kind_section(DERIVED_METRIC),
    _kind_section(EXTERNAL_LINK),
    # A source's id is its name: remapping keeps it.
    _kind_section(
        SOURCE,
        check=kind_check(SOURCE, body_of=lambda sid, public: {**public, "id": sid, "sourceName": sid}),
        new_id=lambda ctx, sid, doc: sid,
        managed=("_markedNew",),
    ),
    Section(
        name=FOLDERS,
        label="Folder",
        repo=dashboards.folders,
        check=check_folder,
        new_id=new_uid,
        local=(dashboards.NUMBER,),
        managed=(dashboards.PARENT,),
        on_create=grafana_number,
        rewrite=rewrite_folder,
        unique=dashboards.FOLDER_NAME,
        order=parents_first,
    ),
    Section(
        name=dashboards.KIND,
        label="Dashboard",
        repo=dashboards.dashboards,
        check=check_dashboard,
        new_id=new_uid,
        history=True,
        local=(dashboards.NUMBER,),
        managed=(dashboards.DIALECT, dashboards.FOLDER, entity_acl.ACL_KEY),
        on_create=grafana_number,
        rewrite=rewrite_dashboard,
        unique=dashboards.DASHBOARD_NAME,
    ),
]


# ---- routes -------------------------------------------------------------------------------------

# The import's answer: how many entities of each section were written, and the ids given.
IMPORTED = {
    "type": "object",
    "required": ["written", "ids"],
    "properties": {
        "written": {"type": "object", "additionalProperties": {"type": "integer"}},
        "ids": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}


def answer(ctx: Context, chunks: Iterator[str]) -> Reply:
    """The document itself when it fits in the answer bound (max_document_bytes), else
    303 to a short-lived download of the whole document, written to the blobs bucket a
    part at a time as the rest is read."""
    bound = ctx.settings.max_document_bytes
    head: list[bytes] = []
    size = 0
    for chunk in chunks:
        data = chunk.encode()
        head.append(data)
        size += len(data)
        if size > bound:
            key = f"exports/{ctx.tenant}/{ctx.now()}-{secrets.token_hex(8)}.json"
            stored = blobs.put_stream(key, _then(head, chunks))
            url = blobs.download_url(key, DOWNLOAD_SECONDS)
            payload = {"url": url, "bytes": stored, "expiresInSeconds": DOWNLOAD_SECONDS}
            return Reply(json.dumps(payload), status=303, raw=True, headers={"Location": url})
    return Reply(b"".join(head).decode(), raw=True)


def _then(head: list[bytes], chunks: Iterator[str]) -> Iterator[bytes]:
    yield from head
    for chunk in chunks:
        yield chunk.encode()


@router.get("/api/v2/export", acl="export.export", envelope=False, response={"type": "object"})
def export_tenant(req: Request) -> Reply:
    """The tenant's configuration as one document (303 to a download when it is large)."""
    return answer(req.ctx, document.fragments(req.ctx, SECTIONS))


@router.post(
    "/api/v2/import",
    acl="export.import",
    body={"type": "object"},
    response=IMPORTED,
    query=(("ids", "string", "keep (default) or remap: new ids, references rewritten"),),
    max_body="max_document_bytes",
)
def import_tenant(req: Request) -> dict[str, Any]:
    """Write an export document into the tenant (checked whole before anything is written)."""
    mode = req.arg("ids", document.KEEP) or document.KEEP
    if mode not in IDS:
        raise Invalid("ids must be keep or remap")
    plan = document.read(req.ctx, SECTIONS, req.json(default=None), mode)
    return {"written": document.write(req.ctx, plan), "ids": plan.ids}


CATEGORY = Category(router, permission="user_management")
