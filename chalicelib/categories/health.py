"""Health probe: answers without credentials."""

from __future__ import annotations

from pydantic import Field

from chalicelib.http.reply import bare
from chalicelib.http.request import Request
from chalicelib.http.router import PUBLIC, Category, Router
from chalicelib.settings import get_settings
from chalicelib.wire import Model

router = Router("health")


class Health(Model):
    """The probe's answer."""

    database: str = Field(examples=["ok"])
    status: str = Field(examples=["ok"])
    version: str = Field(description="The Grafana version the Grafana dialect speaks (Grafana clients read it)")
    commit: str = Field(description="The deployment stage")
    opsplaneVersion: str = Field(description="The deployed opsplane version")


@router.get("/api/health", acl=PUBLIC, response=Health)
def health(req: Request) -> object:
    """Service health (also Grafana's version probe)."""
    settings = get_settings()
    return bare(
        {
            "database": "ok",
            "status": "ok",
            "version": settings.grafana_version,
            "commit": settings.stage,
            "opsplaneVersion": settings.version,
        }
    )


CATEGORY = Category(router, tables=())
