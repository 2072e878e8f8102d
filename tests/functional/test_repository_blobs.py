"""Large documents in the repository on moto: inline, compressed in the item, or in S3.

Every document must load byte-for-byte as it was saved (same JSON with the same separators,
keys in the same order), whichever way it was stored, live or as a history version.
"""

from __future__ import annotations

import json
import secrets
import threading
import zlib
from typing import Any

import boto3
import pytest

from chalicelib.errors import NotFound, StoreError, VersionMismatch
from chalicelib.store import blobs
from chalicelib.store.documents import COMPRESS_ABOVE, INLINE_COMPRESSED_MAX, blob_key
from chalicelib.store.models import EntityItem
from chalicelib.store.repository import Repository

SECRET = b"b" * 32
MB = 1024 * 1024


def repo(history: bool = True, kind: str = "dashboard") -> Repository:
    return Repository("t1", kind, cursor_secret=SECRET, history=history)


def wire(doc: dict[str, Any]) -> bytes:
    """The document's bytes, as the repository and the API write them."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def small_doc() -> dict[str, Any]:
    return {"name": "small", "z": 1, "a": [1, 2, {"y": None, "b": True}], "é": "ünïcode ✓"}


def compressible_doc(size: int = 3 * MB) -> dict[str, Any]:
    """Repetitive dashboard-like JSON: several MB that zlib packs under the inline limit."""
    row = {"title": "CPU load", "query": "ts(cpu.load, env=prod and app=web) > 4", "type": "line", "z": 0, "a": 1}
    count = size // len(wire(row)) + 1
    rows = [dict(row, z=n % 7) for n in range(count)]
    return {"name": "compressible", "sections": rows, "description": "ünïcode ✓"}


def random_doc(size: int = 3 * MB, name: str = "random") -> dict[str, Any]:
    """Several MB of random strings: compression cannot bring it under the inline limit."""
    chunks = {f"k{n:05d}-{secrets.token_hex(2)}": secrets.token_urlsafe(3000) for n in range(size // 4000)}
    return {"zeta": name, "name": name, "chunks": chunks, "alpha": "é✓"}


def stored(kind: str, entity_id: str, version: int | None = None) -> EntityItem:
    """The raw item (live, or one history version)."""
    if version is None:
        return EntityItem.get(f"t1#{kind}", entity_id, consistent_read=True)
    return EntityItem.get(f"t1#{kind}#h#{entity_id}", f"{version:012d}", consistent_read=True)


def bucket_keys() -> set[str]:
    client = boto3.client("s3", region_name="us-east-1")
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=blobs.bucket()):
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


def test_can_choose_sizes_that_make_the_three_cases_real():
    # GIVEN the documents these tests use THEN each lands in the case it is meant for
    assert len(wire(small_doc())) <= COMPRESS_ABOVE
    packed = zlib.compress(wire(compressible_doc()), 6)
    assert len(wire(compressible_doc())) > 2 * MB and len(packed) <= INLINE_COMPRESSED_MAX
    assert len(zlib.compress(wire(random_doc()), 6)) > INLINE_COMPRESSED_MAX


@pytest.mark.parametrize(
    ("make", "where"),
    [(small_doc, "doc"), (compressible_doc, "doc_z"), (random_doc, "doc_ref")],
    ids=["inline", "compressed", "s3"],
)
def test_can_round_trip_a_document_of_any_size_byte_for_byte(aws, make, where):
    # GIVEN a document
    doc = make()
    r = repo()

    # WHEN it is saved and read back every way the repository reads
    created = r.create("d1", doc)
    got, (many,), (listed,) = r.get("d1"), r.get_many(["d1"]), list(r.iterate())

    # THEN each read gives the same bytes, keys in the saved order
    for entity in (created, got, many, listed):
        assert wire(entity.doc) == wire(doc)
        assert list(entity.doc) == list(doc)
    # AND it was stored where its size says, S3 holding the compressed JSON only for the largest
    item = stored("dashboard", "d1")
    assert {name for name in ("doc", "doc_z", "doc_ref") if getattr(item, name) is not None} == {where}
    keys = bucket_keys()
    if where == "doc_ref":
        assert keys == {item.doc_ref}
        assert zlib.decompress(blobs.get(item.doc_ref)) == wire(doc)
    else:
        assert keys == set()


def test_can_load_every_history_version_of_a_large_document(aws):
    # GIVEN a large document saved, then replaced by another large one
    r = repo()
    first, second = random_doc(name="first"), random_doc(name="second")
    r.create("d1", first)

    def replace(e):
        e.doc = second

    r.update("d1", replace, expected_version=1)

    # WHEN its history and each version are read
    versions, total = r.history("d1")
    one, two = r.version("d1", 1), r.version("d1", 2)

    # THEN every version loads byte-for-byte
    assert total == 2
    assert [wire(v.doc) for v in versions] == [wire(second), wire(first)]
    assert wire(one.doc) == wire(first) and wire(two.doc) == wire(second)
    assert wire(r.get("d1").doc) == wire(second)
    # AND a version shares the blob of the write it copies: one blob per version, no more
    assert stored("dashboard", "d1", 2).doc_ref == stored("dashboard", "d1").doc_ref
    assert bucket_keys() == {stored("dashboard", "d1", v).doc_ref for v in (1, 2)}


def test_can_purge_a_large_document_with_every_blob_of_its_history(aws):
    # GIVEN a large document with three versions (saved, edited, trashed), and a neighbour
    r = repo()
    r.create("d1", random_doc(size=MB))
    r.create("keep", random_doc(size=MB))

    def edit(e):
        e.doc["name"] = "edited"

    r.update("d1", edit)
    r.soft_delete("d1")
    neighbour = stored("dashboard", "keep").doc_ref
    assert len(bucket_keys()) == 4

    # WHEN it is purged
    r.purge("d1")

    # THEN its blobs are gone, the neighbour's stays, and the document is not found
    assert bucket_keys() == {neighbour}
    with pytest.raises(NotFound):
        r.get("d1", include_deleted=True)
    assert wire(r.get("keep").doc)


def test_can_let_one_of_two_concurrent_writers_of_a_large_document_win(aws):
    # GIVEN a large document at version 1, and two writers that both read version 1
    r = repo()
    r.create("d1", random_doc(size=MB, name="start"))
    start_blob = stored("dashboard", "d1").doc_ref
    both_read = threading.Barrier(2)
    docs = {i: random_doc(size=MB, name=f"writer-{i}") for i in (0, 1)}
    outcomes: dict[int, str] = {}

    def writer(i: int) -> None:
        def change(e):
            both_read.wait(timeout=30)  # neither writes before both have read version 1
            e.doc = docs[i]

        try:
            r.update("d1", change, expected_version=1)
            outcomes[i] = "won"
        except VersionMismatch:
            outcomes[i] = "lost"

    # WHEN they write at once
    threads = [threading.Thread(target=writer, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # THEN exactly one wins, its document loads intact, and the loser's blob is gone
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(i for i, outcome in outcomes.items() if outcome == "won")
    live = r.get("d1")
    assert live.version == 2
    assert wire(live.doc) == wire(docs[winner])
    assert wire(r.version("d1", 2).doc) == wire(docs[winner])
    assert bucket_keys() == {start_blob, stored("dashboard", "d1").doc_ref}


def test_can_delete_the_replaced_blob_when_no_history_keeps_it(aws):
    # GIVEN a kind without history holding a large document
    r = repo(history=False, kind="folder")
    r.create("f1", random_doc(size=MB))

    # WHEN it is replaced twice, the second time by a small document
    def big(e):
        e.doc = random_doc(size=MB, name="big")

    def small(e):
        e.doc = small_doc()

    r.update("f1", big)
    assert bucket_keys() == {stored("folder", "f1").doc_ref}
    r.update("f1", small)

    # THEN no blob is left behind, and the small document is inline
    assert bucket_keys() == set()
    assert wire(r.get("f1").doc) == wire(small_doc())


def test_can_read_the_current_version_when_a_writer_replaced_the_blob_meanwhile(aws):
    # GIVEN a reader that has read a large document's item (kind without history) ...
    from chalicelib.store.repository import _to_entity

    r = repo(history=False, kind="folder")
    r.create("f1", random_doc(size=MB, name="old"))
    stale = stored("folder", "f1")

    # ... WHEN a writer replaces the document (deleting the old blob) before the reader fetches it
    newer = random_doc(size=MB, name="new")

    def replace(e):
        e.doc = newer

    r.update("f1", replace)
    entity = _to_entity(stale)

    # THEN the reader gets the current version rather than an error
    assert entity.version == 2
    assert wire(entity.doc) == wire(newer)


def test_can_answer_a_server_error_when_a_blob_is_lost(aws):
    # GIVEN a large document whose blob disappeared behind the store's back
    r = repo()
    r.create("d1", random_doc(size=MB))
    blobs.delete([stored("dashboard", "d1").doc_ref])

    # WHEN it is read THEN that is the store's failure (500), not a NotFound of the document
    with pytest.raises(StoreError) as caught:
        r.get("d1")
    assert caught.value.status == 500
    assert caught.value.context["missing"] is True


def test_can_name_each_write_of_a_document_with_its_own_key():
    # GIVEN ids of every shape an API may accept
    for entity_id in ("plain", "a/b/../c", "ünï cödé ✓", "x" * 512, "é" * 512):
        # WHEN two writers of the same version name their blobs
        one, two = blob_key("t1", "dashboard", entity_id, 7), blob_key("t1", "dashboard", entity_id, 7)

        # THEN the keys differ, stay under S3's 1024 bytes, and start with tenant/kind/id/version
        assert one != two
        assert len(one.encode()) <= 1024
        tenant, kind, segment, rest = one.split("/")
        assert (tenant, kind) == ("t1", "dashboard")
        assert rest.startswith("000000000007-")
        assert segment == two.split("/")[2]
    assert blob_key("t1", "k", "a", 1).split("/")[2] != blob_key("t1", "k", "b", 1).split("/")[2]
