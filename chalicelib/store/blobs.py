"""Immutable blobs in S3: the documents too large for a DynamoDB item, even compressed.

The repository decides what goes here and names each blob (a new key per write, never
overwritten); this module only moves bytes. The S3 client is made on first use from the
process's botocore session (store/aws.py) and kept for the life of the process
(models.bind re-points it). botocore errors stop here and
leave as StoreError (500): a missing blob is a broken store, not a NotFound of the entity
(context `missing=True` lets the repository tell the two apart); S3 throttling (SlowDown)
and outages leave as Unavailable (503, store/failures.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import OpsplaneError, StoreError
from chalicelib.store import aws
from chalicelib.store.failures import unavailable

DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys per call
PART_BYTES = 8 * 1024 * 1024  # a multipart upload's parts (S3: at least 5 MiB but the last)


@dataclass(frozen=True)
class Target:
    """Where blobs go: bucket, endpoint (None: AWS) and region."""

    bucket: str = "opsplane-dev-blobs"
    endpoint: str | None = None
    region: str = "us-east-1"


_state: dict[str, Any] = {"target": Target()}
_lock = threading.Lock()


def _options(endpoint: str | None) -> dict[str, Any]:
    return {
        "connect_timeout": 5,
        "read_timeout": 20,
        "retries": {"max_attempts": 3, "mode": "standard"},
        # A local endpoint (moto) is an address, not a domain: no bucket subdomains.
        "s3": {"addressing_style": "path"} if endpoint else {},
    }


# A plain botocore client (boto3 adds nothing used here) on the shared session.
_client = aws.Client("s3", _options)


def bind(bucket: str, *, endpoint: str | None = None, region: str = "us-east-1") -> None:
    """Point the blob store at a bucket (and forget the cached client)."""
    with _lock:
        _state["target"] = Target(bucket=bucket, endpoint=endpoint, region=region)
    _client.bind(endpoint=endpoint, region=region)


def bucket() -> str:
    """The bucket blobs go to."""
    target: Target = _state["target"]
    return target.bucket


def _failure(action: str, key: str, exc: Exception) -> OpsplaneError:
    busy = unavailable(exc)
    if busy is not None:
        busy.context.update(action=action, key=key)
        return busy
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) or type(exc).__name__
    missing = code in ("NoSuchKey", "404", "NotFound")
    return StoreError(f"Document storage failed ({action})", key=key, error=code, missing=missing)


def put(key: str, data: bytes) -> None:
    """Store data under key."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _client().put_object(Bucket=bucket(), Key=key, Body=data, ContentType="application/octet-stream")
    except (BotoCoreError, ClientError) as exc:
        raise _failure("put", key, exc) from exc


def put_stream(key: str, chunks: Iterable[bytes]) -> int:
    """Store the concatenated chunks under key by multipart upload, holding one part at a
    time (a failed upload is aborted); returns how many bytes were stored."""
    from botocore.exceptions import BotoCoreError, ClientError

    client, name = _client(), bucket()
    try:
        upload = client.create_multipart_upload(Bucket=name, Key=key, ContentType="application/json")["UploadId"]
    except (BotoCoreError, ClientError) as exc:
        raise _failure("put", key, exc) from exc
    parts: list[dict[str, Any]] = []
    size, pending = 0, bytearray()

    def send(data: bytes) -> None:
        answer = client.upload_part(Bucket=name, Key=key, UploadId=upload, PartNumber=len(parts) + 1, Body=data)
        parts.append({"PartNumber": len(parts) + 1, "ETag": answer["ETag"]})

    try:
        for chunk in chunks:
            pending += chunk
            size += len(chunk)
            if len(pending) >= PART_BYTES:
                send(bytes(pending))
                pending.clear()
        if pending or not parts:
            send(bytes(pending))
        client.complete_multipart_upload(Bucket=name, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    except (BotoCoreError, ClientError) as exc:
        client.abort_multipart_upload(Bucket=name, Key=key, UploadId=upload)
        raise _failure("put", key, exc) from exc
    except BaseException:
        client.abort_multipart_upload(Bucket=name, Key=key, UploadId=upload)
        raise
    return size


def download_url(key: str, seconds: int) -> str:
    """A presigned GET of the blob under key, valid for seconds (signed locally, no call)."""
    params = {"Bucket": bucket(), "Key": key}
    return str(_client().generate_presigned_url("get_object", Params=params, ExpiresIn=seconds))


def get(key: str) -> bytes:
    """The bytes stored under key (StoreError with missing=True when there are none)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        body = _client().get_object(Bucket=bucket(), Key=key)["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()
    except (BotoCoreError, ClientError) as exc:
        raise _failure("get", key, exc) from exc


def keys(prefix: str, limit: int) -> list[str]:
    """Up to limit keys of blobs under prefix, in key order (one ListObjectsV2 per 1000)."""
    from botocore.exceptions import BotoCoreError, ClientError

    found: list[str] = []
    request: dict[str, Any] = {"Bucket": bucket(), "Prefix": prefix}
    while len(found) < limit:
        request["MaxKeys"] = min(1000, limit - len(found))
        try:
            answer = _client().list_objects_v2(**request)
        except (BotoCoreError, ClientError) as exc:
            raise _failure("list", prefix, exc) from exc
        found += [str(o["Key"]) for o in answer.get("Contents", [])]
        if not answer.get("IsTruncated"):
            break
        request["ContinuationToken"] = answer["NextContinuationToken"]
    return found


def delete(keys: Iterable[str]) -> None:
    """Delete the blobs under keys (absent ones are fine), 1000 per request."""
    from botocore.exceptions import BotoCoreError, ClientError

    pending = sorted(set(keys))
    for start in range(0, len(pending), DELETE_BATCH):
        chunk = pending[start : start + DELETE_BATCH]
        try:
            answer = _client().delete_objects(
                Bucket=bucket(), Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
        except (BotoCoreError, ClientError) as exc:
            raise _failure("delete", chunk[0], exc) from exc
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise StoreError(
                "Document storage failed (delete)",
                key=first.get("Key", ""),
                error=first.get("Code", ""),
                failed=[e.get("Key", "") for e in errors],
            )


def create_bucket() -> None:
    """Create the bucket if missing (local runs and tests; production uses infra/)."""
    from botocore.exceptions import BotoCoreError, ClientError

    client, name = _client(), bucket()
    target: Target = _state["target"]
    try:
        client.head_bucket(Bucket=name)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise _failure("head bucket", name, exc) from exc
    except BotoCoreError as exc:
        raise _failure("head bucket", name, exc) from exc
    params: dict[str, Any] = {"Bucket": name}
    if target.region != "us-east-1":  # S3 refuses us-east-1 as a location constraint
        params["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
    try:
        client.create_bucket(**params)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise _failure("create bucket", name, exc) from exc
    except BotoCoreError as exc:
        raise _failure("create bucket", name, exc) from exc
