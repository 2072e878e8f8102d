"""Workers: the jobs that run off the request path, each fed by one SQS queue.

A worker is a module in this package that ends with

    WORKER = Worker(queue="ingest", handle=write_batch, batch_size=10, timeout=60)

where `handle(record)` does the work of one message (a plain function: it builds its own
Context from the message) and raises when it failed. The registry finds the modules (no
list to edit); `runtime.handle_sqs_event` runs them in Lambda (Powertools batch processing,
partial batch failures reported) and `local.Runner` runs the same code under `make run` and
in tests. infra/ reads the registry for the queues, their dead-letter queues and functions.

A worker module may also run on a clock:

    SCHEDULE = Schedule(every_seconds=60, run=fan_out)

`run(now_ms)` only finds what is due and sends one message per tenant to the module's own
queue (never the work itself), so the work runs in the worker, one tenant per message, with
partial failures and retries. Deployed, an EventBridge rule per schedule invokes the module's
worker function (`runtime.handle_schedule_event`); locally `local.Runner` runs each schedule
on its period in a thread of its own.
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
    # Assumes customers' IAM roles (STS AssumeRole, always with an external id): infra/
    # grants it sts:AssumeRole on any role, on condition that an external id is given.
    assumes_roles: bool = False
    # Creates, moves and deletes API Gateway API keys and usage plan keys (tenant keys):
    # infra/ grants those calls on this region's keys and plans, and lets one instance run
    # at a time (API Gateway's management limits are per account: docs/deploy.md).
    manages_api_keys: bool = False


# EventBridge schedules in whole minutes ("rate(5 minutes)"), one minute at the least.
MINUTE = 60


@dataclass(frozen=True)
class Schedule:
    """A job the clock starts every every_seconds (a whole number of minutes): run(now_ms)
    sends what is due to its module's queue and answers how many messages it sent."""

    every_seconds: int
    run: Callable[[int], int]

    def __post_init__(self) -> None:
        if self.every_seconds < MINUTE or self.every_seconds % MINUTE:
            raise ValueError(f"a schedule runs every whole number of minutes, not every {self.every_seconds} s")

    @property
    def rate(self) -> str:
        """The EventBridge schedule expression ("rate(1 minute)", "rate(5 minutes)")."""
        minutes = self.every_seconds // MINUTE
        return f"rate({minutes} minute{'' if minutes == 1 else 's'})"


# Modules of this package that are machinery, not workers.
_MACHINERY = frozenset({"runtime", "local"})


@lru_cache(maxsize=1)
def _modules() -> tuple[tuple[Worker, Schedule | None], ...]:
    """Every worker module's worker and schedule (a schedule needs a worker: its queue)."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name in _MACHINERY or module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        worker, schedule = getattr(loaded, "WORKER", None), getattr(loaded, "SCHEDULE", None)
        if schedule is not None and not isinstance(worker, Worker):
            raise RuntimeError(f"{loaded.__name__}: a SCHEDULE needs the WORKER whose queue it feeds")
        if isinstance(worker, Worker):
            found.append((worker, schedule if isinstance(schedule, Schedule) else None))
    return tuple(found)


@lru_cache(maxsize=1)
def registry() -> dict[str, Worker]:
    """Every worker, by queue name."""
    found: dict[str, Worker] = {}
    for worker, _ in _modules():
        if worker.queue in found:
            raise RuntimeError(f"two workers for queue {worker.queue!r}")
        found[worker.queue] = worker
    return found


def schedules() -> dict[str, Schedule]:
    """Every schedule, by the queue name of its worker (which the schedule feeds)."""
    registry()  # one worker per queue, checked
    return {worker.queue: schedule for worker, schedule in _modules() if schedule is not None}


def queues() -> tuple[str, ...]:
    """The queue names of every worker, sorted."""
    return tuple(sorted(registry()))
