"""What ingestion receives, decoded and parsed: pure code, no store, no HTTP.

    body.lines(body, encoding, limit)         the request body, inflated lazily, line by line
    body.inflate(body, encoding, limit)       a small body (JSON routes), inflated whole
    lines.parse(fmt, lines, now_ms=, default_source=)
                                              Point / HistogramPoint / Span / SpanLogs or
                                              Rejected(line_no, reason), one per line, lazily

docs/ingestion.md says the formats, the limits and what is rejected and why.
"""
