"""Composition root: the Chalice app, its routes, and the Lambda authorizer entry point."""

from __future__ import annotations

import gc

# A cold start allocates many long-lived objects (models, routes, settings): the collector
# would scan them again and again while they load. It is off until the app is built, and
# what was built is then frozen (never scanned again): about 15% of an import
# (bench/bench_coldstart.py). The lazy edge does the same around a category's import.
gc.disable()

from typing import Any  # noqa: E402 - after gc.disable(), on purpose

from chalice import Chalice  # noqa: E402

from chalicelib.api import load_router, routers  # noqa: E402
from chalicelib.api.manifest import ROUTES  # noqa: E402
from chalicelib.http.edge import Edge  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402
from chalicelib.store import models  # noqa: E402

# A bad variable raises SettingsError here, naming it: Lambda reports that as the init error.
settings = get_settings()
models.bind(settings)

app = Chalice(app_name="opsplane")
app.api.binary_types.extend(["application/octet-stream", "image/png", "font/woff2"])
if settings.categories:  # one deployed function: its categories, imported now
    edge = Edge(app, routers(settings.categories))
else:  # every category: each imported by the first request that reaches it
    edge = Edge(app, manifest=ROUTES, load=load_router)
edge.register()
gc.freeze()
gc.enable()


@app.lambda_function(name="authorizer")
def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway REQUEST authorizer: runs authorize() and hands the principal on."""
    from chalicelib.http.gateway import authorizer_response

    return authorizer_response(event)


def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Entry of every worker Lambda (chalicelib/workers). From SQS: the queue names the
    worker; the answer lists the records that failed (ReportBatchItemFailures). From the
    worker's EventBridge schedule (its input names the schedule): the schedule runs."""
    from chalicelib.workers.runtime import handle_schedule_event, handle_sqs_event, is_schedule_event

    if is_schedule_event(event):
        return handle_schedule_event(event, context)
    return handle_sqs_event(event, context)
