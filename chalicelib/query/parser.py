"""Parse query text into a syntax tree (lark, LALR, transformed while parsing).

Syntax errors leave as QuerySyntaxError (an Invalid: 400) with the line and column the
parser stopped at, so checkQuery and the INVALID alert state can say where it went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from chalicelib.errors import Invalid
from chalicelib.query import ast
from chalicelib.query.grammar import GRAMMAR

MAX_QUERY_LENGTH = 8192
# Deeper trees are refused: walking and rendering them must stay far from Python's
# recursion limit, and no real condition nests this deep.
MAX_DEPTH = 100

_TERMINAL_NAMES = {
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "MINUS": "'-'",
    "NUMBER": "a number",
    "DURATION": "a duration",
    "STRING": "a quoted string",
    "VARIABLE": "a ${variable}",
    "NAME": "a name",
    "METRIC": "a metric name",
    "TAG_KEY": "a tag key",
    "TAG_VALUE": "a tag value",
    "SERIES_FN": "ts(...)",
    "COMP_OP": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*', '/' or '%'",
    "FILTER_OP": "'=' or '!='",
    "_AND": "'and'",
    "_OR": "'or'",
    "_NOT": "'not'",
    "$END": "the end of the query",
}


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


class _TooDeep(Exception):
    pass


def _depth(*children: Any) -> int:
    depth = 1 + max((c.depth for c in children if isinstance(c, ast.Node)), default=0)
    if depth > MAX_DEPTH:
        raise _TooDeep
    return depth


class _ToAst(Transformer):
    """Tree -> ast nodes, applied by the LALR parser as it reduces."""

    def number(self, items: list[Token]) -> ast.Node:
        return ast.Number(str(items[0]))

    def duration(self, items: list[Token]) -> ast.Node:
        return ast.Duration(str(items[0]))

    def string(self, items: list[Token]) -> ast.Node:
        return ast.String(str(items[0]))

    def variable(self, items: list[Token]) -> ast.Node:
        return ast.Variable(str(items[0])[2:-1])

    def ident(self, items: list[Token]) -> ast.Node:
        return ast.Ident(str(items[0]))

    def metric(self, items: list[Token]) -> str:
        return str(items[0])

    def series(self, items: list[Any]) -> ast.Node:
        function, metric = str(items[0]).lower(), items[1]
        flt = items[2] if len(items) > 2 else None
        return ast.Series(function, metric, flt, depth=_depth(flt))

    def call(self, items: list[Any]) -> ast.Node:
        args = tuple(a for a in items[1:] if a is not None)
        return ast.Call(str(items[0]), args, depth=_depth(*args))

    def neg(self, items: list[Any]) -> ast.Node:
        return ast.Negate(items[0], depth=_depth(items[0]))

    def not_(self, items: list[Any]) -> ast.Node:
        return ast.Not(items[0], depth=_depth(items[0]))

    def _binary(self, op: str, left: ast.Node, right: ast.Node) -> ast.Node:
        return ast.Binary(op, left, right, depth=_depth(left, right))

    def or_(self, items: list[Any]) -> ast.Node:
        return self._binary("or", items[0], items[1])

    def and_(self, items: list[Any]) -> ast.Node:
        return self._binary("and", items[0], items[1])

    def compare(self, items: list[Any]) -> ast.Node:
        return self._binary(str(items[1]), items[0], items[2])

    def arith(self, items: list[Any]) -> ast.Node:
        return self._binary(str(items[1]), items[0], items[2])

    def tag_filter(self, items: list[Token]) -> ast.Node:
        return ast.TagFilter(str(items[0]), str(items[1]), str(items[2]))

    def f_not(self, items: list[Any]) -> ast.Node:
        return ast.FilterNot(items[0], depth=_depth(items[0]))

    def f_and(self, items: list[Any]) -> ast.Node:
        left, right = items[0], items[-1]  # the "," separator, when used, is kept as a token
        return ast.FilterBinary("and", left, right, depth=_depth(left, right))

    def f_or(self, items: list[Any]) -> ast.Node:
        return ast.FilterBinary("or", items[0], items[1], depth=_depth(items[0], items[1]))


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # Built on first use: module import stays cheap for cold starts.
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", transformer=_ToAst(), maybe_placeholders=False)


def _describe(token: Any) -> str:
    if token is None or getattr(token, "type", None) == "$END":
        return "end of query"
    return repr(str(token))


def _expected(names: Any) -> str:
    readable = sorted({_TERMINAL_NAMES.get(n, n) for n in names or ()})
    return ", ".join(readable[:8])


def _syntax_error(exc: UnexpectedInput, text: str) -> QuerySyntaxError:
    line, column = getattr(exc, "line", 0) or 0, getattr(exc, "column", 0) or 0
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected = _expected(getattr(exc, "expected", None) or getattr(exc, "accepts", None))
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        return QuerySyntaxError(f"unexpected end of query; expected {expected}", line=line, column=column)
    if isinstance(exc, UnexpectedToken):
        expected = _expected(exc.accepts or exc.expected)
        return QuerySyntaxError(f"unexpected {_describe(exc.token)}; expected {expected}", line=line, column=column)
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if 0 <= pos < len(text) else ""
        expected = _expected(exc.allowed)
        hint = f"; expected {expected}" if expected else ""
        return QuerySyntaxError(f"unexpected character {char!r}{hint}", line=line, column=column)
    return QuerySyntaxError(str(exc).split("\n")[0], line=line, column=column)


def parse(text: str) -> Parsed:
    """Parse query text; QuerySyntaxError (400) when it is not a valid query."""
    if not isinstance(text, str):
        raise QuerySyntaxError("the query must be a string")
    if not text.strip():
        raise QuerySyntaxError("the query is empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    try:
        tree: Any = _parser().parse(text)  # the inline transformer returns an ast.Node
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from exc
    except _TooDeep as exc:
        raise QuerySyntaxError(f"the query nests deeper than {MAX_DEPTH} levels") from exc
    except LarkError as exc:  # any other refusal by the parser is still the query's fault
        raise QuerySyntaxError(str(exc).split("\n")[0]) from exc
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
