"""The search engine on plain records: matching, negation, AND, sort, paging, facets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.searching import (
    Condition,
    FacetsRequest,
    Fields,
    SearchRequest,
    Sorting,
    facet,
    facets,
    path,
    search,
    select,
    text_matches,
)
from chalicelib.errors import Invalid

FIELDS = Fields.of(
    "id",
    "name",
    "severity",
    "minutes",
    "hidden",
    extra={"tags": path("tags.customerTags")},
    facets=("tags", "severity"),
    freetext=("name", "tags"),
)

RECORDS = [
    {
        "id": "1",
        "name": "CPU high",
        "severity": "WARN",
        "minutes": 5,
        "hidden": False,
        "tags": {"customerTags": ["env.prod"]},
    },
    {
        "id": "2",
        "name": "disk full",
        "severity": "SEVERE",
        "minutes": 1,
        "hidden": True,
        "tags": {"customerTags": ["env.prod.eu", "db"]},
    },
    {"id": "3", "name": "cpu low", "severity": "WARN", "minutes": 30, "tags": {"customerTags": ["env.dev"]}},
    {"id": "4", "name": "no tags", "minutes": 10},
]


def ids(records) -> list[str]:
    return [r["id"] for r in records]


def where(*conds: dict) -> list[str]:
    return ids(select(RECORDS, [Condition(**c) for c in conds], FIELDS))


@pytest.mark.parametrize(
    "method, candidate, wanted, expected",
    [
        ("CONTAINS", "CPU high", "cpu", True),
        ("CONTAINS", "disk", "cpu", False),
        ("STARTSWITH", "CPU high", "cpu h", True),
        ("STARTSWITH", "CPU high", "high", False),
        ("EXACT", "CPU high", "CPU high", True),
        ("EXACT", "CPU high", "cpu high", False),
        ("TAGPATH", "env.prod", "env.prod", True),
        ("TAGPATH", "env.prod.eu", "env.prod", True),
        ("TAGPATH", "env.production", "env.prod", False),
        ("TAGPATH", "env", "env.*", False),
        ("TAGPATH", "env.dev", "env.*", True),
    ],
)
def test_can_match_with_each_method(method, candidate, wanted, expected):
    assert text_matches(method, candidate, wanted) is expected


def test_can_select_by_condition_negation_and_conjunction():
    assert where({"key": "name", "value": "cpu"}) == ["1", "3"]
    assert where({"key": "name", "value": "cpu", "negated": True}) == ["2", "4"]
    assert where({"key": "name", "value": "cpu"}, {"key": "minutes", "start": 10}) == ["3"]
    assert where({"key": "tags", "value": "env.prod", "matchingMethod": "TAGPATH"}) == ["1", "2"]
    assert where({"key": "tags", "value": "env", "matchingMethod": "STARTSWITH", "negated": True}) == ["4"]
    assert where({"key": "severity", "values": ["WARN", "SEVERE"], "matchingMethod": "EXACT"}) == ["1", "2", "3"]
    assert where({"key": "hidden", "value": "true", "matchingMethod": "EXACT"}) == ["2"]
    assert where({"key": "freetext", "value": "db"}) == ["2"]
    assert where({"key": "minutes", "start": 5, "end": 10}) == ["1", "4"]


@pytest.mark.parametrize(
    "cond",
    [{"key": "colour", "value": "x"}, {"key": "name"}, {"key": "minutes"}],
)
def test_can_refuse_unknown_keys_and_empty_conditions(cond):
    with pytest.raises(Invalid):
        select(RECORDS, [Condition(**cond)], FIELDS)


def test_can_refuse_unknown_keys_even_without_records():
    with pytest.raises(Invalid, match="colour"):
        select([], [Condition(key="colour", value="x")], FIELDS)


def test_can_sort_with_missing_values_last_and_page():
    request = SearchRequest(sort=Sorting(field="severity", ascending=False), limit=2)
    result = search(RECORDS, request, FIELDS)
    assert ids(result.items) == ["1", "3"] and result.total == 4 and result.more
    numeric = search(RECORDS, SearchRequest(sort=Sorting(field="minutes")), FIELDS)
    assert ids(numeric.items) == ["2", "1", "4", "3"]  # numbers sort as numbers, not text
    last = search(RECORDS, SearchRequest(offset=3, limit=2), FIELDS)
    assert ids(last.items) == ["4"] and not last.more
    with pytest.raises(Invalid):
        search(RECORDS, SearchRequest(sort=Sorting(field="colour")), FIELDS)


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"limit": True},
        {"query": [{"key": "name", "value": "x", "matchingMethod": "LIKE"}]},
        {"query": [{"key": "", "value": "x"}]},
    ],
)
def test_can_validate_search_bodies(body):
    with pytest.raises(ValidationError):
        SearchRequest.model_validate(body)


def test_can_count_facet_values_most_frequent_first():
    found = facet(RECORDS, "severity", FIELDS)
    assert found.counts == [("WARN", 2), ("SEVERE", 1)]
    tags = facet(RECORDS, "tags", FIELDS, facet_query="env.prod", method="TAGPATH")
    assert tags.values == ["env.prod", "env.prod.eu"]
    narrowed = facet(RECORDS, "tags", FIELDS, query=[Condition(key="name", value="disk")])
    assert narrowed.counts == [("db", 1), ("env.prod.eu", 1)]
    several = facets(RECORDS, FacetsRequest(facets=["tags", "severity"]).facets, FIELDS)
    assert [f.name for f in several] == ["tags", "severity"]
    with pytest.raises(Invalid):
        facet(RECORDS, "name", FIELDS)


words = st.text(alphabet="abcXYZ. ", max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(words, max_size=8), words, st.sampled_from(["CONTAINS", "STARTSWITH", "EXACT", "TAGPATH"]))
def test_can_split_records_exactly_in_two_with_negation(values, wanted, method):
    # GIVEN records, a condition and its negation: every record lands in exactly one result
    records = [{"id": str(i), "name": v} for i, v in enumerate(values)]
    fields = Fields.of("id", "name")
    yes = select(records, [Condition(key="name", value=wanted, matchingMethod=method)], fields)
    no = select(records, [Condition(key="name", value=wanted, matchingMethod=method, negated=True)], fields)
    assert sorted(ids(yes) + ids(no), key=int) == ids(records)
    assert not set(ids(yes)) & set(ids(no))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-50, 50), max_size=15), st.integers(0, 20), st.integers(1, 20))
def test_can_page_through_everything_once(values, offset, limit):
    records = [{"id": str(i), "minutes": v} for i, v in enumerate(values)]
    fields = Fields.of("id", "minutes", default_sort="minutes")
    whole = search(records, SearchRequest(limit=1000), fields)
    page = search(records, SearchRequest(offset=offset, limit=limit), fields)
    assert [r["minutes"] for r in whole.items] == sorted(values)
    assert page.items == whole.items[offset : offset + limit]
    assert page.more == (offset + limit < len(values))
