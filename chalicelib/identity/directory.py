"""Reading and editing the links between accounts, groups and policies.

The links live on one side only: an account's `policies` and direct `acl`, a group's
`users` and `policies`, a policy's `acl`. Every edit of a link list or an ACL is a
read-modify-write through Repository.update with retries: the edits are commutative
(add / remove members), so a writer that lost a race re-reads and re-applies, and
concurrent editors never lose each other's changes.

No tenant locks itself out: a change that would take a tenant from at least one
administrator (an enabled account whose united ACL holds ADMINISTRATION) to none is
Invalid (keep_administrator). Two concurrent changes of *different* records (two admins
each taking administration from the other) would each see the other admin and both land,
so every change that may take administration holds the tenant's administration lease
(`administration(tenant)`: a conditional row in the tokens table, re-entrant within one
call) from its check to its write, and checks against strongly consistent reads. Changes
that cannot take administration (adding members, plain ACL entries) skip it.
scripts/restore_admin.py repairs a tenant locked out by other means (a direct table edit).
"""

from __future__ import annotations

import contextvars
import copy
import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.auth import permissions
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.identity import accounts
from chalicelib.identity.accounts import ACCOUNT, GROUP, POLICY
from chalicelib.store import tokens
from chalicelib.store.repository import Entity

# Enough for every one of dozens of concurrent editors of one record to get through.
RETRIES = 40
MAX_REF_LENGTH = 256

# What makes an administrator: the Accounts permission (account.#, role.#, policy.#, ...),
# which `#` holds. Its holder can give administration back to others.
ADMINISTRATION = "user_management"


def administers(acl: Iterable[str]) -> bool:
    """Does an ACL give administration of the tenant?"""
    return permissions.holds(acl, ADMINISTRATION)


class Directory:
    """A read snapshot of one tenant's accounts, groups and policies (loaded lazily,
    each kind with one Query)."""

    def __init__(self, tenant: str, *, consistent: bool = False) -> None:
        self.tenant = tenant
        self.consistent = consistent
        self._cache: dict[str, dict[str, Entity]] = {}

    def _all(self, kind: str) -> dict[str, Entity]:
        if kind not in self._cache:
            found = accounts.repo(self.tenant, kind).iterate(consistent=self.consistent)
            self._cache[kind] = {e.id: e for e in found}
        return self._cache[kind]

    @property
    def accounts(self) -> dict[str, Entity]:
        return self._all(ACCOUNT)

    @property
    def groups(self) -> dict[str, Entity]:
        return self._all(GROUP)

    @property
    def policies(self) -> dict[str, Entity]:
        return self._all(POLICY)

    def forget(self, kind: str) -> None:
        """Drop a kind from the snapshot (after writing it)."""
        self._cache.pop(kind, None)

    def identifier(self, account_id: str) -> str | None:
        """The username of an account, None when it is gone."""
        account = self.accounts.get(account_id)
        return account.doc.get("username") if account else None

    def groups_of(self, account_id: str) -> list[Entity]:
        """Groups whose members include the account (Everyone's are all of them)."""
        return [g for g in self.groups.values() if accounts.is_member(self.tenant, g, account_id)]

    def members(self, group: Entity) -> list[Entity]:
        """The group's live accounts (for Everyone: every account of the tenant)."""
        if group.id == accounts.everyone_id(self.tenant):
            return list(self.accounts.values())
        return [self.accounts[u] for u in group.doc.get("users", []) if u in self.accounts]

    def policies_in(self, policy_ids: Iterable[str]) -> list[Entity]:
        """The live policies among ids, in order (dangling ids skipped)."""
        return [self.policies[p] for p in dict.fromkeys(policy_ids) if p in self.policies]

    def united_policy_ids(self, account: Entity) -> list[str]:
        """The account's own policies and those of its groups."""
        ids = list(account.doc.get("policies", []))
        for group in self.groups_of(account.id):
            ids.extend(group.doc.get("policies", []))
        return [p.id for p in self.policies_in(ids)]

    def united_acl(self, account: Entity) -> list[str]:
        """Direct ACL + the ACL of every policy the account has, directly or by group."""
        acl = list(account.doc.get("acl", []))
        for policy in self.policies_in(self.united_policy_ids(account)):
            acl.extend(policy.doc.get("acl", []))
        return list(dict.fromkeys(acl))

    def group_acl(self, group: Entity) -> list[str]:
        """The ACL a group hands its members."""
        acl: list[str] = []
        for policy in self.policies_in(group.doc.get("policies", [])):
            acl.extend(policy.doc.get("acl", []))
        return list(dict.fromkeys(acl))

    def administrators(self) -> list[Entity]:
        """Enabled accounts whose united ACL gives administration."""
        return [a for a in self.accounts.values() if a.doc.get("enabled", True) and administers(self.united_acl(a))]

    def changed(self, kind: str, entity_id: str, doc: dict[str, Any] | None) -> Directory:
        """A copy of the snapshot where one record has doc (None: is gone)."""
        other = Directory(self.tenant, consistent=self.consistent)
        other._cache = {k: dict(self._all(k)) for k in (ACCOUNT, GROUP, POLICY)}
        records = other._cache[kind]
        if doc is None:
            records.pop(entity_id, None)
        else:
            base = records.get(entity_id) or Entity(id=entity_id, kind=kind, tenant=self.tenant, doc={})
            records[entity_id] = copy.copy(base)
            records[entity_id].doc = doc
        return other

    def assignees(self, policy_id: str) -> tuple[list[Entity], list[Entity]]:
        """(accounts, groups) that have the policy directly."""
        holders = [a for a in self.accounts.values() if policy_id in a.doc.get("policies", [])]
        groups = [g for g in self.groups.values() if policy_id in g.doc.get("policies", [])]
        return holders, groups


