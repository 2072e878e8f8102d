"""Preferences: a small document per owner in a tenant (Grafana's user, team and org
preferences: theme, home dashboard, timezone, week start, locale).

One entity of kind `preference` per owner, its id naming the owner: `org` (the tenant
itself), `team-<group uuid>`, `user-<account uuid>`. A user's preferences are per tenant
(as Grafana's are per org): acting in a sub-tenant, a user has that tenant's. Writes are
ordinary repository writes, so they are versioned and audited; a document never written
reads as the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.auth.keys import cursor_secret
from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, NotFound
from chalicelib.store.repository import Entity, Repository

KIND = "preference"
ORG = "org"

# Every field and its value when never set (Grafana's answer for "use the default").
DEFAULTS: dict[str, Any] = {
    "theme": "",
    "homeDashboardId": 0,
    "homeDashboardUID": "",
    "timezone": "",
    "weekStart": "",
    "locale": "",
}
FIELDS = tuple(DEFAULTS)
WRITE_ATTEMPTS = 3


def user_owner(account_uuid: str) -> str:
    """The owner id of an account's preferences."""
    return f"user-{account_uuid}"


def team_owner(group_uuid: str) -> str:
    """The owner id of a team's (user group's) preferences."""
    return f"team-{group_uuid}"


def _repo(ctx: Context) -> Repository:
    return ctx.repo(KIND)


def _repo_of(tenant: str) -> Repository:
    return Repository(tenant, KIND, cursor_secret=cursor_secret)


def read(ctx: Context, owner: str) -> dict[str, Any]:
    """The owner's preferences, every field present (defaults where never set)."""
    found = _repo(ctx).find(owner)
    stored = found.doc if found is not None else {}
    return {k: stored.get(k, v) for k, v in DEFAULTS.items()}


def write(ctx: Context, owner: str, values: dict[str, Any], *, replace: bool) -> dict[str, Any]:
    """Store the owner's preferences: replace (PUT) resets the fields not given to their
    defaults, otherwise (PATCH) only the given fields change."""
    given = {k: values[k] for k in FIELDS if k in values}
    repo = _repo(ctx)

    def apply(entity: Entity) -> None:
        base = dict(DEFAULTS) if replace else {k: entity.doc.get(k, v) for k, v in DEFAULTS.items()}
        entity.doc.clear()
        entity.doc.update({**base, **given})

    for _ in range(WRITE_ATTEMPTS):
        if repo.find(owner) is None:
            try:
                return repo.create(owner, {**DEFAULTS, **given}, by=ctx.actor).doc
            except Conflict:
                continue  # made meanwhile: change it instead
        return repo.update(owner, apply, by=ctx.actor, retries=WRITE_ATTEMPTS).doc
    raise Conflict(f"Preferences {owner} keep changing; try again")


def forget(tenant: str, owner: str) -> None:
    """Remove the owner's preferences in a tenant (its team or account is gone); idempotent."""
    try:
        _repo_of(tenant).purge(owner)
    except NotFound:
        pass


def effective(ctx: Context, account_uuid: str, group_uuids: Iterable[str]) -> dict[str, Any]:
    """What applies to a user, as Grafana merges it: the org's, then each team's, then the
    user's own, a later non-default value winning."""
    merged = dict(DEFAULTS)
    owners = [ORG, *(team_owner(g) for g in group_uuids), user_owner(account_uuid)]
    for owner in owners:
        for key, value in read(ctx, owner).items():
            if value != DEFAULTS[key]:
                merged[key] = value
    return merged
