"""PynamoDB models, one per table. Table names and endpoint are bound at runtime.

Every model, and every transaction, goes through one PynamoDB Connection: one botocore
client, made from the process's one botocore session (store/aws.py). PynamoDB would
otherwise build a session and a client per model and per transaction connection, each
loading DynamoDB's service model again: the largest part of a cold start's first request.
"""

from __future__ import annotations

import threading
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.models import Model

from chalicelib.settings import Settings
from chalicelib.store import aws, blobs, gatewaykeys, queues


class SharedConnection(Connection):
    """A PynamoDB Connection on the process's botocore session; its client is made under
    the session's lock (botocore client creation is not thread-safe)."""

    @property
    def session(self) -> Any:
        return aws.session()

    @property
    def client(self) -> Any:
        with aws.lock:
            return Connection.client.fget(self)  # type: ignore[attr-defined]


_shared: dict[str, SharedConnection] = {}
_shared_lock = threading.Lock()


def connection() -> SharedConnection:
    """The one DynamoDB connection of the process (every model and transaction uses it)."""
    found = _shared.get("default")
    if found is None:
        with _shared_lock:
            found = _shared.get("default")
            if found is None:
                meta: Any = EntityItem.Meta
                found = _shared["default"] = SharedConnection(region=meta.region, host=getattr(meta, "host", None))
    return found


class Table(Model):
    """A model whose table connection runs on the shared connection (relies on PynamoDB's
    `_get_connection` / `_connection`, which build a Connection per model otherwise)."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = cls._connection  # type: ignore[attr-defined]
        if table is None or table.table_name != cls.Meta.table_name:
            table = super()._get_connection()  # builds the table's key schema, no I/O
            shared = connection()
            shared.add_meta_table(table.connection.get_meta_table(cls.Meta.table_name))
            table.connection = shared
        return table  # type: ignore[no-any-return]


class EntityItem(Table):
    """Every tenant-scoped management object, and its history versions.

    pk = "<tenant>#<kind>" (live objects) or "<tenant>#<kind>#h" (history),
    sk = "<id>" or "<id>#<version:012d>".
    """

    class Meta:
        table_name = "opsplane-dev-entities"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    tenant = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    doc = UnicodeAttribute(null=True)
    doc_z = BinaryAttribute(null=True, legacy_encoding=False)
    # S3 key of the compressed document when it is too large for the item (store/blobs.py).
    doc_ref = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, null=True)
    deleted = BooleanAttribute(default=False)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    created_by = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    revision = NumberAttribute(default=0)
    version = VersionAttribute()
    # The message saved with this version ("Restored from version 3", Grafana's `message`).
    note = UnicodeAttribute(null=True)
    # A few document keys copied out (JSON) so that listings can skip the document itself.
    head = UnicodeAttribute(null=True)
    # What this version changed, in words (JSON list), written with it: history listings
    # describe versions without reading their documents.
    changes = UnicodeAttribute(null=True)
    # A kind's counter row (store/repository.py): live and trashed objects, and when the
    # counts were last taken from the partition itself (absent: deltas only, not yet counted).
    live = NumberAttribute(null=True)
    trashed = NumberAttribute(null=True)
    counted = NumberAttribute(null=True)
    # An audit record (store/audit.py): the audited entity's kind, the action, the acting
    # principal's id, and when the record expires (TTL: the retention setting).
    subject = UnicodeAttribute(null=True)
    action = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    expires = TTLAttribute(null=True)
    # A scheduled job's row (store/cloudpulls.py): when its subject is next due, epoch ms.
    due = NumberAttribute(null=True)


class TokenItem(Table):
    """Credentials and short-lived security records (API tokens, OAuth clients,
    revoked JWT ids, login throttling). Expired rows vanish through TTL."""

    class Meta:
        table_name = "opsplane-dev-tokens"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    tenant = UnicodeAttribute(null=True)
    doc = UnicodeAttribute(null=True)
    hits = NumberAttribute(null=True, attr_name="count")
    used = NumberAttribute(null=True)  # last use, epoch ms (API tokens, OAuth clients)
    expires = TTLAttribute(null=True)


class UsageItem(Table):
    """Rate-limit windows, inbound-webhook deliveries (`doc`: store/deliveries.py) and their
    idempotency records (Powertools: store/idempotency.py); all vanish through TTL on `expires`."""

    class Meta:
        table_name = "opsplane-dev-usage"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    hits = NumberAttribute(default=0, attr_name="count")
    expires = TTLAttribute(null=True)
    doc = UnicodeAttribute(null=True)


class TimeseriesItem(Table):
    """Points, histograms, spans and the series index (store/series.py writes and reads it
    with the low-level client; this model declares the table and its TTL)."""

    class Meta:
        table_name = "opsplane-dev-timeseries"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires = TTLAttribute(null=True, attr_name="x")


MODELS: tuple[type[Model], ...] = (EntityItem, TokenItem, UsageItem, TimeseriesItem)


def copy_actions(item: EntityItem, names: tuple[str, ...]) -> list[Any]:
    """The update actions that make another row hold item's values of the named attributes
    (removing those item lacks): head rows and timeline copies."""
    actions = []
    for name in names:
        attribute = getattr(EntityItem, name)
        value = getattr(item, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


def transaction_connection() -> Connection:
    """The connection TransactWrite uses: the models' own (a new botocore client per
    write costs more than the write)."""
    return connection()


def bind(settings: Settings) -> None:
    """Point every model at the tables and endpoint named by settings (and forget the
    session, connection and clients made so far)."""
    with _shared_lock:
        _shared.clear()
    aws.reset()
    names = {
        EntityItem: settings.entities_table,
        TokenItem: settings.tokens_table,
        UsageItem: settings.usage_table,
        TimeseriesItem: settings.timeseries_table,
    }
    for model, table in names.items():
        meta: Any = model.Meta
        meta.table_name = table
        meta.region = settings.region
        meta.host = settings.dynamodb_endpoint
        model._connection = None  # type: ignore[attr-defined]
    blobs.bind(settings.blobs_bucket, endpoint=settings.s3_endpoint, region=settings.region)
    queues.bind(settings.queue_prefix, endpoint=settings.sqs_endpoint, region=settings.region)
    gatewaykeys.bind(settings.apigateway_endpoint, region=settings.region)


def create_tables() -> None:
    """Create the tables and the blobs bucket if missing (local runs and tests; production uses infra/)."""
    for model in MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    blobs.create_bucket()
