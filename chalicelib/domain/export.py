"""A tenant's configuration as one JSON document, and that document written into a tenant.

The document (format version FORMAT_VERSION):

    {"format": "opsplane-export", "version": 2,
     "accounts": [{"id", "name", "type"}, ...],
     "kinds": {"<section>": [<entry>, ...], ...}}

Sections come in a fixed order (the categories module lists them, referenced kinds first)
and every section's entries in id order, trashed ones included. An entry is
`{"id", "doc", "tags", "deleted"}`, plus for a kind with history `"versions"`: every version
oldest first (`{"doc", "tags", "deleted"[, "note"]}`), the last one being the entry itself.

Accounts are not exported, only referenced: `accounts` lists the tenant's accounts by id,
username and type (no credentials), and an import maps each to the receiving tenant's
account of the same username and type. A reference to an account the receiving tenant
lacks is a 400 with ids kept, and is dropped (and answered as dropped) with ids remapped.

What the document leaves out, because it belongs to the tenant that holds the entity and
is made anew by the one that receives it: created / updated times, creator and updater,
version numbers, history descriptions, and each section's tenant-local keys (Grafana's
numeric ids). A section's secret keys are never exported. So the round trip is exact on
the document: export(import(export(A))) == export(A).

Export reads one section at a time, page by page from the repository (Query only), and
yields JSON fragments: no tenant is ever held whole in memory. Import checks the whole
document first (shape, ids, names, references, each document against its kind's rules)
and writes only when everything passed; its writes go through the kinds' repositories
(unique names, counters, timelines, history), one entity at a time.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, Invalid, NameExists, NotFound
from chalicelib.identity import accounts
from chalicelib.store.repository import Entity, Repository, UniqueName, Writes, check_id

FORMAT = "opsplane-export"
FORMAT_VERSION = 2
KEEP, REMAP = "keep", "remap"
# The key of the ids map (and of references) for accounts: referenced, never written.
ACCOUNTS = "account"
# Bounds of an imported document (the request body is bounded too: max_document_bytes).
MAX_ENTRIES = 10_000
MAX_VERSIONS = 1000
MAX_TAGS = 200
HISTORY_PAGE = 100

Doc = dict[str, Any]
# Rewrites the references of one document in place: (doc, ids) where ids maps a section's
# name to {old id: new id}.
Rewrite = Callable[[Doc, dict[str, dict[str, str]]], None]
# An account id of the document -> the receiving tenant's account id, or None when that
# tenant lacks the account (an id the document does not list is the tenant's own: itself).
Resolve = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Section:
    """One kind as the document holds it: where it is stored and what its documents
    may hold and name.

    repo: the kind's repository (as its category makes it: names, heads, timeline).
    check(ctx, id, doc, tags, known): raises Invalid when a document (public keys and
    managed ones) with its tags is not one the kind would store; known(section, id) says whether an id is in the document
    or the tenant (for references). local: keys made by the receiving tenant (left out).
    secret: keys never exported. managed: the server-managed keys ("_...") a document may
    carry. new_id(ctx, id, doc): the id in remap mode (the same one for a kind whose id is a
    name). on_create: the tenant-local keys and the
    extra writes of an entity's first write. rewrite: rewrites references (both modes).
    unique: the kind's unique name, checked against the document and the tenant.
    order: the order entities are written in (parents first), by default the document's.
    listing(ctx): the entities as the document holds them (default: the repository's, live
    and trashed, in id order). accounts(doc, resolve): rewrites the account references of a
    document in place, dropping the unresolved ones, and returns the dropped ids. orphan(doc):
    whether an entity means nothing once its account references were dropped (a saved
    search without its owner): it is then not imported. taken(ctx, id, doc): whether the
    tenant already holds the id (default: the repository has it, live or trashed).
    claim(ctx, doc): (unique name, id holding it in the tenant or None) for a kind whose
    unique names are not the repository's. write(ctx, planned): writes one entity through
    the kind's own functions (default: write_entity). aliases(ctx): {the tenant's id: the
    document's id} of the entities every tenant has its own of (Everyone's group and role,
    whose ids derive from the tenant): the document names them, and every reference to
    them, by a tenant-independent id, and an import maps that id onto the receiving
    tenant's own entity (in both modes, never a conflict), which its write then changes.
    """

    name: str
    label: str
    repo: Callable[[Context], Repository]
    check: Callable[[Context, str, Doc, list[str], Callable[[str, str], bool]], None]
    new_id: Callable[[Context, str, Doc], str]
    history: bool = False
    local: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()
    managed: tuple[str, ...] = ()
    on_create: Callable[[Context, str, Doc], tuple[Doc, Writes | None]] | None = None
    rewrite: Rewrite | None = None
    unique: UniqueName | None = None
    order: Callable[[list[Doc]], list[Doc]] | None = None
    listing: Callable[[Context], Iterable[Entity]] | None = None
    accounts: Callable[[Doc, Resolve], list[str]] | None = None
    orphan: Callable[[Doc], bool] | None = None
    taken: Callable[[Context, str, Doc], bool] | None = None
    claim: Callable[[Context, Doc], tuple[str, str | None] | None] | None = None
    write: Callable[[Context, Planned], None] | None = None
    aliases: Callable[[Context], dict[str, str]] | None = None


# ---- export -------------------------------------------------------------------------------


def _aliased(value: Any, aliases: dict[str, str]) -> Any:
    """value with every string that is an aliased id replaced by its alias (lists and
    object values, at any depth)."""
    if not aliases:
        return value
    if isinstance(value, str):
        return aliases.get(value, value)
    if isinstance(value, list):
        return [_aliased(v, aliases) for v in value]
    if isinstance(value, dict):
        return {k: _aliased(v, aliases) for k, v in value.items()}
    return value


def aliases_of(ctx: Context, sections: Iterable[Section]) -> dict[str, str]:
    """Every section's aliases, in one map (Section.aliases)."""
    return {k: v for s in sections if s.aliases is not None for k, v in s.aliases(ctx).items()}


