"""Schedules in the stack: an EventBridge rule per schedule invoking its worker's function
with the input app.worker runs the schedule for, the fan-out's right to send to its own
queue, and the CloudWatch worker's STS grant (any role, only with an external id)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from chalicelib.workers import registry as worker_registry
from chalicelib.workers import schedules
from chalicelib.workers.runtime import schedule_event
from infra.opsplane_infra import registry
from tests.infra.test_stack import STAGE, Synth, _listed, _refs

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield Synth(tmp_path_factory.mktemp("cdk.out"))


def test_can_run_each_schedule_by_a_rule_invoking_its_worker(synth: Synth) -> None:
    functions = synth.functions()
    rules = {r["Properties"]["Name"]: r["Properties"] for r in synth.of_type("AWS::Events::Rule").values()}
    permissions = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()]
    assert schedules(), "the CloudWatch pull is scheduled"
    for queue, schedule in schedules().items():
        # GIVEN a schedule WHEN the stack is synthesized THEN a rule runs it at its rate
        rule = rules[f"opsplane-{STAGE}-{queue}"]
        assert rule["ScheduleExpression"] == schedule.rate
        assert rule["State"] == "ENABLED"
        # AND invokes the worker function of its queue with the input that names it
        logical, props = functions[f"worker-{queue}"]
        (target,) = rule["Targets"]
        assert _refs(target["Arn"]) == {logical}
        assert json.loads(target["Input"]) == schedule_event(queue)
        assert props["Handler"] == "app.worker"
        # AND EventBridge may invoke it
        assert any(
            p["Principal"] == "events.amazonaws.com" and _refs(p["FunctionName"]) == {logical} for p in permissions
        )


def test_can_fan_out_only_to_the_schedules_own_queue(synth: Synth) -> None:
    queues = {q["Properties"]["QueueName"]: k for k, q in synth.of_type("AWS::SQS::Queue").items()}
    for worker in registry.workers():
        sends = [st for st in synth.statements(f"worker-{worker.queue}") if "sqs:SendMessage" in _listed(st["Action"])]
        wanted = {queues[f"opsplane-{STAGE}-{worker.queue}"]} if worker.queue in schedules() else set()
        # THEN a scheduled worker sends to its own queue, and no worker to another
        assert {r for st in sends for r in _refs(st["Resource"])} == wanted, worker.queue


def test_can_assume_customer_roles_only_with_an_external_id_and_only_from_the_pull(synth: Synth) -> None:
    for worker in worker_registry().values():
        assumes = [st for st in synth.statements(f"worker-{worker.queue}") if "sts:AssumeRole" in _listed(st["Action"])]
        if not worker.assumes_roles:
            assert assumes == [], worker.queue
            continue
        # THEN any role (the customer names it), on condition that an external id is given
        (statement,) = assumes
        assert _listed(statement["Action"]) == ["sts:AssumeRole"]
        assert statement["Condition"] == {"Null": {"sts:ExternalId": "false"}}
        assert "iam::*:role/*" in json.dumps(statement["Resource"])
    assert worker_registry()["cloudwatch"].assumes_roles
    # AND no category function may assume roles
    for name in synth.functions():
        if not name.startswith("worker-"):
            assert not any("sts:AssumeRole" in _listed(st["Action"]) for st in synth.statements(name)), name
