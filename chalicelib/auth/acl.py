"""ACL matching with Wazo's rules.

Entries are dotted patterns, anchored and case-sensitive: `*` matches within one
segment, `#` matches anything including dots (`confd.#` matches `confd.users.read`,
not `confd`), and an entry starting with `!` is a negation that always wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def _regex(pattern: str, star: str) -> str:
    """The regular expression of an ACL pattern: `#` is anything, `*` is star."""
    return "".join(r".*" if ch == "#" else star if ch == "*" else re.escape(ch) for ch in pattern)


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(_regex(pattern, r"[^.]*") + r"\Z", re.DOTALL)


def matches(pattern: str, access: str) -> bool:
    """Does one (non-negated) pattern match the access string?"""
    return _compile(pattern).match(access) is not None


def allows(acl: Iterable[str], access: str) -> bool:
    """Is access granted by acl? A matching negation denies whatever else matches."""
    granted = False
    for entry in acl:
        if entry.startswith("!"):
            if matches(entry[1:], access):
                return False
        elif not granted and matches(entry, access):
            granted = True
    return granted


def _covered(held: Iterable[str], pattern: str) -> bool:
    """Is every access the pattern could match also granted by held?"""
    held = list(held)
    if any(h.startswith("!") for h in held):
        # A holder with negations may only pass on patterns it holds verbatim.
        positive = [h for h in held if not h.startswith("!")]
        return pattern in positive and allows(held, _sample(pattern))
    for entry in held:
        if entry == pattern or entry == "#":
            return True
        if "*" not in pattern and "#" not in pattern and matches(entry, pattern):
            return True
        if _generalizes(entry, pattern):
            return True
    return False


def _sample(pattern: str) -> str:
    return pattern.replace("#", "x").replace("*", "x")


def _generalizes(general: str, specific: str) -> bool:
    """Does every string matched by `specific` also match `general`?

    Treats the wildcards of `specific` as literal symbols that only an equal or wider
    wildcard of `general` can absorb: `#` absorbs anything, `*` absorbs `*` and
    non-dot characters.
    """
    return re.fullmatch(_regex(general, r"[^.#]*"), specific, re.DOTALL) is not None


def may_grant(held: Iterable[str], requested: Iterable[str]) -> list[str]:
    """The requested entries the holder may NOT grant (empty list: all allowed).

    A principal can only hand out ACL it holds itself: a positive entry must be covered
    by the holder's own ACL; a negation narrows access and is always allowed.
    """
    held = list(held)
    refused = []
    for entry in requested:
        if entry.startswith("!"):
            continue
        if not _covered(held, entry):
            refused.append(entry)
    return refused


def valid_entry(entry: str) -> bool:
    """An ACL entry is a non-empty dotted string without spaces or control characters."""
    body = entry[1:] if entry.startswith("!") else entry
    return bool(body) and len(entry) <= 512 and not any(c.isspace() or ord(c) < 32 for c in body)
