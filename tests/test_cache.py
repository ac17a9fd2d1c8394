"""The per-process insight cache: hits within its time, recomputes after, bounded, off in tests."""

from webapp.cache import TTLCache, insight_cache


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_value_is_reused_until_it_expires():
    clock, calls = Clock(), []
    cache = TTLCache(60, clock=clock)

    def compute():
        calls.append(clock.now)
        return len(calls)

    assert cache.get_or_set("k", compute) == 1
    clock.now = 59
    assert cache.get_or_set("k", compute) == 1
    clock.now = 61
    assert cache.get_or_set("k", compute) == 2
    assert calls == [0, 61]


def test_the_oldest_entries_make_room():
    cache = TTLCache(60, max_entries=2, clock=Clock())
    for key in "abc":
        cache.get_or_set(key, lambda k=key: k)
    assert cache.get_or_set("a", lambda: "recomputed") == "recomputed"
    assert cache.get_or_set("c", lambda: "recomputed") == "c"


def test_zero_seconds_means_no_cache():
    cache, calls = TTLCache(0), []
    cache.get_or_set("k", lambda: calls.append(1))
    cache.get_or_set("k", lambda: calls.append(1))
    assert calls == [1, 1]


def test_each_app_has_its_own_cache_off_under_testing(app):
    assert insight_cache().seconds == 0
    assert insight_cache() is insight_cache()
