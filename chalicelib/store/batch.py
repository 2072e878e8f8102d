"""Rows of both tables read in one BatchGetItem: what authorizing a credential needs (its
account, its tenant, a revocation row) costs one round trip, not one per row.

Strongly consistent, like the single reads it replaces: a revocation or a deactivation
written a moment ago must be seen.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from chalicelib.errors import Unavailable
from chalicelib.store.failures import guarded
from chalicelib.store.models import EntityItem, TokenItem
from chalicelib.store.repository import Entity, _to_entity
from chalicelib.store.tokens import Key, Row, _row

# (owner tenant, kind, id): what Repository(owner, kind).get(id) reads.
EntityKey = tuple[str, str, str]

MAX_KEYS = 100  # BatchGetItem's limit per call
UNPROCESSED_ATTEMPTS = 5


def _raw_key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


@guarded
def read(
    entities: Iterable[EntityKey] = (), tokens: Iterable[Key] = ()
) -> tuple[dict[EntityKey, Entity], dict[Key, Row]]:
    """The live entities and the token rows among the keys (absent and trashed ones left
    out), in one BatchGetItem per 100 keys."""
    wanted_entities = {(f"{owner}#{kind}", entity_id): (owner, kind, entity_id) for owner, kind, entity_id in entities}
    wanted_tokens = list(dict.fromkeys(tokens))
    entity_table = str(EntityItem.Meta.table_name)
    token_table = str(TokenItem.Meta.table_name)
    pending = [(entity_table, pk, sk) for pk, sk in wanted_entities] + [
        (token_table, pk, sk) for pk, sk in wanted_tokens
    ]
    found_entities: dict[EntityKey, Entity] = {}
    found_tokens: dict[Key, Row] = {}
    client = EntityItem._get_connection().connection.client  # type: ignore[attr-defined]
    for start in range(0, len(pending), MAX_KEYS):
        request: dict[str, Any] = {}
        for table, pk, sk in pending[start : start + MAX_KEYS]:
            request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(_raw_key(pk, sk))
        for attempt in range(UNPROCESSED_ATTEMPTS):
            answer = client.batch_get_item(RequestItems=request)
            for raw in answer.get("Responses", {}).get(entity_table, []):
                entity = _to_entity(EntityItem.from_raw_data(raw))
                key = wanted_entities.get((raw["pk"]["S"], raw["sk"]["S"]))
                if key is not None and not entity.deleted:
                    found_entities[key] = entity
            for raw in answer.get("Responses", {}).get(token_table, []):
                row = _row(TokenItem.from_raw_data(raw))
                found_tokens[(row.pk, row.sk)] = row
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.01 * 2**attempt)  # DynamoDB shed some keys under load: back off, ask again
        else:
            raise Unavailable(error="UnprocessedKeys")
    return found_entities, found_tokens
