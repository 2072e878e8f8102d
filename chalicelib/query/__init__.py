"""The Wavefront query language subset of alert conditions and derived metrics: parse,
check, inspect."""

from chalicelib.query.parser import (
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    Inspection,
    Parsed,
    QuerySyntaxError,
    inspect,
    parse,
    parsed,
    problem,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_LENGTH",
    "Inspection",
    "Parsed",
    "QuerySyntaxError",
    "inspect",
    "parse",
    "parsed",
    "problem",
]
