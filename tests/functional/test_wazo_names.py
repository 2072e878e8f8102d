"""The small parsers behind the Wazo routes: derived slugs are always valid slugs, the
username and ACL checks accept exactly what they promise (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import Invalid
from chalicelib.identity import names, policies, users


@given(st.text(max_size=300))
def test_can_derive_a_valid_slug_from_any_name(name):
    slug = names.slugify(name, "tenant")

    assert names.check_slug(slug) == slug
    # a suffixed slug (when the derived one is taken) is valid too
    suffixed = f"{slug[: names.MAX_SLUG - 7]}-abcdef"
    assert names.check_slug(suffixed) == suffixed


@given(st.text(max_size=120))
def test_can_accept_exactly_the_slugs_of_letters_digits_dashes_and_underscores(text):
    valid = 1 <= len(text) <= 80 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)

    if valid:
        assert names.check_slug(text) == text
    else:
        with pytest.raises(Invalid):
            names.check_slug(text)


@given(st.text(max_size=300))
def test_can_accept_exactly_usernames_without_spaces_of_1_to_256_characters(text):
    valid = 1 <= len(text) <= 256 and not any(c.isspace() or ord(c) < 32 for c in text)

    if valid:
        assert users.check_username(text) == text
    else:
        with pytest.raises(Invalid):
            users.check_username(text)


def acceptable_entry(entry: object) -> bool:
    """An ACL entry is a non-empty string (after an optional leading !) without spaces or
    control characters."""
    if not isinstance(entry, str):
        return False
    body = entry[1:] if entry.startswith("!") else entry
    return bool(body) and not any(c.isspace() or ord(c) < 32 for c in body)


@given(st.lists(st.one_of(st.text(max_size=40), st.integers(), st.none()), max_size=20))
def test_can_keep_only_valid_acl_entries_or_refuse_the_list(entries):
    if all(acceptable_entry(e) for e in entries):
        assert policies.check_acl(entries) == list(dict.fromkeys(entries))
    else:
        with pytest.raises(Invalid):
            policies.check_acl(entries)


def test_can_find_a_lifted_negation_grant():
    assert policies.lifted(["a.read", "!b.#", "!c"]) == ["b.#", "c"]
