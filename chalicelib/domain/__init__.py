"""The domain: what opsplane does, independent of HTTP. Every operation takes a Context
(tenant, acting principal, settings, clock) and never the request, so route handlers,
dialects, scripts and workers call the same operations."""
