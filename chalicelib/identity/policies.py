"""Policies (Wazo) = roles (Wavefront): a named ACL list in a tenant, attached to accounts
and groups.

The grant rule lives here: a principal may only hand out ACL it holds itself, whether it
writes a policy's ACL or attaches a policy to someone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from chalicelib.auth.acl import may_grant, valid_entry
from chalicelib.errors import Forbidden, Invalid
from chalicelib.identity import accounts, directory, names
from chalicelib.store.repository import Entity

POLICY = accounts.POLICY
SLUGS = "policyslug"
MAX_ACL_ENTRIES = 1000


def check_acl(entries: Iterable[Any]) -> list[str]:
    """Valid ACL entries, de-duplicated in order (Invalid names the bad ones)."""
    entries = list(entries)
    bad = [e for e in entries if not isinstance(e, str) or not valid_entry(e)]
    if bad:
        raise Invalid(f"Invalid ACL entries: {', '.join(repr(e) for e in bad[:10])}")
    if len(entries) > MAX_ACL_ENTRIES:
        raise Invalid(f"A policy holds at most {MAX_ACL_ENTRIES} ACL entries")
    return list(dict.fromkeys(entries))


def require_grantable(held: list[str], entries: Iterable[str]) -> None:
    """Forbidden unless the holder may grant every entry."""
    refused = may_grant(held, entries)
    if refused:
        raise Forbidden(f"You may not grant ACL you do not hold: {', '.join(refused[:20])}")


def lifted(acl: Iterable[str]) -> list[str]:
    """What dropping these entries could newly allow: the patterns of their negations
    (lifting `!x.#` is granting `x.#`)."""
    return [e[1:] for e in acl if e.startswith("!")]


def require_change_grantable(held: list[str], old: list[str], new: list[str]) -> None:
    """Replacing a policy's ACL old by new: the added entries and the lifted negations
    must be grantable."""
    require_grantable(held, [e for e in new if e not in old] + lifted(e for e in old if e not in new))


def get_policy(tenant: str, policy_uuid: str) -> Entity:
    """A policy of the tenant (NotFound otherwise)."""
    return accounts.repo(tenant, POLICY).get(policy_uuid)


def create_policy(
    tenant: str,
    *,
    name: str,
    slug: str | None,
    description: str | None,
    acl: list[str],
    held: list[str] | None,
    by: str | None,
    policy_uuid: str | None = None,
) -> Entity:
    """A new policy (held=None: no grant check, for bootstrap)."""
    acl = check_acl(acl)
    if held is not None:
        require_grantable(held, acl)
    policy_uuid = policy_uuid or str(uuid.uuid4())
    slug = names.check_slug(slug) if slug else names.pick(tenant, SLUGS, names.slugify(name, "policy"))
    doc = {
        "uuid": policy_uuid,
        "tenant_uuid": tenant,
        "name": name,
        "slug": slug,
        "description": description,
        "acl": acl,
    }
    return names.create_named(
        accounts.repo(tenant, POLICY), policy_uuid, doc, owner=tenant, space=SLUGS, name=slug, by=by
    )


def update_policy(tenant: str, policy_uuid: str, changes: dict[str, Any], *, held: list[str], by: str | None) -> Entity:
    """Change name, description and / or acl (the slug never changes, as in Wazo)."""
    if "acl" in changes:
        changes = {**changes, "acl": check_acl(changes["acl"])}

    def apply(entity: Entity) -> None:
        if "acl" in changes:
            require_change_grantable(held, entity.doc.get("acl", []), changes["acl"])
        entity.doc.update(changes)

    return directory.update(tenant, POLICY, policy_uuid, apply, by=by)


def add_access(tenant: str, policy_uuid: str, access: str, *, held: list[str], by: str | None) -> Entity:
    """Add one ACL entry (idempotent)."""
    (access,) = check_acl([access])

    def change(acl: list[str]) -> list[str]:
        if access in acl:
            return acl
        require_grantable(held, [access])
        return [*acl, access]

    return directory.edit_acl(tenant, POLICY, policy_uuid, change, by=by)


def remove_access(tenant: str, policy_uuid: str, access: str, *, held: list[str], by: str | None) -> Entity:
    """Remove one ACL entry (idempotent; dropping a negation is a grant)."""

    def change(acl: list[str]) -> list[str]:
        new = [e for e in acl if e != access]
        require_change_grantable(held, acl, new)
        return new

    return directory.edit_acl(tenant, POLICY, policy_uuid, change, by=by)


def delete_policy(tenant: str, policy_uuid: str, *, held: list[str], by: str | None) -> Entity:
    """Delete a policy, free its slug and detach it from its accounts and groups (who
    lose its negations too: lifting them is a grant). The last policy that gives the
    tenant an administrator stays (Invalid)."""
    policy = get_policy(tenant, policy_uuid)
    require_grantable(held, lifted(policy.doc.get("acl", [])))
    with directory.administration(tenant):
        directory.keep_administrator(tenant, [(POLICY, policy_uuid, None)])
        slug = policy.doc.get("slug")
        extra = names.release(tenant, SLUGS, slug) if slug else None
        removed = accounts.repo(tenant, POLICY).purge(policy_uuid, extra=extra)
    directory.detach_policy(tenant, policy_uuid, by=by)
    return removed


def acl_of(tenant: str, policy_uuids: Iterable[str]) -> list[str]:
    """The ACL entries of the policies (absent ones skipped)."""
    ids = list(policy_uuids)
    if not ids:
        return []
    return [e for p in accounts.repo(tenant, POLICY).get_many(ids) for e in p.doc.get("acl", [])]
