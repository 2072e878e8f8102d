"""Direct ingestion: POST /report?f=wavefront|histogram|trace|spanLogs as wavefront-sdk-python's
direct WavefrontClient sends it (a gzip body, `Authorization: Bearer <API token>`), and the
Wavefront proxy's POST /api/v2/wfproxy/report?format=... (the same formats).

A request is parsed line by line and its accepted records queued for the ingest worker
(chalicelib/domain/ingestion.py); it answers 202 with what it accepted and rejected, before
any point is written. docs/ingestion-pipeline.md has the answers, limits and guarantees.
"""

from __future__ import annotations

import uuid

from chalicelib.domain import ingestion
from chalicelib.errors import Invalid
from chalicelib.http.reply import Reply
from chalicelib.http.request import Request
from chalicelib.http.router import Category, Router

router = Router("report")

FORMATS = tuple(ingestion.KINDS)
ANSWER = {
    "type": "object",
    "required": ["accepted", "rejected", "errors"],
    "properties": {
        "accepted": {"type": "integer", "description": "lines queued for writing"},
        "rejected": {"type": "integer", "description": "lines refused"},
        "errors": {
            "type": "array",
            "maxItems": ingestion.MAX_REASONS,
            "items": {"type": "string"},
            "description": "the first reasons, 'line <n>: <reason>'",
        },
    },
}
BODY = {
    "type": "string",
    "format": "binary",
    "description": "Lines of the format f names, gzip (Content-Encoding: gzip), deflate or plain",
}
FORMAT_HELP = "the data format: " + " | ".join(FORMATS)


def _report(req: Request, fmt: str | None) -> Reply:
    if not fmt:
        raise Invalid(f"Query parameter f is required ({' | '.join(FORMATS)})")
    received = ingestion.receive(
        req.ctx,
        fmt,
        req.raw_body,
        req.headers.get("content-encoding"),
        idempotency_key=req.headers.get("idempotency-key"),
    )
    return Reply(received.answer(), status=202, raw=True)


@router.post(
    "/report",
    acl="report.create",
    body=BODY,
    response=ANSWER,
    status=202,
    envelope=False,
    max_body="max_ingest_bytes",
    decode_body=False,
    query=(("f", "string", FORMAT_HELP),),
    summary="Send points, histograms, spans or span logs (direct ingestion)",
)
def report(req: Request) -> Reply:
    """Queue the lines of the body for writing; 202 with the counts of accepted and rejected lines."""
    return _report(req, req.arg("f"))


@router.post(
    "/api/v2/wfproxy/report",
    acl="report.create",
    body=BODY,
    response=ANSWER,
    status=202,
    envelope=False,
    max_body="max_ingest_bytes",
    decode_body=False,
    query=(
        ("format", "string", FORMAT_HELP),
        ("f", "string", "the same as format (direct ingestion's name)"),
        ("proxyId", "string", "the sending proxy's id (a UUID)"),
    ),
    summary="Send points, histograms, spans or span logs through a Wavefront proxy",
)
def proxy_report(req: Request) -> Reply:
    """The Wavefront proxy's report: the same as /report, the format named `format`."""
    proxy = req.arg("proxyId")
    if proxy:
        try:
            uuid.UUID(proxy)
        except ValueError:
            raise Invalid("Query parameter proxyId must be a UUID") from None
    return _report(req, req.arg("format") or req.arg("f"))


CATEGORY = Category(router, tables=("entities", "usage"), permission="ingestion", queues=(ingestion.QUEUE,))