def _state(entity: Entity, section: Section, aliases: dict[str, str] | None = None) -> Doc:
    """One version as the document holds it."""
    hidden = set(section.local) | set(section.secret)
    out: Doc = {
        "doc": _aliased({k: v for k, v in entity.doc.items() if k not in hidden}, aliases or {}),
        "tags": sorted(entity.tags),
        "deleted": entity.deleted,
    }
    if entity.note:
        out["note"] = entity.note
    return out


def _versions(store: Repository, entity: Entity, section: Section, aliases: dict[str, str]) -> list[Doc]:
    """Every version of entity, oldest first (read a page at a time; one entity's history
    is the most held at once)."""
    found: list[Entity] = []
    offset = 0
    while True:
        page, total = store.history(entity.id, offset=offset, limit=HISTORY_PAGE)
        found.extend(page)
        offset += len(page)
        if not page or offset >= total:
            break
    return [_state(v, section, aliases) for v in reversed(found)] or [_state(entity, section, aliases)]


def merged(store: Repository) -> Iterator[Entity]:
    """A repository's entities in id order, live and trashed (two Queries read as they go)."""
    return heapq.merge(store.iterate(deleted=False), store.iterate(deleted=True), key=lambda e: e.id)


def entries(ctx: Context, section: Section, aliases: dict[str, str] | None = None) -> Iterator[Doc]:
    """The section's entries in id order, live and trashed (aliased ids replaced)."""
    store = section.repo(ctx)
    aliases = aliases or {}
    listed = section.listing(ctx) if section.listing is not None else merged(store)
    for entity in listed:
        entry: Doc = {"id": aliases.get(entity.id, entity.id), **_state(entity, section, aliases)}
        entry.pop("note", None)
        if section.history:
            entry["versions"] = _versions(store, entity, section, aliases)
        yield entry


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def account_refs(ctx: Context) -> Iterator[Doc]:
    """The tenant's accounts as references: id, username and type, nothing else."""
    for account in ctx.repo(accounts.ACCOUNT).iterate():
        yield {"id": account.id, "name": account.doc.get("username"), "type": account.doc.get("type")}


def fragments(ctx: Context, sections: Iterable[Section]) -> Iterator[str]:
    """The tenant's export document as JSON fragments, a section and an entity at a time."""
    yield f'{{"format":{_dump(FORMAT)},"accounts":['
    for j, ref in enumerate(account_refs(ctx)):
        yield ("," if j else "") + _dump(ref)
    yield '],"kinds":{'
    sections = list(sections)
    aliases = aliases_of(ctx, sections)
    for i, section in enumerate(sections):
        yield f"{',' if i else ''}{_dump(section.name)}:["
        for j, entry in enumerate(entries(ctx, section, aliases)):
            yield ("," if j else "") + _dump(entry)
        yield "]"
    yield f'}},"version":{FORMAT_VERSION}}}'


# ---- import: reading and checking the document -----------------------------------------------


