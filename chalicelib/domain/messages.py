"""Messages (Wavefront's /api/v2/message): what the system tells one account. Nobody posts
them through the API; the system writes them when something happens that an account, or
the tenant's administrators, must know about:

- an account's API tokens reach 18 of 20 (90% of settings.max_api_tokens_per_account):
  the account is told (a service account's administrators too);
- a service account is deactivated, or one of its credentials (API token, OAuth client)
  is revoked: the tenant's administrators are told;
- a tenant passes 80% of a rate-limit budget in a window (http/limits.py sees the
  crossing in the one flush that makes it): the tenant's administrators are told;
- a limited ingestion policy's hour reaches its budget (the ingest worker counts it): the
  tenant's administrators are told, once per policy and hour.

Each account's messages live in a partition of their own (`<tenant>#message@<account>`),
so a listing holds only the caller's and another's id is a 404. A message's id is its
start time, reversed so that the newest sorts first, and a digest of its event's key:
writing the same event twice is one message (the second write is refused and ignored),
and a listing reads the newest messages first and stops at the first one too old to be
shown (MAX_LIFETIME_MS), so it never reads a long past.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from chalicelib.auth import apitokens
from chalicelib.auth.keys import cursor_secret
from chalicelib.errors import Conflict, OpsplaneError
from chalicelib.identity import accounts
from chalicelib.identity.directory import Directory
from chalicelib.settings import get_settings
from chalicelib.store.repository import Entity, Repository, now_ms

logger = Logger(service="opsplane", child=True)

KIND = "message"
DAY = 24 * 3600 * 1000
# How long a message is shown (endEpochMillis - startEpochMillis), by what it is about;
# nothing lives longer than MAX_LIFETIME_MS, which bounds what a listing reads.
WARNING_LIFETIME_MS = 30 * DAY
BUDGET_LIFETIME_MS = DAY
MAX_LIFETIME_MS = 30 * DAY
# Far enough in the future that every start time reversed against it stays 13 digits.
REVERSED_FROM = 10**13 - 1

# The client's enums (Message.scope, .severity, .display).
USER, CUSTOMER = "USER", "CUSTOMER"
INFO, WARN, SEVERE = "INFO", "WARN", "SEVERE"
BANNER, TOASTER = "BANNER", "TOASTER"
SOURCE = "opsplane"

# An account is warned when its API tokens reach this share of the limit (18 of 20).
TOKEN_WARNING_SHARE = 0.9
# A tenant's administrators are warned when a rate-limit window passes this share of its budget.
BUDGET_WARNING_SHARE = 0.8


@dataclass(frozen=True)
class Notice:
    """One event to tell accounts about. key names the event (the same event twice has the
    same key and the same at), so writing it again is harmless."""

    key: str
    at: int  # when it happened, epoch ms: the message's startEpochMillis
    title: str
    content: str
    severity: str = WARN
    scope: str = USER
    display: str = BANNER
    lifetime_ms: int = WARNING_LIFETIME_MS
    attributes: dict[str, str] = field(default_factory=dict)

    def message_id(self) -> str:
        """Newest first in the partition, one per event."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:16]
        return f"{REVERSED_FROM - self.at:013d}-{digest}"

    def doc(self, account: str) -> dict[str, Any]:
        """The stored message: the client's Message fields but id and read."""
        return {
            "title": self.title,
            "content": self.content,
            "severity": self.severity,
            "scope": self.scope,
            "display": self.display,
            "source": SOURCE,
            "target": account,
            "startEpochMillis": self.at,
            "endEpochMillis": self.at + min(self.lifetime_ms, MAX_LIFETIME_MS),
            "attributes": {"event": self.key.split(":", 1)[0], **self.attributes},
            "read": False,
        }


def inbox(tenant: str, account: str) -> Repository:
    """One account's messages."""
    return Repository(tenant, KIND, cursor_secret=cursor_secret, scope=account)


def to_wire(entity: Entity) -> dict[str, Any]:
    """The client's Message."""
    return {**entity.doc, "id": entity.id, "read": bool(entity.doc.get("read"))}


# ---- writing ------------------------------------------------------------------------------


def notify(tenant: str, accounts: Iterable[str], notice: Notice) -> list[str]:
    """Give each account the notice's message (once: an account that has it already is
    skipped); the accounts that got it now."""
    told = []
    for account in dict.fromkeys(accounts):
        try:
            inbox(tenant, account).create(notice.message_id(), notice.doc(account), by=SOURCE)
        except Conflict:
            continue  # this event's message is there already
        told.append(account)
    return told


def administrators(tenant: str) -> list[str]:
    """The ids of the tenant's administrators (enabled accounts holding user_management)."""
    return sorted(a.id for a in Directory(tenant).administrators())


def notify_administrators(tenant: str, notice: Notice) -> list[str]:
    """Give the notice to every administrator of the tenant."""
    return notify(tenant, administrators(tenant), notice)


# ---- reading -------------------------------------------------------------------------------


def shown(tenant: str, account: str, *, now: int, unread_only: bool) -> list[Entity]:
    """The account's messages shown now (started, not ended), newest first. The Query stops
    at the first message started longer ago than any message lasts."""
    found = []
    for entity in inbox(tenant, account).iterate():
        start = int(entity.doc.get("startEpochMillis", 0))
        if start < now - MAX_LIFETIME_MS:
            break
        if start > now or int(entity.doc.get("endEpochMillis", 0)) < now:
            continue
        if unread_only and entity.doc.get("read"):
            continue
        found.append(entity)
    return found


def mark_read(tenant: str, account: str, message_id: str) -> Entity:
    """Mark one of the account's messages read (idempotent); NotFound for another's."""

    def read(entity: Entity) -> None:
        entity.doc["read"] = True

    return inbox(tenant, account).update(message_id, read, by=account, retries=3)


