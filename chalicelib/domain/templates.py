"""Mustache templates (alert targets, external links) and the user-written regular
expressions next to them: checked when saved, so that a bad one is a 400 that says where,
never a failure at notification time.

chevron is the Mustache implementation (the spec's tags, sections, inverted sections,
partials are not used: a template has no partials to load).
"""

from __future__ import annotations

import re
from typing import Any

import chevron
from chevron.tokenizer import tokenize

from chalicelib.errors import Invalid

MAX_TEMPLATE_CHARS = 65_536
MAX_REGEX_CHARS = 1_024


def check_template(text: str, *, field: str, limit: int = MAX_TEMPLATE_CHARS) -> str:
    """The template when it parses as Mustache and is within the bound; 400 naming the
    field and, from the parser, the line and what is wrong."""
    if len(text) > limit:
        raise Invalid(f"{field}: the template is {len(text)} characters, at most {limit} are allowed")
    try:
        for _ in tokenize(text):
            pass
    except chevron.ChevronError as exc:
        reason = " ".join(str(exc).split())
        raise Invalid(f"{field} is not a valid Mustache template: {reason}") from exc
    return text


def render(text: str, data: dict[str, Any]) -> str:
    """A checked template rendered with the data (HTML-escaped `{{x}}`, raw `{{{x}}}`)."""
    return str(chevron.render(text, data))


def check_regex(pattern: str, *, field: str, limit: int = MAX_REGEX_CHARS) -> re.Pattern[str]:
    """The compiled regular expression (Python `re` syntax) when it compiles and is within
    the bound; 400 naming the field and the position otherwise."""
    if len(pattern) > limit:
        raise Invalid(f"{field}: the regular expression is {len(pattern)} characters, at most {limit} are allowed")
    try:
        return re.compile(pattern)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise Invalid(f"{field} is not a valid regular expression{where}: {exc.msg}") from exc
