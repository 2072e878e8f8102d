"""The purge of a deleted tenant: everything it owns goes, in bounded, resumable steps.

`tenants.delete_tenant` marks the tenant deleted (410 from then on), makes its purge state
`{step: 0, stage: 0}` (a row of `tenants.purges()`, outside the tenant: moving it on writes
nothing into what is being purged) and sends step 0 to the `tenant-purge` queue. Each
message runs one step (`run`): at most STEP_ROWS deletes of the current stage, then the state
moves to the next step (the stage's cursor saved with it) and the next step is sent. Stages,
in order:

0. schedules: its rows in installation-wide schedules (the cloud integrations a schedule
   pulls: store/cloudpulls.py), so no scheduled job works in it any more;
1. descendants: each child is marked deleted and purged the same way, one step of it per
   step of the parent, until no child is left (a child's last step unlinks it);
2. accounts: each is deleted as an account deletion does (its username freed, API tokens and
   OAuth clients revoked, groups left);
3. credentials: the rest of the tenant's rows in the tokens table (sessions, refresh tokens,
   tokens and clients left by an interrupted account deletion) and the lookup rows they name;
4. entities: every partition the tenant's registry lists (store/partitions.py), with the
   partitions derived from each (history, heads, unique names, timeline), its audit log,
   its idempotency records and its access filters (store/accessfilters.py, by day within
   their retention); each registry row goes once its partition is empty;
5. time series: metric names -> series -> each series' day partitions (from its first to its
   last sighting), and the trace index -> each trace's spans;
6. blobs: the S3 objects under `<tenant>/` (large documents) and `exports/<tenant>/`;
7. registry: the tenant's partition registry itself;
then the record becomes a tombstone: the tenant's slug and its link in the parent are
released, the record keeps its id, parent and `deleted`, so the id is never used again; the
purge state goes. The tombstone's write is audited like any other: that one record (who
purged the tenant, when) stays in the tenant's audit log until the audit retention expires it.

Deletes are idempotent and a stage reads only what is left, so a step run twice (a message
delivered again) does no harm; the record's step number drops stale messages: a message for
a step the state has passed is dropped, unless it is a redelivery of the step just done
(its successor may never have been sent: it is sent again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from chalicelib.auth import apitokens, oauthclients, refreshtokens, sessionlist
from chalicelib.auth.cache import invalidate
from chalicelib.errors import NotFound, VersionMismatch
from chalicelib.identity import accounts, directory, names, tenants
from chalicelib.store import accessfilters, alerting, audit, blobs, cloudpulls, partitions, series
from chalicelib.store import names as reservations
from chalicelib.store.partitions import ENTITIES, TIMESERIES, TOKENS, USAGE
from chalicelib.store.repository import Entity, now_ms

STEP_ROWS = 200  # deletes per step (one message): well inside a worker's timeout
# A step must afford a few empty partitions' Queries (an entity partition's derived ones).
MIN_STEP_ROWS = 8
ACCOUNTS_PER_STEP = 10  # an account's deletion is several transactions
REGISTRY_PAGE = 25  # registered partitions looked at per step
BY = "opsplane-purge"
# The partitions an entity partition `<pk>` implies (history is per id: `<pk>#h#<id>`).
DERIVED = ("#head", "#name", "#t")
SERIES_KINDS: tuple[series.Kind, ...] = ("metric", "histogram", "span")

Cursor = dict[str, Any]


@dataclass
class Budget:
    """How many more deletes (and reads of empty partitions) a step may make."""

    left: int

    def spend(self, count: int) -> None:
        self.left -= count

    @property
    def spent(self) -> bool:
        return self.left <= 0


def _sweep(table: partitions.Table, pk: str, budget: Budget) -> bool:
    """Delete what the budget allows of partition pk; True when it is empty now."""
    if budget.spent:
        return False
    limit = budget.left
    deleted = partitions.sweep(table, pk, limit)
    budget.spend(max(deleted, 1))  # an empty partition's Query costs something too
    return deleted < limit


# ---- stages: each deletes within the budget; (True: nothing of it left, cursor) ---------


# Installation-wide registries a schedule reads, and the prefix of a tenant's rows in each:
# the cloud integrations it pulls, its evaluated alerts and derived metrics (one row each).
SCHEDULED = (
    (cloudpulls.PARTITION, cloudpulls.tenant_prefix),
    (alerting.PARTITION, lambda tenant: tenant),
    (alerting.DERIVED_PARTITION, lambda tenant: tenant),
)


def _schedules(tenant: str, budget: Budget, cursor: Cursor) -> tuple[bool, Cursor]:
    found = [
        key
        for partition, prefix in SCHEDULED
        for key in partitions.take(ENTITIES, partition, budget.left, prefix=prefix(tenant))
    ]
    partitions.drop(ENTITIES, found)
    budget.spend(len(found) + 1)
    return not found, {}


def _descendants(tenant: str, budget: Budget, cursor: Cursor) -> tuple[bool, Cursor]:
    children = tenants.children(tenant)
    if not children:
        return True, {}
    child = children[0]
    try:
        doc = tenants.get_tenant(child)
    except NotFound:  # a link to nothing: drop it
        partitions.drop(ENTITIES, [(f"{tenant}#{tenants.CHILD}", child)])
        budget.spend(1)
        return False, {}
    if not doc.get("deleted"):
        tenants.mark_deleted(child, by=BY)
    if doc.get("purged_at"):  # a tombstone still linked (its last step stopped half-way)
        partitions.drop(ENTITIES, [(f"{tenant}#{tenants.CHILD}", child)])
        budget.spend(1)
        return False, {}
    try:
        advance(child, budget)
    except VersionMismatch:
        pass  # the child's own purge moved meanwhile: the next step goes on from there
    return False, {}


def _accounts(tenant: str, budget: Budget, cursor: Cursor) -> tuple[bool, Cursor]:
    found = list(islice(accounts.repo(tenant, accounts.ACCOUNT).iterate(consistent=True), ACCOUNTS_PER_STEP))
    for account in found:
        try:
            directory.delete_account(tenant, account.id)
        except NotFound:
            continue  # deleted meanwhile (a step delivered twice)
        budget.spend(STEP_ROWS // ACCOUNTS_PER_STEP)
    return not found, {}


# Each source of credential rows: the tenant's partitions, and what a listed row points to.
CREDENTIALS: tuple[tuple[Callable[[str], list[str]], Callable[[str | None], list[tuple[str, str]]] | None], ...] = (
    (apitokens.partitions_of, apitokens.rows_behind),
    (oauthclients.partitions_of, oauthclients.rows_behind),
    (refreshtokens.partitions_of, refreshtokens.rows_behind),
    (sessionlist.partitions_of, None),
)


def _credentials(tenant: str, budget: Budget, cursor: Cursor) -> tuple[bool, Cursor]:
    idle = True
    for partitions_of, behind in CREDENTIALS:
        for pk in partitions_of(tenant):
            if budget.spent:
                return False, {}
            found = partitions.rows(TOKENS, pk, budget.left, "doc")
            if not found:
                continue
            idle = False
            pointed = [key for _, values in found for key in (behind(values.get("doc")) if behind else [])]
            # What a listed row points to goes first: a stop in between leaves the listed
            # row, which still names it.
            partitions.drop(TOKENS, pointed)
            partitions.drop(TOKENS, [key for key, _ in found])
            budget.spend(len(pointed) + len(found))
    invalidate()
    return idle, {}


def _entity_partition(pk: str, budget: Budget) -> bool:
    """Delete what the budget allows of an entity partition and those derived from it; True
    when all of them are empty. An object's history goes before the object (its id is how
    the history is found)."""
    limit = budget.left
    found = partitions.take(ENTITIES, pk, limit)
    cleared = []
    for key in found:
        if not _sweep(ENTITIES, f"{pk}#h#{key[1]}", budget):
            break
        cleared.append(key)
    partitions.drop(ENTITIES, cleared)
    budget.spend(len(cleared))
    if len(cleared) < len(found) or len(found) >= limit:
        return False
    return all(_sweep(ENTITIES, pk + suffix, budget) for suffix in DERIVED)


def _fixed(tenant: str) -> list[tuple[partitions.Table, str]]:
    """Partitions every tenant has under fixed names, written inside other writes'
    transactions or by day: its audit log (store/audit.py), Powertools' idempotency records,
    its access filters (store/accessfilters.py, each day within their retention)."""
    return [
        (ENTITIES, f"{tenant}#{audit.KIND}"),
        (USAGE, f"{tenant}#idempotency"),
        *((USAGE, pk) for pk in accessfilters.partitions_of(tenant, time.time())),
    ]


def _entities(tenant: str, budget: Budget, cursor: Cursor) -> tuple[bool, Cursor]:
    record = f"{tenant}#{tenants.TENANT}"  # the tombstone stays
    listed = [p for p in partitions.listed(tenant, REGISTRY_PAGE) if p != (ENTITIES, record)]
    for table, pk in listed:
        empty = _entity_partition(pk, budget) if table == ENTITIES else _sweep(table, pk, budget)
        if not empty:
            return False, {}
        partitions.drop(ENTITIES, partitions.unlisted(tenant, [(table, pk)]))
    if listed:
        return False, {}  # the next page of the registry, if any
    # The fixed partitions, from the one the last step stopped in (an empty one costs a
    # Query; the cursor names the partition: the days move on at midnight).
    fixed = _fixed(tenant)
    order = [pk for _, pk in fixed]
    start = order.index(cursor["fixed"]) if cursor.get("fixed") in order else 0
    for table, pk in fixed[start:]:
        if not _sweep(table, pk, budget):
            return False, {"fixed": pk}
    invalidate()
    return True, {}


def _series_days(tenant: str, kind: series.Kind, series_id: str, first: int, last: int) -> range:
    """The days a series may have points on: from its first sighting to its last, a day of
    clock skew either side (a point written before its series' first sighting, a backfill,
    is left to its TTL)."""
    return range(first // series.DAY_MS - 1, last // series.DAY_MS + 2)


def _series(tenant: str, budget: Budget, cursor: Cursor) -> tuple[bool, Cursor]:
    idle = True
    for kind in SERIES_KINDS:
        catalog = f"{tenant}#c#{kind}"
        for _, metric in partitions.take(TIMESERIES, catalog, REGISTRY_PAGE):
            idle = False
            index = f"{tenant}#i#{kind}#{metric}"
            for (_, series_id), seen in partitions.rows(TIMESERIES, index, REGISTRY_PAGE, "f", "l"):
                days = _series_days(tenant, kind, series_id, seen.get("f", 0), seen.get("l", 0))
                start = int(cursor["day"]) if cursor.get("series") == f"{index}|{series_id}" else days.start
                for day in range(max(start, days.start), days.stop):
                    if not _sweep(TIMESERIES, series.data_partition(tenant, kind, series_id, day), budget):
                        return False, {"series": f"{index}|{series_id}", "day": day}
                partitions.drop(TIMESERIES, [(index, series_id)])
            if partitions.take(TIMESERIES, index, 1):  # more series than one page held
                return False, {}
            partitions.drop(TIMESERIES, [(catalog, metric)])
    for shard in range(series.TRACE_SHARDS):
        index = series.trace_index(tenant, shard)
        for _, trace in partitions.take(TIMESERIES, index, REGISTRY_PAGE):
            idle = False
            if not _sweep(TIMESERIES, f"{tenant}#t#{trace}", budget):
                return False, {}
            partitions.drop(TIMESERIES, [(index, trace)])
        if budget.spent:
            return False, {}
    return idle, {}


def blob_prefixes(tenant: str) -> tuple[str, ...]:
    """Where the tenant's blobs are: large documents (store/documents.py) and exports."""
    return f"{tenant}/", f"exports/{tenant}/"


