"""Health probe: answers without credentials."""

from __future__ import annotations

from chalicelib.http.reply import bare
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Router
from chalicelib.settings import get_settings

router = Router("health")


@router.get("/api/health", acl=PUBLIC, envelope=False)
def health(req: Request) -> object:
    """Service health (also Grafana's version probe)."""
    settings = get_settings()
    return bare({"database": "ok", "status": "ok", "version": settings.version, "commit": settings.stage})
