"""The Wavefront query language subset of alert conditions: parse, check, inspect."""

from chalicelib.query.parser import MAX_DEPTH, MAX_QUERY_LENGTH, Parsed, QuerySyntaxError, parse, parsed, problem

__all__ = ["MAX_DEPTH", "MAX_QUERY_LENGTH", "Parsed", "QuerySyntaxError", "parse", "parsed", "problem"]
