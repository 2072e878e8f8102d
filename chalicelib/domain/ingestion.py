"""Ingestion: from a /report body to messages on the `ingest` queue, and from a message to
what the worker writes and counts. docs/ingestion-pipeline.md is the user's account of it.

The request side (`receive`) parses the body line by line (chalicelib/ingest), counts the
accepted and rejected lines, keeps the first reasons, and packs the accepted records into
messages of about MESSAGE_BYTES each, sent as they fill: the request never writes a point.
The worker side (`unpack`, `usage_counts`) reads a message back and says what to count.

A message is text: one JSON header line, then one JSON array per record:

    {"v":1,"tenant":..,"account":..,"groups":[..],"batch":..,"part":0,"f":"wavefront","at":<ms>}
    ["cpu.load",0.5,1700000000000,"web1",{"env":"prod"}]                  f=wavefront
    ["M",1700000000000,[[1.5,3],[2.0,1]],"latency","web1",{"env":"prod"}] f=histogram
    ["get","web1","<trace>","<span>",[parents],[follows],[[k,v],..],start_ms,duration_ms] f=trace
    ["<trace>","<span>",[[ts,[[k,v],..]],..],"<span line>"]             f=spanLogs

Exactly once: a message is counted under its (batch, part), written in the same
transaction as the counts (store/ingestusage.py). The batch id is derived from the
request's Idempotency-Key when it has one (so a client's resend of the same batch is the
same batch), else it is random; an SQS redelivery carries the same body, hence the same id.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.domain.context import Context
from chalicelib.errors import Invalid, Throttled
from chalicelib.ingest import body as ingest_body
from chalicelib.ingest import lines as ingest_lines
from chalicelib.ingest.lines import HistogramPoint, Point, Record, Rejected, Span, SpanLog, SpanLogs
from chalicelib.store import ingestusage, queues

QUEUE = "ingest"
VERSION = 1
# A message is sent once its records pass this many bytes (SQS takes 256 KiB; bigger
# messages would travel as claim checks through S3, which costs a PUT and a GET each).
MESSAGE_BYTES = 200 * 1024
MAX_REASONS = 10  # rejection reasons an answer carries
MAX_IDEMPOTENCY_KEY = 255
HOUR_MS = 3_600_000
SECONDS_PER_HOUR = 3600
# A limited policy's budget is limitPPS x this many points an hour: past it, 429.
BUDGET_SECONDS = SECONDS_PER_HOUR
POLICY_KIND = "ingestionpolicy"
POLICY_CACHE_SECONDS = 30.0
# The kinds usage is counted under, by the format's `f`.
KINDS = {"wavefront": "metric", "histogram": "histogram", "trace": "span", "spanLogs": "spanlog"}
# Histograms are stored per granularity under <name>.m / .h / .d, as Wavefront names them
# in queries (hs(latency.m)).
GRANULARITY_SUFFIX = {"M": ".m", "H": ".h", "D": ".d"}


def retention_days(tenant: str, settings: Any = None) -> int:
    """How long the tenant's data is kept: its tier's retention (chalicelib/tiers.py), unless
    OPSPLANE_RETENTION_DAYS sets one for every tenant. The one place retention is decided."""
    from chalicelib import tiers
    from chalicelib.errors import OpsplaneError
    from chalicelib.identity.authorize import active_tenant
    from chalicelib.settings import get_settings

    fixed = (settings or get_settings()).retention_days
    if fixed is not None:
        return int(fixed)
    try:
        return tiers.retention_days(tiers.tier_of(active_tenant(tenant)))
    except OpsplaneError:  # a tenant gone since: what it sent still expires, by the default tier
        return tiers.retention_days(tiers.DEFAULT)


# ---- the request side ----------------------------------------------------------------------


@dataclass
class Received:
    """What a /report request did: lines accepted and rejected, the first reasons, the
    messages sent and the batch they belong to."""

    batch: str
    accepted: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    messages: int = 0

    def answer(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": self.rejected, "errors": self.errors}


def batch_id(tenant: str, idempotency_key: str | None) -> str:
    """The batch id of a request: a digest of the tenant and its Idempotency-Key (the same
    key is the same batch), or a random one."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise Invalid(f"Header Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY} characters")
    return hashlib.sha256(f"{tenant}\x00{idempotency_key}".encode()).hexdigest()[:32]


