"""The search engine behind POST /api/v2/search/{entity}: conditions, sort, paging, facets.

It works on wire records (the dicts a category answers with), which the caller reads with
Repository.iterate() (a Query on the tenant's partition, never a table scan) and filters by
visibility first. A kind describes its searchable keys with `Fields`.

Matching (the client's SearchQuery.matchingMethod), on every value a key holds:
  CONTAINS    case-insensitive substring        (the default)
  STARTSWITH  case-insensitive prefix
  EXACT       equal, case-sensitive
  TAGPATH     the path or a dotted descendant: "env.prod" matches "env.prod" and
              "env.prod.eu"; "env.*" matches descendants of "env" only
`value` and `values` are alternatives (any may match); `start` / `end` bound numeric values
(inclusive); `negated` inverts the whole condition; several conditions are ANDed. The
key "freetext" searches every freetext key of the kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from chalicelib.errors import Invalid
from chalicelib.wire import Model

Method = Literal["CONTAINS", "STARTSWITH", "EXACT", "TAGPATH"]
FREETEXT = "freetext"
MAX_LIMIT = 1000

Record = Mapping[str, Any]
Extractor = Callable[[Record], Iterable[Any]]


# ---- request bodies (the client's SortableSearchRequest and facet containers) -----


class _Body(Model):
    model_config = ConfigDict(extra="ignore")


class Condition(_Body):
    """One SearchQuery."""

    key: StrictStr = Field(min_length=1)
    value: StrictStr | None = None
    values: list[StrictStr] | None = None
    matchingMethod: Method = "CONTAINS"
    negated: StrictBool = False
    start: StrictInt | None = None
    end: StrictInt | None = None


class Sorting(_Body):
    """The client's Sorting."""

    field: StrictStr = Field(min_length=1)
    ascending: StrictBool = True


class SearchRequest(_Body):
    """The client's SortableSearchRequest."""

    offset: StrictInt = Field(default=0, ge=0)
    limit: StrictInt = Field(default=100, ge=1, le=MAX_LIMIT)
    query: list[Condition] = Field(default_factory=list)
    sort: Sorting | None = None


class CursorSearchRequest(_Body):
    """The client's SourceSearchRequestContainer: a search paged by cursor, the id of the last
    item of the page before, in id order (descending when sortSourcesAscending is false)."""

    cursor: StrictStr | None = Field(default=None, min_length=1, max_length=512)
    limit: StrictInt = Field(default=100, ge=1, le=MAX_LIMIT)
    query: list[Condition] = Field(default_factory=list)
    sortSourcesAscending: StrictBool = True
    includeObsolete: StrictBool = False


class FacetRequest(_Body):
    """FacetSearchRequestContainer: values of one facet."""

    facetQuery: StrictStr | None = None
    facetQueryMatchingMethod: Method = "CONTAINS"
    offset: StrictInt = Field(default=0, ge=0)
    limit: StrictInt = Field(default=100, ge=1, le=MAX_LIMIT)
    query: list[Condition] = Field(default_factory=list)


class FacetsRequest(_Body):
    """FacetsSearchRequestContainer: values of several facets."""

    facets: list[StrictStr] = Field(min_length=1)
    facetQuery: StrictStr | None = None
    facetQueryMatchingMethod: Method = "CONTAINS"
    limit: StrictInt = Field(default=100, ge=1, le=MAX_LIMIT)
    query: list[Condition] = Field(default_factory=list)


# ---- what a kind exposes ------------------------------------------------------------


def path(dotted: str) -> Extractor:
    """An extractor reading a dotted path of the record ("tags.customerTags")."""
    parts = dotted.split(".")

    def extract(record: Record) -> list[Any]:
        value: Any = record
        for part in parts:
            if not isinstance(value, Mapping):
                return []
            value = value.get(part)
        return _flatten(value)

    return extract


