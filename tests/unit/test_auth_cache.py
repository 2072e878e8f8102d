"""The principal cache's own rules: bound, LRU size, generations (auth/cache.py)."""

from __future__ import annotations

from chalicelib.auth.cache import AUTHORIZING_KINDS, AuthCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_can_keep_a_value_until_it_expires() -> None:
    clock = Clock()
    cache = AuthCache(clock=clock)
    key = cache.key("bearer", "token")
    cache.put(key, "principal", generation=cache.generation, expires=clock.now + 30)
    clock.now += 29.9
    assert cache.get(key) == "principal"
    clock.now += 0.1
    assert cache.get(key) is None


def test_can_drop_everything_on_invalidate() -> None:
    cache = AuthCache()
    key = cache.key("bearer", "token")
    cache.put(key, "principal", generation=cache.generation, expires=float("inf"))
    cache.invalidate()
    assert cache.get(key) is None and len(cache) == 0


def test_can_refuse_a_value_read_before_an_invalidation() -> None:
    # GIVEN a lookup that started, then a write invalidated, then the lookup finished
    cache = AuthCache()
    started = cache.generation
    cache.invalidate()
    key = cache.key("bearer", "token")
    cache.put(key, "stale principal", generation=started, expires=float("inf"))
    # THEN its (possibly stale) result is not kept
    assert cache.get(key) is None


def test_can_evict_the_least_recently_used() -> None:
    cache = AuthCache(max_entries=2)
    a, b, c = (cache.key("bearer", x) for x in "abc")
    for key in (a, b):
        cache.put(key, key, generation=0, expires=float("inf"))
    assert cache.get(a) == a  # a is now the most recent
    cache.put(c, c, generation=0, expires=float("inf"))
    assert cache.get(b) is None and cache.get(a) == a and cache.get(c) == c


def test_can_key_without_keeping_the_secret_and_without_ambiguity() -> None:
    cache = AuthCache()
    key = cache.key("basic", "user", "password")
    assert b"password" not in key
    assert key != cache.key("basic", "userp", "assword")
    assert key != AuthCache().key("basic", "user", "password")  # a per-process key


def test_can_name_every_kind_that_authorizing_reads() -> None:
    from chalicelib.identity import accounts, tenants

    assert {accounts.ACCOUNT, accounts.POLICY, accounts.GROUP, tenants.TENANT} == AUTHORIZING_KINDS
