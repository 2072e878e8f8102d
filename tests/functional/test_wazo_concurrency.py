"""Concurrent writers of the identity model: one username claimed by eight threads at
once, eight members joining one group at once.

DynamoDB applies each request atomically; moto does not, so the `aws` fixture
serializes moto's request handling. The code under test still races freely between its
requests: read, decide, conditional write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from chalicelib.errors import Conflict

W = "/api/auth/0.1"
THREADS = 8


def race(work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in THREADS threads released together; results or exceptions, by i."""
    start = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected: the test asserts on them
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_can_let_exactly_one_of_eight_concurrent_creations_take_a_username(api):
    from chalicelib.identity import accounts, users

    # WHEN eight threads create "racer" (in different cases) at the same moment
    results = race(
        lambda i: users.create_user(
            api.root, {"username": "racer" if i % 2 else "RACER", "password": f"password-{i}"}, by="test"
        )
    )

    # THEN exactly one wins, the others get Conflict, and exactly one account exists
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if r not in winners)
    assert accounts.find_by_username("racer") == (api.root, winners[0].id)
    listed = api.json("GET", f"{W}/users?search=racer")[1]
    assert [u["uuid"] for u in listed["items"]] == [winners[0].id]


def test_can_keep_every_one_of_eight_concurrent_group_joins(api, make_user):
    from chalicelib.identity import groups

    # GIVEN a group and eight users
    group = api.json("POST", f"{W}/groups", {"name": "crowd"})[1]
    members = [make_user([]).uuid for _ in range(THREADS)]

    # WHEN they all join at the same moment
    results = race(lambda i: groups.add_member(api.root, group["uuid"], members[i], held=["#"], by="test"))

    # THEN nobody's join was lost
    assert not [r for r in results if isinstance(r, Exception)]
    listed = api.json("GET", f"{W}/groups/{group['uuid']}/users")[1]
    assert {u["uuid"] for u in listed["items"]} == set(members)