# ---- finding ------------------------------------------------------------------------


def _usable_ref(ref: Any) -> bool:
    return isinstance(ref, str) and 0 < len(ref) <= MAX_REF_LENGTH and not any(ord(c) < 32 for c in ref)


def find_account(tenant: str, ref: str) -> Entity | None:
    """An account of the tenant by uuid or by username (any case); None otherwise.
    Another tenant's account is not found."""
    if not _usable_ref(ref):
        return None
    found = accounts.repo(tenant, ACCOUNT).find(ref)
    if found is not None:
        return found
    located = accounts.find_by_username(ref)
    if located is None or located[0] != tenant:
        return None
    return accounts.repo(tenant, ACCOUNT).find(located[1])


def require_account(tenant: str, ref: str, *, kind: str | None = None) -> Entity:
    """find_account, or NotFound (also when the account is not of the given type)."""
    account = find_account(tenant, ref)
    if account is None or (kind is not None and account.doc.get("type") != kind):
        label = "Service account" if kind == accounts.SERVICE else "Account"
        raise NotFound(f"{label} {ref} not found")
    return account


def resolve_accounts(tenant: str, refs: Iterable[str]) -> list[Entity]:
    """Accounts named in a request body (uuids or usernames); any unknown one is Invalid."""
    found: dict[str, Entity] = {}
    unknown = []
    for ref in refs:
        account = find_account(tenant, ref)
        if account is None:
            unknown.append(str(ref))
        else:
            found.setdefault(account.id, account)
    if unknown:
        raise Invalid(f"Unknown accounts: {', '.join(unknown[:20])}")
    return list(found.values())


def resolve(tenant: str, kind: str, ids: Iterable[str], label: str) -> list[Entity]:
    """Groups or policies named in a request body; any unknown one is Invalid."""
    wanted = list(dict.fromkeys(ids))
    if not all(_usable_ref(i) for i in wanted):
        raise Invalid(f"Invalid {label} id")
    found = accounts.repo(tenant, kind).get_many(wanted) if wanted else []
    known = {e.id for e in found}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise Invalid(f"Unknown {label}s: {', '.join(unknown[:20])}")
    return found


def resolve_some(tenant: str, kind: str, ids: Iterable[str]) -> list[Entity]:
    """The records of one kind among ids (the others are ignored)."""
    usable = [i for i in dict.fromkeys(ids) if _usable_ref(i)]
    return accounts.repo(tenant, kind).get_many(usable) if usable else []


def require(tenant: str, kind: str, entity_id: str, label: str) -> Entity:
    """A group or policy of the tenant, or NotFound."""
    if not _usable_ref(entity_id):
        raise NotFound(f"{label} {entity_id} not found")
    found = accounts.repo(tenant, kind).find(entity_id)
    if found is None:
        raise NotFound(f"{label} {entity_id} not found")
    return found


# ---- keeping an administrator ---------------------------------------------------------

LABELS = {ACCOUNT: "account", GROUP: "group", POLICY: "policy"}

# The lease serializes the changes that may take administration within one tenant. It
# outlives any one change by far (a change is a few DynamoDB calls); a holder that died
# keeps others waiting at most this long.
LEASE_SECONDS = 15.0
# How long a change waits for another one to finish before answering 409.
LEASE_WAIT_SECONDS = 5.0
_held: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("administration_held", default=frozenset())


