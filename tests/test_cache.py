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


def test_with_a_background_runner_an_expired_value_is_served_while_it_is_rebuilt():
    clock, jobs = Clock(), []
    cache = TTLCache(60, clock=clock)
    versions = iter(["v1", "v2", "v3"])
    compute = lambda: next(versions)  # noqa: E731
    assert cache.get_or_set("k", compute, background=jobs.append) == "v1"
    clock.now = 61
    # Expired: the old value comes back at once and exactly one rebuild is queued.
    assert cache.get_or_set("k", compute, background=jobs.append) == "v1"
    assert cache.get_or_set("k", compute, background=jobs.append) == "v1"
    assert len(jobs) == 1
    jobs.pop()()
    assert cache.get_or_set("k", compute, background=jobs.append) == "v2"
    assert jobs == []


def test_a_failed_rebuild_keeps_the_old_value_and_a_very_old_one_is_never_served():
    clock, jobs = Clock(), []
    cache = TTLCache(60, clock=clock)
    cache.get_or_set("k", lambda: "old", background=jobs.append)
    clock.now = 61

    def broken():
        raise RuntimeError("database gone")

    assert cache.get_or_set("k", broken, background=jobs.append) == "old"
    try:
        jobs.pop()()
    except RuntimeError:
        pass
    assert cache.get_or_set("k", lambda: "new", background=jobs.append) == "old"  # retried
    assert len(jobs) == 1
    clock.now = 60 + 60 * 10 + 1
    assert cache.get_or_set("k", lambda: "rebuilt now", background=jobs.append) == "rebuilt now"


def test_a_background_job_runs_in_the_app_with_its_own_session(app):
    import threading

    from webapp.cache import in_background
    from webapp.extensions import db
    from webapp.models import User

    done, seen = threading.Event(), {}

    def job():
        seen["users"] = db.session.scalar(db.select(db.func.count()).select_from(User))
        done.set()

    in_background(job)
    assert done.wait(10)
    assert seen["users"] == db.session.scalar(db.select(db.func.count()).select_from(User))


class DictStore:
    """A SnapshotStore in memory, with ages set by hand."""

    def __init__(self):
        self.rows, self.saves = {}, 0

    def load(self, key):
        return self.rows.get(key)

    def save(self, key, value):
        self.saves += 1
        self.rows[key] = (0.0, value)


def test_a_value_one_worker_built_serves_another_without_computing():
    shared, calls = DictStore(), []
    first, second = TTLCache(60, clock=Clock()), TTLCache(60, clock=Clock())

    def compute():
        calls.append(1)
        return "board"

    assert first.get_or_set("k", compute, shared=shared) == "board"
    assert second.get_or_set("k", compute, shared=shared) == "board"
    assert calls == [1] and shared.saves == 1


def test_a_stale_shared_value_is_served_and_rebuilt_once_in_the_background():
    shared, jobs = DictStore(), []
    shared.rows["k"] = (90.0, "old")  # built 90 s ago by some worker
    cache = TTLCache(60, clock=Clock())
    assert cache.get_or_set("k", lambda: "new", background=jobs.append, shared=shared) == "old"
    assert cache.get_or_set("k", lambda: "new", background=jobs.append, shared=shared) == "old"
    assert len(jobs) == 1
    jobs.pop()()
    assert shared.rows["k"] == (0.0, "new")
    assert cache.get_or_set("k", lambda: "newer", background=jobs.append, shared=shared) == "new"


def test_a_new_key_is_answered_with_its_previous_value_while_its_own_is_built():
    """The first view of a day's figures shows the day before's, rebuilt off the request."""
    shared, jobs = DictStore(), []
    shared.rows["monday"] = (3600.0, "monday's")  # counted an hour ago, by another worker
    cache = TTLCache(60, clock=Clock())

    def tuesday():
        return cache.get_or_set("tuesday", lambda: "tuesday's", background=jobs.append,
                                shared=shared, stale_for=24 * 3600, previous="monday")

    assert tuesday() == "monday's" and tuesday() == "monday's"
    assert len(jobs) == 1 and "tuesday" not in shared.rows
    jobs.pop()()
    assert tuesday() == "tuesday's" and shared.rows["tuesday"] == (0.0, "tuesday's")
    # Nothing to stand in (no previous value, or one too old to serve): the view waits.
    shared.rows["last year"] = (400 * 24 * 3600.0, "stale")
    for previous in ("never built", "last year"):
        assert cache.get_or_set(previous + " +1", lambda: "built", background=jobs.append,
                                shared=shared, previous=previous) == "built"
    assert jobs == []


def test_a_key_may_be_kept_longer_than_the_cache_keeps_others():
    """A board that takes seconds to count stands five minutes, not the cache's one."""
    clock, jobs, calls = Clock(), [], []
    cache = TTLCache(60, clock=clock)

    def board():
        return cache.get_or_set("board", lambda: calls.append(clock.now) or len(calls),
                                background=jobs.append, seconds=300)

    assert board() == 1
    clock.now = 200
    assert board() == 1 and jobs == []  # the cache's 60 s are past, the board's 300 are not
    clock.now = 301
    assert board() == 1 and len(jobs) == 1  # served while it is counted again
    jobs.pop()()
    assert board() == 2 and calls == [0, 301]


def test_a_rebuild_takes_a_fresher_snapshot_another_worker_made():
    shared, jobs, calls = DictStore(), [], []
    clock = Clock()
    cache = TTLCache(60, clock=clock)
    cache.get_or_set("k", lambda: "mine", background=jobs.append, shared=shared)
    clock.now = 61
    shared.rows["k"] = (5.0, "theirs")  # another worker rebuilt it meanwhile
    assert cache.get_or_set("k", lambda: calls.append(1), background=jobs.append,
                            shared=shared) == "mine"
    jobs.pop()()
    assert calls == []
    assert cache.get_or_set("k", lambda: calls.append(1), background=jobs.append,
                            shared=shared) == "theirs"


def test_snapshots_round_trip_through_the_database(app):
    from datetime import date

    from webapp.cache import SnapshotStore
    from webapp.extensions import db
    from webapp.models import InsightSnapshot

    store, key = SnapshotStore(), ("dashboard", "all", False, 28, None, None, date(2026, 12, 1))
    assert store.load(key) is None
    store.save(key, {"mentions": 3, "weeks": [("2026-11-23", 2)]})
    store.save(key, {"mentions": 4, "weeks": []})  # a rebuild replaces it
    age, value = store.load(key)
    assert value == {"mentions": 4, "weeks": []} and 0 <= age < 5
    assert db.session.scalar(db.select(db.func.count()).select_from(InsightSnapshot)) == 1
    # Yesterday's snapshots (keys carry the day) are dropped at the next save.
    from datetime import timedelta

    from webapp.models import utcnow

    db.session.add(InsightSnapshot(key="0" * 64, built_at=utcnow() - timedelta(days=2),
                                   payload=b"old"))
    db.session.commit()
    store.save(key, {"mentions": 4, "weeks": []})
    assert db.session.scalars(db.select(InsightSnapshot.key)).all() == [store._hash(key)]
    # A snapshot this release cannot read counts as absent (it is rebuilt, never a 500).
    db.session.execute(db.update(InsightSnapshot).values(payload=b"not a pickle"))
    db.session.commit()
    assert store.load(key) is None
