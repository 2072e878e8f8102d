"""The snapshot codec of scripts/local_dynamodb.py: DynamoDB values <-> plain JSON."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from scripts.local_dynamodb import from_wire, item_from_wire, item_to_wire, to_wire

numbers = st.integers(min_value=-(10**12), max_value=10**12).map(lambda n: {"N": str(n)})
strings = st.text(max_size=20).map(lambda s: {"S": s})
binaries = st.binary(max_size=40).map(lambda b: {"B": b})
scalars = st.one_of(
    numbers,
    strings,
    binaries,
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=4, unique=True).map(lambda v: {"BS": v}),
    st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda v: {"L": v}),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4).map(lambda v: {"M": v}),
    ),
    max_leaves=12,
)


@given(values)
def test_can_round_trip_any_attribute_value_through_json(value):
    # GIVEN any DynamoDB attribute value as boto3 hands it out
    # WHEN it is encoded, written as JSON, read back and decoded
    encoded = json.loads(json.dumps(to_wire(value)))

    # THEN the value is exactly the one we started with
    assert from_wire(encoded) == value


def test_can_write_binary_values_as_base64_text():
    # GIVEN an item with a binary attribute (compressed documents are stored that way)
    item = {"pk": {"S": "t#alert"}, "doc_z": {"B": b"\x00\xffzlib"}}

    # WHEN it is encoded
    wire = item_to_wire(item)

    # THEN the binary is DynamoDB's own JSON form (base64), and decoding gives the bytes back
    assert wire["doc_z"] == {"B": "AP96bGli"}
    assert item_from_wire(wire) == item
