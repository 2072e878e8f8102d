"""The local server passes each client's own address as API Gateway's `sourceIp` (chalice
local says 127.0.0.1 for everyone): per-address login throttling tells callers apart."""

from __future__ import annotations

import base64
import http.client
import uuid
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

FAILURES_PER_ADDRESS = 3


def _login(url: str, source: str, username: str) -> int:
    """POST /token with a wrong password, from the loopback address source; the status."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10, source_address=(source, 0))
    try:
        basic = base64.b64encode(f"{username}:wrong-password".encode()).decode()
        conn.request("POST", "/api/auth/0.1/token", body="{}", headers={"Authorization": f"Basic {basic}"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_can_throttle_failed_logins_per_client_address(spawn_server):
    # GIVEN a server allowing 3 failed logins per address
    srv = spawn_server(env={"OPSPLANE_LOGIN_FAILURES_PER_ADDRESS": str(FAILURES_PER_ADDRESS)})

    # WHEN one client (127.0.0.2) fails 3 logins, each with another username
    for _ in range(FAILURES_PER_ADDRESS):
        assert _login(srv.url, "127.0.0.2", f"nobody-{uuid.uuid4().hex[:8]}") == 401

    # THEN its next try is throttled, while another client (127.0.0.3) is not
    assert _login(srv.url, "127.0.0.2", f"nobody-{uuid.uuid4().hex[:8]}") == 429
    assert _login(srv.url, "127.0.0.3", f"nobody-{uuid.uuid4().hex[:8]}") == 401
