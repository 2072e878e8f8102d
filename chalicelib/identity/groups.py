"""Groups (Wazo) = user groups (Wavefront): members in the group's `users` list, attached
policies in its `policies` list (what accounts.effective_acl reads).

Membership edits go through directory.edit_links (conditional saves, re-read and
re-applied when someone else won), so concurrent edits never lose each other. Joining a
group, or giving it a policy, hands out the group's ACL: the grant rule applies.

Every tenant has the system group Everyone (as in Wavefront): every account is a member
without being listed (accounts.is_member), so a new account reads what the tenant shares
without a grant. It holds one role, Everyone, with DEFAULT_PERMISSIONS; an admin edits
what it gives through that role or the group's roles. It is made with the tenant, and for
a tenant older than it by the first authorization that misses it; it cannot be deleted,
renamed, or have members removed.
"""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.auth import permissions
from chalicelib.errors import Conflict, Invalid
from chalicelib.identity import accounts, directory, names, policies
from chalicelib.store.repository import Entity

GROUP = accounts.GROUP
SLUGS = "groupslug"
EVERYONE = accounts.EVERYONE
# What Everyone's role gives a new tenant's accounts (Wavefront permission names).
DEFAULT_PERMISSIONS = ("browse",)


def get_group(tenant: str, group_uuid: str) -> Entity:
    """A group of the tenant (NotFound otherwise)."""
    return accounts.repo(tenant, GROUP).get(group_uuid)


def create_group(
    tenant: str,
    *,
    name: str,
    slug: str | None,
    description: str | None,
    by: str | None,
    group_uuid: str | None = None,
    policy_ids: list[str] | None = None,
) -> Entity:
    """A new group without members (with these policies); its slug is unique in the tenant."""
    group_uuid = group_uuid or str(uuid.uuid4())
    slug = names.check_slug(slug) if slug else names.pick(tenant, SLUGS, names.slugify(name, "group"))
    doc: dict[str, Any] = {
        "uuid": group_uuid,
        "tenant_uuid": tenant,
        "name": name,
        "slug": slug,
        "description": description,
        "users": [],
        "policies": list(policy_ids or []),
    }
    return names.create_named(
        accounts.repo(tenant, GROUP), group_uuid, doc, owner=tenant, space=SLUGS, name=slug, by=by
    )


def update_group(tenant: str, group_uuid: str, changes: dict[str, Any], *, by: str | None) -> Entity:
    """Change name and / or description (the slug never changes, as in Wazo)."""

    def apply(entity: Entity) -> None:
        check_rename(tenant, entity.id, changes.get("name", entity.doc.get("name")))
        entity.doc.update(changes)

    return accounts.repo(tenant, GROUP).update(group_uuid, apply, by=by, retries=directory.RETRIES)


def delete_group(tenant: str, group_uuid: str, *, held: list[str]) -> Entity:
    """Delete a group and free its slug. Its members lose its policies, negations included:
    lifting them is a grant. The last group that gives the tenant an administrator stays
    (Invalid), as does Everyone."""
    if group_uuid == accounts.everyone_id(tenant):
        raise Invalid(f"The {EVERYONE} group cannot be deleted")
    group = get_group(tenant, group_uuid)
    policies.require_grantable(held, policies.lifted(policies.acl_of(tenant, group.doc.get("policies", []))))
    with directory.administration(tenant):
        directory.keep_administrator(tenant, [(GROUP, group_uuid, None)])
        slug = group.doc.get("slug")
        extra = names.release(tenant, SLUGS, slug) if slug else None
        return accounts.repo(tenant, GROUP).purge(group_uuid, extra=extra)


def add_member(tenant: str, group_uuid: str, user_uuid: str, *, held: list[str], by: str | None) -> Entity:
    """Put an account of the tenant in the group (idempotent); the actor must be able to
    grant the group's ACL."""
    accounts.require_account(tenant, user_uuid)
    group = get_group(tenant, group_uuid)
    policies.require_grantable(held, policies.acl_of(tenant, group.doc.get("policies", [])))
    return directory.edit_links(tenant, GROUP, group_uuid, "users", add=[user_uuid], by=by)


