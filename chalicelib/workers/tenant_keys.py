"""The tenant-keys worker: each job names a tenant whose API Gateway key must be brought in
line with its record (identity/tenant_keys.py: created, moved to its tier's plan, removed).

Small batches, one at a time per message: API Gateway allows CreateApiKey 5 times a second
per account and region, and throttled calls wait inside the job (store/gatewaykeys.py)
before the message is handed back to SQS for a later delivery.
"""

from __future__ import annotations

from chalicelib.identity import tenant_keys
from chalicelib.workers import Record, Worker


def handle(record: Record) -> None:
    """Reconcile the tenant a job names; raises (the message is delivered again) on failure."""
    tenant_keys.reconcile(tenant_keys.parse_job(record.body))


WORKER = Worker(queue=tenant_keys.QUEUE, handle=handle, batch_size=5, timeout=120, manages_api_keys=True)
