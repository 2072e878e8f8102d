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

from chalicelib.categories import export_identity
from chalicelib.categories.alert import ALERT
from chalicelib.categories.cloudintegration import CLOUD_INTEGRATION, CONFIG_OF, issue_external_id
from chalicelib.categories.dashboard import BOOKKEEPING
from chalicelib.categories.dashboard_views import DashboardBody
from chalicelib.categories.derivedmetric import DERIVED_METRIC
from chalicelib.categories.event import EVENT
from chalicelib.categories.extlink import EXTERNAL_LINK
from chalicelib.categories.ingestionpolicy import INGESTION_POLICY
from chalicelib.categories.maintenancewindow import MAINTENANCE_WINDOW
from chalicelib.categories.notificant import NOTIFICANT, references
from chalicelib.categories.savedsearch import SAVED_SEARCH
from chalicelib.categories.source import SOURCE
from chalicelib.dashboards import store as dashboards
from chalicelib.domain import entities, entity_acl, events
from chalicelib.domain import export as document
from chalicelib.domain.context import Context
from chalicelib.domain.entities import Kind, valid_tag
from chalicelib.domain.export import Doc, Planned, Resolve, Section
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request, validation_message
from chalicelib.http.router import Category, Router
from chalicelib.identity.accounts import ACCOUNT, GROUP
from chalicelib.store import blobs, counters, names
from chalicelib.store.repository import Entity, Repository, Writes

router = Router("export")

# The largest export answered in the response itself; past it, a download URL. Lambda's
# response payload limit is 6 MB, and the envelope-free JSON needs a margin.
MAX_ANSWER_BYTES = 5 * 1024 * 1024
DOWNLOAD_SECONDS = 900
IDS = (document.KEEP, document.REMAP)

Known = Any  # Callable[[str, str], bool]: is (section, id) in the tenant after the import


# ---- checking a kind's documents ------------------------------------------------------------


def _acl(ctx: Context, doc: Doc, known: Known) -> None:
    """An entity ACL may name only accounts and groups of the receiving tenant (its own,
    or groups of the document)."""
    acl = doc.get(entity_acl.ACL_KEY)
    if acl is None:
        return
    if not isinstance(acl, dict) or set(acl) - {"view", "modify"}:
        raise Invalid(f"{entity_acl.ACL_KEY}: must be {{view: [...], modify: [...]}}")
    named = [p for key in ("view", "modify") for p in acl.get(key, [])]
    if not all(isinstance(p, str) for p in named):
        raise Invalid(f"{entity_acl.ACL_KEY}: principals are ids (strings)")
    imported = {p for p in named if known(GROUP, p)}
    unknown = sorted(set(named) - imported - set(entities.principal_names(ctx, named)))
    if unknown:
        raise Invalid(f"{entity_acl.ACL_KEY}: no account or group {', '.join(unknown)} in this tenant")


def acl_accounts(doc: Doc, resolve: Resolve) -> list[str]:
    """Section.accounts of an entity ACL: its accounts mapped, the missing ones dropped."""
    acl = doc.get(entity_acl.ACL_KEY)
    if not isinstance(acl, dict):
        return []
    lost: list[str] = []
    for key in ("view", "modify"):
        if isinstance(acl.get(key), list):
            kept = []
            for principal in acl[key]:
                found = resolve(principal) if isinstance(principal, str) else principal
                if found is None:
                    lost.append(principal)
                else:
                    kept.append(found)
            acl[key] = kept
    return lost


def rewrite_acl(doc: Doc, ids: dict[str, dict[str, str]]) -> None:
    """An entity ACL names the document's groups by their new ids."""
    acl = doc.get(entity_acl.ACL_KEY)
    mapping = ids.get(GROUP, {})
    if isinstance(acl, dict):
        for key in ("view", "modify"):
            if isinstance(acl.get(key), list):
                acl[key] = [mapping.get(p, p) if isinstance(p, str) else p for p in acl[key]]


def _tags(tags: list[str]) -> None:
    for tag in tags:
        valid_tag(tag)


