"""How many AWS calls a request made: `with calls.counted() as made:` counts, in `made`,
every AWS API call this thread makes inside the block (http/telemetry.py reports it).

A botocore `before-call` handler does the counting. It is added to botocore's built-in
handlers, which every botocore session registers on itself when it is created, and every
client copies from its session: so PynamoDB's connections (one session per connection, or
one shared session), the blobs client and any client made later count alike, with no hook
per client. store/__init__ imports this module, so that happens before the store makes its
first session. A retry of a call counts once (botocore retries below `before-call`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore import handlers

EVENT = "before-call"

_local = threading.local()


class Calls:
    """The AWS calls made so far in one `counted()` block."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()  # "dynamodb.UpdateItem" -> calls

    @property
    def total(self) -> int:
        return sum(self.operations.values())


def _count(model: Any, **_: Any) -> None:
    made: Calls | None = getattr(_local, "calls", None)
    if made is not None:
        made.operations[f"{model.service_model.service_name}.{model.name}"] += 1
    # None: a before-call handler that returns anything answers the call in AWS's place.


@contextmanager
def counted() -> Iterator[Calls]:
    """Count this thread's AWS calls until the block ends (blocks nest: the inner one counts)."""
    outer = getattr(_local, "calls", None)
    made = _local.calls = Calls()
    try:
        yield made
    finally:
        _local.calls = outer


def install() -> None:
    """Count in every botocore session created from now on (idempotent)."""
    if (EVENT, _count) not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append((EVENT, _count))


install()