def encode(record: Record) -> list[Any]:
    """A parsed record as the compact JSON array a message carries."""
    if isinstance(record, Point):
        return [record.metric, record.value, record.timestamp_ms, record.source, dict(record.tags)]
    if isinstance(record, HistogramPoint):
        centroids = [[mean, count] for mean, count in record.centroids]
        return [record.granularity, record.timestamp_ms, centroids, record.metric, record.source, dict(record.tags)]
    if isinstance(record, Span):
        tags = [[k, v] for k, v in record.tags]
        return [
            record.name,
            record.source,
            record.trace_id,
            record.span_id,
            list(record.parents),
            list(record.follows),
            tags,
            record.start_ms,
            record.duration_ms,
        ]
    logs = [[log.timestamp, [[k, v] for k, v in log.fields]] for log in record.logs]
    return [record.trace_id, record.span_id, logs, record.span]


def decode(fmt: str, row: list[Any]) -> Record:
    """The record a message's JSON array holds (encode's inverse)."""
    if fmt == "wavefront":
        metric, value, ts, source, tags = row
        return Point(metric, float(value), int(ts), source, tuple(sorted(tags.items())))
    if fmt == "histogram":
        granularity, ts, centroids, metric, source, tags = row
        centroid_pairs = tuple((float(m), int(c)) for m, c in centroids)
        return HistogramPoint(granularity, int(ts), centroid_pairs, metric, source, tuple(sorted(tags.items())))
    if fmt == "trace":
        name, source, trace, span, parents, follows, tags, start, duration = row
        pairs = tuple((k, v) for k, v in tags)
        return Span(name, source, trace, span, tuple(parents), tuple(follows), pairs, int(start), int(duration))
    trace, span, logs, line = row
    parsed = tuple(SpanLog(int(ts), tuple((k, v) for k, v in fields)) for ts, fields in logs)
    return SpanLogs(trace, span, parsed, line)


@dataclass(frozen=True)
class Header:
    """Who sent a message's records, when, and which part of which batch they are."""

    tenant: str
    account: str
    groups: tuple[str, ...]
    batch: str
    part: int
    fmt: str
    at: int
    # Whether the batch id comes from the client's Idempotency-Key (else it is a random one)
    keyed: bool = True
    # A digest of the sender, format and records of a keyless batch's message (set by unpack)
    content: str = ""

    def line(self) -> str:
        return json.dumps(
            {
                "v": VERSION,
                "tenant": self.tenant,
                "account": self.account,
                "groups": list(self.groups),
                "batch": self.batch,
                "part": self.part,
                "f": self.fmt,
                "at": self.at,
                "k": self.keyed,
            },
            separators=(",", ":"),
        )

    @property
    def marker(self) -> str:
        """What usage is counted under, once: the batch and part of a keyed batch; else the
        message's content, so that a client's resend of the same records without a key
        (wavefront-sdk-python's, after a timeout) is counted once. Records carry the
        timestamps they are stored under (a line without one got the time it was received),
        so only the same data again shares a marker."""
        if self.keyed or not self.content:
            return f"{self.batch}#{self.part}"
        return f"={self.content}"


def pack(records: Iterable[Record], header: Header, *, size: int = MESSAGE_BYTES) -> Iterator[str]:
    """The messages of a batch's records: each about `size` bytes (the record that passes it
    is the last of its message), parts numbered from header.part."""
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
    part, rows, filled = header.part, [header.line()], 0
    for record in records:
        row = dumps(encode(record))
        rows.append(row)
        filled += len(row) + 1
        if filled >= size:
            yield "\n".join(rows)
            part += 1
            rows, filled = [_with_part(header, part).line()], 0
    if len(rows) > 1:
        yield "\n".join(rows)


def _with_part(header: Header, part: int) -> Header:
    return replace(header, part=part)


def unpack(body: str) -> tuple[Header, list[Record]]:
    """A message's header and records (ValueError for a message this code did not write)."""
    head, _, rest = body.partition("\n")
    meta = json.loads(head)
    if meta.get("v") != VERSION or meta.get("f") not in KINDS:
        raise ValueError(f"not an ingest message of version {VERSION}: {head[:200]}")
    keyed = bool(meta.get("k", True))
    header = Header(
        meta["tenant"],
        meta["account"],
        tuple(meta.get("groups") or ()),
        meta["batch"],
        int(meta["part"]),
        meta["f"],
        int(meta["at"]),
        keyed=keyed,
        content="" if keyed else _digest(meta["account"], meta["f"], rest),
    )
    records = [decode(header.fmt, json.loads(line)) for line in rest.split("\n") if line]
    return header, records


