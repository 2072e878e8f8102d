"""Wavefront permission names <-> ACL patterns, and the documented table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wavefront_api_client import ApiClient

from chalicelib.auth import permissions
from chalicelib.auth.acl import allows, matches
from chalicelib.errors import Invalid

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
names = st.sampled_from(permissions.names())
name_sets = st.lists(names, unique=True, max_size=8)


def test_can_map_permission_names_to_acl_patterns():
    assert permissions.patterns("alerts_management") == ["alert.#", "maintenancewindow.#", "notificant.#", "webhook.#"]
    assert permissions.patterns("dashboard_management") == [
        "dashboard.#",
        "folder.#",
        "snapshot.#",
        "libraryelement.#",
        "datasource.#",
    ]
    assert permissions.patterns("events_management") == ["event.#", "inboundwebhook.#"]
    assert permissions.patterns("host_tag_management") == ["source.#"]
    assert permissions.patterns("browse") == ["*.read", "*.*.read"]
    assert "apitoken.*.delete" in permissions.patterns("api_tokens")
    assert permissions.patterns("accounts") == permissions.patterns("user_management")
    assert {"account.#", "usergroup.#", "role.#", "apitoken.#", "tenant.#"} <= set(permissions.patterns("accounts"))


def test_can_name_every_permission_the_client_documents():
    # The client's UserToCreate lists the permission names Wavefront accepts.
    from wavefront_api_client.models import user_to_create

    text = user_to_create.UserToCreate.groups.__doc__ or ""
    listed = re.search(r"Possible values are ([a-z_, ]+)", text)
    assert listed is not None
    documented = {n.strip() for n in listed.group(1).split(",")}
    assert documented <= set(permissions.names())


@pytest.mark.parametrize("bad", ["", "nope", "alerts", "alert.#", 3, None])
def test_can_refuse_unknown_permission_names(bad):
    with pytest.raises(Invalid):
        permissions.canonical(bad)


def test_can_accept_names_in_any_case():
    assert permissions.canonical(" Alerts_Management ") == "alerts_management"
    assert permissions.canonical_all(["ACCOUNTS", "user_management", "browse"]) == ["user_management", "browse"]


def test_can_tell_which_permissions_an_acl_fully_holds():
    assert permissions.held([]) == []
    assert permissions.held(["#"]) == permissions.names()
    assert permissions.held(["alert.#"]) == []  # alerts_management needs its four patterns
    assert permissions.held(["alert.#", "maintenancewindow.#", "notificant.#", "webhook.#"]) == ["alerts_management"]
    assert permissions.held(["dashboard.#", "folder.#", "!dashboard.1.delete"]) == []  # a negation narrows it
    assert permissions.held(permissions.patterns("user_management")) == [
        "api_tokens",
        "token_management",
        "user_management",
    ]
    assert permissions.held(["*.read", "*.*.read", "x.y"]) == ["browse"]


segment = st.text(alphabet="abc", min_size=1, max_size=3)
access = st.lists(segment, min_size=1, max_size=4).map(".".join)


@st.composite
def pattern_of(draw, accessed):
    """A pattern that matches the access string (some segments widened to * or #)."""
    parts = accessed.split(".")
    widened = [draw(st.sampled_from([p, "*", p[:1] + "*"])) for p in parts]
    if draw(st.booleans()):
        cut = draw(st.integers(min_value=0, max_value=len(widened) - 1))
        widened = [*widened[:cut], "#"]
    return ".".join(widened)


@given(access.flatmap(lambda a: st.tuples(st.just(a), pattern_of(a), pattern_of(a))))
def test_can_see_patterns_overlap_when_an_access_matches_both(case):
    accessed, one, two = case
    assert matches(one, accessed) and matches(two, accessed)
    assert permissions.overlap(one, two) and permissions.overlap(two, one)


# A shortest shared string is never longer than both patterns together: patterns of at
# most 4 characters need strings of at most 8.
SHORT_STRINGS = [""]
for _ in range(8):
    SHORT_STRINGS = sorted({*SHORT_STRINGS, *(u + c for u in SHORT_STRINGS for c in "ab." if len(u) < 8)})


@given(st.text(alphabet="ab.*#", max_size=4), st.text(alphabet="ab.*#", max_size=4))
def test_can_decide_overlap_like_brute_force(one, two):
    brute = any(matches(one, s) and matches(two, s) for s in SHORT_STRINGS)
    assert permissions.overlap(one, two) == brute


def test_can_tell_disjoint_patterns_apart():
    assert not permissions.overlap("dashboard.#", "alert.#")
    assert not permissions.overlap("*.read", "a.b.read")
    assert permissions.overlap("*.read", "#")
    assert permissions.overlap("secret.#", "*.read")
    assert not permissions.overlap("secret.#", "secret")


def test_can_keep_custom_entries_when_permissions_are_replaced():
    acl = ["confd.users.read", "alert.#", "maintenancewindow.#", "notificant.#", "webhook.#", "#"]
    assert permissions.replace(acl, ["events_management"]) == ["confd.users.read", "#", "event.#", "inboundwebhook.#"]


@given(name_sets)
def test_can_hold_what_was_granted(granted):
    acl = permissions.grant([], granted)
    assert set(granted) <= set(permissions.held(acl))
    assert permissions.grant(acl, granted) == acl  # idempotent


@given(name_sets, names)
def test_can_revoke_a_permission_no_other_one_covers(granted, revoked):
    others = [n for n in granted if n != revoked]
    acl = permissions.grant([], [*granted, revoked])
    after = permissions.revoke(acl, [revoked])
    if revoked not in permissions.held(permissions.grant([], others)):
        assert revoked not in permissions.held(after)
    gone = set(permissions.patterns(revoked))
    untouched = [n for n in others if not gone & set(permissions.patterns(n))]
    assert set(untouched) <= set(permissions.held(after))


@given(names)
def test_can_grant_the_access_the_patterns_name(name):
    acl = permissions.grant([], [name])
    for pattern in permissions.patterns(name):
        sample = pattern.replace("#", "x.y").replace("*", "x")
        assert allows(acl, sample)


def test_can_only_name_business_functions_the_client_knows():
    everything = permissions.business_functions(["#"], user=True)
    body = {"status": {"result": "OK", "code": 200}, "response": everything}
    ApiClient()._ApiClient__deserialize(body, "ResponseContainerSetBusinessFunction")  # ValueError on a bad enum
    assert "LOGIN" not in permissions.business_functions(["#"], user=False)
    assert permissions.business_functions([], user=False) == ["VIEW_MY_MESSAGES"]


def test_can_document_the_mapping_exactly():
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`[a-z_]+`", cells[0]):
            rows[cells[0].strip("`")] = (re.findall(r"`([^`]+)`", cells[2]), re.findall(r"`([^`]+)`", cells[3]))
    assert sorted(rows) == permissions.names()
    for name, (patterns, aliases) in rows.items():
        assert patterns == permissions.patterns(name), name
        assert aliases == [a for a, target in permissions.ALIASES.items() if target == name], name
