"""The ingest worker: writes what /report queued (chalicelib/domain/ingestion.py packs it).

For one message, in this order, every step safe to repeat when SQS delivers it again:

1. its points, histograms, spans or span logs (store/series.py), vanishing after the
   tenant's retention: the same series and timestamp written twice is one point;
2. the sources its data names, as Source records (categories/source.py `seen`: first seen
   once, last seen moved forward), each at most once per SOURCE_REFRESH_MS per process;
3. its usage (tenant, account, policies, this hour), counted under the message's (batch,
   part) marker in the same transaction, so at most once whatever redelivers it;
4. a message to the tenant's administrators for each limited policy this hour's count has
   taken past its budget (once per policy and hour: the message's key says so).

A step that fails raises: the message is reported failed and comes back (after five
deliveries, to the dead-letter queue).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from chalicelib.categories import source
from chalicelib.domain import ingestion, messages
from chalicelib.domain.context import Context
from chalicelib.domain.ingestion import GRANULARITY_SUFFIX, Header, Policy
from chalicelib.errors import Invalid
from chalicelib.ingest.lines import HistogramPoint, Point, Record, Span, SpanLogs
from chalicelib.store import ingestusage, series
from chalicelib.workers import Record as Message
from chalicelib.workers import Worker

logger = logging.getLogger("opsplane.workers.ingest")

DAY_S = 86_400
# How old a source's last-seen time may grow before the worker writes it again.
SOURCE_REFRESH_MS = series.INDEX_REFRESH_MS
_sources: dict[tuple[str, str], int] = {}
_sources_lock = threading.Lock()
SOURCES_MAX = 100_000


def handle(message: Message) -> None:
    """Write, record the sources of, count and police one message (see the module)."""
    header, records = ingestion.unpack(message.body)
    ctx = Context.service(header.tenant, "ingest")
    expires = header.at // 1000 + ingestion.retention_days(header.tenant, ctx.settings) * DAY_S
    write(header, records, expires)
    note_sources(ctx, records)
    found = ingestion.policies(ctx)
    counts = ingestion.usage_counts(header, records, found)
    if ingestion.count_once(header, counts):
        warn_over_budget(header, [p for p in found if p.budget and ingestion.policy_dimension(p.id) in counts])


def write(header: Header, records: Sequence[Record], expires: int) -> None:
    """Store the records of one message (a message holds one format)."""
    tenant = header.tenant
    if header.fmt == "wavefront":
        series.write_points(
            tenant,
            (
                (series.SeriesKey("metric", r.metric, r.source, r.tags), r.timestamp_ms, r.value)
                for r in records
                if isinstance(r, Point)
            ),
            expires=expires,
        )
    elif header.fmt == "histogram":
        series.write_histograms(
            tenant,
            (
                (
                    series.SeriesKey("histogram", r.metric + GRANULARITY_SUFFIX[r.granularity], r.source, r.tags),
                    series.Histogram(r.timestamp_ms, r.centroids),
                )
                for r in records
                if isinstance(r, HistogramPoint)
            ),
            expires=expires,
        )
    else:
        series.write_spans(tenant, (_span_doc(r) for r in records), expires=expires)


def _span_doc(record: Record) -> tuple[str, str, dict[str, object]]:
    """A span, or a span's logs (under "<span id>#logs"), as store/series keeps them."""
    if isinstance(record, Span):
        return (
            record.trace_id,
            record.span_id,
            {
                "name": record.name,
                "source": record.source,
                "parents": list(record.parents),
                "follows": list(record.follows),
                "tags": [list(t) for t in record.tags],
                "startMs": record.start_ms,
                "durationMs": record.duration_ms,
            },
        )
    if not isinstance(record, SpanLogs):
        raise ValueError(f"not a span or span logs: {type(record).__name__}")
    logs = [{"timestamp": log.timestamp, "fields": dict(log.fields)} for log in record.logs]
    return record.trace_id, f"{record.span_id}#logs", {"logs": logs, "span": record.span}


def note_sources(ctx: Context, records: Sequence[Record]) -> None:
    """Make the sources the records name Source records, with their latest data time."""
    latest: dict[str, int] = {}
    for r in records:
        if isinstance(r, (Point, HistogramPoint)):
            at = r.timestamp_ms
        elif isinstance(r, Span):
            at = r.start_ms
        else:
            continue  # span logs name no source
        if latest.get(r.source, -1) < at:
            latest[r.source] = at
    for name, at in latest.items():
        key = (ctx.tenant, name)
        with _sources_lock:
            known = _sources.get(key)
        if known is not None and at < known + SOURCE_REFRESH_MS:
            continue
        try:
            source.seen(ctx, name, at=at)
        except Invalid:
            # A name the data format allows and a Source id does not ('/', ',', quotes):
            # its data is stored and queryable; it has no Source record.
            logger.info("source %r has no Source record: not a valid source id", name[:128])
        with _sources_lock:
            if len(_sources) > SOURCES_MAX:
                _sources.clear()
            _sources[key] = max(at, known or at)


def forget_sources() -> None:
    """Forget which sources this process recorded (tests)."""
    with _sources_lock:
        _sources.clear()


def warn_over_budget(header: Header, limited: Sequence[Policy]) -> None:
    """Tell the administrators about each policy whose hour's count has reached its budget
    (the Notice's key is the policy and the hour: the second telling is no message)."""
    if not limited:
        return
    hour = ingestion.hour_of(header.at)
    used = ingestusage.current(header.tenant, [ingestion.policy_dimension(p.id) for p in limited], hour)
    for policy in limited:
        count = used.get(ingestion.policy_dimension(policy.id), 0)
        if policy.budget and count >= policy.budget:
            messages.ingestion_limit_reached(
                header.tenant, policy.id, policy.name, limit_pps=policy.limit_pps or 0, count=count, hour=hour
            )


WORKER = Worker(queue="ingest", handle=handle, batch_size=10, timeout=120)