# ---- the events ---------------------------------------------------------------------------
# Each runs after the action it reports has landed: a message that cannot be written is
# logged and lost, it never fails (or undoes) the action.

Told = TypeVar("Told", bound=Callable[..., list[str]])


def best_effort(report: Told) -> Told:
    """Run an event's report; a store error is logged, and nobody was told."""

    @functools.wraps(report)
    def guarded(*args: Any, **kwargs: Any) -> list[str]:
        try:
            return report(*args, **kwargs)
        except OpsplaneError as exc:
            logger.warning("message not written", extra={"report": report.__name__, "error": str(exc)})
            return []

    return guarded  # type: ignore[return-value]


def token_warning_level(limit: int) -> int:
    """How many tokens make an account warned (18 of 20)."""
    return max(1, math.ceil(limit * TOKEN_WARNING_SHARE))


@best_effort
def api_token_created(tenant: str, account: str, public_id: str, *, service: bool) -> list[str]:
    """After a token was created: when it is the one that brought the account's tokens to the
    warning level (it is that token in creation order, so concurrent creations and later
    ones above the level tell nobody again), tell the account (and, for a service account,
    the administrators who manage its tokens)."""
    limit = get_settings().max_api_tokens_per_account
    level = token_warning_level(limit)
    tokens = apitokens.list_tokens(tenant, account)
    if len(tokens) < level or tokens[level - 1].public_id != public_id:
        return []
    notice = Notice(
        key=f"apitokens:{account}:{public_id}",
        at=tokens[level - 1].created,
        title=f"{len(tokens)} of {limit} API tokens in use",
        content=(
            f"This account holds {len(tokens)} of the {limit} API tokens an account may have. "
            "Revoke the ones no longer used before creating more."
        ),
        attributes={"account": account, "tokens": str(len(tokens)), "limit": str(limit)},
    )
    readers = [account, *(administrators(tenant) if service else [])]
    return notify(tenant, readers, notice)


@best_effort
def service_account_deactivated(tenant: str, account: Entity, *, by: str) -> list[str]:
    """After a service account was deactivated (the write that flipped it: account is the
    record as written), tell the administrators."""
    name = str(account.doc.get("username") or account.id)
    notice = Notice(
        key=f"deactivated:{account.id}:{account.version}",
        at=account.updated or now_ms(),
        title=f"Service account {name} deactivated",
        content=f"{by} deactivated the service account {name}: its API tokens and credentials stop working until it is activated again.",
        scope=CUSTOMER,
        attributes={"account": account.id, "by": by},
    )
    return notify_administrators(tenant, notice)


@best_effort
def credential_revoked(tenant: str, account: str, credential: str, what: str, *, by: str) -> list[str]:
    """After a service account's credential (what: "API token", "OAuth client") was revoked,
    tell the administrators."""
    found = accounts.repo(tenant, accounts.ACCOUNT).find(account)
    name = str(found.doc.get("username") or account) if found is not None else account
    notice = Notice(
        key=f"revoked:{account}:{credential}",
        at=now_ms(),
        title=f"A credential of service account {name} was revoked",
        content=f"{by} revoked the {what} {credential} of the service account {name}: it no longer authenticates.",
        scope=CUSTOMER,
        severity=INFO,
        display=TOASTER,
        attributes={"account": account, "credential": credential, "by": by},
    )
    return notify_administrators(tenant, notice)


@best_effort
def budget_passed(tenant: str, category: str, budget: str, *, limit: int, count: int, window_start: int) -> list[str]:
    """After the flush that took a rate-limit window past BUDGET_WARNING_SHARE of its limit
    (window_start: epoch s), tell the administrators (once per key and window)."""
    labels = {"get": "reads", "get_paged": "paged reads", "write": "writes"}
    notice = Notice(
        key=f"ratelimit:{category}:{budget}:{window_start}",
        at=window_start * 1000,
        title=f"{int(BUDGET_WARNING_SHARE * 100)}% of the {category} {labels.get(budget, budget)} budget used",
        content=(
            f"The tenant made {count} of its {limit} {labels.get(budget, budget)} per minute on {category} "
            "in the minute starting at this message's time; requests over the limit are answered 429."
        ),
        scope=CUSTOMER,
        lifetime_ms=BUDGET_LIFETIME_MS,
        attributes={"category": category, "budget": budget, "count": str(count), "limit": str(limit)},
    )
    return notify_administrators(tenant, notice)


@best_effort
def ingestion_limit_reached(
    tenant: str, policy_id: str, policy_name: str, *, limit_pps: int, count: int, hour: int
) -> list[str]:
    """After the ingest worker counted a limited ingestion policy's hour (hour: epoch s of its
    start) to its budget (limit_pps x 3600 points), tell the administrators (once per policy
    and hour: the same key is the same message)."""
    notice = Notice(
        key=f"ingestionpolicy:{policy_id}:{hour}",
        at=hour * 1000,
        title=f"Ingestion policy {policy_name} reached its limit",
        content=(
            f"{count} points were ingested under the ingestion policy {policy_name} in the hour starting at "
            f"this message's time, its budget of {limit_pps} points/s: the accounts in its scope are answered "
            "429 on /report until the hour ends."
        ),
        scope=CUSTOMER,
        lifetime_ms=BUDGET_LIFETIME_MS,
        attributes={"policy": policy_id, "count": str(count), "limitPPS": str(limit_pps), "hour": str(hour)},
    )
    return notify_administrators(tenant, notice)


def crossed(limit: int, count: int, hits: int) -> bool:
    """Did adding hits (the shared count is now count) take a window past the warning share?"""
    threshold = math.ceil(limit * BUDGET_WARNING_SHARE)
    return count - hits < threshold <= count
