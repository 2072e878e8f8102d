"""Wazo ACL matching rules and the grant rule."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.auth.acl import allows, matches, may_grant, valid_entry

segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
access = st.lists(segment, min_size=1, max_size=5).map(".".join)


def test_can_match_literal_star_and_hash():
    assert matches("alert.read", "alert.read")
    assert not matches("alert.read", "alert.readx")
    assert matches("alert.*.update", "alert.42.update")
    assert not matches("alert.*.update", "alert.4.2.update")
    assert matches("confd.#", "confd.users.read")
    assert not matches("confd.#", "confd")
    assert matches("#", "anything.at.all")


def test_can_let_negation_win():
    acl = ["alert.#", "!alert.*.delete"]
    assert allows(acl, "alert.1.update")
    assert not allows(acl, "alert.1.delete")
    assert not allows(["!#", "#"], "x.read")


def test_can_match_case_sensitively_and_anchored():
    assert not allows(["Alert.read"], "alert.read")
    assert not allows(["alert"], "alert.read")
    assert not allows(["read"], "alert.read")


@given(access)
def test_can_grant_every_access_to_hash(a):
    assert allows(["#"], a)


@given(access)
def test_can_match_every_access_exactly(a):
    assert allows([a], a)
    assert not allows([a + "x"], a)


@given(st.lists(segment, min_size=2, max_size=5))
def test_can_match_star_within_one_segment_only(parts):
    a = ".".join(parts)
    pattern = ".".join(["*"] + parts[1:])
    assert allows([pattern], a)
    assert not allows([pattern], "extra." + a)


@given(access, st.lists(access, max_size=4))
def test_can_deny_whenever_a_negation_matches(a, others):
    assert not allows([*others, a, "!" + a], a)


@given(access)
def test_can_agree_with_a_reference_regex(a):
    for pattern in ("*.read", "alert.#", "#.read", "a*"):
        ref = "^" + re.escape(pattern).replace(r"\*", "[^.]*").replace(r"\#", ".*") + "$"
        assert matches(pattern, a) == bool(re.match(ref, a, re.DOTALL))


def test_can_only_grant_what_is_held():
    assert may_grant(["#"], ["alert.read", "dashboard.#"]) == []
    assert may_grant(["alert.#"], ["alert.read", "alert.*.update"]) == []
    assert may_grant(["alert.read"], ["alert.#"]) == ["alert.#"]
    assert may_grant(["alert.*.read"], ["alert.#"]) == ["alert.#"]
    assert may_grant(["alert.read"], ["dashboard.read"]) == ["dashboard.read"]
    assert may_grant([], ["!alert.read"]) == []


@given(access)
def test_can_grant_held_entries_verbatim(a):
    assert may_grant([a], [a]) == []


def test_can_refuse_malformed_entries():
    assert valid_entry("alert.read")
    assert valid_entry("!alert.#")
    assert not valid_entry("")
    assert not valid_entry("!")
    assert not valid_entry("alert read")
    assert not valid_entry("alert.\nread")
