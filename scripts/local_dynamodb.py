"""Embedded DynamoDB and S3 for local runs: moto's server on loopback, persisted to the state dir.

moto keeps its tables and buckets in memory. The process that hosts the server therefore
dumps every table (Scan: this is a dev tool, not runtime code) to
`<state dir>/dynamodb-snapshot.json` every couple of seconds when a write happened, and once
more on shutdown; the next start restores it (BatchWriteItem) before anything is served.
The file is replaced atomically (temp file + fsync + os.replace), so a crash leaves the
previous snapshot intact.

The documents too large for an item live in the blobs bucket (chalicelib/store/blobs.py).
Blobs are immutable, so their snapshot is incremental: `<state dir>/blobs/` holds one file
per object (named by the SHA-256 of its key, which may be longer than a file name can be;
the key is the file's first line, the bytes follow), new keys are written (atomically),
files of deleted keys removed. Blob files are written before the table snapshot that
refers to them and removed only after it, so the files on disk always cover the snapshot.

Every request to the embedded server passes one gate (a lock). That makes moto's
check-then-write atomic, as DynamoDB's conditional writes are (moto's threaded server
does not guarantee it), and it lets the snapshot hold the gate while it scans and lists,
so a dump never sees half of a write. The snapshot's own requests are marked with a
user-agent token and pass the gate it already holds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

SNAPSHOT_FILE = "dynamodb-snapshot.json"
BLOBS_DIR = "blobs"
BLOB_SUFFIX = ".blob"
SNAPSHOT_FORMAT = 1
SNAPSHOT_AGENT = "opsplane-snapshot"
BATCH = 25


def dynamodb_client(endpoint: str | None, *, region: str = "us-east-1", agent: str | None = None) -> Any:
    """A low-level DynamoDB client for endpoint (dummy credentials when none are set)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        config=Config(user_agent_extra=agent or "", retries={"max_attempts": 3, "mode": "standard"}),
    )


def s3_client(endpoint: str | None, *, region: str = "us-east-1", agent: str | None = None) -> Any:
    """A low-level S3 client for endpoint (path-style: the endpoint is an address)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        config=Config(
            user_agent_extra=agent or "",
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},
        ),
    )


# --- wire format -------------------------------------------------------------------------
# boto3 hands binary values out as bytes; the snapshot keeps DynamoDB's own JSON form
# (base64 strings), so the file is plain JSON and restores exactly.


def to_wire(value: dict[str, Any]) -> dict[str, Any]:
    """An AttributeValue from boto3 in DynamoDB's JSON form (binary as base64)."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "M":
        return {"M": {k: to_wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [to_wire(v) for v in inner]}
    return {kind: inner}


def from_wire(value: dict[str, Any]) -> dict[str, Any]:
    """The inverse of to_wire: an AttributeValue boto3 accepts."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: from_wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [from_wire(v) for v in inner]}
    return {kind: inner}


def item_to_wire(item: dict[str, Any]) -> dict[str, Any]:
    return {name: to_wire(v) for name, v in item.items()}


def item_from_wire(item: dict[str, Any]) -> dict[str, Any]:
    return {name: from_wire(v) for name, v in item.items()}


# --- dump and restore --------------------------------------------------------------------


def _definition(client: Any, name: str) -> dict[str, Any]:
    """What it takes to create the table again (keys, indexes, TTL attribute)."""
    table = client.describe_table(TableName=name)["Table"]
    definition: dict[str, Any] = {
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
    }
    indexes = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in table.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        definition["GlobalSecondaryIndexes"] = indexes
    ttl = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName"):
        definition["TimeToLiveAttribute"] = ttl["AttributeName"]
    return definition


def _expired(item: dict[str, Any], ttl_attribute: str | None, now: float) -> bool:
    # DynamoDB deletes expired items by itself and moto does not: leaving them out keeps
    # the snapshot bounded (rate-limit windows, login throttles, revoked session ids).
    if not ttl_attribute or ttl_attribute not in item:
        return False
    raw = item[ttl_attribute].get("N")
    try:
        return raw is not None and float(raw) < now
    except ValueError:
        return False


def dump_tables(client: Any, names: Iterable[str] | None = None) -> dict[str, Any]:
    """Every live item of every table (or of names), in DynamoDB JSON form."""
    if names is None:
        names = [n for page in client.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    now = time.time()
    tables = []
    for name in sorted(names):
        definition = _definition(client, name)
        ttl_attribute = definition.get("TimeToLiveAttribute")
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items.extend(item_to_wire(i) for i in page["Items"] if not _expired(i, ttl_attribute, now))
        tables.append({"name": name, "definition": definition, "items": items})
    return {"format": SNAPSHOT_FORMAT, "saved_at": int(now), "tables": tables}


def _create_table(client: Any, name: str, definition: dict[str, Any]) -> None:
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": definition["KeySchema"],
        "AttributeDefinitions": definition["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if definition.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = definition["GlobalSecondaryIndexes"]
    client.create_table(**params)
    client.get_waiter("table_exists").wait(TableName=name)
    if definition.get("TimeToLiveAttribute"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": definition["TimeToLiveAttribute"]},
        )


def restore_tables(client: Any, snapshot: dict[str, Any]) -> int:
    """Write a snapshot's items back (tables missing are created from the snapshot). Returns the item count."""
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unsupported snapshot format {snapshot.get('format')!r}")
    existing = {n for page in client.get_paginator("list_tables").paginate() for n in page["TableNames"]}
    restored = 0
    for table in snapshot["tables"]:
        name = table["name"]
        if name not in existing:
            _create_table(client, name, table["definition"])
        items = [item_from_wire(i) for i in table["items"]]
        for start in range(0, len(items), BATCH):
            pending: dict[str, Any] = {name: [{"PutRequest": {"Item": i}} for i in items[start : start + BATCH]]}
            for attempt in range(10):
                left = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not left:
                    break
                pending = left
                time.sleep(0.05 * (attempt + 1))
            else:
                raise RuntimeError(f"could not restore every item of {name}")
        restored += len(items)
    return restored


def read_snapshot(path: str) -> dict[str, Any] | None:
    """The snapshot at path, or None when there is none yet."""
    try:
        with open(path, encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
    except FileNotFoundError:
        return None
    return data


def write_snapshot(path: str, snapshot: dict[str, Any]) -> None:
    """Replace the snapshot atomically (readable by the owner only: it holds password hashes)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(snapshot, fh, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# --- blobs ---------------------------------------------------------------------------------


def blob_file_name(key: str) -> str:
    """The file holding the object under key (keys can outgrow a file name: hash them)."""
    return hashlib.sha256(key.encode()).hexdigest() + BLOB_SUFFIX


def write_blob_file(directory: str, key: str, data: bytes) -> None:
    """Write one object's file atomically: the key, a newline, the bytes."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, blob_file_name(key))
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.encode() + b"\n")
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_blob_file(path: str) -> tuple[str, bytes]:
    """(key, bytes) of a file written by write_blob_file."""
    with open(path, "rb") as fh:
        raw = fh.read()
    key, sep, data = raw.partition(b"\n")
    if not sep:
        raise ValueError(f"{path}: not a blob file")
    return key.decode(), data


def blob_files(directory: str) -> set[str]:
    """Names of the blob files in directory (none when it does not exist)."""
    try:
        return {n for n in os.listdir(directory) if n.endswith(BLOB_SUFFIX)}
    except FileNotFoundError:
        return set()


def list_keys(client: Any, bucket: str) -> list[str] | None:
    """Every key of the bucket (None when there is no such bucket)."""
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]
    except client.exceptions.NoSuchBucket:
        return None


