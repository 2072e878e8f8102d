"""The export document's identity sections: policies (Wavefront roles, Wazo policies),
groups (user groups, Wazo groups) and the tenant's access policy (categories/export.py
lists them first: every other kind may name a group).

Accounts are not exported (they hold credentials, and usernames are unique across the
installation): the document references them (domain/export.py), and a policy's entry
lists the accounts that hold it directly (`_accounts`; an account's `policies` list is
where that link lives). Written through the identity functions, with their rules: the
grant rule (the importer may hand out only ACL it holds, 403 otherwise), unique slugs,
and the access policy's lockout rule (it must not deny the address importing it).

Everyone's group and role (identity/groups.py) are every tenant's own, with ids derived
from the tenant: the document names them `everyone` and `everyone-role` (references
included), first in their sections, and an import changes the receiving tenant's own
(its role's ACL and description, its group's description and roles; its members are
every account already) instead of making a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from chalicelib.categories.accesspolicy_views import AccessPolicyBody
from chalicelib.categories.identity_views import check_description, check_name, held
from chalicelib.domain.context import Context
from chalicelib.domain.export import Doc, Planned, Resolve, Section
from chalicelib.errors import Conflict, Forbidden, Invalid
from chalicelib.http.request import validation_message
from chalicelib.identity import accounts, directory, groups, names, network, policies
from chalicelib.identity.accounts import ACCOUNT, GROUP, POLICY
from chalicelib.store.repository import Entity

Known = Callable[[str, str], bool]

# A policy's accounts (the accounts whose `policies` name it), in the document only.
HOLDERS = "_accounts"
# Keys of a stored record that belong to the tenant holding it (its uuid is the entry's id).
RECORD_KEYS = ("uuid", "tenant_uuid")
ACCESS_POLICY = "accesspolicy"
# The request's source address (ctx.memo): an imported access policy must allow it.
SOURCE = "export.source"
# The document's ids of Everyone's group and role (Section.aliases).
EVERYONE_GROUP = "everyone"
EVERYONE_ROLE = "everyone-role"


def _public(entity: Entity) -> Doc:
    return {k: v for k, v in entity.doc.items() if k not in RECORD_KEYS}


def _record(doc: Doc, keys: tuple[str, ...], tags: list[str]) -> None:
    """What policies and groups share: a name, a slug, a description, no other keys, no tags."""
    extra = sorted(set(doc) - set(keys))
    if extra:
        raise Invalid(f"{extra[0]}: not a field of this record")
    name, description = doc.get("name"), doc.get("description")
    try:
        if not isinstance(name, str) or check_name(name) != name:
            raise ValueError("must be 1 to 256 printable characters, not padded")
    except ValueError as exc:
        raise Invalid(f"name: {exc}") from exc
    try:
        if description is not None and not isinstance(description, str):
            raise ValueError("must be a string")
        check_description(description)
    except ValueError as exc:
        raise Invalid(f"description: {exc}") from exc
    names.check_slug(doc.get("slug"))  # type: ignore[arg-type]
    if tags:
        raise Invalid("tags: this record has none")


def _ids(doc: Doc, key: str) -> list[str]:
    found = doc.get(key, [])
    if not isinstance(found, list) or not all(isinstance(i, str) for i in found):
        raise Invalid(f"{key}: must be a list of ids")
    return found


def _unknown_accounts(ctx: Context, ids: list[str]) -> list[str]:
    there = {a.id for a in ctx.repo(ACCOUNT).get_many(list(dict.fromkeys(ids)))} if ids else set()
    return [i for i in ids if i not in there]


def drop_accounts(key: str) -> Callable[[Doc, Resolve], list[str]]:
    """Section.accounts for a list of account ids under key."""

    def rewrite(doc: Doc, resolve: Resolve) -> list[str]:
        found = doc.get(key)
        if not isinstance(found, list):
            return []
        lost = [i for i in found if isinstance(i, str) and resolve(i) is None]
        doc[key] = [resolve(i) if isinstance(i, str) else i for i in found if i not in lost]
        return lost

    return rewrite


def _slug(space: str) -> Callable[[Context, Doc], tuple[str, str | None] | None]:
    def claim(ctx: Context, doc: Doc) -> tuple[str, str | None] | None:
        slug = str(doc["slug"]).lower()
        return slug, names.holder(ctx.tenant, space, slug)

    return claim


def _taken(kind: str) -> Callable[[Context, str, Doc], bool]:
    return lambda ctx, entity_id, doc: ctx.repo(kind).find(entity_id) is not None


def _uuid(ctx: Context, entity_id: str, doc: Doc) -> str:
    return str(uuid.uuid4())


def _everyone_first(found: Iterator[Entity], own_id: str) -> Iterator[Entity]:
    """The records in id order, but the tenant's Everyone one first: its id in the document
    is the same for every tenant, so its place must be too."""
    rest = []
    for entity in found:
        if entity.id == own_id:
            yield entity
        else:
            rest.append(entity)
    yield from rest


# ---- policies ---------------------------------------------------------------------------


def policy_listing(ctx: Context) -> Iterator[Entity]:
    """The tenant's policies, each with the accounts that hold it directly."""
    holders: dict[str, list[str]] = {}
    for account in ctx.repo(ACCOUNT).iterate():
        for policy_id in account.doc.get("policies", []):
            holders.setdefault(policy_id, []).append(account.id)
    for policy in _everyone_first(ctx.repo(POLICY).iterate(), groups.everyone_role_id(ctx.tenant)):
        yield replace(policy, doc={**_public(policy), HOLDERS: sorted(holders.get(policy.id, []))})


