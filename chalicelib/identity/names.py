"""Unique names inside one owner: a tenant's slug among its siblings, a policy's or a
group's slug inside its tenant.

A reservation record `<owner>#<space> / <lower-cased name>` is written in the same
transaction as the object it names, so two concurrent creations never both win, and
deleted together with it (store/names.py makes the rows).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from chalicelib.auth.keys import cursor_secret
from chalicelib.errors import Conflict, Invalid
from chalicelib.store import names as reservations
from chalicelib.store.repository import Entity, Repository, Writes, chain

Extra = Writes

MAX_SLUG = 80
_SLUG = re.compile(r"[A-Za-z0-9_-]{1,80}\Z")


def slugify(name: str, fallback: str = "item") -> str:
    """URL-friendly slug of a name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:MAX_SLUG] or fallback


def check_slug(slug: str) -> str:
    """A slug is 1-80 letters, digits, '-' or '_'."""
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise Invalid("slug must be 1 to 80 letters, digits, '-' or '_'")
    return slug


def _key(name: str) -> str:
    return name.strip().lower()


def holder(owner: str, space: str, name: str) -> str | None:
    """Id of the object holding name in owner's space, or None."""
    found = Repository(owner, space, cursor_secret=cursor_secret).find(_key(name))
    return found.doc["id"] if found else None


def claim(owner: str, space: str, name: str, target: str) -> Extra:
    """Transactional write that reserves name for target (fails when taken)."""
    return reservations.reserve(owner, space, _key(name), {"id": target})


def release(owner: str, space: str, name: str) -> Extra:
    """Transactional write that frees name."""
    return reservations.release(owner, space, _key(name))


def both(*extras: Extra | None) -> Extra | None:
    """One transactional callback from several (None ones skipped)."""
    return chain(*extras)


def pick(owner: str, space: str, base: str) -> str:
    """base, or base with a short random suffix when base is taken (derived slugs)."""
    if holder(owner, space, base) is None:
        return base
    return f"{base[: MAX_SLUG - 7]}-{secrets.token_hex(3)}"


def create_named(
    repo: Repository,
    entity_id: str,
    doc: dict[str, Any],
    *,
    owner: str,
    space: str,
    name: str,
    by: str | None,
    extra: Extra | None = None,
) -> Entity:
    """Create an object together with the reservation of its unique name (Conflict when taken)."""
    taken = f"{repo.kind.capitalize()} slug {name} already exists"
    if holder(owner, space, name) is not None:
        raise Conflict(taken)
    try:
        return repo.create(entity_id, doc, by=by, extra=both(claim(owner, space, name, entity_id), extra))
    except Conflict as exc:
        if holder(owner, space, name) is not None:
            raise Conflict(taken) from exc
        raise
