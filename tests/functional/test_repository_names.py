"""Repository features dashboards rely on: unique names reserved in the write's own
transaction, a message per version, and listings that read only the head keys."""

from __future__ import annotations

import threading

import pytest

from chalicelib.domain.context import Context
from chalicelib.errors import Conflict, NameExists, NotFound
from chalicelib.store.repository import Entity, Repository, UniqueName

SECRET = b"n" * 32


def _name(entity: Entity) -> str | None:
    return None if entity.deleted else str(entity.doc.get("name", "")).lower() or None


UNIQUE = UniqueName(_name, "That name is taken")


def repo(tenant: str = "t1") -> Repository:
    return Repository(tenant, "thing", cursor_secret=SECRET, history=True, unique=UNIQUE, head_keys=("name", "_f"))


def rename(to: str):
    def edit(e: Entity) -> None:
        e.doc["name"] = to

    return edit


def test_can_refuse_a_second_object_with_a_taken_name(aws):
    r = repo()
    r.create("a", {"name": "Ops"})
    with pytest.raises(NameExists, match="That name is taken"):
        r.create("b", {"name": "ops"})
    assert r.find("b") is None
    assert r.name_holder("ops") == "a"


def test_can_move_the_reservation_when_an_object_is_renamed(aws):
    r = repo()
    r.create("a", {"name": "one"})
    r.update("a", rename("two"))
    assert r.name_holder("one") is None
    assert r.name_holder("two") == "a"
    r.create("b", {"name": "one"})  # the old name is free again
    with pytest.raises(NameExists):
        r.update("b", rename("TWO"))
    assert r.get("b").doc["name"] == "one"


def test_can_free_a_name_in_the_trash_and_claim_it_back(aws):
    r = repo()
    r.create("a", {"name": "one"})
    r.soft_delete("a")
    assert r.name_holder("one") is None
    r.create("b", {"name": "one"})
    with pytest.raises(NameExists):
        r.undelete("a")
    assert r.get("a", include_deleted=True).deleted
    r.purge("b")
    assert r.name_holder("one") is None
    r.undelete("a")
    assert r.name_holder("one") == "a"


def test_can_let_one_of_many_concurrent_creators_of_a_name_win(aws):
    r = repo()
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def creator(i: int) -> None:
        barrier.wait()
        try:
            r.create(f"id{i}", {"name": "same"})
            outcomes.append("won")
        except NameExists:
            outcomes.append("taken")

    threads = [threading.Thread(target=creator, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["taken"] * 7 + ["won"]
    assert len(list(r.iterate())) == 1


def test_can_tell_a_taken_id_from_a_taken_name(aws):
    r = repo()
    r.create("a", {"name": "one"})
    with pytest.raises(Conflict) as caught:
        r.create("a", {"name": "other"})
    assert not isinstance(caught.value, NameExists)
    assert r.name_holder("other") is None


def test_can_keep_a_message_with_each_version(aws):
    r = repo()
    r.create("a", {"name": "one"}, note="first")
    r.update("a", rename("two"), note="renamed")
    r.update("a", rename("three"))
    versions, _ = r.history("a")
    assert [(v.version, v.note) for v in versions] == [(3, None), (2, "renamed"), (1, "first")]
    assert r.version("a", 2).note == "renamed"


def test_can_list_heads_without_reading_documents(aws):
    r = repo()
    r.create("a", {"name": "one", "_f": "x", "big": "y" * 100_000}, tags=["t"])
    [summary] = list(r.summaries())
    assert summary.partial
    assert summary.doc == {"name": "one", "_f": "x"}
    assert (summary.id, summary.tags, summary.version) == ("a", ["t"], 1)
    assert r.get("a").doc["big"] == "y" * 100_000
    assert list(r.summaries(deleted=True)) == []


def test_can_keep_names_apart_between_tenants(aws):
    repo("t1").create("a", {"name": "one"})
    repo("t2").create("a", {"name": "one"})
    assert repo("t2").name_holder("one") == "a"


def test_can_keep_head_rows_in_step_with_every_write(aws):
    r = repo()
    r.create("a", {"name": "one", "_f": "x"})
    r.update("a", rename("two"), note="renamed")
    [head] = list(r.summaries())
    assert (head.doc, head.version, head.note) == ({"name": "two", "_f": "x"}, 2, "renamed")
    r.soft_delete("a")
    assert list(r.summaries()) == []
    assert [h.id for h in r.summaries(deleted=True)] == ["a"]
    r.purge("a")
    assert list(r.summaries(deleted=True)) == []


def test_can_refuse_summaries_of_a_kind_without_heads(aws):
    with pytest.raises(TypeError):
        list(Repository("t1", "plain", cursor_secret=SECRET).summaries())


def test_can_refuse_a_dashboard_write_into_a_folder_deleted_meanwhile(aws):
    # GIVEN a folder that existed when a save checked it, and is gone at write time
    from chalicelib.dashboards import store

    folders = Repository("t1", store.FOLDER_KIND, cursor_secret=SECRET)
    folders.create("f1", {"title": "Ops"})
    check = store._folder_still_there(Context.service("t1"), "f1")
    dashboards = Repository("t1", store.KIND, cursor_secret=SECRET, history=True)
    dashboards.create("d1", {"title": "kept"}, extra=check)
    folders.purge("f1")
    # WHEN a dashboard is written with the same check, THEN the write is refused and nothing lands
    with pytest.raises(Conflict):
        dashboards.create("d2", {"title": "lost"}, extra=check)
    assert dashboards.find("d2") is None
    assert store._folder_still_there(Context.service("t1"), store.GENERAL) is None


def test_can_read_one_head_row_without_the_document(aws):
    r = repo()
    r.create("a", {"name": "one", "_f": "x", "big": "z" * 200_000})
    head = r.summary("a")
    assert head.partial and head.doc == {"name": "one", "_f": "x"} and head.version == 1
    r.soft_delete("a")
    with pytest.raises(NotFound):
        r.summary("a")
    assert r.summary("a", include_deleted=True).deleted
    r.purge("a")
    with pytest.raises(NotFound):
        r.summary("a", include_deleted=True)
