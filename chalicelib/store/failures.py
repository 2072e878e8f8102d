"""Where botocore and PynamoDB failures that mean "try again later" become Unavailable.

DynamoDB and S3 throttling, their 5xx answers and a connection that cannot be made or
answered all reach us only after botocore's own retries (standard mode, with backoff):
what survives them is not the caller's fault and not a broken store, so it leaves as
Unavailable (503 with Retry-After) rather than as a 500. PynamoDB wraps the botocore error
(`.cause`); a cancelled transaction says why per item (`cancellation_reasons`). Every
store module runs its DynamoDB and S3 calls inside `translated()` (or `guarded`); other
errors pass through unchanged for the module to map (a conditional check, a missing blob).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pynamodb.exceptions import PynamoDBException

from chalicelib.errors import Unavailable

# Error codes of DynamoDB and S3 answers that mean "overloaded or failing: try again".
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        # Another transaction with the same client request token is still running.
        "TransactionInProgressException",
        # S3
        "SlowDown",
        "InternalError",
        "503",
        "500",
    }
)
# Why DynamoDB cancelled one item of a transaction, when that means the same.
RETRYABLE_CANCELLATIONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})
# botocore's own failures to reach the service (after its retries).
UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)

P = ParamSpec("P")
T = TypeVar("T")


def _code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def unavailable(exc: BaseException) -> Unavailable | None:
    """The Unavailable a botocore / PynamoDB error means, or None when it means something else."""
    seen: BaseException | None = exc
    for _ in range(4):  # PynamoDB error -> botocore ClientError -> ... (a short chain)
        if seen is None:
            return None
        if isinstance(seen, UNREACHABLE):
            return Unavailable(error=type(seen).__name__)
        code = _code(seen)
        if code in RETRYABLE_CODES:
            return Unavailable(error=code)
        reasons = [getattr(r, "code", None) for r in (getattr(seen, "cancellation_reasons", None) or []) if r]
        reasons += [r.get("Code") for r in (getattr(seen, "response", None) or {}).get("CancellationReasons", [])]
        throttled = next((r for r in reasons if r in RETRYABLE_CANCELLATIONS), None)
        if throttled is not None:
            return Unavailable(error=throttled)
        seen = getattr(seen, "cause", None) or seen.__cause__
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Run store calls whose throttling and outages leave as Unavailable."""
    try:
        yield
    except (PynamoDBException, BotoCoreError, ClientError) as exc:
        mapped = unavailable(exc)
        if mapped is None:
            raise
        raise mapped from exc


def guarded(function: Callable[P, T]) -> Callable[P, T]:
    """A function (or generator function) of the store, run inside translated()."""
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generate(*args: P.args, **kwargs: P.kwargs) -> Any:
            with translated():
                yield from function(*args, **kwargs)  # type: ignore[misc]

        return generate  # type: ignore[return-value]

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with translated():
            return function(*args, **kwargs)

    return run


C = TypeVar("C", bound=type)


def guard_methods(cls: C) -> C:
    """Every public method of a store class, run inside translated()."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, guarded(member))
    return cls
