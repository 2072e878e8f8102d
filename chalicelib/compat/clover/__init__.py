"""The CloverDX dialect (/clover/api/rest/v1): dashboards and their monitors over the one
alert model (monitors.py), with CloverDX's CSRF rule on the whole base path.

Answers are bare JSON; errors are {"status", "error", "message"}, rendered at the edge
(chalicelib/http/dialects.py). Every route needs the Monitoring permission (`monitor.#`).
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.compat.clover import csrf, monitors
from chalicelib.http.router import Category, Router

# Every route of the base path checks X-Requested-By first (csrf.py): wrapped here, once,
# so no route of the dialect can be declared without it.
router = Router("clover", routes=[replace(r, handler=csrf.guarded(r.handler)) for r in monitors.router.routes])


CATEGORY = Category(router, permission="monitoring")
