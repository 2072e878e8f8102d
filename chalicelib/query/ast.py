"""The syntax tree of a parsed query, its canonical text, and what it refers to.

Nodes are frozen dataclasses, so two parses of equivalent text compare equal; `render()`
gives canonical text (binary operations and negations fully parenthesized, commas between
filters as `and`, keywords lower-cased) that parses back to the same tree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field


class Node(ABC):
    """Base of expression and filter nodes (depth: nesting levels, for the parser's limit)."""

    depth: int = 1

    @abstractmethod
    def render(self) -> str:
        """Canonical query text."""

    def children(self) -> tuple[Node, ...]:
        return ()

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children()))


def unquote(text: str) -> str:
    """The value of a quoted string token ('"a\\"b"' -> 'a"b'); bare text as is."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        body = text[1:-1]
        out, i = [], 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                out.append(body[i + 1])
                i += 2
            else:
                out.append(body[i])
                i += 1
        return "".join(out)
    return text


# ---- expressions -----------------------------------------------------------------


@dataclass(frozen=True)
class Number(Node):
    """A number as written."""

    text: str

    def render(self) -> str:
        return self.text


@dataclass(frozen=True)
class Duration(Node):
    """A duration such as 5m."""

    text: str

    def render(self) -> str:
        return self.text


@dataclass(frozen=True)
class String(Node):
    """A quoted string."""

    text: str  # as written, quotes included

    @property
    def value(self) -> str:
        return unquote(self.text)

    def render(self) -> str:
        return self.text


@dataclass(frozen=True)
class Variable(Node):
    """A ${variable} (alert sources)."""

    name: str

    def render(self) -> str:
        return "${" + self.name + "}"


@dataclass(frozen=True)
class Ident(Node):
    """A bare name as a function argument (sources, mean)."""

    name: str

    def render(self) -> str:
        return self.name


@dataclass(frozen=True)
class Series(Node):
    """ts(metric, filters) or hs(...)."""

    function: str  # ts | hs
    metric: str  # as written (bare, or quoted)
    filter: Node | None = None
    depth: int = field(default=1, compare=False, repr=False)

    @property
    def metric_name(self) -> str:
        return unquote(self.metric)

    def children(self) -> tuple[Node, ...]:
        return (self.filter,) if self.filter is not None else ()

    def render(self) -> str:
        if self.filter is None:
            return f"{self.function}({self.metric})"
        return f"{self.function}({self.metric}, {self.filter.render()})"


@dataclass(frozen=True)
class Events(Node):
    """events(filters): the events of the window that the filters match."""

    filter: Node | None = None
    depth: int = field(default=1, compare=False, repr=False)

    def children(self) -> tuple[Node, ...]:
        return (self.filter,) if self.filter is not None else ()

    def render(self) -> str:
        return "events()" if self.filter is None else f"events({self.filter.render()})"


@dataclass(frozen=True)
class Call(Node):
    """A function call."""

    name: str
    args: tuple[Node, ...] = ()
    depth: int = field(default=1, compare=False, repr=False)

    def children(self) -> tuple[Node, ...]:
        return self.args

    def render(self) -> str:
        return f"{self.name}({', '.join(a.render() for a in self.args)})"


@dataclass(frozen=True)
class _Unary(Node):
    """A node over one operand (the subclasses say what it means)."""

    operand: Node
    depth: int = field(default=1, compare=False, repr=False)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)

    def render(self) -> str:
        return f"(not {self.operand.render()})"


@dataclass(frozen=True)
class _Binary(Node):
    """A node over two operands joined by an operator, rendered fully parenthesized."""

    op: str
    left: Node
    right: Node
    depth: int = field(default=1, compare=False, repr=False)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def render(self) -> str:
        return f"({self.left.render()} {self.op} {self.right.render()})"


@dataclass(frozen=True)
class Negate(_Unary):
    """Unary minus."""

    def render(self) -> str:
        return "-" + self.operand.render()


@dataclass(frozen=True)
class Not(_Unary):
    """Logical not."""


@dataclass(frozen=True)
class Binary(_Binary):
    """Arithmetic (+ - * / %), comparison (> < >= <= = !=) or logic (and, or)."""


# ---- filters inside ts() / hs() ---------------------------------------------------


@dataclass(frozen=True)
class TagFilter(Node):
    """key=value or key!=value inside ts()."""

    key: str
    op: str  # = | !=
    value: str  # as written (bare with wildcards, or quoted)

    @property
    def value_text(self) -> str:
        return unquote(self.value)

    def render(self) -> str:
        return f"{self.key}{self.op}{self.value}"


@dataclass(frozen=True)
class FilterNot(_Unary):
    """not inside ts() filters."""


@dataclass(frozen=True)
class FilterBinary(_Binary):
    """and / or (op) inside ts() filters."""


# ---- what a query refers to ----------------------------------------------------------

SOURCE_KEYS = ("source", "host")


def metrics_used(tree: Node) -> list[str]:
    """Metric names (patterns included) the query reads, in order of appearance."""
    return list(dict.fromkeys(n.metric_name for n in tree.walk() if isinstance(n, Series)))


def sources_used(tree: Node) -> list[str]:
    """Sources named by positive source= / host= filters."""
    found = []
    for node in tree.walk():
        if isinstance(node, TagFilter) and node.key.lower() in SOURCE_KEYS and node.op == "=":
            found.append(node.value_text)
    return list(dict.fromkeys(found))


def functions_used(tree: Node) -> list[str]:
    """Function names called, in order of appearance."""
    return list(dict.fromkeys(n.name for n in tree.walk() if isinstance(n, Call)))
