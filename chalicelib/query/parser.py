"""Parse query text into a syntax tree.

Syntax errors leave as QuerySyntaxError (an Invalid: 400) with the line and column the
parser stopped at, so checkQuery and the INVALID alert state can say where it went wrong.
lark is imported on the first parse (chalicelib/query/lalr.py), not with this module: a
function that never parses a query never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.errors import Invalid
from chalicelib.query import ast

MAX_QUERY_LENGTH = 8192
# Deeper trees are refused: walking and rendering them must stay far from Python's
# recursion limit, and no real condition nests this deep.
MAX_DEPTH = 100


class QuerySyntaxError(Invalid):
    """The query does not parse; line and column are 1-based (0 when unknown)."""

    def __init__(self, message: str, *, line: int = 0, column: int = 0) -> None:
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"Syntax error{where}: {message}", line=line, column=column)
        self.line = line
        self.column = column
        self.reason = message


@dataclass(frozen=True)
class Parsed:
    """A query that parsed, with what it refers to."""

    text: str
    tree: ast.Node

    @property
    def metrics(self) -> list[str]:
        return ast.metrics_used(self.tree)

    @property
    def sources(self) -> list[str]:
        return ast.sources_used(self.tree)

    @property
    def canonical(self) -> str:
        return self.tree.render()


def parse(text: str) -> Parsed:
    """Parse query text; QuerySyntaxError (400) when it is not a valid query."""
    if not isinstance(text, str):
        raise QuerySyntaxError("the query must be a string")
    if not text.strip():
        raise QuerySyntaxError("the query is empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    from chalicelib.query import lalr  # lark, on first use

    tree: Any = lalr.tree(text)
    return Parsed(text=text, tree=tree)


@lru_cache(maxsize=2048)
def _outcome(text: str) -> Parsed | QuerySyntaxError:
    try:
        return parse(text)
    except QuerySyntaxError as exc:
        return exc


def problem(text: str) -> str | None:
    """Why the query does not parse (None when it does). Cached: listings ask often."""
    outcome = _outcome(text)
    return outcome.message if isinstance(outcome, QuerySyntaxError) else None


def parsed(text: str) -> Parsed | None:
    """The parsed query, or None when it does not parse (cached)."""
    outcome = _outcome(text)
    return outcome if isinstance(outcome, Parsed) else None


@dataclass(frozen=True)
class Inspection:
    """What the queries of a stored object (an alert's conditions, a derived metric's
    query) say about it: why it is INVALID, or what it reads."""

    problem: str | None  # "Invalid <label>: Syntax error at line l, column c: ..."
    metrics: list[str]
    sources: list[str]

    @property
    def invalid(self) -> bool:
        return self.problem is not None

    def fields(self) -> dict[str, Any]:
        """The wire fields Wavefront models derive from it: querySyntaxError, and
        lastErrorMessage when invalid, else metricsUsed and hostsUsed."""
        if self.problem is not None:
            return {"querySyntaxError": True, "lastErrorMessage": self.problem}
        return {"querySyntaxError": False, "metricsUsed": self.metrics, "hostsUsed": self.sources}


def inspect(labelled: Iterable[tuple[str, str]]) -> Inspection:
    """Inspect (label, text) queries: the first that does not parse makes the object
    invalid; otherwise the metrics and sources they read, each once, in order."""
    metrics: list[str] = []
    sources: list[str] = []
    for label, text in labelled:
        outcome = _outcome(text)
        if isinstance(outcome, QuerySyntaxError):
            return Inspection(f"Invalid {label}: {outcome.message}", [], [])
        metrics.extend(outcome.metrics)
        sources.extend(outcome.sources)
    return Inspection(None, list(dict.fromkeys(metrics)), list(dict.fromkeys(sources)))
