"""The workers on this machine: `make run` starts a Runner, tests call `drain`.

The Runner also runs each schedule (chalicelib/workers `Schedule`) in a thread of its own:
once at start, then every period, as EventBridge does deployed (tests call `run` itself).

Both receive from the real (moto) queues and hand the messages to runtime.handle_sqs_event
in the shape Lambda gives them, so the code that runs deployed runs here. Messages a worker
failed are made visible again after a backoff that grows with their delivery count; the
queue's redrive policy moves them to the dead-letter queue after MAX_RECEIVES.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import OpsplaneError
from chalicelib.store import queues
from chalicelib.workers import Schedule, Worker, registry, schedules
from chalicelib.workers.runtime import handle_sqs_event

logger = logging.getLogger("opsplane.workers")


@dataclass
class Drained:
    """What a drain did: messages handled, and those that failed (left for a retry)."""

    handled: int = 0
    failed: int = 0


def _event(worker: Worker, messages: list[queues.Message], region: str) -> dict[str, Any]:
    arn = f"arn:aws:sqs:{region}:000000000000:{queues.name_of(worker.queue)}"
    return {
        "Records": [
            {
                "messageId": m.id,
                "receiptHandle": m.receipt,
                "body": m.body,
                "attributes": {"ApproximateReceiveCount": str(m.receives)},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def create_queues() -> None:
    """Create every worker's queue and dead-letter queue (local runs and tests)."""
    queues.create_queues(registry())


def run_once(worker: Worker, *, wait_seconds: int = 0, region: str = "us-east-1") -> Drained:
    """Receive one batch from the worker's queue and run the worker over it."""
    messages = queues.receive(worker.queue, limit=worker.batch_size, wait_seconds=wait_seconds)
    if not messages:
        return Drained()
    answer = handle_sqs_event(_event(worker, messages, region), worker=worker)
    failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
    queues.delete(worker.queue, [m.receipt for m in messages if m.id not in failed])
    for m in messages:
        if m.id in failed:
            queues.retry_later(worker.queue, m.receipt, min(30, 2**m.receives))
    return Drained(handled=len(messages) - len(failed), failed=len(failed))


def drain(queue: str, *, max_batches: int = 1000) -> Drained:
    """Run the queue's worker until the queue gives nothing more (tests: what was sent is written)."""
    worker = registry()[queue]
    total = Drained()
    for _ in range(max_batches):
        done = run_once(worker)
        if not done.handled and not done.failed:
            break
        total.handled += done.handled
        total.failed += done.failed
    return total


class Runner:
    """One thread per worker, long-polling its queue, and one per schedule, running it on
    its period, until stop() (make run). workers / schedules: the registry's unless given."""

    def __init__(
        self,
        region: str = "us-east-1",
        wait_seconds: int = 1,
        *,
        workers: dict[str, Worker] | None = None,
        schedules: dict[str, Schedule] | None = None,
    ) -> None:
        self.region = region
        self.wait_seconds = wait_seconds
        self._workers = workers
        self._schedules = schedules
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for worker in (self._workers if self._workers is not None else registry()).values():
            self._spawn(f"worker-{worker.queue}", self._loop, worker)
        for name, schedule in (self._schedules if self._schedules is not None else schedules()).items():
            self._spawn(f"schedule-{name}", self._clock, name, schedule)

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _clock(self, name: str, schedule: Schedule) -> None:
        """Run the schedule now, then every period (a failed run waits for the next one)."""
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                schedule.run(int(time.time() * 1000))
            except Exception:
                logger.exception("schedule %s failed", name)
            self._stop.wait(max(0.0, schedule.every_seconds - (time.monotonic() - started)))

    def _loop(self, worker: Worker) -> None:
        while not self._stop.is_set():
            try:
                run_once(worker, wait_seconds=self.wait_seconds, region=self.region)
            except OpsplaneError as exc:  # the store is down or busy: wait, then try again
                logger.warning("worker %s: %s", worker.queue, exc)
                self._stop.wait(1.0)
            except Exception:
                logger.exception("worker %s failed", worker.queue)
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.wait_seconds + 5)
