"""The embedded DynamoDB of `make run` (scripts/local_dynamodb.py) keeps its tables across restarts.

Each test runs moto's server in this process on a free loopback port; moto's state is reset
between the "runs", as a new process would start empty.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from scripts.local_dynamodb import EmbeddedDynamoDB, dynamodb_client

TABLE = "snapshot-test-entities"


def _start(path: Path) -> EmbeddedDynamoDB:
    db = EmbeddedDynamoDB(str(path), interval=3600)
    db.start()
    return db


def _reset(db: EmbeddedDynamoDB) -> None:
    # A new process would start with an empty moto: make this one empty.
    requests.post(db.endpoint + "/moto-api/reset", timeout=10).raise_for_status()


@pytest.fixture
def started() -> Iterator[list[EmbeddedDynamoDB]]:
    servers: list[EmbeddedDynamoDB] = []
    yield servers
    for db in servers:
        if db._server is not None:
            _reset(db)
            db._server.shutdown()
            db._server.server_close()


def _create_table(client) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "alt_pk", "AttributeType": "S"},
            {"AttributeName": "alt_sk", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "alt",
                "KeySchema": [
                    {"AttributeName": "alt_pk", "KeyType": "HASH"},
                    {"AttributeName": "alt_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})


def _items(client) -> list[dict]:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda i: i["sk"]["S"])


def test_can_restore_every_table_and_item_after_a_restart(tmp_path, started):
    # GIVEN an embedded DynamoDB with a table (GSI, TTL) holding items of every attribute type
    path = tmp_path / "dynamodb-snapshot.json"
    first = _start(path)
    started.append(first)
    client = dynamodb_client(first.endpoint)
    _create_table(client)
    items = [
        {
            "pk": {"S": "t1#alert"},
            "sk": {"S": f"a{n}"},
            "alt_pk": {"S": "t1#name"},
            "alt_sk": {"S": f"name{n}"},
            "doc_z": {"B": bytes([n, 0, 255])},
            "tags": {"L": [{"S": "x"}, {"S": "y"}]},
            "meta": {"M": {"n": {"N": str(n)}, "ok": {"BOOL": True}, "none": {"NULL": True}}},
            "version": {"N": str(n + 1)},
            "expires": {"N": str(int(time.time()) + 3600)},
        }
        for n in range(30)  # more than one BatchWriteItem
    ]
    for item in items:
        client.put_item(TableName=TABLE, Item=item)
    first.start_snapshots()

    # WHEN it stops (writing its snapshot) and a fresh one starts on the same file
    first.stop()
    second = _start(path)
    started.append(second)
    _reset(second)
    client = dynamodb_client(second.endpoint)
    restored = second.restore()

    # THEN every item is back, exactly, and the index and TTL setting work as before
    assert restored == 30
    assert _items(client) == sorted(items, key=lambda i: i["sk"]["S"])
    by_name = client.query(
        TableName=TABLE,
        IndexName="alt",
        KeyConditionExpression="alt_pk = :p AND alt_sk = :s",
        ExpressionAttributeValues={":p": {"S": "t1#name"}, ":s": {"S": "name7"}},
    )["Items"]
    assert [i["sk"]["S"] for i in by_name] == ["a7"]
    assert client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]["AttributeName"] == "expires"


def test_can_leave_expired_items_out_of_the_snapshot(tmp_path, started):
    # GIVEN a table with one live item and one whose TTL has passed
    path = tmp_path / "dynamodb-snapshot.json"
    db = _start(path)
    started.append(db)
    client = dynamodb_client(db.endpoint)
    _create_table(client)
    client.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": "live"}, "expires": {"N": "9999999999"}})
    client.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": "gone"}, "expires": {"N": "1000"}})
    db.start_snapshots()

    # WHEN a snapshot is written
    assert db.snapshot(force=True)

    # THEN only the live item is in it
    saved = json.loads(path.read_text())
    table = next(t for t in saved["tables"] if t["name"] == TABLE)
    assert [i["sk"]["S"] for i in table["items"]] == ["live"]


def test_can_write_a_snapshot_only_when_something_changed(tmp_path, started):
    # GIVEN a running embedded DynamoDB whose snapshot is up to date
    path = tmp_path / "dynamodb-snapshot.json"
    db = _start(path)
    started.append(db)
    client = dynamodb_client(db.endpoint)
    _create_table(client)
    db.start_snapshots()
    assert db.snapshot()

    # WHEN only reads happen, then a write
    client.scan(TableName=TABLE)
    after_reads = db.snapshot()
    client.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": "new"}})
    after_write = db.snapshot()

    # THEN reads write nothing, and the write is saved
    assert after_reads is False
    assert after_write is True
    assert "new" in path.read_text()


def test_can_keep_the_previous_snapshot_when_a_start_fails(tmp_path, started):
    # GIVEN a snapshot file that cannot be read
    path = tmp_path / "dynamodb-snapshot.json"
    path.write_text('{"format": 1, "tables": [')
    db = _start(path)
    started.append(db)

    # WHEN a start tries to restore it and then stops
    with pytest.raises(ValueError):
        db.restore()
    dynamodb_client(db.endpoint).list_tables()
    db.stop()

    # THEN the file is untouched: a failed start never replaces a snapshot
    assert path.read_text() == '{"format": 1, "tables": ['


def test_can_apply_concurrent_conditional_writes_one_at_a_time(tmp_path, started):
    # GIVEN an item with a version, and writers that each bump it only from the value they read
    db = _start(tmp_path / "dynamodb-snapshot.json")
    started.append(db)
    client = dynamodb_client(db.endpoint)
    _create_table(client)
    client.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": "counter"}, "version": {"N": "0"}})
    wins: list[int] = []
    lock = threading.Lock()

    def writer() -> None:
        own = dynamodb_client(db.endpoint)
        for _ in range(10):
            current = own.get_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "counter"}})["Item"]
            seen = int(current["version"]["N"])
            try:
                own.update_item(
                    TableName=TABLE,
                    Key={"pk": {"S": "p"}, "sk": {"S": "counter"}},
                    UpdateExpression="SET version = :new",
                    ConditionExpression="version = :seen",
                    ExpressionAttributeValues={":new": {"N": str(seen + 1)}, ":seen": {"N": str(seen)}},
                )
            except own.exceptions.ConditionalCheckFailedException:
                continue
            with lock:
                wins.append(seen)

    # WHEN four writers race
    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # THEN no two writers won from the same version: the final version counts every win
    final = client.get_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "counter"}})["Item"]
    assert len(wins) == len(set(wins))
    assert int(final["version"]["N"]) == len(wins)