@contextmanager
def administration(tenant: str) -> Iterator[None]:
    """Hold the tenant's administration lease for the block (a block inside another that
    holds it already just runs). Conflict when another change keeps it past the wait."""
    if tenant in _held.get():
        yield
        return
    key, holder = (f"lease#{tenant}", "administration"), secrets.token_hex(8)
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    pause = 0.02
    while not tokens.take_lease(key, holder, seconds=LEASE_SECONDS):
        if time.monotonic() >= deadline:
            raise Conflict(
                f"Another change to the administrators of tenant {tenant} is in progress; try again in a moment"
            )
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause = min(pause * 2, 0.5)
    token = _held.set(_held.get() | {tenant})
    try:
        yield
    finally:
        _held.reset(token)
        tokens.end_lease(key, holder)


def keep_administrator(
    tenant: str, changes: Iterable[tuple[str, str, dict[str, Any] | None]], *, snapshot: Directory | None = None
) -> None:
    """Invalid when the changes ((kind, id, new doc or None when deleted), applied together)
    would leave a tenant that has an administrator without one. A tenant with none (a new
    sub-tenant, managed from its parent) is left alone."""
    changes = list(changes)
    if tenant not in _held.get():
        raise RuntimeError("keep_administrator runs inside administration(tenant)")
    before = snapshot if snapshot is not None and snapshot.consistent else Directory(tenant, consistent=True)
    if not before.administrators():
        return
    after = before
    for kind, entity_id, doc in changes:
        after = after.changed(kind, entity_id, doc)
    if after.administrators():
        return
    what = ", ".join(
        f"{'deleting' if doc is None else 'changing'} {LABELS.get(kind, kind)} {entity_id}"
        for kind, entity_id, doc in changes
    )
    raise Invalid(
        f"Refused: {what} would leave tenant {tenant} without an administrator "
        f"(an enabled account holding {ADMINISTRATION}, e.g. through `#`). "
        "Give administration to another account first."
    )


_LINKS = ("acl", "policies", "users")


