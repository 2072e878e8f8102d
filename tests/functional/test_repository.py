"""The tenant-scoped repository on moto: conditional writes, history, trash, paging."""

from __future__ import annotations

import threading

import pytest

from chalicelib.errors import Conflict, Invalid, NotFound, VersionMismatch
from chalicelib.store.repository import Repository, add_tags

SECRET = b"c" * 32


def repo(tenant="t1", kind="thing", history=True):
    return Repository(tenant, kind, cursor_secret=SECRET, history=history)


def test_can_refuse_a_stale_write(aws):
    r = repo()
    r.create("a", {"name": "one"})

    def rename(e):
        e.doc["name"] = "two"

    r.update("a", rename, expected_version=1)
    with pytest.raises(VersionMismatch):
        r.update("a", rename, expected_version=1)
    assert r.get("a").version == 2


def test_can_let_exactly_one_of_many_concurrent_writers_win(aws):
    r = repo()
    r.create("a", {"name": "start", "n": 0})
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def writer(i):
        def change(e):
            e.doc["name"] = f"writer-{i}"

        barrier.wait()
        try:
            r.update("a", change, expected_version=1)
            outcomes.append("won")
        except VersionMismatch:
            outcomes.append("lost")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1
    assert outcomes.count("lost") == 7
    assert r.get("a").version == 2


def test_can_keep_every_concurrent_commutative_edit_with_retries(aws):
    r = repo()
    r.create("a", {"name": "tags"})
    barrier = threading.Barrier(8)

    def tagger(i):
        barrier.wait()
        r.update("a", lambda e: add_tags(e, [f"tag{i}"]), retries=20)

    threads = [threading.Thread(target=tagger, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert r.get("a").tags == sorted(f"tag{i}" for i in range(8))


def test_can_refuse_a_duplicate_id(aws):
    r = repo()
    r.create("a", {"name": "x"})
    with pytest.raises(Conflict):
        r.create("a", {"name": "y"})
    assert r.get("a").doc["name"] == "x"


def test_can_keep_history_versions(aws):
    r = repo()
    r.create("a", {"name": "v1"})
    for n in (2, 3):
        r.update("a", lambda e, n=n: e.doc.update(name=f"v{n}"))
    items, total = r.history("a")
    assert total == 3
    assert [e.doc["name"] for e in items] == ["v3", "v2", "v1"]
    assert r.version("a", 1).doc["name"] == "v1"
    with pytest.raises(NotFound):
        r.version("a", 9)


def test_can_trash_undelete_and_purge(aws):
    r = repo()
    r.create("a", {"name": "x"})
    r.soft_delete("a")
    with pytest.raises(NotFound):
        r.get("a")
    assert [e.id for e in r.iterate(deleted=True)] == ["a"]
    r.undelete("a")
    assert r.get("a").deleted is False
    r.purge("a")
    with pytest.raises(NotFound):
        r.get("a", include_deleted=True)
    assert list(repo().iterate()) == []
    assert list(repo().iterate(deleted=True)) == []


def test_can_never_see_another_tenants_objects(aws):
    repo("t1").create("a", {"name": "mine"})
    with pytest.raises(NotFound):
        repo("t2").get("a")
    assert list(repo("t2").iterate()) == []
    assert repo("t2").count() == 0


def test_can_page_with_offsets_and_signed_cursors(aws):
    r = repo(history=False)
    for i in range(7):
        r.create(f"id{i}", {"name": str(i)})
    first = r.page(limit=3)
    assert [e.id for e in first.items] == ["id0", "id1", "id2"]
    assert first.total == 7 and first.more and first.cursor
    second = r.page(limit=3, cursor=first.cursor)
    assert [e.id for e in second.items] == ["id3", "id4", "id5"]
    last = r.page(limit=3, cursor=second.cursor)
    assert [e.id for e in last.items] == ["id6"]
    assert last.cursor is None
    by_offset = r.page(limit=3, offset=6)
    assert [e.id for e in by_offset.items] == ["id6"] and not by_offset.more
    with pytest.raises(Invalid):
        Repository("t2", "thing", cursor_secret=SECRET).page(limit=3, cursor=first.cursor)
    with pytest.raises(Invalid):
        r.page(limit=3, cursor=first.cursor[:-2] + "xx")
    with pytest.raises(Invalid):
        r.page(limit=0)


def test_can_store_large_documents_compressed(aws):
    r = repo()
    big = {"name": "big", "rows": ["x" * 100 + str(i) for i in range(2000)]}
    r.create("big", big)
    assert r.get("big").doc == big