def check_policy(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """A policy: name, slug, description, a valid ACL the importer may grant, accounts of
    the tenant."""
    _record(doc, ("name", "slug", "description", "acl", HOLDERS), tags)
    acl = _ids(doc, "acl")
    if policies.check_acl(acl) != acl:
        raise Invalid("acl: listed twice")
    policies.require_grantable(held(ctx), acl)
    unknown = _unknown_accounts(ctx, _ids(doc, HOLDERS))
    if unknown:
        raise Invalid(f"{HOLDERS}: no account {', '.join(unknown[:10])} in this tenant")


def write_policy(ctx: Context, planned: Planned) -> None:
    """Create the policy (grant rule, slug), or change the tenant's Everyone role to the
    document's, then give it to its accounts."""
    doc = planned.versions[-1]["doc"]
    if planned.id == groups.everyone_role_id(ctx.tenant):
        groups.ensure_everyone(ctx.tenant)
        changes = {"description": doc.get("description"), "acl": doc.get("acl", [])}
        policies.update_policy(ctx.tenant, planned.id, changes, held=held(ctx), by=ctx.actor)
    else:
        policies.create_policy(
            ctx.tenant,
            name=doc["name"],
            slug=doc["slug"],
            description=doc.get("description"),
            acl=doc.get("acl", []),
            held=held(ctx),
            by=ctx.actor,
            policy_uuid=planned.id,
        )
    for account_id in doc.get(HOLDERS, []):
        directory.edit_links(ctx.tenant, ACCOUNT, account_id, "policies", add=[planned.id], by=ctx.actor)


# ---- groups -------------------------------------------------------------------------------


def group_listing(ctx: Context) -> Iterator[Entity]:
    found = _everyone_first(ctx.repo(GROUP).iterate(), accounts.everyone_id(ctx.tenant))
    return (replace(g, doc=_public(g)) for g in found)


def everyone_aliases(kind: str) -> Callable[[Context], dict[str, str]]:
    """Section.aliases: the tenant's Everyone group or role -> its id in the document."""
    if kind == GROUP:
        return lambda ctx: {accounts.everyone_id(ctx.tenant): EVERYONE_GROUP}
    return lambda ctx: {groups.everyone_role_id(ctx.tenant): EVERYONE_ROLE}


def rewrite_group(doc: Doc, ids: dict[str, dict[str, str]]) -> None:
    """A group names its policies by their new ids."""
    mapping = ids.get(POLICY, {})
    if isinstance(doc.get("policies"), list):
        doc["policies"] = [mapping.get(p, p) if isinstance(p, str) else p for p in doc["policies"]]


def check_group(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """A group: name, slug, description, members of the tenant, policies there will be
    (those the tenant holds already: their ACL the importer may grant)."""
    _record(doc, ("name", "slug", "description", "users", "policies"), tags)
    unknown = _unknown_accounts(ctx, _ids(doc, "users"))
    if unknown:
        raise Invalid(f"users: no account {', '.join(unknown[:10])} in this tenant")
    attached = _ids(doc, "policies")
    missing = [p for p in attached if not known(POLICY, p)]
    if missing:
        raise Invalid(f"policies: no policy {', '.join(missing[:10])}")
    policies.require_grantable(held(ctx), policies.acl_of(ctx.tenant, attached))


def write_group(ctx: Context, planned: Planned) -> None:
    """Create the group (slug), then set its members and policies; the tenant's Everyone
    is changed instead (description and policies: its members are every account)."""
    doc = planned.versions[-1]["doc"]
    everyone = groups.is_everyone(ctx.tenant, planned.id)
    if everyone:
        groups.ensure_everyone(ctx.tenant)
    else:
        groups.create_group(
            ctx.tenant,
            name=doc["name"],
            slug=doc["slug"],
            description=doc.get("description"),
            by=ctx.actor,
            group_uuid=planned.id,
        )

    def links(entity: Entity) -> None:
        if everyone:
            entity.doc["description"] = doc.get("description")
        else:
            entity.doc["users"] = list(doc.get("users", []))
        entity.doc["policies"] = list(doc.get("policies", []))

    if everyone or doc.get("users") or doc.get("policies"):
        directory.update(ctx.tenant, GROUP, planned.id, links, by=ctx.actor)


# ---- the access policy --------------------------------------------------------------------


def access_listing(ctx: Context) -> Iterator[Entity]:
    """The tenant's access policy as one entry (none while it has no rules)."""
    policy = network.policy_of(ctx.tenant)
    if policy.rules:
        rules = [{k: v for k, v in vars(r).items() if v is not None} for r in policy.rules]
        yield Entity(id=ACCESS_POLICY, kind=ACCESS_POLICY, tenant=ctx.tenant, doc={"policyRules": rules})


def _rules(doc: Doc) -> list[network.Rule]:
    try:
        body = AccessPolicyBody.model_validate(doc)
    except ValidationError as exc:
        raise Invalid(validation_message(exc)) from exc
    return [r.rule() for r in body.policyRules]


def check_access(ctx: Context, entity_id: str, doc: Doc, tags: list[str], known: Known) -> None:
    """The access policy: rules as the access policy stores them, that allow the address
    importing them (else the importer would lock itself out)."""
    if entity_id != ACCESS_POLICY:
        raise Invalid(f"id: must be {ACCESS_POLICY}")
    if set(doc) != {"policyRules"} or tags:
        raise Invalid("policyRules: the access policy holds its rules only")
    rules = _rules(doc)
    stored = [{k: v for k, v in vars(r).items() if v is not None} for r in rules]
    if stored != doc["policyRules"]:
        raise Invalid("policyRules: not as the access policy stores them (canonical subnets)")
    try:
        network.check([r.line for r in rules], ctx.tenant, ctx.memo.get(SOURCE))
    except Forbidden as exc:
        raise Invalid(f"policyRules: would deny this request's address: {exc}") from exc


def access_taken(ctx: Context, entity_id: str, doc: Doc) -> bool:
    """A tenant has one access policy: one with rules already is not replaced."""
    return bool(network.policy_of(ctx.tenant).rules)


def write_access(ctx: Context, planned: Planned) -> None:
    try:
        network.save(ctx.tenant, _rules(planned.versions[-1]["doc"]), source=ctx.memo.get(SOURCE), by=ctx.actor)
    except Invalid as exc:  # checked before: only a concurrent change gets here
        raise Conflict(str(exc)) from exc


# ---- the sections -------------------------------------------------------------------------


def _repo(kind: str) -> Callable[[Context], Any]:
    return lambda ctx: accounts.repo(ctx.tenant, kind)


SECTIONS: list[Section] = [
    Section(
        name=POLICY,
        label="Policy",
        repo=_repo(POLICY),
        check=check_policy,
        new_id=_uuid,
        managed=(HOLDERS,),
        listing=policy_listing,
        accounts=drop_accounts(HOLDERS),
        taken=_taken(POLICY),
        claim=_slug(policies.SLUGS),
        write=write_policy,
        aliases=everyone_aliases(POLICY),
    ),
    Section(
        name=GROUP,
        label="Group",
        repo=_repo(GROUP),
        check=check_group,
        new_id=_uuid,
        rewrite=rewrite_group,
        listing=group_listing,
        accounts=drop_accounts("users"),
        taken=_taken(GROUP),
        claim=_slug(groups.SLUGS),
        write=write_group,
        aliases=everyone_aliases(GROUP),
    ),
    Section(
        name=ACCESS_POLICY,
        label="Access policy",
        repo=_repo(ACCESS_POLICY),
        check=check_access,
        new_id=lambda ctx, entity_id, doc: ACCESS_POLICY,
        listing=access_listing,
        taken=access_taken,
        write=write_access,
    ),
]