@dataclass(frozen=True)
class Fields:
    """The searchable keys of a kind: key -> extractor (a plain key reads that field)."""

    keys: Mapping[str, Extractor]
    facets: tuple[str, ...] = ()
    freetext: tuple[str, ...] = ()
    default_sort: str = "name"
    id_key: str = "id"

    @classmethod
    def of(cls, *plain: str, extra: Mapping[str, Extractor] | None = None, **options: Any) -> Fields:
        """Fields from plain key names plus extractors for the others."""
        keys: dict[str, Extractor] = {k: path(k) for k in plain}
        keys.update(extra or {})
        return cls(keys=keys, **options)

    def require(self, key: str, what: str = "search key") -> Extractor:
        """The extractor of a key (400 naming the known keys when there is none)."""
        extractor = self.keys.get(key)
        if extractor is None:
            raise Invalid(f"Unknown {what} {key!r}; known keys: {', '.join(sorted(self.keys))}")
        return extractor

    def values(self, record: Record, key: str) -> list[Any]:
        """Every value a key holds in a record (lists flattened, nulls dropped)."""
        return _flatten(list(self.require(key)(record)))


# ---- matching -------------------------------------------------------------------------


def _flatten(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        out: list[Any] = []
        for v in value:
            out.extend(_flatten(v))
        return out
    if isinstance(value, Mapping):
        return []
    return [value]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def text_matches(method: str, candidate: str, wanted: str) -> bool:
    """Does one value match one wanted string under a matching method?"""
    if method == "EXACT":
        return candidate == wanted
    if method == "STARTSWITH":
        return candidate.casefold().startswith(wanted.casefold())
    if method == "TAGPATH":
        if wanted.endswith(".*"):
            return candidate.startswith(wanted[:-1])
        return candidate == wanted or candidate.startswith(wanted + ".")
    return wanted.casefold() in candidate.casefold()


def _in_range(values: list[Any], start: int | None, end: int | None) -> list[Any]:
    kept = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if (start is None or v >= start) and (end is None or v <= end):
            kept.append(v)
    return kept


def condition_matches(record: Record, cond: Condition, fields: Fields) -> bool:
    """Does the record satisfy one condition (negation applied)?"""
    keys = fields.freetext if cond.key == FREETEXT else (cond.key,)
    if cond.key == FREETEXT and not keys:
        raise Invalid("This entity has no freetext search")
    wanted = ([cond.value] if cond.value is not None else []) + list(cond.values or [])
    if not wanted and cond.start is None and cond.end is None:
        raise Invalid(f"Search condition on {cond.key!r} needs a value, values, start or end")
    hit = False
    for key in keys:
        values = fields.values(record, key)
        if cond.start is not None or cond.end is not None:
            values = _in_range(values, cond.start, cond.end)
        if not wanted:
            hit = bool(values)
        else:
            hit = any(text_matches(cond.matchingMethod, _text(v), w) for v in values for w in wanted)
        if hit:
            break
    return hit != cond.negated


def select(records: Iterable[Record], conditions: list[Condition], fields: Fields) -> list[Record]:
    """Records satisfying every condition, in their given order."""
    for cond in conditions:  # unknown keys are refused even when there is nothing to search
        if cond.key != FREETEXT:
            fields.require(cond.key)
    return [r for r in records if all(condition_matches(r, c, fields) for c in conditions)]


# ---- sorting and paging -----------------------------------------------------------


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (2, _text(value).casefold())


def order(records: list[Record], sort: Sorting, fields: Fields) -> list[Record]:
    """Records sorted by a key's first value; records without one come last either way."""
    fields.require(sort.field, "sort field")
    present: list[tuple[Any, Record]] = []
    missing: list[tuple[Any, Record]] = []
    for r in records:
        vals = fields.values(r, sort.field)
        (present if vals else missing).append((vals[0] if vals else None, r))
    present.sort(key=lambda pair: _sort_key(pair[0]), reverse=not sort.ascending)
    return [r for _, r in present] + [r for _, r in missing]


@dataclass
class Result:
    """One page of matches, and every match (for statistics over the whole result)."""

    items: list[Record]
    matched: list[Record]
    offset: int
    limit: int
    sort: Sorting

    @property
    def total(self) -> int:
        return len(self.matched)

    @property
    def more(self) -> bool:
        return self.offset + len(self.items) < self.total


def search(records: Iterable[Record], request: SearchRequest, fields: Fields) -> Result:
    """Filter, sort and page records."""
    sort = request.sort or Sorting(field=fields.default_sort, ascending=True)
    matched = order(select(records, request.query, fields), sort, fields)
    page = matched[request.offset : request.offset + request.limit]
    return Result(items=page, matched=matched, offset=request.offset, limit=request.limit, sort=sort)


def search_after(records: Iterable[Record], request: CursorSearchRequest, fields: Fields) -> tuple[Result, str | None]:
    """Filter, order by id (as the store sorts ids, not case-folded, so a cursor means the same
    in both) and take the page after the cursor; with it the next cursor when more follow.
    The result's matches (its total) are those from the cursor on."""
    key, ascending, cursor = fields.id_key, request.sortSourcesAscending, request.cursor

    def ident(record: Record) -> str:
        return str(record.get(key, ""))

    matched = sorted(select(records, request.query, fields), key=ident, reverse=not ascending)
    if cursor is not None:
        matched = [r for r in matched if (ident(r) > cursor if ascending else ident(r) < cursor)]
    page = matched[: request.limit]
    following = ident(page[-1]) if len(matched) > len(page) else None
    sort = Sorting(field=key, ascending=ascending)
    return Result(items=page, matched=matched, offset=0, limit=request.limit, sort=sort), following


# ---- facets ---------------------------------------------------------------------------


@dataclass
class Facet:
    """The values of one key over the matches, most frequent first, with their counts."""

    name: str
    counts: list[tuple[str, int]] = field(default_factory=list)

    @property
    def values(self) -> list[str]:
        return [v for v, _ in self.counts]


def _check_facet(name: str, fields: Fields) -> None:
    if name not in fields.facets:
        raise Invalid(f"Unknown facet {name!r}; known facets: {', '.join(fields.facets)}")


def facet(
    records: Iterable[Record],
    name: str,
    fields: Fields,
    *,
    query: list[Condition] | None = None,
    facet_query: str | None = None,
    method: str = "CONTAINS",
) -> Facet:
    """Distinct values of one facet over the records that match query, with counts."""
    _check_facet(name, fields)
    counter: Counter[str] = Counter()
    for record in select(records, query or [], fields):
        counter.update({_text(v) for v in fields.values(record, name)})
    if facet_query:
        counter = Counter({v: n for v, n in counter.items() if text_matches(method, v, facet_query)})
    ranked = sorted(counter.items(), key=lambda pair: (-pair[1], pair[0].casefold(), pair[0]))
    return Facet(name=name, counts=ranked)


def facets(
    records: Iterable[Record],
    names: list[str],
    fields: Fields,
    *,
    query: list[Condition] | None = None,
    facet_query: str | None = None,
    method: str = "CONTAINS",
) -> list[Facet]:
    """Several facets over the same matches."""
    for name in names:
        _check_facet(name, fields)
    matched = select(records, query or [], fields)
    return [facet(matched, n, fields, facet_query=facet_query, method=method) for n in dict.fromkeys(names)]


def tally(records: Iterable[Record], key: str, known: Iterable[str] = ()) -> dict[str, int]:
    """How many records hold each value of a record's list `key`, lowercased (the known
    values counted from 0): the per-state counts a search answers beside its page."""
    totals = dict.fromkeys((k.lower() for k in known), 0)
    for record in records:
        for value in record.get(key) or []:
            totals[str(value).lower()] = totals.get(str(value).lower(), 0) + 1
    return totals
