"""Accounts (users and service accounts), policies and groups, and the effective ACL.

Usernames are unique across the installation (as in Wazo): a global index record
`_global#username / <lower-cased username>` is written in the same transaction as the
account, so a Basic login needs no tenant and two creations never both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from chalicelib.auth.cache import InvalidatingRepository
from chalicelib.auth.keys import cursor_secret
from chalicelib.auth.passwords import hash_password
from chalicelib.errors import Conflict, NotFound
from chalicelib.store import names
from chalicelib.store.repository import Entity, Repository

ACCOUNT = "account"
POLICY = "policy"
GROUP = "group"
USERNAMES = "username"
GLOBAL = "_global"

USER = "user"
SERVICE = "service"

# Fields never sent to a client.
SECRET_FIELDS = ("password_hash",)

# The system group every account of a tenant belongs to, without being listed in it (as
# in Wavefront): its role holds what the tenant shares by default (identity/groups.py).
EVERYONE = "Everyone"


def repo(tenant: str, kind: str) -> Repository:
    """A repository for identity kinds (accounts, policies, groups); its writes invalidate
    the cached principals (auth/cache.py)."""
    return InvalidatingRepository(tenant, kind, cursor_secret=cursor_secret)


def canonical_username(username: str) -> str:
    """The one spelling of a username that lookups use: any padding or casing of a name
    reaches the same account (and counts against its one login throttle)."""
    return username.strip().lower()


def _username_key(username: str) -> str:
    return canonical_username(username)


def _index_doc(tenant: str, account_uuid: str) -> dict[str, str]:
    return {"tenant": tenant, "uuid": account_uuid}


def find_by_username(username: str) -> tuple[str, str] | None:
    """(tenant, account uuid) of a username anywhere in the installation."""
    if not username or len(username) > 256:
        return None
    found = repo(GLOBAL, USERNAMES).find(_username_key(username))
    if found is None:
        return None
    return found.doc["tenant"], found.doc["uuid"]


def create_account(
    tenant: str,
    *,
    username: str,
    password: str | None,
    kind: str = USER,
    fields: dict[str, Any] | None = None,
    by: str | None = None,
    account_uuid: str | None = None,
) -> Entity:
    """A new account; a username already taken anywhere is a Conflict."""
    account_uuid = account_uuid or str(uuid.uuid4())
    doc: dict[str, Any] = {
        "uuid": account_uuid,
        "tenant_uuid": tenant,
        "username": username,
        "type": kind,
        "enabled": True,
        "policies": [],
        "acl": [],
        "email": None,
        "firstname": None,
        "lastname": None,
        "purpose": "user" if kind == USER else "external_api",
        "description": None,
        "password_hash": hash_password(password) if password else None,
    }
    doc.update(fields or {})
    reserve = names.reserve(GLOBAL, USERNAMES, _username_key(username), _index_doc(tenant, account_uuid))
    try:
        return repo(tenant, ACCOUNT).create(account_uuid, doc, by=by, extra=reserve)
    except Conflict as exc:
        raise Conflict(f"Username {username} is already taken") from exc


def rename_extra(old: str, new: str, tenant: str, account_uuid: str) -> Any:
    """Transactional writes that move a username in the global index."""
    if _username_key(old) == _username_key(new):
        return None
    return names.move(GLOBAL, USERNAMES, _username_key(old), _username_key(new), _index_doc(tenant, account_uuid))


def delete_account(tenant: str, account_uuid: str) -> Entity:
    """Remove an account and free its username."""
    account = repo(tenant, ACCOUNT).get(account_uuid)
    free = names.release(GLOBAL, USERNAMES, _username_key(account.doc["username"]))
    return repo(tenant, ACCOUNT).purge(account_uuid, extra=free)


def get_account(tenant: str, account_uuid: str) -> Entity:
    """An account of the tenant."""
    return repo(tenant, ACCOUNT).get(account_uuid)


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The account without secrets."""
    return {k: v for k, v in doc.items() if k not in SECRET_FIELDS}


def everyone_id(tenant: str) -> str:
    """The id of the tenant's Everyone group: derived from the tenant, so that knowing whether
    a group is it costs no read, and making it twice makes it once."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"opsplane:{tenant}:everyone"))


def is_member(tenant: str, group: Entity, account_uuid: str) -> bool:
    """Is the account a member of the group (every account is one of Everyone)?"""
    return group.id == everyone_id(tenant) or account_uuid in group.doc.get("users", [])


def groups_of(tenant: str, account_uuid: str) -> list[Entity]:
    """Groups whose members include the account (Everyone, when the tenant has it)."""
    return [g for g in repo(tenant, GROUP).iterate() if is_member(tenant, g, account_uuid)]


def effective_acl(
    tenant: str,
    account: dict[str, Any],
    groups: list[Entity] | None = None,
    *,
    known: Mapping[str, Entity | None] | None = None,
) -> list[str]:
    """Direct ACL + the ACL of the account's policies + its groups' policies. known: policies
    the caller already read (id -> policy, None when it is gone), not read again; authorizing
    reads Everyone's role in the batch that reads the account, so that the grant every
    account holds costs no call of its own."""
    if groups is None:
        groups = groups_of(tenant, account["uuid"])
    known = known or {}
    policy_ids = list(account.get("policies", []))
    for group in groups:
        policy_ids.extend(group.doc.get("policies", []))
    unread = [p for p in dict.fromkeys(policy_ids) if p not in known]
    found = {p.id: p for p in repo(tenant, POLICY).get_many(unread)} if unread else {}
    acl = list(account.get("acl", []))
    for policy_id in dict.fromkeys(policy_ids):
        policy = known.get(policy_id) if policy_id in known else found.get(policy_id)
        if policy is not None:
            acl.extend(policy.doc.get("acl", []))
    return list(dict.fromkeys(acl))


def require_account(tenant: str, account_uuid: str) -> Entity:
    try:
        return get_account(tenant, account_uuid)
    except NotFound as exc:
        raise NotFound(f"Account {account_uuid} not found") from exc
