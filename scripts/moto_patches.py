"""Three fixes to moto (5.2.5) for a process that serves it for long: `make run`'s embedded
server (scripts/local_dynamodb.py) and the in-process tests (tests/moto_tables.py).

1. Instances are not tracked. moto keeps every object of its models it ever made in a class
   list (`instances_tracked`, for its dashboard): every DynamoDB item a write replaced, every
   copy a Query made of its results, every S3 object overwritten. A local server therefore
   grew by about 75 KB a list request and never gave it back (the e2e suite's server reached
   5 GB). `install()` makes new instances untracked; nothing of opsplane reads moto's dashboard.

2. TransactWriteItems keeps an undo log of the items it touches, not a copy of its tables.
   moto backs up every table a transaction names with `copy.deepcopy` before it starts, so that
   it can put the tables back when the transaction is cancelled. Most of opsplane's writes are
   transactions (the change, its head and history rows, its audit record), all in one table:
   each write cost a copy of every item the table held. The replacement runs moto's own steps
   (the same checks, the same errors, in the same order), saves before anything is written only
   the items the transaction names, and on cancellation puts exactly those back. It is as atomic
   as moto's: the embedded server's gate and the functional tests' lock run one DynamoDB request
   at a time.

3. A Query of the table reads its partition, not the table. moto finds a partition's items by
   going through every item of the table, sorted (`Table.all_items`), so each Query cost as much
   as a Scan: a local server slowed down with everything it held, a query of an empty partition
   included. The replacement hands moto's own Query code the one partition it asked for; a
   Query of an index still looks at every item, as moto keeps no index.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.core.common_models import BaseModel
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}
# (table, hash key, range key or None, the item as it was or None)
Saved = tuple[Any, DynamoType, DynamoType | None, Any]


def _key(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _saved(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Saved]:
    """The items the transaction names, as they are now (those it cannot name are left to
    the validation that refuses the transaction before anything is written)."""
    saved: list[Saved] = []
    for entry in transact_items:
        if len(entry) != 1:
            continue
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None or op_type not in OPERATIONS:
            continue
        try:
            key = _key(table, op_type, op)
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError, AttributeError):
            continue
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return saved


def _undo(saved: list[Saved]) -> None:
    """Put every saved item back as it was (absent ones removed), last saved first."""
    for table, hash_key, range_key, item in reversed(saved):
        if item is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    saved = _saved(self, transact_items)
    targets: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, Any]] = []
    for entry in transact_items:
        original_item = None
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            key = _key(self.get_table(table_name), op_type, op)
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)
            current = self.get_item(table_name, key)
            if condition is not None and not get_filter_expression(condition, names, values).expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
            written = {"condition_expression": condition, "expression_attribute_names": names}
            written["expression_attribute_values"] = values
            if op_type == "Put":
                self.put_item(table_name, op["Item"], **written)
            elif op_type == "Delete":
                self.delete_item(table_name, key, **written)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"], **written)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            _undo(saved)
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
        except Exception as exc:  # moto's own rule: any other failure cancels the transaction
            errors.append((type(exc).__name__, str(exc), original_item))
    if any(code is not None for code, _, _ in errors):
        _undo(saved)
        raise TransactionCanceledException(errors)


def _untracked(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    return super(BaseModel, cls).__new__(cls)  # BaseModel.__new__, without the tracking


_all_items = Table.all_items
_query = Table.query
_partition = threading.local()  # (table, hash key) while a Query of that table's partition runs


def _items_of_the_partition(self: Table) -> list[Any]:
    """Table.all_items, narrowed to the partition a running Query names (moto's Query then
    keeps the items whose hash key is that one: all of these)."""
    asked = getattr(_partition, "key", None)
    if asked is None or asked[0] is not self:
        return _all_items(self)
    if asked[1] not in self.items:  # (a defaultdict: never index a missing key)
        return []
    found = self.items[asked[1]]
    return list(found.values()) if self.range_key_attr else [found]


def _query_one_partition(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name or hash_key is None:
        return _query(self, hash_key, *args, **kwargs)
    _partition.key = (self, hash_key)
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        _partition.key = None


def install() -> None:
    """Apply the fixes to every moto backend in this process (idempotent)."""
    BaseModel.__new__ = _untracked  # type: ignore[method-assign,assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.all_items = _items_of_the_partition  # type: ignore[method-assign]
    Table.query = _query_one_partition  # type: ignore[method-assign]
