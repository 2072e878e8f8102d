"""Signed cursors are bound to tenant and query; edits are refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import Invalid
from chalicelib.store.cursor import decode_cursor, encode_cursor

SECRET = b"s" * 32
POS = {"k": {"pk": {"S": "t1#alert"}, "sk": {"S": "42"}}}


def test_can_round_trip_a_cursor():
    cursor = encode_cursor(SECRET, "t1", {"kind": "alert"}, POS)
    assert decode_cursor(SECRET, "t1", {"kind": "alert"}, cursor) == POS


def test_can_refuse_a_cursor_of_another_tenant_or_query():
    cursor = encode_cursor(SECRET, "t1", {"kind": "alert"}, POS)
    with pytest.raises(Invalid):
        decode_cursor(SECRET, "t2", {"kind": "alert"}, cursor)
    with pytest.raises(Invalid):
        decode_cursor(SECRET, "t1", {"kind": "dashboard"}, cursor)
    with pytest.raises(Invalid):
        decode_cursor(b"other" * 8, "t1", {"kind": "alert"}, cursor)


@given(st.integers(min_value=0), st.characters(codec="ascii"))
def test_can_refuse_any_edited_cursor(index, char):
    cursor = encode_cursor(SECRET, "t1", {"kind": "alert"}, POS)
    i = index % len(cursor)
    edited = cursor[:i] + char + cursor[i + 1 :]
    if edited == cursor:
        return
    try:
        assert decode_cursor(SECRET, "t1", {"kind": "alert"}, edited) == POS
    except Invalid:
        return


@pytest.mark.parametrize("garbage", ["", ".", "abc", "a.b", "!!!.???", "x" * 500])
def test_can_refuse_garbage(garbage):
    with pytest.raises(Invalid):
        decode_cursor(SECRET, "t1", {}, garbage)


def test_can_refuse_an_edited_last_character_that_decodes_to_the_same_bytes():
    # GIVEN a cursor; WHEN the last character of either part is replaced by any other
    # base64url character (some differ only in bits the encoding leaves unused)
    import string

    cursor = encode_cursor(SECRET, "t1", {"kind": "alert"}, POS)
    body, sig = cursor.split(".")
    alphabet = string.ascii_letters + string.digits + "-_"
    edits = [f"{body[:-1]}{c}.{sig}" for c in alphabet if c != body[-1]]
    edits += [f"{body}.{sig[:-1]}{c}" for c in alphabet if c != sig[-1]]
    # THEN every one is refused
    for edited in edits:
        with pytest.raises(Invalid):
            decode_cursor(SECRET, "t1", {"kind": "alert"}, edited)