@dataclass
class Planned:
    """One entity to write: its id in the receiving tenant and its versions, rewritten."""

    section: Section
    id: str
    versions: list[Doc]


@dataclass
class Plan:
    """Everything an import writes, checked."""

    entities: list[Planned] = field(default_factory=list)
    # {section: {id in the document: id in the tenant}}
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    # {"<section>[<id in the document>]": [usernames]}: account references dropped (remap
    # mode), and the entities left out because of them (their ids absent from `ids`).
    dropped: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many entities of each section the plan writes."""
        found: dict[str, int] = {}
        for p in self.entities:
            found[p.section.name] = found.get(p.section.name, 0) + 1
        return found


def _where(section: Section, entity_id: Any, key: str = "") -> str:
    return f"{section.name}[{entity_id}]" + (f".{key}" if key else "")


def _state_of(section: Section, entity_id: str, raw: Any, key: str) -> Doc:
    """A version (or an entry's own state) checked for shape."""
    where = _where(section, entity_id, key)
    if not isinstance(raw, dict):
        raise Invalid(f"{where}: must be an object")
    doc, tags, deleted = raw.get("doc"), raw.get("tags", []), raw.get("deleted", False)
    if not isinstance(doc, dict):
        raise Invalid(f"{where}.doc: must be an object")
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(isinstance(t, str) for t in tags):
        raise Invalid(f"{where}.tags: must be a list of at most {MAX_TAGS} strings")
    if not isinstance(deleted, bool):
        raise Invalid(f"{where}.deleted: must be a boolean")
    note = raw.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2048):
        raise Invalid(f"{where}.note: must be a string of at most 2048 characters")
    for k in doc:
        if k in section.local or k in section.secret or (k.startswith("_") and k not in section.managed):
            raise Invalid(f"{where}.doc.{k}: not a field a document may carry")
    out: Doc = {"doc": doc, "tags": sorted(set(tags)), "deleted": deleted}
    if note:
        out["note"] = note
    return out


def _entry(section: Section, raw: Any) -> tuple[str, list[Doc]]:
    """An entry's id and its versions (the entry's own state for a kind without history)."""
    if not isinstance(raw, dict):
        raise Invalid(f"{section.name}: every entry must be an object")
    entity_id = raw.get("id")
    if not isinstance(entity_id, str):
        raise Invalid(f"{section.name}: every entry needs an id (a string)")
    try:
        check_id(entity_id)
    except Invalid as exc:
        raise Invalid(f"{_where(section, entity_id, 'id')}: {exc}") from exc
    state = _state_of(section, entity_id, raw, "")
    if not section.history:
        return entity_id, [state]
    versions = raw.get("versions")
    if not isinstance(versions, list) or not versions or len(versions) > MAX_VERSIONS:
        raise Invalid(f"{_where(section, entity_id, 'versions')}: must list 1 to {MAX_VERSIONS} versions")
    checked = [_state_of(section, entity_id, v, f"versions[{i}]") for i, v in enumerate(versions)]
    if checked[0]["deleted"]:
        raise Invalid(f"{_where(section, entity_id, 'versions[0].deleted')}: the first version is never in the trash")
    last = {k: v for k, v in checked[-1].items() if k != "note"}
    if last != state:
        raise Invalid(f"{_where(section, entity_id, 'versions')}: the last version must be the entry itself")
    return entity_id, checked