def remove_member(tenant: str, group_uuid: str, user_uuid: str, *, held: list[str], by: str | None) -> Entity:
    """Take an account out of the group (idempotent); it loses the group's negations,
    and lifting them is a grant."""
    group = get_group(tenant, group_uuid)
    policies.require_grantable(held, policies.lifted(policies.acl_of(tenant, group.doc.get("policies", []))))
    return directory.edit_links(tenant, GROUP, group_uuid, "users", remove=[user_uuid], by=by)


def add_policy(tenant: str, group_uuid: str, policy_uuid: str, *, held: list[str], by: str | None) -> Entity:
    """Attach a policy of the tenant to the group (idempotent); the actor must hold its ACL."""
    policy = policies.get_policy(tenant, policy_uuid)
    policies.require_grantable(held, policy.doc.get("acl", []))
    return directory.edit_links(tenant, GROUP, group_uuid, "policies", add=[policy_uuid], by=by)


def remove_policy(tenant: str, group_uuid: str, policy_uuid: str, *, held: list[str], by: str | None) -> Entity:
    """Detach a policy from the group (idempotent; lifting its negations is a grant)."""
    policies.require_grantable(held, policies.lifted(policies.acl_of(tenant, [policy_uuid])))
    return directory.edit_links(tenant, GROUP, group_uuid, "policies", remove=[policy_uuid], by=by)


def members(tenant: str, group: Entity) -> list[Entity]:
    """The group's accounts (deleted ones skipped; Everyone's: every account of the tenant)."""
    if is_everyone(tenant, group.id):
        return list(accounts.repo(tenant, accounts.ACCOUNT).iterate())
    ids = group.doc.get("users", [])
    return accounts.repo(tenant, accounts.ACCOUNT).get_many(ids) if ids else []


def member_count(tenant: str, group: Entity) -> int:
    """How many accounts the group has: its `users` list (a deleted account leaves it), or
    for Everyone every account of the tenant (one Query)."""
    if is_everyone(tenant, group.id):
        return len(members(tenant, group))
    return len(group.doc.get("users", []))


def attached_policies(tenant: str, group: Entity) -> list[Entity]:
    """The group's policies (deleted ones skipped)."""
    ids = group.doc.get("policies", [])
    return accounts.repo(tenant, policies.POLICY).get_many(ids) if ids else []


# ---- Everyone -----------------------------------------------------------------------------


def everyone_role_id(tenant: str) -> str:
    """The id of Everyone's role (derived from the tenant, like the group's)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"opsplane:{tenant}:everyone-role"))


def is_everyone(tenant: str, group_uuid: str) -> bool:
    return group_uuid == accounts.everyone_id(tenant)


def check_rename(tenant: str, group_uuid: str, name: Any) -> None:
    """Everyone keeps its name (Invalid otherwise); other groups take any."""
    if is_everyone(tenant, group_uuid) and name != EVERYONE:
        raise Invalid(f"The {EVERYONE} group cannot be renamed")


def ensure_everyone(tenant: str) -> Entity:
    """The tenant's Everyone group, made with its role (DEFAULT_PERMISSIONS) when missing:
    idempotent, and safe to race (the ids are the tenant's, a second creation conflicts)."""
    group_uuid = accounts.everyone_id(tenant)
    found = accounts.repo(tenant, GROUP).find(group_uuid)
    if found is not None:
        return found
    role_uuid = everyone_role_id(tenant)
    try:
        policies.create_policy(
            tenant,
            name=EVERYONE,
            slug=None,
            description="What every account of the tenant may do",
            acl=permissions.patterns_of(DEFAULT_PERMISSIONS),
            held=None,
            by="system",
            policy_uuid=role_uuid,
        )
    except Conflict:
        pass  # made meanwhile (or before the group, by an interrupted run)
    try:
        return create_group(
            tenant,
            name=EVERYONE,
            slug=None,
            description="Every account of the tenant",
            by="system",
            group_uuid=group_uuid,
            policy_ids=[role_uuid],
        )
    except Conflict:
        return get_group(tenant, group_uuid)