def fetch_new_blobs(client: Any, bucket: str, directory: str) -> tuple[dict[str, bytes], set[str] | None]:
    """The objects not on disk yet (key -> bytes), and the file names the bucket's keys
    need (None without a bucket: then nothing on disk may be judged stale)."""
    keys = list_keys(client, bucket)
    if keys is None:
        return {}, None
    on_disk = blob_files(directory)
    wanted: dict[str, str] = {blob_file_name(k): k for k in keys}
    new = {}
    for name, key in wanted.items():
        if name not in on_disk:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            new[key] = body.read()
    return new, set(wanted)


def prune_blob_files(directory: str, keep: set[str]) -> int:
    """Remove the files of objects that are gone (and stray temp files). Returns how many."""
    removed = 0
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return 0
    for name in names:
        if (name.endswith(BLOB_SUFFIX) and name not in keep) or name.endswith(f"{BLOB_SUFFIX}.tmp"):
            os.remove(os.path.join(directory, name))
            removed += 1
    return removed


def ensure_bucket(client: Any, bucket: str, region: str = "us-east-1") -> None:
    """Create the bucket unless it exists."""
    if bucket in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        return
    params: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**params)


def restore_blobs(client: Any, bucket: str, directory: str) -> int:
    """Put every blob file back into the bucket (created if missing). Returns the count."""
    names = sorted(blob_files(directory))
    if names:
        ensure_bucket(client, bucket, client.meta.region_name)
    for name in names:
        key, data = read_blob_file(os.path.join(directory, name))
        if blob_file_name(key) != name:
            raise ValueError(f"{os.path.join(directory, name)}: its key does not match its name")
        client.put_object(Bucket=bucket, Key=key, Body=data)
    return len(names)


# --- the embedded server -----------------------------------------------------------------

READ_OPERATIONS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "ListTables",
        "ListTagsOfResource",
        "DescribeLimits",
        "DescribeEndpoints",
    }
)


