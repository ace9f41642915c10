"""The read-through cache behind the language, the regional channels and the suggestions
settings: loaded once while fresh, bounded, and never keeping a failed load."""

from __future__ import annotations

import time

import pytest

from bot.expiring import ExpiringCache


def test_a_value_is_loaded_once_while_fresh_and_again_after() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(ttl_seconds=0.2, max_entries=10)
    loads: list[str] = []

    def load() -> int:
        loads.append("C1")
        return len(loads)

    assert [cache.get("C1", load) for _ in range(3)] == [1, 1, 1]
    time.sleep(0.25)
    assert cache.get("C1", load) == 2
    cache.forget("C1")
    assert cache.get("C1", load) == 3


def test_the_least_recently_used_go_first_past_the_bound() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(ttl_seconds=60, max_entries=2)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    cache.get("a", lambda: "reloaded")  # used: "b" is now the oldest
    cache.get("c", lambda: "C")
    assert cache.get("a", lambda: "reloaded") == "A"
    assert cache.get("b", lambda: "reloaded") == "reloaded"


def test_a_load_that_fails_is_not_kept() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(ttl_seconds=60, max_entries=10)

    def fail() -> str:
        raise OSError("unreachable")

    with pytest.raises(OSError):
        cache.get("U1", fail)
    assert cache.get("U1", lambda: "ja") == "ja"
