"""How many AWS calls each operation makes, counted through botocore's events
(tests/calls.py), through the domain functions with a service Context: no authorization and
no rate limit run, so what is counted is the operation itself.

The targets ("Foundation v2, part 2", item 3): GET by id 1 GetItem (a dashboard adds the
caller's star: 1 GetItem); a list page 1 Query reading the counter row, the page and one
more item; create 1 transaction; update 1 GetItem + 1 transaction (the read is needed:
store/repository.py says why); history one Query of the page without documents.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

TENANT = "calls-tenant"
BODY = {"name": "cpu high", "condition": "ts(cpu.load) > 4", "minutes": 5, "severity": "WARN"}


def service() -> Any:
    from chalicelib.domain.context import Context

    return Context.service(TENANT, "test")


def new_alert(ctx: Any, **fields: Any) -> Any:
    from chalicelib.categories.alert import ALERT
    from chalicelib.categories.alert_views import AlertBody
    from chalicelib.domain import entities

    return entities.create(ctx, ALERT, AlertBody(**{**BODY, **fields}))


@pytest.fixture
def alerts(aws_calls: Any) -> list[Any]:
    ctx = service()
    return [new_alert(ctx, name=f"alert {i:02d}") for i in range(50)]


def test_can_get_an_alert_with_one_getitem_and_its_state(aws_calls, alerts):
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities

    aws_calls.reset()
    ctx = service()
    out = entities.wire(ctx, ALERT, entities.load(ctx, ALERT, alerts[3].id))
    assert out["name"] == "alert 03"
    # The alert, and its evaluation state (its own row: an evaluation never rewrites the alert)
    assert aws_calls.counts() == {"GetItem": 2}


def test_can_get_a_dashboard_with_one_getitem_and_the_callers_star(aws_calls):
    from chalicelib.categories.dashboard import DASHBOARD
    from chalicelib.dashboards import store
    from chalicelib.domain import entities

    ctx = service()
    for uid in ("d1", "d2", "d3"):
        store.create_wavefront(ctx, uid, {"name": uid.upper()}, None)
    store.star(ctx, "d1")
    ctx = service()
    aws_calls.reset()
    out = entities.wire(ctx, DASHBOARD, entities.load(ctx, DASHBOARD, "d1", include_deleted=True))
    assert out["favorite"] is True
    assert aws_calls.counts() == {"GetItem": 2}  # the dashboard, the caller's star of it
    # WHEN more dashboards are wired in the same unit of work THEN the stars are read once.
    aws_calls.reset()
    flags = [entities.wire(ctx, DASHBOARD, entities.load(ctx, DASHBOARD, u))["favorite"] for u in ("d2", "d3", "d1")]
    assert flags == [False, False, True]
    assert aws_calls.counts() == {"GetItem": 3, "Query": 1}


def test_can_list_a_page_with_one_query_of_the_page_plus_one(aws_calls, alerts):
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities

    entities.list_page(service(), ALERT, offset=0, limit=10)  # the kind's first listing counts once
    aws_calls.reset()
    page = entities.list_page(service(), ALERT, offset=0, limit=10)
    assert [a["name"] for a in page.items] == [f"alert {i:02d}" for i in range(10)]
    assert (page.total, page.more) == (50, True)
    assert aws_calls.counts() == {"Query": 1, "BatchGetItem": 1}  # and the page's evaluation states
    assert aws_calls.items_read() == 1 + 10 + 1  # the counter row, the page, one more (no state yet)


def test_can_list_a_page_at_an_offset_reading_what_comes_before_it(aws_calls, alerts):
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities

    entities.list_page(service(), ALERT, offset=0, limit=10)
    aws_calls.reset()
    page = entities.list_page(service(), ALERT, offset=20, limit=10)
    assert [a["name"] for a in page.items] == [f"alert {i:02d}" for i in range(20, 30)]
    assert (page.total, page.more) == (50, True)
    assert aws_calls.counts() == {"Query": 1, "BatchGetItem": 1}
    assert aws_calls.items_read() == 1 + 20 + 10 + 1  # no index: an offset is read past
    aws_calls.reset()
    last = entities.list_page(service(), ALERT, offset=45, limit=10)
    assert (len(last.items), last.total, last.more) == (5, 50, False)
    assert aws_calls.counts() == {"Query": 1, "BatchGetItem": 1}


def test_can_create_an_alert_with_one_transaction(aws_calls, alerts):
    aws_calls.reset()
    new_alert(service(), name="one more")
    assert aws_calls.counts() == {"TransactWriteItems": 1}


def test_can_update_an_alert_with_one_read_and_one_transaction(aws_calls, alerts):
    from chalicelib.categories.alert import ALERT
    from chalicelib.categories.alert_views import AlertBody
    from chalicelib.domain import entities

    aws_calls.reset()
    body = AlertBody(**{**BODY, "name": "renamed", "version": alerts[0].version})
    updated = entities.replace(service(), ALERT, alerts[0].id, body)
    assert updated.version == alerts[0].version + 1
    assert aws_calls.counts() == {"GetItem": 1, "TransactWriteItems": 1}


def test_can_list_dashboard_history_without_reading_documents(aws_calls):
    from chalicelib.categories.dashboard import DASHBOARD
    from chalicelib.dashboards import store
    from chalicelib.domain import entities

    ctx = service()
    store.create_wavefront(ctx, "dash", {"name": "Dash", "sections": [{"name": "s", "rows": []}]}, None)
    store.update_wavefront(ctx, "dash", {"name": "Dash", "description": "d"}, ["team-a"], expected_version=1)
    for i in range(3):
        store.update_wavefront(ctx, "dash", {"name": f"Dash {i}"}, None, expected_version=None)
    aws_calls.reset()
    listing = entities.history(service(), DASHBOARD, "dash", offset=0, limit=3)
    assert [e["version"] for e in listing.items] == [5, 4, 3]
    assert listing.items[2]["changeDescription"] == ["Changed description", "Changed name"]
    assert (listing.total, listing.more) == (5, True)
    assert aws_calls.counts() == {"GetItem": 1, "Query": 1}
    head, versions = aws_calls.calls
    assert head.keys == (f"{TENANT}#dashboard#head",)  # the head row, not the document
    assert versions.projected and versions.read == 3  # the page's versions, without documents
    older = entities.history(service(), DASHBOARD, "dash", offset=3, limit=3)
    assert [e["changeDescription"] for e in older.items] == [
        ["Added tags: team-a", "Changed description", "Changed sections"],
        ["Dashboard created"],
    ]
    assert not older.more


def test_can_describe_versions_written_before_descriptions_were_stored(aws_calls):
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities
    from chalicelib.store.models import EntityItem

    ctx = service()
    alert = new_alert(ctx)
    entities.add_tag(ctx, ALERT, alert.id, "team-a")
    entities.delete(ctx, ALERT, alert.id)
    for item in EntityItem.query(f"{TENANT}#alert#h#{alert.id}"):  # as stored before
        item.update(actions=[EntityItem.changes.remove()], add_version_condition=False)
    listing = entities.history(ctx, ALERT, alert.id, offset=0, limit=10)
    assert [e["changeDescription"] for e in listing.items] == [
        ["Moved to trash"],
        ["Added tags: team-a"],
        ["Alert created"],
    ]


# ---- totals ---------------------------------------------------------------------------------


def _truth(deleted: bool) -> int:
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities

    return sum(1 for _ in entities.repo(service(), ALERT).iterate(deleted=deleted))


def _totals() -> tuple[int, int]:
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities

    store = entities.repo(service(), ALERT)
    return store.page(limit=5).total, store.page(limit=5, deleted=True).total


def test_can_keep_totals_through_create_trash_undelete_purge_and_clone(aws_calls):
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities

    ctx = service()
    made = [new_alert(ctx, name=f"a{i}") for i in range(6)]
    assert _totals() == (6, 0)
    entities.delete(ctx, ALERT, made[0].id)
    entities.delete(ctx, ALERT, made[1].id)
    assert _totals() == (4, 2)
    entities.undelete(ctx, ALERT, made[0].id)
    assert _totals() == (5, 1)
    entities.delete(ctx, ALERT, made[1].id)  # from the trash: for good
    entities.delete(ctx, ALERT, made[2].id, skip_trash=True)
    assert _totals() == (4, 0)
    entities.clone(ctx, ALERT, made[3].id)
    entities.add_tag(ctx, ALERT, made[3].id, "t")  # an update that moves nothing
    assert _totals() == (5, 0) == (_truth(False), _truth(True))


def test_can_keep_totals_right_under_concurrent_writers(aws_calls):
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities

    ctx = service()
    seed = [new_alert(ctx, name=f"seed{i}") for i in range(8)]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            own = service()
            mine = [new_alert(own, name=f"w{n}-{i}") for i in range(4)]
            entities.delete(own, ALERT, mine[0].id)
            entities.delete(own, ALERT, mine[1].id)
            entities.undelete(own, ALERT, mine[1].id)
            entities.delete(own, ALERT, mine[2].id, skip_trash=True)
            entities.clone(own, ALERT, seed[n].id)
            entities.delete(own, ALERT, seed[n].id)  # the seeds: each trashed by one worker
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # 8 seeds (trashed) + 8 x (4 created - 1 purged + 1 clone), 1 of each worker's trashed.
    assert (_truth(False), _truth(True)) == (8 * 3, 8 + 8)
    assert _totals() == (24, 16)


def test_can_count_a_kind_stored_before_counters_once(aws_calls):
    from chalicelib.categories.alert import ALERT
    from chalicelib.domain import entities
    from chalicelib.store.models import EntityItem
    from chalicelib.store.repository import COUNTER

    ctx = service()
    made = [new_alert(ctx, name=f"a{i}") for i in range(7)]
    entities.delete(ctx, ALERT, made[-1].id)  # (last: trash before a page costs reads, tested elsewhere)
    EntityItem(f"{TENANT}#alert", COUNTER).delete(add_version_condition=False)  # a snapshot from before
    aws_calls.reset()
    assert _totals() == (6, 1)
    assert EntityItem.get(f"{TENANT}#alert", COUNTER).counted  # stored, with the counts
    new_alert(ctx, name="after")
    aws_calls.reset()
    page = entities.list_page(ctx, ALERT, offset=0, limit=3)
    assert (page.total, aws_calls.counts()) == (7, {"Query": 1, "BatchGetItem": 1})


def test_can_retry_a_transaction_another_one_cancelled(aws_calls):
    """DynamoDB cancels (never queues) a transaction touching an item another transaction
    holds, as concurrent creates of a kind do on its counter row: it runs again."""
    from botocore.awsrequest import AWSResponse

    conflicts = {"left": 2}

    def cancel(model: Any, params: dict[str, Any], **_: Any) -> Any:
        if model.name != "TransactWriteItems" or not conflicts["left"]:
            return None
        conflicts["left"] -= 1
        items = json.loads(params["body"])["TransactItems"]
        reasons = [{"Code": "TransactionConflict", "Message": "conflict"}] + [{"Code": "None"}] * (len(items) - 1)
        error = {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), error

    from chalicelib.store.models import transaction_connection

    client = transaction_connection().client
    client.meta.events.register_first("before-call.dynamodb", cancel, unique_id="test-conflict")
    try:
        new_alert(service())
    finally:
        client.meta.events.unregister("before-call.dynamodb", unique_id="test-conflict")
    assert conflicts["left"] == 0
    assert _totals() == (1, 0)
