"""The embedded moto of `make run` (scripts/local_dynamodb.py) keeps its tables and blobs across restarts.

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

from scripts.local_dynamodb import (
    BLOBS_DIR,
    EmbeddedDynamoDB,
    blob_file_name,
    dynamodb_client,
    read_blob_file,
    s3_client,
)

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


# --- blobs (the S3 side of the embedded server) -------------------------------------------

BUCKET = "snapshot-test-blobs"


def _start_with_blobs(path: Path) -> EmbeddedDynamoDB:
    db = EmbeddedDynamoDB(str(path), interval=3600, bucket=BUCKET)
    db.start()
    return db


def _objects(client) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def test_can_restore_every_blob_after_a_restart(tmp_path, started):
    # GIVEN an embedded server whose bucket holds objects with awkward keys and binary bodies
    path = tmp_path / "dynamodb-snapshot.json"
    first = _start_with_blobs(path)
    started.append(first)
    s3 = s3_client(first.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    blobs = {
        "t1/dashboard/plain/000000000001-00aa": bytes(range(256)) * 4000,  # ~1 MB, every byte value
        "t1/dashboard/a%2Fb/000000000002-00bb": b"\n\x00zlib\n",
        "t1/dashboard/" + "x" * 600 + "/000000000003-00cc": b"",  # a key longer than a file name
    }
    for key, data in blobs.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    first.start_snapshots()

    # WHEN it stops (writing its snapshot) and a fresh one starts on the same state dir
    first.stop()
    second = _start_with_blobs(path)
    started.append(second)
    _reset(second)
    second.restore()

    # THEN every object is back with the same key and bytes, one file each on disk
    assert second.restored_blobs == 3
    assert _objects(s3_client(second.endpoint)) == blobs
    assert {p.name for p in (tmp_path / BLOBS_DIR).iterdir()} == {blob_file_name(k) for k in blobs}


def test_can_sync_blobs_incrementally_and_drop_deleted_ones(tmp_path, started):
    # GIVEN a snapshot holding two objects
    path = tmp_path / "dynamodb-snapshot.json"
    db = _start_with_blobs(path)
    started.append(db)
    s3 = s3_client(db.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="t1/k/a/1", Body=b"a")
    s3.put_object(Bucket=BUCKET, Key="t1/k/b/1", Body=b"b")
    db.start_snapshots()
    assert db.snapshot()
    kept = tmp_path / BLOBS_DIR / blob_file_name("t1/k/a/1")
    written_at = kept.stat().st_mtime_ns

    # WHEN only reads happen, then one object is deleted and another one put
    s3.get_object(Bucket=BUCKET, Key="t1/k/a/1")["Body"].read()
    s3.list_objects_v2(Bucket=BUCKET)
    after_reads = db.snapshot()
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "t1/k/b/1"}]})
    s3.put_object(Bucket=BUCKET, Key="t1/k/c/1", Body=b"c")
    after_writes = db.snapshot()

    # THEN reads write nothing; the writes leave exactly the live objects on disk, the
    # unchanged one untouched
    assert after_reads is False
    assert after_writes is True
    names = {p.name for p in (tmp_path / BLOBS_DIR).iterdir()}
    assert names == {blob_file_name("t1/k/a/1"), blob_file_name("t1/k/c/1")}
    assert kept.stat().st_mtime_ns == written_at
    assert read_blob_file(str(tmp_path / BLOBS_DIR / blob_file_name("t1/k/c/1"))) == ("t1/k/c/1", b"c")


def test_can_keep_the_blobs_of_a_large_document_across_a_restart(tmp_path, started):
    # GIVEN the repository on the embedded server, holding a document too large for its item
    import secrets

    from chalicelib.settings import Settings
    from chalicelib.store import models
    from chalicelib.store.repository import Repository

    path = tmp_path / "dynamodb-snapshot.json"
    bucket = "opsplane-snap-blobs"
    first = EmbeddedDynamoDB(str(path), interval=3600, bucket=bucket)
    first.start()
    started.append(first)

    def bind(endpoint: str) -> None:
        models.bind(
            Settings(
                stage="snap",
                entities_table="opsplane-snap-entities",
                tokens_table="opsplane-snap-tokens",
                usage_table="opsplane-snap-usage",
                dynamodb_endpoint=endpoint,
                blobs_bucket=bucket,
                s3_endpoint=endpoint,
            )
        )

    doc = {"name": "big", "chunks": [secrets.token_urlsafe(3000) for _ in range(500)]}
    try:
        bind(first.endpoint)
        models.create_tables()
        repo = Repository("t1", "dashboard", cursor_secret=b"s" * 32, history=True)
        repo.create("d1", doc)
        first.start_snapshots()

        # WHEN the server restarts on the same state dir
        first.stop()
        second = EmbeddedDynamoDB(str(path), interval=3600, bucket=bucket)
        second.start()
        started.append(second)
        _reset(second)
        bind(second.endpoint)
        models.create_tables()
        second.restore()

        # THEN the document loads as it was saved, live and as its first version
        assert second.restored_blobs == 1
        assert repo.get("d1").doc == doc
        assert repo.version("d1", 1).doc == doc
    finally:
        from chalicelib.settings import get_settings

        models.bind(get_settings())


def test_can_serve_64_clients_connecting_at_once(tmp_path, started):
    # GIVEN the embedded server (werkzeug's threaded server: a listen backlog of 128)
    db = _start(tmp_path / "snap.json")
    started.append(db)
    assert db._server.request_queue_size >= 64 and db._server.daemon_threads
    clients = 64
    barrier = threading.Barrier(clients, timeout=60)
    answers: list[object] = [None] * clients

    def client(n: int) -> None:
        with requests.Session() as session:  # a connection of its own
            barrier.wait()
            try:
                resp = session.post(
                    db.endpoint,
                    data="{}",
                    headers={
                        "X-Amz-Target": "DynamoDB_20120810.ListTables",
                        "Content-Type": "application/x-amz-json-1.0",
                    },
                    timeout=60,
                )
                answers[n] = resp.status_code
            except requests.RequestException as exc:
                answers[n] = f"{type(exc).__name__}: {exc}"

    # WHEN 64 clients connect and ask at the same moment
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # THEN every one is answered, none reset
    assert answers == [200] * clients, [a for a in answers if a != 200][:3]