def read(ctx: Context, sections: list[Section], document: Any, mode: str) -> Plan:
    """Check a whole document against the receiving tenant and plan its writes (Invalid
    naming the entity and field, Conflict for an id or name the tenant already holds)."""
    if mode not in (KEEP, REMAP):
        raise Invalid("ids must be keep or remap")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise Invalid(f"format: the document must be an {FORMAT} document")
    if document.get("version") != FORMAT_VERSION:
        raise Invalid(f"version: this server reads version {FORMAT_VERSION} documents")
    kinds = document.get("kinds")
    if not isinstance(kinds, dict):
        raise Invalid("kinds: must be an object of sections")
    by_name = {s.name: s for s in sections}
    unknown = sorted(set(kinds) - set(by_name))
    if unknown:
        raise Invalid(f"kinds: unknown sections {', '.join(unknown)}")
    raw_sections = {s.name: kinds.get(s.name, []) for s in sections}
    if sum(len(v) if isinstance(v, list) else 0 for v in raw_sections.values()) > MAX_ENTRIES:
        raise Invalid(f"kinds: at most {MAX_ENTRIES} entities per import")
    parsed: dict[str, list[tuple[str, list[Doc]]]] = {}
    for section in sections:
        raw = raw_sections[section.name]
        if not isinstance(raw, list):
            raise Invalid(f"kinds.{section.name}: must be a list")
        parsed[section.name] = [_entry(section, r) for r in raw]
        listed = [i for i, _ in parsed[section.name]]
        if len(set(listed)) != len(listed):
            dup = next(i for i in listed if listed.count(i) > 1)
            raise Invalid(f"{_where(section, dup, 'id')}: listed twice")
    plan = Plan()
    mapped, missing = _accounts(ctx, document.get("accounts", []))
    for section in sections:
        parsed[section.name] = _resolved(section, parsed[section.name], mapped, missing, mode, plan)
    fixed = {s.name: {alias: own for own, alias in s.aliases(ctx).items()} for s in sections if s.aliases}
    ids = _new_ids(ctx, sections, parsed, mode, fixed)
    plan.ids = {ACCOUNTS: {old: mapped[old] for old in sorted(mapped)}, **ids}
    known = _known(ctx, sections, ids)
    for section in sections:
        store = section.repo(ctx)
        names: dict[str, str] = {}
        for old, versions in parsed[section.name]:
            new = ids[section.name][old]
            for i, state in enumerate(versions):
                if section.rewrite is not None:
                    section.rewrite(state["doc"], ids)
                key = "" if i == len(versions) - 1 else f"versions[{i}]"
                try:
                    section.check(ctx, new, state["doc"], state["tags"], known)
                except Invalid as exc:
                    raise Invalid(f"{_where(section, old, key + ('.' if key else '') + 'doc')}: {exc}") from exc
            _claim_name(ctx, section, store, old, new, versions[-1], names)
            plan.entities.append(Planned(section, new, versions))
    plan.entities = _ordered(sections, plan.entities)
    return plan