def _blobs(tenant: str, budget: Budget, cursor: Cursor) -> tuple[bool, Cursor]:
    idle = True
    for prefix in blob_prefixes(tenant):
        if budget.spent:
            return False, {}
        keys = blobs.keys(prefix, budget.left)
        if keys:
            idle = False
            blobs.delete(keys)
            budget.spend(len(keys))
    return idle, {}


def _registry(tenant: str, budget: Budget, cursor: Cursor) -> tuple[bool, Cursor]:
    return _sweep(ENTITIES, partitions.registry(tenant), budget), {}


Stage = Callable[[str, Budget, Cursor], tuple[bool, Cursor]]
STAGES: tuple[tuple[str, Stage], ...] = (
    ("schedules", _schedules),
    ("descendants", _descendants),
    ("accounts", _accounts),
    ("credentials", _credentials),
    ("entities", _entities),
    ("series", _series),
    ("blobs", _blobs),
    ("registry", _registry),
)


# ---- steps -----------------------------------------------------------------------------------


def _tombstone(tenant: str) -> None:
    """Replace the record by its tombstone and release the slug and the parent's link, in
    one transaction (done again harmlessly when the step runs twice)."""
    entity = tenants.record(tenant).get(tenant)
    doc = entity.doc
    if doc.get("purged_at"):
        return
    parent = doc.get("parent_uuid")
    extra = None
    if parent and parent != tenant:
        extra = names.both(reservations.release(parent, tenants.CHILD, tenant))
        if doc.get("slug"):
            extra = names.both(extra, names.release(parent, tenants.SLUGS, doc["slug"]))
    kept: dict[str, Any] = {k: doc[k] for k in ("uuid", "parent_uuid", "ancestors", "deleted_at") if k in doc}

    def replace(e: Entity) -> None:
        e.doc = {**kept, "deleted": True, "active": False, "purged_at": now_ms()}
        e.tags = []

    tenants.record(tenant).update(tenant, replace, by=BY, expected_version=entity.version, extra=extra)


