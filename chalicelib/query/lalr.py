"""The lark side of the parser: the LALR tables, the tree transformer, lark's errors.

Imported by parser.parse() on first use. Building the LALR tables from the grammar takes
~100-250 ms; the Lambda asset ships them prebuilt (`save`, run by
scripts/build_lambda_asset.py, writes grammar.lark-cache next to this module), keyed by
the grammar, the options and the lark and Python versions, so a stale file is never used:
the tables are built instead.
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from lark import Lark, Token, Transformer, __version__
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from chalicelib.query import ast
from chalicelib.query.grammar import GRAMMAR
from chalicelib.query.parser import MAX_DEPTH, QuerySyntaxError

CACHE = Path(__file__).with_name("grammar.lark-cache")
OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "contextual", "maybe_placeholders": False}

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
    "EVENTS_FN": "events(...)",
    "COMP_OP": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*', '/' or '%'",
    "FILTER_OP": "'=' or '!='",
    "_AND": "'and'",
    "_OR": "'or'",
    "_NOT": "'not'",
    "$END": "the end of the query",
}


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

    def events(self, items: list[Any]) -> ast.Node:
        flt = items[1] if len(items) > 1 else None
        return ast.Events(flt, depth=_depth(flt))

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


def _key() -> bytes:
    """What the saved tables depend on."""
    made_from = f"{GRAMMAR}\0{sorted(OPTIONS.items())}\0lark {__version__}\0python {sys.version_info[:2]}"
    return hashlib.sha256(made_from.encode()).hexdigest().encode()


def _build() -> Lark:
    return Lark(GRAMMAR, transformer=_ToAst(), **OPTIONS)


def _load(stream: IO[bytes]) -> Lark | None:
    if stream.readline().rstrip(b"\n") != _key():
        return None
    return Lark.load(stream)  # the transformer is saved with the tables


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The parser: the saved tables when current, else built from the grammar."""
    try:
        with CACHE.open("rb") as stream:
            loaded = _load(stream)
    except FileNotFoundError:
        loaded = None
    except Exception:  # a damaged file costs a rebuild, never a failed request
        loaded = None
    return loaded if loaded is not None else _build()


def save(path: Path) -> None:
    """Write the parser's tables to path, for parser() to load (the Lambda asset ships them)."""
    with path.open("wb") as stream:
        stream.write(_key() + b"\n")
        _build().save(stream)


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


def tree(text: str) -> ast.Node:
    """The syntax tree of text; QuerySyntaxError when it does not parse."""
    try:
        parsed: Any = parser().parse(text)  # the inline transformer returns an ast.Node
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from exc
    except _TooDeep as exc:
        raise QuerySyntaxError(f"the query nests deeper than {MAX_DEPTH} levels") from exc
    except LarkError as exc:  # any other refusal by the parser is still the query's fault
        raise QuerySyntaxError(str(exc).split("\n")[0]) from exc
    return parsed  # type: ignore[no-any-return]