def _accounts(ctx: Context, refs: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The document's account references matched to the receiving tenant's accounts by
    username and type: ({id in the document: id in the tenant}, {id in the document:
    username} of those the tenant lacks)."""
    if not isinstance(refs, list) or len(refs) > MAX_ENTRIES:
        raise Invalid(f"accounts: must be a list of at most {MAX_ENTRIES} account references")
    mapped: dict[str, str] = {}
    missing: dict[str, str] = {}
    store = ctx.repo(accounts.ACCOUNT)
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict) or not all(isinstance(ref.get(k), str) for k in ("id", "name", "type")):
            raise Invalid(f"accounts[{i}]: must be {{id, name, type}} (strings)")
        located = accounts.find_by_username(ref["name"])
        found = store.find(located[1]) if located is not None and located[0] == ctx.tenant else None
        if found is not None and found.doc.get("type") == ref["type"]:
            mapped[ref["id"]] = found.id
        else:
            missing[ref["id"]] = ref["name"]
    return mapped, missing


def _resolved(
    section: Section,
    entries: list[tuple[str, list[Doc]]],
    mapped: dict[str, str],
    missing: dict[str, str],
    mode: str,
    plan: Plan,
) -> list[tuple[str, list[Doc]]]:
    """The entries with their account references rewritten to the receiving tenant's
    accounts. An account that tenant lacks: Invalid with ids kept; with ids remapped the
    reference is dropped (and an orphaned entity left out), both listed in plan.dropped."""
    if section.accounts is None:
        return entries

    def resolve(account_id: str) -> str | None:
        return None if account_id in missing else mapped.get(account_id, account_id)

    kept: list[tuple[str, list[Doc]]] = []
    for old, versions in entries:
        dropped: list[str] = []
        for i, state in enumerate(versions):
            lost = section.accounts(state["doc"], resolve)
            if lost and mode == KEEP:
                where = _where(section, old, ("" if i == len(versions) - 1 else f"versions[{i}].") + "doc")
                names = ", ".join(sorted({missing[a] for a in lost}))
                raise Invalid(f"{where}: no account {names} in this tenant (accounts are not imported)")
            dropped += [missing[a] for a in lost]
        if dropped:
            plan.dropped[_where(section, old)] = sorted(set(dropped))
        if section.orphan is not None and any(section.orphan(v["doc"]) for v in versions):
            continue
        kept.append((old, versions))
    return kept


def _new_ids(
    ctx: Context,
    sections: list[Section],
    parsed: dict[str, list[tuple[str, list[Doc]]]],
    mode: str,
    fixed: dict[str, dict[str, str]],
) -> dict[str, dict[str, str]]:
    """{section: {id in the document: id in the tenant}}; in keep mode an id the tenant
    already holds (live or in the trash) is a Conflict. fixed: {section: {alias: the
    tenant's own id}} (Section.aliases), taken whatever the mode."""
    ids: dict[str, dict[str, str]] = {}
    for section in sections:
        store = section.repo(ctx)
        chosen: dict[str, str] = {}
        for old, versions in parsed[section.name]:
            if old in fixed.get(section.name, {}):
                chosen[old] = fixed[section.name][old]
                continue
            last = versions[-1]["doc"]
            new = section.new_id(ctx, old, last) if mode == REMAP else old
            chosen[old] = new
            if new != old:
                continue
            if section.taken is not None:
                if not section.taken(ctx, old, last):
                    continue
            else:
                try:
                    store.get(old, include_deleted=True)
                except NotFound:
                    continue
            raise Conflict(f"{_where(section, old, 'id')}: the tenant already holds {section.label.lower()} {old}")
        ids[section.name] = chosen
    return ids


def _known(ctx: Context, sections: list[Section], ids: dict[str, dict[str, str]]) -> Callable[[str, str], bool]:
    """Whether an id of a section is in the tenant once the import is written."""
    stores = {s.name: s for s in sections}
    incoming = {name: set(mapping.values()) for name, mapping in ids.items()}

    def known(section: str, entity_id: str) -> bool:
        if entity_id in incoming.get(section, set()):
            return True
        try:
            stores[section].repo(ctx).get(entity_id)
        except (NotFound, Invalid):
            return False
        return True

    return known


def _claim_name(
    ctx: Context, section: Section, store: Repository, old: str, new: str, last: Doc, names: dict[str, str]
) -> None:
    """A live entity's unique name must be free in the document and in the tenant."""
    if section.claim is not None:
        claimed = section.claim(ctx, last["doc"])
        if claimed is None:
            return
        key, holder = claimed
        message = f"the tenant already has a {section.label.lower()} named {key}"
    elif section.unique is not None:
        probe = Entity(id=new, kind=section.name, tenant=store.tenant, doc=last["doc"], deleted=last["deleted"])
        found = section.unique.key(probe)
        if found is None:
            return
        key, holder, message = found, store.name_holder(found), section.unique.message
    else:
        return
    if key in names or holder not in (None, new):
        raise NameExists(f"{_where(section, old, 'doc')}: {message}")
    names[key] = new


def _ordered(sections: list[Section], planned: list[Planned]) -> list[Planned]:
    """The plan in section order, each section in its own write order."""
    out: list[Planned] = []
    for section in sections:
        mine = [p for p in planned if p.section is section]
        if section.order is not None:
            by_id = {p.id: p for p in mine}
            order = section.order([{"id": p.id, **p.versions[-1]} for p in mine])
            mine = [by_id[e["id"]] for e in order]
        out.extend(mine)
    return out


# ---- import: writing ----------------------------------------------------------------------------


def write(ctx: Context, plan: Plan) -> dict[str, int]:
    """Write a checked plan, entity by entity. Returns the counts per section."""
    for planned in plan.entities:
        (planned.section.write or write_entity)(ctx, planned)
    return plan.counts()


def write_entity(ctx: Context, planned: Planned) -> None:
    """Write one entity through its repository: created with its first version, then
    changed to each later one (so its history is the document's)."""
    section = planned.section
    store = section.repo(ctx)
    first = planned.versions[0]
    doc, extra = dict(first["doc"]), None
    local: Doc = {}
    if section.on_create is not None:
        made, extra = section.on_create(ctx, planned.id, doc)
        local = {k: made[k] for k in section.local if k in made}
        doc = {**doc, **local}
    store.create(planned.id, doc, by=ctx.actor, tags=first["tags"], extra=extra, note=first.get("note"))
    # A create is live: a trashed entity without history is created, then trashed.
    states = planned.versions[1:] or ([first] if first["deleted"] else [])
    for state in states:
        _change_to(store, planned.id, state, local, ctx.actor)


def _change_to(store: Repository, entity_id: str, state: Doc, local: Doc, by: str) -> None:
    def apply(entity: Entity) -> None:
        entity.doc = {**state["doc"], **local}
        entity.tags = list(state["tags"])
        entity.deleted = state["deleted"]

    store.update(entity_id, apply, by=by, include_deleted=True, note=state.get("note"))
