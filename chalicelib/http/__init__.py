"""The edge: routes, request parsing, dialect envelopes and errors, rate limits, docs."""
