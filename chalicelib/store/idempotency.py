"""Run a piece of work at most once per key: Powertools' idempotency utility
(`aws_lambda_powertools.utilities.idempotency`) with its DynamoDB persistence layer on the
usage table, whose (pk, sk) key schema it uses as it is:

    pk = "<tenant>#idempotency"   (static_pk_value: one partition per tenant, not one
                                   partition for every tenant's records)
    sk = "<scope>#<hash of the key>"
    status, data (the work's JSON answer), validation (hash of the payload), expires (TTL)

The first call stores an INPROGRESS record (a conditional put), runs the work and stores
its answer; a call with the same key afterwards answers that answer without running the
work; a call while the first is still running waits for it (up to `wait_seconds`), then
answers the same; the work raising deletes the record (nothing is remembered, the caller
may retry). Powertools' errors stop here and leave as domain errors.

Powertools imports boto3: it is imported on first use, never at module import (cold start).
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

from chalicelib.errors import Conflict, StoreError
from chalicelib.settings import get_settings
from chalicelib.store import aws
from chalicelib.store.failures import unavailable

Answer = dict[str, Any]
POLL_SECONDS = 0.05
# Persistence layers made so far, by (botocore session, tenant): a layer registers a handler
# on its client, so one is made per tenant and session, not per call. Bounded.
MAX_LAYERS = 256
_layers: dict[tuple[int, str], Any] = {}
_clients: dict[int, Any] = {}
_lock = threading.Lock()


def _client(session: Any) -> Any:
    """The DynamoDB client of the process's botocore session (the settings' endpoint)."""
    found = _clients.get(id(session))
    if found is None:
        settings = get_settings()
        found = aws.create(
            lambda s: s.create_client("dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint)
        )
        _clients.clear()  # a new session (models.bind): the old clients are done with
        _clients[id(session)] = found
    return found


def _layer(tenant: str) -> Any:
    """The tenant's persistence layer on the usage table."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    session = aws.session()
    key = (id(session), tenant)
    with _lock:
        found = _layers.get(key)
        if found is None:
            if len(_layers) >= MAX_LAYERS or any(k[0] != id(session) for k in _layers):
                _layers.clear()
            found = _layers[key] = DynamoDBPersistenceLayer(
                table_name=get_settings().usage_table,
                key_attr="pk",
                sort_key_attr="sk",
                static_pk_value=f"{tenant}#idempotency",
                expiry_attr="expires",
                boto3_client=_client(session),
            )
        return found


def once(
    tenant: str,
    scope: str,
    key: list[str],
    payload_hash: str,
    work: Callable[[], Answer],
    *,
    expires_after_seconds: int,
    wait_seconds: float = 5.0,
) -> Answer:
    """work()'s answer, computed at most once per (tenant, scope, key) while the record
    lives (expires_after_seconds). Conflict when the key was used with another payload
    (payload_hash differs), or the first call is still running after wait_seconds."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    # Powertools warns when no Lambda context gives it an in-progress deadline. None is
    # wanted: a call still running is waited for, and one that died leaves its record until
    # it expires, while the caller's own conditional write (store/deliveries.py) still holds.
    warnings.filterwarnings("ignore", message="Couldn't determine the remaining time", category=UserWarning)
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=expires_after_seconds,
    )

    def run(request: dict[str, Any]) -> Answer:
        return work()

    guarded_run = idempotent_function(
        run, data_keyword_argument="request", persistence_store=_layer(tenant), config=config, key_prefix=scope
    )
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return dict(guarded_run(request={"key": key, "payload": payload_hash}))
        except IdempotencyAlreadyInProgressError as exc:
            if time.monotonic() >= deadline:
                raise Conflict("The same request is still being processed; retry shortly") from exc
            time.sleep(POLL_SECONDS)
        except IdempotencyValidationError as exc:
            raise Conflict("This idempotency key was already used with a different payload") from exc
        except IdempotencyPersistenceLayerError as exc:
            raise (unavailable(exc) or StoreError("The idempotency store failed")) from exc