def _digest(account: str, fmt: str, rows: str) -> str:
    return hashlib.sha256(f"{account}\x00{fmt}\x00{rows}".encode()).hexdigest()[:32]


def receive(
    ctx: Context, fmt: str, body: bytes, encoding: str | None, *, idempotency_key: str | None = None
) -> Received:
    """Parse a /report body and queue what it holds (see the module's docstring).

    413 (PayloadTooLarge) when the body inflates past OPSPLANE_MAX_INGEST_BYTES and 400 when
    no line is good: in both cases nothing is queued. The inflated size is measured before
    any message leaves (a pass that keeps nothing), so a bomb never queues a part."""
    if fmt not in KINDS:
        raise Invalid(f"Query parameter f must be one of {', '.join(KINDS)}, got {fmt[:40]!r}")
    limit = ctx.settings.max_ingest_bytes
    for _ in ingest_body.chunks(body, encoding, limit):  # PayloadTooLarge past the limit
        pass
    throttle(ctx)
    now = ctx.now()
    received = Received(batch_id(ctx.tenant, idempotency_key))
    groups = tuple(ctx.principal.groups)
    header = Header(
        ctx.tenant, ctx.principal.id, groups, received.batch, 0, fmt, now, keyed=idempotency_key is not None
    )
    parsed = ingest_lines.parse(
        fmt, ingest_body.lines(body, encoding, limit), now_ms=now, default_source=default_source(ctx)
    )
    received.messages = queues.send(QUEUE, pack(_counted(parsed, received), header))
    if not received.accepted:
        raise Invalid(_refusal(received))
    return received


def default_source(ctx: Context) -> str:
    """The source of a line that names none (the SDK always names one)."""
    return ctx.principal.name[:128] or "unknown"


def _counted(parsed: Iterable[Any], received: Received) -> Iterator[Record]:
    """The accepted records; the rejected ones counted with their first reasons."""
    for result in parsed:
        if isinstance(result, Rejected):
            received.rejected += 1
            if len(received.errors) < MAX_REASONS:
                received.errors.append(f"line {result.line_no}: {result.reason}")
            continue
        received.accepted += 1
        yield result


def _refusal(received: Received) -> str:
    if not received.rejected:
        return "The body holds no data line"
    reasons = "; ".join(received.errors)
    return f"No line was accepted ({received.rejected} rejected): {reasons}"


# ---- ingestion policies ----------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """An ingestion policy as ingestion needs it: its scope and hourly budget."""

    id: str
    name: str
    scope: str
    accounts: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    namespaces: tuple[str, ...] = ()
    point_tags: tuple[tuple[str, str], ...] = ()
    tags_anded: bool = False
    limit_pps: int | None = None
    limited: bool = False

    @staticmethod
    def of(entity_id: str, doc: dict[str, Any]) -> Policy:
        return Policy(
            id=entity_id,
            name=str(doc.get("name", entity_id)),
            scope=str(doc.get("scope", "")),
            accounts=frozenset(doc.get("accounts") or ()),
            groups=frozenset(doc.get("groups") or ()),
            sources=frozenset(doc.get("sources") or ()),
            namespaces=tuple(n.rstrip("*") for n in doc.get("namespaces") or ()),
            point_tags=tuple((t["key"], t["value"]) for t in doc.get("pointTags") or ()),
            tags_anded=bool(doc.get("tagsAnded")),
            limit_pps=doc.get("limitPPS"),
            limited=bool(doc.get("isLimited")),
        )

    @property
    def budget(self) -> int | None:
        """Points an hour before the accounts in scope get 429 (limited policies only)."""
        return self.limit_pps * BUDGET_SECONDS if self.limited and self.limit_pps else None

    def covers_sender(self, account: str, groups: Iterable[str]) -> bool:
        """Whether everything an account sends is in scope (ACCOUNT and GROUP scopes)."""
        if self.scope == "ACCOUNT":
            return account in self.accounts
        if self.scope == "GROUP":
            return not self.groups.isdisjoint(groups)
        return False

    def covers(self, record: Record) -> bool:
        """Whether a record is in scope (SOURCE, NAMESPACE and TAGS scopes)."""
        if self.scope == "SOURCE":
            return getattr(record, "source", None) in self.sources
        if self.scope == "NAMESPACE":
            name = getattr(record, "metric", None) or getattr(record, "name", None)
            return name is not None and any(name.startswith(n) for n in self.namespaces)
        if self.scope == "TAGS":
            tags = set(getattr(record, "tags", ()))
            hits = [pair in tags for pair in self.point_tags]
            return all(hits) if self.tags_anded else any(hits)
        return False


