"""Mustache templates and user regexes are checked on save: a 400 that says where."""

from __future__ import annotations

import pytest

from chalicelib.domain.templates import check_regex, check_template, render
from chalicelib.errors import Invalid


def test_a_valid_template_renders_escaped_and_raw_values():
    text = check_template("{{name}} / {{{name}}}{{#items}} {{.}}{{/items}}", field="template")
    assert render(text, {"name": "<b>", "items": [1, 2]}) == "&lt;b&gt; / <b> 1 2"


@pytest.mark.parametrize(
    ("text", "where"),
    [("{{#alert}} open", "line 1"), ("x\n{{name", "line 2"), ("{{#a}}{{/b}}", "last open tag is")],
)
def test_an_unparsable_template_is_refused_saying_where(text, where):
    with pytest.raises(Invalid) as refused:
        check_template(text, field="template")
    assert "template is not a valid Mustache template" in str(refused.value)
    assert where in str(refused.value)


def test_a_template_past_the_bound_is_refused():
    with pytest.raises(Invalid, match="at most 10"):
        check_template("x" * 11, field="template", limit=10)


def test_a_bad_regex_is_refused_with_its_position():
    with pytest.raises(Invalid, match="metricFilterRegex is not a valid regular expression at position 1"):
        check_regex("a(b", field="metricFilterRegex")
    assert check_regex("^cpu\\..*", field="metricFilterRegex").match("cpu.load")
    with pytest.raises(Invalid, match="at most 4"):
        check_regex("abcde", field="sourceFilterRegex", limit=4)
