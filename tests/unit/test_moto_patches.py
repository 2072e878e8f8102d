"""scripts/moto_patches.py: a cancelled transaction leaves exactly the items it named as
they were, as DynamoDB does, without copying the tables."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scripts import moto_patches

TABLE = "t"


@pytest.fixture
def ddb() -> Iterator[Any]:
    moto_patches.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def key(pk: str, sk: str = "0") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def items(client: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for pk in ("a", "b", "c"):
        answer = client.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}}
        )
        found += answer["Items"]
    return sorted(found, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def test_can_write_every_operation_of_a_transaction_that_holds(ddb):
    ddb.put_item(TableName=TABLE, Item={**key("a"), "n": {"N": "1"}})
    ddb.put_item(TableName=TABLE, Item={**key("c"), "n": {"N": "9"}})
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key("a"),
                    "UpdateExpression": "SET n = n + :one",
                    "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {**key("b"), "n": {"N": "5"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Delete": {"TableName": TABLE, "Key": key("c")}},
        ]
    )
    assert items(ddb) == [{**key("a"), "n": {"N": "2"}}, {**key("b"), "n": {"N": "5"}}]


def test_can_put_back_exactly_what_a_cancelled_transaction_had_written(ddb):
    # GIVEN two items (one updated in place by the transaction before it fails)
    ddb.put_item(TableName=TABLE, Item={**key("a"), "n": {"N": "1"}, "tags": {"SS": ["x"]}})
    ddb.put_item(TableName=TABLE, Item={**key("c"), "n": {"N": "9"}})
    before = copy.deepcopy(items(ddb))
    # WHEN a transaction updates one, creates one, deletes one, then fails a condition
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key("a"),
                        "UpdateExpression": "SET n = :two ADD tags :y",
                        "ExpressionAttributeValues": {":two": {"N": "2"}, ":y": {"SS": ["y"]}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {**key("b"), "n": {"N": "5"}}}},
                {"Delete": {"TableName": TABLE, "Key": key("c")}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": key("c", "1"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    # THEN it is cancelled with DynamoDB's reasons, one per operation, and nothing changed
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert items(ddb) == before


def test_can_refuse_two_operations_on_one_item_and_write_nothing(ddb):
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {**key("a"), "n": {"N": "1"}}}},
                {"Put": {"TableName": TABLE, "Item": {**key("a"), "n": {"N": "2"}}}},
            ]
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert items(ddb) == []


def test_can_keep_the_tables_uncopied(ddb, monkeypatch):
    # GIVEN a table with items; WHEN a transaction runs, THEN no table is copied (only the item)
    for n in range(20):
        ddb.put_item(TableName=TABLE, Item={**key("a", str(n)), "n": {"N": str(n)}})
    copied: list[str] = []
    deepcopy = copy.deepcopy

    def watch(value: Any, memo: Any = None) -> Any:
        copied.append(type(value).__name__)
        return deepcopy(value, memo)

    monkeypatch.setattr(moto_patches.copy, "deepcopy", watch)
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": {**key("a", "0"), "n": {"N": "7"}}}}])
    assert "Item" in copied and "Table" not in copied


def test_can_forget_the_items_moto_made_once_they_are_gone(ddb):
    # GIVEN an item overwritten and queried many times
    from moto.dynamodb.models.dynamo_type import Item

    tracked = len(Item.instances_tracked)  # type: ignore[attr-defined]
    for n in range(50):
        ddb.put_item(TableName=TABLE, Item={**key("a"), "n": {"N": str(n)}})
        assert len(items(ddb)) == 1
    # THEN moto keeps no list of every item it made (its dashboard's), so they are freed
    assert len(Item.instances_tracked) == tracked  # type: ignore[attr-defined]


def test_can_query_one_partition_as_dynamodb_does(ddb, monkeypatch):
    # GIVEN three partitions of 30 items each
    for pk in ("a", "b", "c"):
        for n in range(30):
            ddb.put_item(TableName=TABLE, Item={**key(pk, f"{n:02d}"), "n": {"N": str(n)}})
    from moto.dynamodb.models.table import Table

    examined: list[int] = []  # how many items each query looked at
    all_items = Table.all_items

    def spy(table: Any) -> Any:
        found = all_items(table)
        examined.append(len(found))
        return found

    monkeypatch.setattr(Table, "all_items", spy)

    def sks(**kw: Any) -> tuple[list[str], Any]:
        values = {":p": {"S": "b"}, **kw.pop("values", {})}
        answer = ddb.query(TableName=TABLE, ExpressionAttributeValues=values, **kw)
        return [i["sk"]["S"] for i in answer["Items"]], answer.get("LastEvaluatedKey")

    # WHEN it is queried by key conditions, pages, order and filters
    assert sks(KeyConditionExpression="pk = :p")[0] == [f"{n:02d}" for n in range(30)]
    between = sks(
        KeyConditionExpression="pk = :p AND sk BETWEEN :x AND :y", values={":x": {"S": "05"}, ":y": {"S": "07"}}
    )
    assert between == (["05", "06", "07"], None)
    page, last = sks(KeyConditionExpression="pk = :p", Limit=4, ScanIndexForward=False)
    assert page == ["29", "28", "27", "26"] and last == key("b", "26")
    following = sks(KeyConditionExpression="pk = :p", Limit=2, ScanIndexForward=False, ExclusiveStartKey=last)
    assert following[0] == ["25", "24"]
    odd = sks(
        KeyConditionExpression="pk = :p AND begins_with(sk, :one)",
        FilterExpression="n > :ten",
        values={":one": {"S": "1"}, ":ten": {"N": "14"}},
    )
    assert odd[0] == ["15", "16", "17", "18", "19"]
    assert sks(KeyConditionExpression="pk = :p", values={":p": {"S": "nobody"}})[0] == []
    # THEN each query looked at its partition's items only
    assert examined and max(examined) <= 30
