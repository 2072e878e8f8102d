"""API Gateway's API keys and usage plans: what identity/tenant_keys.py provisions per tenant.

Only the management calls the key worker needs: find a key by name, create and delete one,
the plans a key is attached to, attach and detach it. The client is made on first use from
the process's botocore session (store/aws.py); models.bind re-points it.

API Gateway limits its management API per account and region (CreateApiKey 5/s,
UpdateUsagePlan 1 per 20 s, 10/s for the rest): a call throttled with
TooManyRequestsException is repeated here after an exponential backoff with full jitter
(at least the Retry-After API Gateway gives), up to ATTEMPTS times; botocore's own retries
are off, so the wait is ours and visible. Still throttled, the call leaves as Unavailable:
the worker fails the message and SQS delivers it again later (nothing is lost; after
MAX_RECEIVES it waits in the dead-letter queue). Other throttling and outages leave as
Unavailable too (store/failures.py); any other error passes through.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import StoreError, Unavailable
from chalicelib.store import aws
from chalicelib.store.failures import unavailable

THROTTLED = "TooManyRequestsException"
ATTEMPTS = 5
BACKOFF_BASE = 0.5  # seconds: the first wait is up to this, then doubling
BACKOFF_CAP = 20.0  # UpdateUsagePlan's pace: one per 20 s
PAGE = 500  # GetApiKeys / GetUsagePlans page size (API Gateway's maximum)

# Waits between throttled attempts (tests replace it to count the waits without sleeping).
sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class ApiKey:
    """An API key: id, name, value (the metering identifier), creation time, tags."""

    id: str
    name: str
    value: str
    created: float = 0.0
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    endpoint: str | None = None
    region: str = "us-east-1"


_state: dict[str, Any] = {"target": Target(), "plans": {}}
_lock = threading.Lock()
# One attempt per call: throttling is retried by _call, with its own backoff.
_client = aws.Client(
    "apigateway",
    lambda _: {"connect_timeout": 5, "read_timeout": 20, "retries": {"max_attempts": 1, "mode": "standard"}},
)


def bind(endpoint: str | None = None, *, region: str = "us-east-1") -> None:
    """Point the calls at an endpoint (None: AWS) and region; forget the client and plan ids."""
    with _lock:
        _state.update(target=Target(endpoint, region), plans={})
    _client.bind(endpoint=endpoint, region=region)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def backoff(attempt: int, retry_after: float = 0.0) -> float:
    """The wait before attempt+1: full jitter over an exponential ceiling, never under
    the Retry-After API Gateway asked for."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
    return max(retry_after, random.uniform(0, ceiling))


def _retry_after(exc: ClientError) -> float:
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}
    try:
        return float(headers.get("retry-after") or exc.response.get("retryAfterSeconds") or 0)
    except ValueError:
        return 0.0


def _call(operation: str, **params: Any) -> dict[str, Any]:
    """One management call, repeated while API Gateway throttles it (module docstring)."""
    for attempt in range(ATTEMPTS):
        try:
            return dict(getattr(_client(), operation)(**params))
        except ClientError as exc:
            if _code(exc) != THROTTLED:
                busy = unavailable(exc)
                if busy is not None:
                    raise busy from exc
                raise
            if attempt == ATTEMPTS - 1:
                raise Unavailable(
                    "API Gateway is throttling its management calls", retry_after=int(BACKOFF_CAP), operation=operation
                ) from exc
            sleep(backoff(attempt, _retry_after(exc)))
        except BotoCoreError as exc:
            busy = unavailable(exc)
            if busy is not None:
                raise busy from exc
            raise StoreError("API Gateway call failed", operation=operation) from exc
    raise AssertionError("unreachable")  # the loop returns or raises


def _key(item: Mapping[str, Any]) -> ApiKey:
    created = item.get("createdDate")  # a datetime (botocore parses it)
    return ApiKey(
        id=str(item["id"]),
        name=str(item.get("name") or ""),
        value=str(item.get("value") or ""),
        created=created.timestamp() if isinstance(created, datetime) else 0.0,
        tags=dict(item.get("tags") or {}),
    )


def _pages(operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    position: str | None = None
    while True:
        answer = _call(operation, limit=PAGE, **params, **({"position": position} if position else {}))
        yield from answer.get("items", [])
        position = answer.get("position")
        if not position:
            return


def find_keys(name: str, tags: Mapping[str, str]) -> list[ApiKey]:
    """The keys named exactly `name` that carry every tag given, oldest first (id breaks ties)."""
    found = [
        _key(item)
        for item in _pages("get_api_keys", nameQuery=name, includeValues=True)
        if item.get("name") == name and all((item.get("tags") or {}).get(k) == v for k, v in tags.items())
    ]
    return sorted(found, key=lambda k: (k.created, k.id))


def get_key(key_id: str) -> ApiKey | None:
    """The key with that id (and its value), or None when there is none."""
    try:
        return _key(_call("get_api_key", apiKey=key_id, includeValue=True))
    except ClientError as exc:
        if _code(exc) == "NotFoundException":
            return None
        raise


def create_key(name: str, value: str, tags: Mapping[str, str], description: str = "") -> ApiKey:
    """A new enabled key."""
    answer = _call("create_api_key", name=name, value=value, enabled=True, tags=dict(tags), description=description)
    return _key({**answer, "value": answer.get("value") or value})


def delete_key(key_id: str) -> None:
    """Delete a key (gone already: nothing to do)."""
    try:
        _call("delete_api_key", apiKey=key_id)
    except ClientError as exc:
        if _code(exc) != "NotFoundException":
            raise


def plan_id(name: str) -> str:
    """The id of the usage plan named `name` (looked up once per process); StoreError when
    there is none (infra/ creates one per tier)."""
    plans: dict[str, str] = _state["plans"]
    if name not in plans:
        for item in _pages("get_usage_plans"):
            plans[str(item.get("name"))] = str(item["id"])
        if name not in plans:
            raise StoreError("No such usage plan", plan=name)
    return plans[name]


def plans_of(key_id: str) -> set[str]:
    """The ids of the usage plans a key is attached to."""
    return {str(item["id"]) for item in _pages("get_usage_plans", keyId=key_id)}


def attach(plan: str, key_id: str) -> None:
    """Attach a key to a usage plan (attached already: nothing to do)."""
    try:
        _call("create_usage_plan_key", usagePlanId=plan, keyId=key_id, keyType="API_KEY")
    except ClientError as exc:
        if _code(exc) != "ConflictException":
            raise


def detach(plan: str, key_id: str) -> None:
    """Detach a key from a usage plan (not attached: nothing to do)."""
    try:
        _call("delete_usage_plan_key", usagePlanId=plan, keyId=key_id)
    except ClientError as exc:
        if _code(exc) != "NotFoundException":
            raise