def advance(tenant: str, budget: Budget) -> bool:
    """Run the tenant's purge one step on (within budget); True when it is complete.
    VersionMismatch when another run moved it meanwhile (its step stands)."""
    if not tenants.get_tenant(tenant).get("deleted"):
        return False
    state = tenants.start_purge(tenant)
    stage = int(state.doc.get("stage", 0))
    if stage >= len(STAGES):
        _tombstone(tenant)
        tenants.purges().purge(tenant)  # done: nothing of the purge stays either
        return True
    done, cursor = STAGES[stage][1](tenant, budget, dict(state.doc.get("cursor") or {}))
    moved = {
        "step": int(state.doc.get("step", 0)) + 1,
        "stage": stage + 1 if done else stage,
        "cursor": {} if done else cursor,
    }

    def record(e: Entity) -> None:
        e.doc = moved

    tenants.purges().update(tenant, record, by=BY, expected_version=state.version)
    return False


def run(tenant: str, step: int, *, redelivered: bool = False, rows: int = STEP_ROWS) -> int | None:
    """Run step `step` of a tenant's purge (a message of the queue); the step to send next,
    or None: the purge is complete, or the message is stale (a duplicate, or for a tenant
    that is not being purged)."""
    state = tenants.purges().find(tenant)
    if state is None:
        return None
    current = int(state.doc.get("step", 0))
    if step != current:
        # The step was done; its successor may not have been sent when this delivery failed.
        return current if redelivered and step == current - 1 else None
    try:
        complete = advance(tenant, Budget(max(rows, MIN_STEP_ROWS)))
    except (VersionMismatch, NotFound):
        return None  # another delivery of this step ran it
    return None if complete else current + 1


def progress(tenant: str) -> dict[str, Any]:
    """Where a tenant's purge is: step, stage (by name), done (its record is a tombstone)."""
    state = tenants.purges().find(tenant)
    stage = int(state.doc.get("stage", 0)) if state is not None else len(STAGES)
    return {
        "step": int(state.doc.get("step", 0)) if state is not None else None,
        "stage": STAGES[stage][0] if stage < len(STAGES) else "tombstone",
        "done": bool(tenants.get_tenant(tenant).get("purged_at")),
    }
