"""Entity ACLs: who may view or modify one object, beyond the category's ACL strings.

An entity's `_acl` document key holds {"view": [...], "modify": [...]}: account ids and
group ids. With both lists empty, every principal holding the category ACL may act.
Otherwise only listed principals (their account id, or one of their groups) may view
(view or modify list) or modify (modify list). A principal whose ACL allows "superadmin"
(the bootstrap admin holds "#") bypasses entity ACLs.
"""

from __future__ import annotations

from chalicelib.auth.principal import Principal
from chalicelib.store.repository import Entity

SUPERADMIN = "superadmin"
ACL_KEY = "_acl"


def lists(entity: Entity) -> tuple[list[str], list[str]]:
    """(view, modify) principal ids of an entity."""
    acl = entity.doc.get(ACL_KEY) or {}
    return list(acl.get("view", [])), list(acl.get("modify", []))


def principals(entity: Entity) -> list[str]:
    """Every principal id named by the entity's ACL."""
    view, modify = lists(entity)
    return view + modify


def bypasses(principal: Principal) -> bool:
    """May this principal ignore entity ACLs?"""
    return principal.can(SUPERADMIN)


def _member(principal: Principal, ids: list[str]) -> bool:
    return bool({principal.id, *principal.groups} & set(ids))


def may_view(principal: Principal, entity: Entity) -> bool:
    """May the principal view the entity?"""
    view, modify = lists(entity)
    if not view and not modify:
        return True
    return bypasses(principal) or _member(principal, view + modify)


def may_modify(principal: Principal, entity: Entity) -> bool:
    """May the principal modify the entity?"""
    view, modify = lists(entity)
    if not view and not modify:
        return True
    return bypasses(principal) or _member(principal, modify)


def edit(entity: Entity, mode: str, view: list[str], modify: list[str]) -> None:
    """Apply an ACL write in place: mode "set" replaces, "add" extends, "remove" subtracts."""
    old_view, old_modify = lists(entity)
    if mode == "set":
        new_view, new_modify = view, modify
    elif mode == "add":
        new_view, new_modify = old_view + view, old_modify + modify
    elif mode == "remove":
        new_view = [p for p in old_view if p not in view]
        new_modify = [p for p in old_modify if p not in modify]
    else:
        raise ValueError(f"Unknown ACL write mode {mode!r}")
    entity.doc[ACL_KEY] = {"view": list(dict.fromkeys(new_view)), "modify": list(dict.fromkeys(new_modify))}
