"""Workers: the jobs that run off the request path, each fed by one SQS queue.

A worker is a module in this package that ends with

    WORKER = Worker(queue="ingest", handle=write_batch, batch_size=10, timeout=60)

where `handle(record)` does the work of one message (a plain function: it builds its own
Context from the message) and raises when it failed. The registry finds the modules (no
list to edit); `runtime.handle_sqs_event` runs them in Lambda (Powertools batch processing,
partial batch failures reported) and `local.Runner` runs the same code under `make run` and
in tests. infra/ reads the registry for the queues, their dead-letter queues and functions.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Record:
    """One message as a worker sees it: id, body (claim checks resolved), delivery count."""

    id: str
    body: str
    receives: int = 1


@dataclass(frozen=True)
class Worker:
    """A queue and what handles each of its messages (batch size and timeout: infra/)."""

    queue: str
    handle: Callable[[Record], None]
    batch_size: int = 10
    timeout: int = 60
    # Queues it sends to ("<queue>-dlq": a queue's dead-letter queue) and AWS actions beyond
    # the tables and blobs every worker has: infra/ grants exactly these.
    sends: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()


# Modules of this package that are machinery, not workers.
_MACHINERY = frozenset({"runtime", "local"})


@lru_cache(maxsize=1)
def registry() -> dict[str, Worker]:
    """Every worker, by queue name."""
    found: dict[str, Worker] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name in _MACHINERY or module.name.startswith("_"):
            continue
        worker = getattr(importlib.import_module(f"{__name__}.{module.name}"), "WORKER", None)
        if isinstance(worker, Worker):
            if worker.queue in found:
                raise RuntimeError(f"two workers for queue {worker.queue!r}")
            found[worker.queue] = worker
    return found


def queues() -> tuple[str, ...]:
    """The queue names of every worker, sorted."""
    return tuple(sorted(registry()))
