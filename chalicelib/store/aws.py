"""The process's one botocore session, and the clients made from it.

A botocore session loads and caches the service models (JSON, endpoint rules) and resolves
credentials once; every extra session repeats that, ~50-100 ms each on a cold Lambda. So
DynamoDB (all PynamoDB models and transactions: store/models.py), S3 (store/blobs.py) and
Secrets Manager (store/secrets.py) all build their clients from this session, on first use.
botocore client creation is not thread-safe, so it happens under one lock.
models.bind() calls reset() so tests and local runs can re-point everything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_state: dict[str, Any] = {"session": None}
# Re-entrant: a client factory may ask for the session while holding it.
lock = threading.RLock()


def session() -> Any:
    """The botocore session (created on first use)."""
    found = _state["session"]
    if found is None:
        with lock:
            if _state["session"] is None:
                from botocore.session import get_session  # kept out of module import: cold starts

                _state["session"] = get_session()
            found = _state["session"]
    return found


def create(factory: Callable[[Any], T]) -> T:
    """factory(session), run under the lock that serializes botocore client creation."""
    with lock:
        return factory(session())


def reset() -> None:
    """Forget the session: the next client reads credentials and configuration afresh."""
    with lock:
        _state["session"] = None


def adopt(found: Any) -> None:
    """Use this botocore session from now on (the in-process tests hand each test's fresh
    binding the session of the one before: its service models are loaded already)."""
    with lock:
        _state["session"] = found


class Client:
    """One service's botocore client, made on first use from the shared session (under the
    lock) and kept until bind() points it elsewhere. Call it for the client.

    options(endpoint) gives the botocore Config's options for an endpoint (None: AWS); the
    config is built only when the client is, so a module that never calls AWS never
    imports botocore's config machinery."""

    def __init__(self, service: str, options: Callable[[str | None], dict[str, Any]] | None = None) -> None:
        self.service = service
        self.options = options
        self.endpoint: str | None = None
        self.region = "us-east-1"
        self._client: Any = None

    def bind(self, *, endpoint: str | None, region: str) -> None:
        """Point the client at an endpoint (None: AWS) and region: the next call makes it anew."""
        with lock:
            self.endpoint, self.region, self._client = endpoint, region, None

    def __call__(self) -> Any:
        client = self._client
        if client is not None:
            return client
        with lock:
            if self._client is None:
                config = None
                if self.options is not None:
                    from botocore.config import Config  # kept out of module import: cold starts

                    config = Config(**self.options(self.endpoint))
                self._client = create(
                    lambda session: session.create_client(
                        self.service, endpoint_url=self.endpoint, region_name=self.region, config=config
                    )
                )
            return self._client