def kind_check(kind: Kind, *, body_of: Any = None, stored_of: Any = None, tenant_rule: bool = True) -> Any:
    """A Section.check for a Wavefront kind: the document's public keys must be a body of
    the kind's schema that its to_doc stores unchanged (so the import stores exactly what a
    create would; stored_of: the stored document as exported), its tags valid, the kind's
    own tenant rule (Kind.check) met unless the section checks it itself."""

    def check(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
        public = {k: v for k, v in doc.items() if not k.startswith("_")}
        body = body_of(entity_id, public) if body_of is not None else public
        try:
            model = kind.schema.model_validate(body)
        except ValidationError as exc:
            raise Invalid(validation_message(exc)) from exc
        stored, _ = kind.to_doc(model)
        if stored_of is not None:
            stored = stored_of(stored)
        changed = sorted(k for k in set(stored) | set(public) if stored.get(k) != public.get(k))
        if changed:
            raise Invalid(f"{changed[0]}: not as a {kind.label.lower()} stores it")
        _tags(tags)
        if tenant_rule and kind.check is not None:
            kind.check(ctx, model)
        _acl(ctx, doc, known)

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
    rewrite_acl(doc, ids)


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
    rewrite_acl(doc, ids)


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
    _acl(ctx, doc, known)


# ---- ingestion policies: the accounts and groups of their scope ----------------------------


def ingestion_orphan(doc: Doc) -> bool:
    """A policy of accounts whose accounts were all dropped has no scope left."""
    return doc.get("scope") == "ACCOUNT" and not doc.get("accounts")


def rewrite_ingestion(doc: Doc, ids: dict[str, dict[str, str]]) -> None:
    """A policy names the document's groups by their new ids."""
    mapping = ids.get(GROUP, {})
    if isinstance(doc.get("groups"), list):
        doc["groups"] = [mapping.get(g, g) if isinstance(g, str) else g for g in doc["groups"]]


def check_ingestion(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """An ingestion policy whose accounts are the tenant's and whose groups there will be."""
    kind_check(INGESTION_POLICY, tenant_rule=False)(ctx, entity_id, doc, tags, known)
    wanted = list(doc.get("accounts", []))
    found = {a.id for a in ctx.repo(ACCOUNT).get_many(list(dict.fromkeys(wanted)))} if wanted else set()
    unknown = [a for a in wanted if a not in found] + [g for g in doc.get("groups", []) if not known(GROUP, g)]
    if unknown:
        raise Invalid(f"{'accounts' if doc.get('accounts') else 'groups'}: not in this tenant: {unknown[0]}")


# ---- saved searches: each in its owner's partition ------------------------------------------

OWNER = "_owner"


def owned(ctx: Context, owner: str) -> Repository:
    """An account's saved searches (entities.repo scoped to that account, not the caller)."""
    kind = SAVED_SEARCH
    return ctx.repo(kind.name, history=kind.history, unique=kind.unique, head_keys=kind.head_keys, scope=owner)


def saved_search_listing(ctx: Context) -> Iterator[Entity]:
    """Every account's saved searches, by account then id, each naming its owner."""
    for account in ctx.repo(ACCOUNT).iterate():
        for search in owned(ctx, account.id).iterate():
            yield Entity(
                id=search.id,
                kind=search.kind,
                tenant=search.tenant,
                doc={**search.doc, OWNER: account.id},
                tags=search.tags,
            )


def saved_search_owner(doc: Doc, resolve: Resolve) -> list[str]:
    """Section.accounts: the owner mapped, or dropped (and the saved search with it)."""
    owner = doc.get(OWNER)
    if not isinstance(owner, str):
        return []
    found = resolve(owner)
    if found is None:
        del doc[OWNER]
        return [owner]
    doc[OWNER] = found
    return []


def check_saved_search(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """A saved search of an account of the tenant (no tags, no trash)."""
    kind_check(SAVED_SEARCH)(ctx, entity_id, doc, tags, known)
    owner = doc.get(OWNER)
    if not isinstance(owner, str) or ctx.repo(ACCOUNT).find(owner) is None:
        raise Invalid(f"{OWNER}: no account {owner} in this tenant")
    if tags:
        raise Invalid("tags: saved searches have none")


def write_saved_search(ctx: Context, planned: Planned) -> None:
    """Create the saved search in its owner's partition, as its owner's."""
    state = planned.versions[-1]
    doc = {k: v for k, v in state["doc"].items() if k != OWNER}
    owner = ctx.repo(ACCOUNT).get(state["doc"][OWNER])
    owned(ctx, owner.id).create(planned.id, doc, by=str(owner.doc.get("username") or owner.id))


# ---- cloud integrations: never their external id --------------------------------------------

UNISSUED = "0" * 32  # an external id's shape, for checking a document that has none


def _credentials(doc: Doc) -> Doc | None:
    config = doc.get(CONFIG_OF.get(str(doc.get("service")), ""))
    creds = config.get("baseCredentials") if isinstance(config, dict) else None
    return creds if isinstance(creds, dict) else None


def without_external_id(doc: Doc) -> Doc:
    """A cloud integration's document less its external id (issued per tenant)."""
    out = json.loads(json.dumps(doc))
    creds = _credentials(out)
    if creds is not None:
        creds.pop("externalId", None)
    return out


def _unissued(entity_id: str, public: Doc) -> Doc:
    body = json.loads(json.dumps(public))
    creds = _credentials(body)
    if creds is not None:
        creds["externalId"] = UNISSUED
    return body


def cloud_listing(ctx: Context) -> Iterator[Entity]:
    store = entities.repo(ctx, CLOUD_INTEGRATION)
    for entity in document.merged(store):
        yield Entity(
            id=entity.id,
            kind=entity.kind,
            tenant=entity.tenant,
            doc=without_external_id(entity.doc),
            tags=entity.tags,
            deleted=entity.deleted,
        )


def write_cloud(ctx: Context, planned: Planned) -> None:
    """Issue the integration a new external id of this tenant, then write it."""
    issued = issue_external_id(ctx)
    versions = []
    for state in planned.versions:
        doc = json.loads(json.dumps(state["doc"]))
        creds = _credentials(doc)
        if creds is not None:
            creds["externalId"] = issued
        versions.append({**state, "doc": doc})
    document.write_entity(ctx, Planned(planned.section, planned.id, versions))


# ---- the sections, in the document's order ------------------------------------------------------

FOLDERS = dashboards.FOLDER_KIND


def _kind_section(kind: Kind, **options: Any) -> Section:
    options.setdefault("check", kind_check(kind))
    options.setdefault("new_id", fresh_id)
    options.setdefault("repo", lambda ctx: entities.repo(ctx, kind))
    return Section(
        name=kind.name,
        label=kind.label,
        history=kind.history,
        unique=kind.unique,
        **options,
    )


SECTIONS: list[Section] = [
    *export_identity.SECTIONS,
    _kind_section(NOTIFICANT),
    _kind_section(
        ALERT,
        check=check_alert,
        rewrite=rewrite_alert,
        managed=("_snoozed", "_hidden", "_acl"),
        accounts=acl_accounts,
    ),
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
        accounts=acl_accounts,
    ),
    _kind_section(
        INGESTION_POLICY,
        check=check_ingestion,
        rewrite=rewrite_ingestion,
        accounts=export_identity.drop_accounts("accounts"),
        orphan=ingestion_orphan,
    ),
    _kind_section(
        SAVED_SEARCH,
        repo=lambda ctx: owned(ctx, ctx.principal.id),
        check=check_saved_search,
        managed=(OWNER,),
        listing=saved_search_listing,
        accounts=saved_search_owner,
        orphan=lambda doc: OWNER not in doc,
        taken=lambda ctx, sid, doc: isinstance(doc.get(OWNER), str) and owned(ctx, doc[OWNER]).find(sid) is not None,
        write=write_saved_search,
    ),
    _kind_section(
        CLOUD_INTEGRATION,
        check=kind_check(CLOUD_INTEGRATION, body_of=_unissued, stored_of=without_external_id, tenant_rule=False),
        managed=("_disabled",),
        listing=cloud_listing,
        write=write_cloud,
    ),
]


# ---- routes -------------------------------------------------------------------------------------

# The import's answer: how many entities of each section were written, and the ids given.
IMPORTED = {
    "type": "object",
    "required": ["written", "ids", "dropped"],
    "properties": {
        "written": {"type": "object", "additionalProperties": {"type": "integer"}},
        "ids": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "dropped": {
            "type": "object",
            "description": "remap: account references the tenant lacks, by entity (section[id])",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
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
    req.ctx.memo[export_identity.SOURCE] = req.source
    plan = document.read(req.ctx, SECTIONS, req.json(default=None), mode)
    return {"written": document.write(req.ctx, plan), "ids": plan.ids, "dropped": plan.dropped}


CATEGORY = Category(router, permission="user_management")