_policies: dict[str, tuple[float, list[Policy]]] = {}
_policies_lock = threading.Lock()


def policies(ctx: Context) -> list[Policy]:
    """The tenant's ingestion policies (one Query; kept POLICY_CACHE_SECONDS per process)."""
    now = time.monotonic()
    with _policies_lock:
        cached = _policies.get(ctx.tenant)
    if cached is not None and now - cached[0] < POLICY_CACHE_SECONDS:
        return cached[1]
    found = [Policy.of(e.id, e.doc) for e in ctx.repo(POLICY_KIND).iterate()]
    with _policies_lock:
        _policies[ctx.tenant] = (now, found)
    return found


def forget_policies() -> None:
    """Forget the cached policies (tests; a policy's change shows within the cache's life)."""
    with _policies_lock:
        _policies.clear()


def hour_of(ms: int) -> int:
    """The start of the hour holding ms, epoch seconds (the usage CSV's hours)."""
    return ms // HOUR_MS * SECONDS_PER_HOUR


def tier_budget(tenant: str) -> tuple[str, int]:
    """The tenant's tier and the points it may ingest an hour (its points/s x 3600)."""
    from chalicelib import tiers
    from chalicelib.identity.authorize import active_tenant

    tier = tiers.tier_of(active_tenant(tenant))
    return tier.name, tier.ingest_points_per_second * SECONDS_PER_HOUR


def throttle(ctx: Context) -> None:
    """429 when the tenant has used its tier's points for this hour, or a limited policy
    covering the sender its budget (limitPPS x 3600 points): Retry-After is the rest of the
    hour. One BatchGetItem reads every count needed."""
    limited = [p for p in policies(ctx) if p.budget and p.covers_sender(ctx.principal.id, ctx.principal.groups)]
    now = ctx.now()
    retry = max(1, SECONDS_PER_HOUR - (now // 1000) % SECONDS_PER_HOUR)
    tenant_dimensions = [f"{kind}:t" for kind in dict.fromkeys(KINDS.values())]
    used = ingestusage.current(
        ctx.tenant, [*tenant_dimensions, *(policy_dimension(p.id) for p in limited)], hour_of(now)
    )
    tier, budget = tier_budget(ctx.tenant)
    if sum(used.get(d, 0) for d in tenant_dimensions) >= budget:
        raise Throttled(
            f"The {tier} tier's ingestion budget ({budget // SECONDS_PER_HOUR} points/s) is used for this hour",
            retry_after=retry,
            tier=tier,
        )
    for policy in limited:
        if used.get(policy_dimension(policy.id), 0) >= (policy.budget or 0):
            retry = max(1, SECONDS_PER_HOUR - (now // 1000) % SECONDS_PER_HOUR)
            raise Throttled(
                f"Ingestion policy {policy.name!r} has used its {policy.limit_pps} points/s for this hour",
                retry_after=retry,
                policy=policy.id,
            )


# ---- the worker side: usage -----------------------------------------------------------------


def policy_dimension(policy_id: str) -> str:
    return f"p:{policy_id}"


def usage_counts(header: Header, records: Sequence[Record], found: Sequence[Policy]) -> dict[str, int]:
    """What a message adds to usage, by dimension: its kind for the tenant and the account,
    and every policy whose scope holds its records (a record of any kind is one point)."""
    kind = KINDS[header.fmt]
    counts = {f"{kind}:t": len(records), f"{kind}:a:{header.account}": len(records)}
    for policy in found:
        if policy.covers_sender(header.account, header.groups):
            n = len(records)
        else:
            n = sum(1 for r in records if policy.covers(r))
        if n:
            counts[policy_dimension(policy.id)] = n
    return {k: v for k, v in counts.items() if v}


def count_once(header: Header, counts: dict[str, int]) -> bool:
    """Add counts to the header's hour, once per marker (Header.marker): False when already counted."""
    return ingestusage.count_once(header.tenant, header.marker, hour_of(header.at), counts)


def policy_usage(tenant: str, policy_ids: Sequence[str], hours: Sequence[int]) -> dict[str, dict[int, int]]:
    """Points counted per policy and hour (epoch s) of the window: the usage CSV."""
    if not hours:
        return {}
    return {p: ingestusage.hours(tenant, policy_dimension(p), hours[0], hours[-1]) for p in policy_ids}
