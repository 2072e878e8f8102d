"""The query parser: examples, precedence, error positions, and properties (hypothesis)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import Invalid
from chalicelib.query import MAX_DEPTH, MAX_QUERY_LENGTH, QuerySyntaxError, parse
from chalicelib.query.ast import (
    Binary,
    Call,
    Duration,
    Events,
    FilterBinary,
    FilterNot,
    Ident,
    Negate,
    Not,
    Number,
    Series,
    String,
    TagFilter,
    Variable,
)

# ---- examples ----------------------------------------------------------------------------

VALID = [
    "ts(~sample.cpu.loadavg.1m) > 1",
    'ts("my metric", source="web 1" and env=prod)',
    "ts(cpu.*, source=web-* or not tag=db, env!=dev) > 2 AND rate(ts(req)) < mavg(5m, ts(req))",
    "sum(ts(cpu), sources)",
    "align(1m, mean, ts(x))",
    "-ts(a) * 2 / (3 + .5e2) % 4",
    "${B} > 2",
    "NOT ts(x) = 1 OR ts(y) != 2",
    "default(0, ts(a, (source=a or source=b) and env='p r o d'))",
    "hs(latency.p99, app=web)",
    "f()",
    "1e-3 <= 5",
    "ts(x)\n  > 1",
    "events()",
    'events(type=alert, name="disk full" or not severity=info)',
]

INVALID = [
    ("ts(", 1, 4),
    ("ts(cpu) >", 1, 10),
    ("ts(cpu, source)", 1, 15),
    ("1 > 2 > 3", 1, 7),
    ("ts(cpu) @ 1", 1, 9),
    ("ts(x, 'a')", 1, 7),
    ("ts(x) >> 1", 1, 8),
    ("sources", 1, 8),
    ("rate(ts(x)", 1, 11),
    ("ts(x) and", 1, 10),
    ("ts(x)\n+ +", 2, 3),
    ('ts("unterminated)', 1, 4),
]


@pytest.mark.parametrize("text", VALID)
def test_can_parse_valid_queries(text):
    parsed = parse(text)
    assert parse(parsed.canonical).tree == parsed.tree


@pytest.mark.parametrize("text, line, column", INVALID)
def test_can_report_where_a_query_breaks(text, line, column):
    with pytest.raises(QuerySyntaxError) as err:
        parse(text)
    assert (err.value.line, err.value.column) == (line, column)
    assert f"line {line}, column {column}" in err.value.message
    assert isinstance(err.value, Invalid) and err.value.status == 400


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_can_refuse_empty_queries(text):
    with pytest.raises(QuerySyntaxError, match="empty"):
        parse(text)


def test_can_refuse_too_long_and_too_deep_queries():
    with pytest.raises(QuerySyntaxError, match="longer"):
        parse("ts(x) + " * (MAX_QUERY_LENGTH // 8) + "1")
    with pytest.raises(QuerySyntaxError, match="deeper"):
        parse("-" * (MAX_DEPTH + 1) + "1")
    assert parse("(" * 500 + "1" + ")" * 500).tree == Number("1")  # parentheses add no depth


def test_can_apply_operator_precedence():
    assert parse("1 + 2 * 3").tree == Binary("+", Number("1"), Binary("*", Number("2"), Number("3")))
    assert parse("1 - 2 - 3").tree == Binary("-", Binary("-", Number("1"), Number("2")), Number("3"))
    assert parse("-2 * 3").tree == Binary("*", Negate(Number("2")), Number("3"))
    a, b, c = (Series("ts", m) for m in "abc")
    assert parse("ts(a) and ts(b) or ts(c)").tree == Binary("or", Binary("and", a, b), c)
    assert parse("ts(a) or ts(b) and ts(c)").tree == Binary("or", a, Binary("and", b, c))
    assert parse("not ts(a) > 1").tree == Not(Binary(">", a, Number("1")))
    assert parse("ts(a) + 1 > ts(b) * 2").tree == Binary(">", Binary("+", a, Number("1")), Binary("*", b, Number("2")))


def test_can_parse_filters_into_a_tree():
    tree = parse("ts(cpu, source=a or source=b, not env=dev)").tree
    assert tree == Series(
        "ts",
        "cpu",
        FilterBinary(
            "or",
            TagFilter("source", "=", "a"),
            FilterBinary("and", TagFilter("source", "=", "b"), FilterNot(TagFilter("env", "=", "dev"))),
        ),
    )


def test_can_tell_metrics_and_sources_used():
    parsed = parse('ts(cpu.*, source="web 1" or host=db-2) - ts("disk used", source!=x) > ts(cpu.*)')
    assert parsed.metrics == ["cpu.*", "disk used"]
    assert parsed.sources == ["web 1", "db-2"]


def test_can_read_keywords_in_any_case_and_keep_names_that_start_with_them():
    assert parse("ts(a) AND ts(b)").tree == parse("ts(a) and ts(b)").tree
    assert parse("android(ts(x))").tree == Call("android", (Series("ts", "x"),))
    assert parse("TS(x)").tree == Series("ts", "x")
    assert parse("tsdiff(1)").tree == Call("tsdiff", (Number("1"),))


def test_can_parse_events_with_optional_filters():
    assert parse("events()").tree == Events()
    assert parse("EVENTS (type=deploy, not tag=x)").tree == Events(
        FilterBinary("and", TagFilter("type", "=", "deploy"), FilterNot(TagFilter("tag", "=", "x")))
    )
    assert parse("eventsx(1)").tree == Call("eventsx", (Number("1"),))  # a name that starts with it


# ---- properties ---------------------------------------------------------------------------

KEYWORDS = re.compile(r"(and|or|not)\b", re.IGNORECASE)


def _not_keyword(text: str) -> bool:
    return not KEYWORDS.match(text)


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: _not_keyword(n) and n.lower() not in ("ts", "hs", "events")
)
metric_names = st.one_of(
    st.from_regex(r"~?[A-Za-z0-9_*][A-Za-z0-9_.\-*~:/]{0,12}", fullmatch=True),
    st.text(st.characters(blacklist_characters='"\\', blacklist_categories=("Cs",)), max_size=10).map(
        lambda t: f'"{t}"'
    ),
)
tag_keys = st.from_regex(r"~?[A-Za-z_][A-Za-z0-9_.\-~]{0,8}", fullmatch=True).filter(
    lambda k: _not_keyword(k.lstrip("~"))
)
tag_values = st.one_of(
    st.from_regex(r"[A-Za-z0-9_.\-*~:/]{1,10}", fullmatch=True),
    st.text(st.characters(blacklist_characters="'\\", blacklist_categories=("Cs",)), max_size=8).map(
        lambda t: f"'{t}'"
    ),
)
strings = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8).map(
    lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
)

tag_filters = st.builds(TagFilter, tag_keys, st.sampled_from(["=", "!="]), tag_values)
filters = st.recursive(
    tag_filters,
    lambda inner: st.one_of(
        st.builds(FilterNot, inner),
        st.builds(FilterBinary, st.sampled_from(["and", "or"]), inner, inner),
    ),
    max_leaves=6,
)
leaves = st.one_of(
    st.from_regex(r"(\d{1,4}(\.\d{0,3})?|\.\d{1,3})([eE][+-]?\d{1,2})?", fullmatch=True).map(Number),
    st.from_regex(r"\d{1,3}[smhdw]", fullmatch=True).map(Duration),
    strings.map(String),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).map(Variable),
    st.builds(Series, st.sampled_from(["ts", "hs"]), metric_names, st.none() | filters),
    st.builds(Events, st.none() | filters),
)
ARITH_AND_LOGIC = ["+", "-", "*", "/", "%", "and", "or"]
COMPARE = [">", "<", ">=", "<=", "=", "!="]


def _expressions(inner):
    args = st.lists(st.one_of(inner, names.map(Ident)), max_size=3).map(tuple)
    return st.one_of(
        st.builds(Negate, inner),
        st.builds(Not, inner),
        st.builds(Binary, st.sampled_from(ARITH_AND_LOGIC), inner, inner),
        st.builds(Binary, st.sampled_from(COMPARE), inner, inner),
        st.builds(Call, names, args),
    )


expressions = st.recursive(leaves, _expressions, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_can_parse_back_what_it_renders(tree):
    # GIVEN any tree; WHEN rendered and parsed; THEN the same tree comes back
    assert parse(tree.render()).tree == tree


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ts(cpu,=>< )\"'-+*/and or not 1.5m${}x~\n")), max_size=40))
def test_can_answer_any_text_with_a_tree_or_a_located_syntax_error(text):
    try:
        parsed = parse(text)
    except QuerySyntaxError as err:
        assert err.message.startswith("Syntax error")
        if err.line:
            assert 1 <= err.line <= text.count("\n") + 1 and err.column >= 1
    else:
        assert parse(parsed.canonical).tree == parsed.tree


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_can_survive_arbitrary_unicode(text):
    try:
        parse(text)
    except QuerySyntaxError:
        pass
