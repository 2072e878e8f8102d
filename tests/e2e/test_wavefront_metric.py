"""Metric details through the unmodified Wavefront client (MetricApi, its one operation)
against the live server. Points are written into the live server's embedded moto through the
data plane's store (series.write_points), as ingestion would: /report is not built yet."""

from __future__ import annotations

import pytest
import wavefront_api_client as wf

from tests.e2e.clients import refused_status, wavefront
from tests.e2e.test_local_run import _bind_store_to

pytestmark = pytest.mark.e2e

T0 = 1_764_460_800_000


def seed(server, tenant: str, rows: list[tuple[str, str, dict[str, str], int]]) -> None:
    """Points written straight into the live server's timeseries table."""
    from chalicelib.settings import get_settings
    from chalicelib.store import models, series

    try:
        _bind_store_to(f"http://127.0.0.1:{server.moto_port}")
        series.forget_noted()
        points = [(series.SeriesKey.of("metric", m, s, tags), t, 1.0) for m, s, tags, t in rows]
        series.write_points(tenant, points, expires=2_000_000_000)
    finally:
        models.bind(get_settings())


def test_can_read_metric_details_page_by_page(server, fresh):
    # GIVEN cpu.load from three hosts of the tenant
    seed(
        server,
        fresh.tenant,
        [("cpu.load", "web-1", {"env": "prod"}, T0), ("cpu.load", "web-2", {}, T0 + 1), ("cpu.load", "db-1", {}, T0)],
    )
    api = wf.MetricApi(wavefront(server.url, fresh.token))
    # WHEN its details are read (get_metric_details) with a host glob
    web = api.get_metric_details("cpu.load", h=["web-*"])
    # THEN the client reads the hosts with their tags and last update
    assert [(d.host, d.tags, d.last_update) for d in web.hosts] == [
        ("web-1", {"env": "prod"}, T0),
        ("web-2", {}, T0 + 1),
    ]
    # AND pages follow the continuation token
    first = api.get_metric_details("cpu.load", l=2)
    rest = api.get_metric_details("cpu.load", l=2, c=first.continuation_token)
    assert [d.host for d in first.hosts + rest.hosts] == ["db-1", "web-1", "web-2"]
    assert rest.continuation_token is None
    # AND bad arguments are refused
    assert refused_status(lambda: api.get_metric_details("cpu.load", c="%%%")) == 400


def test_can_keep_tenants_apart(server, fresh, admin_token):
    seed(server, fresh.tenant, [("mem.used", "web-1", {}, T0)])
    assert wf.MetricApi(wavefront(server.url, admin_token)).get_metric_details("mem.used").hosts == []