class Gate:
    """WSGI middleware: one request at a time, and a dirty flag for writes (a DynamoDB
    operation other than a read; an S3 request other than GET / HEAD)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.dirty = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if SNAPSHOT_AGENT in environ.get("HTTP_USER_AGENT", ""):
            return self.app(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("AmazonSQS"):
            # Queues are not snapshotted, and a long poll must not hold every table request up.
            return self.app(environ, start_response)
        if target:
            reads = target.rpartition(".")[2] in READ_OPERATIONS
        else:  # S3 (REST): the method says it
            reads = environ.get("REQUEST_METHOD", "") in ("GET", "HEAD")
        with self.lock:
            if not reads:
                self.dirty = True
            # Consume the whole answer inside the gate: a WSGI app may produce it lazily.
            result = self.app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


def _quiet_handler() -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        """moto's handler without a log line per request (the app logs its own)."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return

    return QuietHandler


class EmbeddedDynamoDB:
    """moto's server on a loopback port (every service, S3 included), snapshotting its
    tables to snapshot_path (unless tables is False: DynamoDB lives elsewhere) and the
    objects of bucket to blobs_dir (when a bucket is named)."""

    def __init__(
        self,
        snapshot_path: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        interval: float = 2.0,
        tables: bool = True,
        bucket: str | None = None,
        blobs_dir: str | None = None,
    ) -> None:
        self.snapshot_path = snapshot_path
        self.tables = tables
        self.bucket = bucket
        self.blobs_dir = blobs_dir or os.path.join(os.path.dirname(os.path.abspath(snapshot_path)), BLOBS_DIR)
        self.restored_blobs = 0
        self.host = host
        self.requested_port = port
        self.interval = interval
        self._server: Any = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._gate: Gate | None = None
        # Snapshots are written only once the previous one was restored: a failed start
        # must never replace a good snapshot with a partial one.
        self._armed = False
        self.last_error: str | None = None

    @property
    def armed(self) -> bool:
        """Are snapshots being written (the previous one was restored)?"""
        return self._armed

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Serve on the port (0: any free port) in a background thread."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        from scripts import moto_patches

        moto_patches.install()  # neither memory nor a transaction's cost grows with the tables
        self._gate = Gate(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self.host, self.requested_port, self._gate, threaded=True, request_handler=_quiet_handler()
        )
        thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        thread.start()
        self._threads.append(thread)

    def restore(self) -> int:
        """Load the snapshot, if any, into the server: the blobs first, then the tables.
        Returns the number of items (restored_blobs counts the blobs)."""
        if self.bucket is not None:
            self.restored_blobs = restore_blobs(s3_client(self.endpoint), self.bucket, self.blobs_dir)
        if not self.tables:
            return 0
        snapshot = read_snapshot(self.snapshot_path)
        if snapshot is None:
            return 0
        return restore_tables(dynamodb_client(self.endpoint), snapshot)

    def start_snapshots(self) -> None:
        """Dump every `interval` seconds while something changed."""
        self._armed = True
        thread = threading.Thread(target=self._snapshot_loop, name="snapshot", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _snapshot_loop(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.snapshot()
            except Exception as exc:  # keep serving; the next round tries again
                self.last_error = f"{type(exc).__name__}: {exc}"
                print(f"[run_local] snapshot failed: {self.last_error}", flush=True)

    def snapshot(self, *, force: bool = False) -> bool:
        """Write the snapshot if anything changed since the last one (or force). Returns True if written."""
        gate = self._gate
        if gate is None or not self._armed or (not gate.dirty and not force):
            return False
        client = dynamodb_client(self.endpoint, agent=SNAPSHOT_AGENT)
        s3 = s3_client(self.endpoint, agent=SNAPSHOT_AGENT) if self.bucket is not None else None
        data: dict[str, Any] | None = None
        new_blobs: dict[str, bytes] = {}
        keep: set[str] | None = None
        with gate.lock:
            gate.dirty = False
            try:
                if self.tables:
                    data = dump_tables(client)
                if s3 is not None and self.bucket is not None:
                    new_blobs, keep = fetch_new_blobs(s3, self.bucket, self.blobs_dir)
            except Exception:
                gate.dirty = True
                raise
        # Outside the gate: blobs never change, and the tables were read above.
        try:
            for key, blob in new_blobs.items():
                write_blob_file(self.blobs_dir, key, blob)
            if data is not None:
                write_snapshot(self.snapshot_path, data)
            if keep is not None:
                prune_blob_files(self.blobs_dir, keep)
        except Exception:
            gate.dirty = True  # the next round tries again
            raise
        return True

    def stop(self) -> None:
        """Final snapshot, then stop serving."""
        self._stopping.set()
        for thread in self._threads:
            if thread.name == "snapshot":
                thread.join(timeout=30)
        try:
            self.snapshot()
        finally:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None
            for thread in self._threads:
                thread.join(timeout=10)