def _may_take_administration(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Could going from before to after take administration from someone? Only additions
    of plain ACL entries and links (and enabling) cannot: a link may carry negations."""
    if before.get("enabled", True) and not after.get("enabled", True):
        return True
    for key in _LINKS:
        old, new = before.get(key, []), after.get(key, [])
        if set(old) - set(new):
            return True
        added = set(new) - set(old)
        if added and (key != "acl" or any(e.startswith("!") for e in added)):
            return True
    return False


class _Guarded:
    """change, followed by keep_administrator on the record as changed (for Repository.update:
    the check runs on every attempt, against the version it is about to replace). The
    administration lease is taken when a change may take administration, the first time,
    and held until the write is done (`close`)."""

    def __init__(self, tenant: str, kind: str, change: Callable[[Entity], None]) -> None:
        self.tenant, self.kind, self.change = tenant, kind, change
        self._lease: Any = None

    def __call__(self, entity: Entity) -> None:
        before = copy.deepcopy(entity.doc)
        self.change(entity)
        if _may_take_administration(before, entity.doc):
            if self._lease is None:
                self._lease = administration(self.tenant)
                self._lease.__enter__()
                # The version read before the lease was taken may be stale: read it again.
                raise _Reread()
            keep_administrator(self.tenant, [(self.kind, entity.id, entity.doc)])

    def close(self) -> None:
        if self._lease is not None:
            self._lease.__exit__(None, None, None)


class _Reread(Exception):
    """Raised inside a guarded change once the lease is taken: read the record again."""


def update(
    tenant: str, kind: str, entity_id: str, change: Callable[[Entity], None], *, by: str | None = None
) -> Entity:
    """Repository.update of an account, group or policy (with retries), refused when it
    would leave the tenant without an administrator."""
    guarded = _Guarded(tenant, kind, change)
    try:
        try:
            return accounts.repo(tenant, kind).update(entity_id, guarded, by=by, retries=RETRIES)
        except _Reread:
            return accounts.repo(tenant, kind).update(entity_id, guarded, by=by, retries=RETRIES)
    finally:
        guarded.close()


# ---- editing ------------------------------------------------------------------------


def _edit_list(doc: dict[str, Any], key: str, add: Iterable[str], remove: Iterable[str]) -> None:
    drop = set(remove)
    current = [x for x in doc.get(key, []) if x not in drop]
    doc[key] = list(dict.fromkeys([*current, *(x for x in add if x not in drop)]))


def edit_links(
    tenant: str,
    kind: str,
    entity_id: str,
    key: str,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    by: str | None = None,
    guard: bool = True,
) -> Entity:
    """Add / remove ids in one link list (`users` or `policies`) of one record (guard:
    refused when it would leave the tenant without an administrator). Everyone's members
    are every account: adding one changes nothing, removing one is refused (a deleted
    account, guard False, leaves it by being gone)."""
    add, remove = list(add), list(remove)
    if kind == GROUP and key == "users" and entity_id == accounts.everyone_id(tenant):
        if remove and guard:
            raise Invalid(f"Every account belongs to {accounts.EVERYONE}: none can be removed from it")
        return accounts.repo(tenant, kind).get(entity_id)

    def change(entity: Entity) -> None:
        _edit_list(entity.doc, key, add, remove)

    if not guard:
        return accounts.repo(tenant, kind).update(entity_id, change, by=by, retries=RETRIES)
    return update(tenant, kind, entity_id, change, by=by)


def replace_links(
    tenant: str, kind: str, entity_id: str, key: str, wanted: Iterable[str], *, by: str | None = None
) -> Entity:
    """Set one link list of one record to exactly `wanted`."""
    wanted = list(dict.fromkeys(wanted))

    def change(entity: Entity) -> None:
        entity.doc[key] = list(wanted)

    return update(tenant, kind, entity_id, change, by=by)


def edit_acl(
    tenant: str, kind: str, entity_id: str, change: Callable[[list[str]], list[str]], *, by: str | None = None
) -> Entity:
    """Rewrite the `acl` of an account or policy with change(current acl)."""

    def apply(entity: Entity) -> None:
        entity.doc["acl"] = list(change(list(entity.doc.get("acl", []))))

    return update(tenant, kind, entity_id, apply, by=by)


def set_memberships(
    tenant: str, account_id: str, group_ids: Iterable[str], *, directory: Directory, by: str | None = None
) -> None:
    """Make the account a member of exactly these groups (joining first, so that moving
    administration from one group to another never passes through none)."""
    wanted = set(group_ids)
    joins = [g for g in directory.groups.values() if g.id in wanted and account_id not in g.doc.get("users", [])]
    leaves = [g for g in directory.groups.values() if g.id not in wanted and account_id in g.doc.get("users", [])]
    for group in joins:
        edit_links(tenant, GROUP, group.id, "users", add=[account_id], by=by)
    for group in leaves:
        edit_links(tenant, GROUP, group.id, "users", remove=[account_id], by=by)
    directory.forget(GROUP)


def add_to_groups(tenant: str, account_ids: list[str], group_ids: Iterable[str], *, by: str | None = None) -> None:
    """Add accounts to groups (groups deleted meanwhile are skipped)."""
    for group_id in dict.fromkeys(group_ids):
        try:
            edit_links(tenant, GROUP, group_id, "users", add=account_ids, by=by)
        except NotFound:
            continue


def remove_from_groups(tenant: str, account_ids: list[str], group_ids: Iterable[str], *, by: str | None = None) -> None:
    """Remove accounts from groups (groups deleted meanwhile are skipped)."""
    for group_id in dict.fromkeys(group_ids):
        try:
            edit_links(tenant, GROUP, group_id, "users", remove=account_ids, by=by)
        except NotFound:
            continue


def set_enabled(tenant: str, account_id: str, enabled: bool, *, by: str | None = None) -> Entity:
    """Activate or deactivate an account (a disabled account's credentials stop working)."""

    def change(entity: Entity) -> None:
        entity.doc["enabled"] = bool(enabled)

    return update(tenant, ACCOUNT, account_id, change, by=by)


def detach_account(tenant: str, account_id: str, *, by: str | None = None) -> None:
    """Remove a deleted account from every group of the tenant (the deletion was checked)."""
    for group in accounts.groups_of(tenant, account_id):
        try:
            edit_links(tenant, GROUP, group.id, "users", remove=[account_id], by=by, guard=False)
        except NotFound:
            continue


def detach_policy(tenant: str, policy_id: str, *, by: str | None = None) -> None:
    """Remove a deleted policy from every account and group of the tenant that has it (the
    deletion was checked; the links left point nowhere)."""
    directory = Directory(tenant)
    holders, groups = directory.assignees(policy_id)
    for kind, records in ((ACCOUNT, holders), (GROUP, groups)):
        for record in records:
            try:
                edit_links(tenant, kind, record.id, "policies", remove=[policy_id], by=by, guard=False)
            except NotFound:
                continue


def delete_account(tenant: str, account_id: str, *, guard: bool = False) -> Entity:
    """Delete an account: it stops authenticating at once, its API tokens are revoked and
    it leaves every group (guard: refused when it is the tenant's last administrator; a
    whole tenant being deleted goes without)."""
    from chalicelib.auth import apitokens, oauthclients

    if guard:
        with administration(tenant):
            keep_administrator(tenant, [(ACCOUNT, account_id, None)])
            removed = accounts.delete_account(tenant, account_id)
    else:
        removed = accounts.delete_account(tenant, account_id)
    apitokens.revoke_all(tenant, account_id)
    oauthclients.revoke_all(tenant, account_id)
    detach_account(tenant, account_id)
    return removed
