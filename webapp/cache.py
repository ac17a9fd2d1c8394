"""A small per-process cache for figures that may be minutes old (evidence, dashboards).

Each app has its own store, so tests never see another app's numbers. Entries expire after
INSIGHT_CACHE_SECONDS (60 by default; 0, the default under TESTING, turns caching off), or the
time their caller gives (the dashboard and the metrics: BOARD_REFRESH_SECONDS).
A caller that can recompute off the request (the dashboard) gets stale-while-revalidate: past
its time a value is still served at once while one background thread builds the next, so only
the very first view of a key ever waits for the build; a value more than STALE_FACTOR times
its time past it is never served, unless its caller shows its age (the dashboard says when its
figures were counted, serves any snapshot of its day, and the day before's on a day's first
view). Such a caller can also share its
values through the database (SnapshotStore): a value one worker built serves every other
worker and host, and outlives a restart or a deploy.
Otherwise each gunicorn worker keeps its own copy: at worst a figure is that many seconds
stale, never wrong for long. Nothing can leak across users, in memory or in the database,
because every key carries the viewer's scope.
"""

import hashlib
import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta

from flask import current_app

MAX_ENTRIES = 512
KEEP_SNAPSHOTS_SECONDS = 24 * 3600
STALE_FACTOR = 10
log = logging.getLogger(__name__)


class TTLCache:
    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES, clock=time.monotonic):
        self.seconds, self.max_entries, self.clock = seconds, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._refreshing: set[Hashable] = set()
        self._lock = threading.Lock()

    def get_or_set(self, key: Hashable, compute: Callable[[], object],
                   background: Callable[[Callable[[], None]], None] | None = None,
                   shared: "SnapshotStore | None" = None, stale_for: float | None = None,
                   previous: Hashable | None = None, seconds: float | None = None):
        """The cached value, or `compute()`'s. With `background`, an expired value is returned
        as it is while `background(job)` runs the recomputation (one at a time per key), for
        up to `stale_for` seconds past its time (STALE_FACTOR times its time by default: a
        caller whose page shows the value's age may allow more). With `shared`, a value
        another worker built is taken from there before computing, and what is computed is
        put there. With `background`, a key that has no value yet is answered with the value
        of `previous` (yesterday's key of a value keyed by the day), if there is one as
        usable, while its own is built. `seconds` is this key's time, if not the cache's (a
        value that costs seconds to count and shows its age may be kept longer); none is kept
        while the cache is off."""
        if self.seconds <= 0:
            return compute()
        ttl = self.seconds if seconds is None else seconds
        stale_for = ttl * STALE_FACTOR if stale_for is None else stale_for
        now = self.clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                expires, value = hit
                fresh = expires > now
                usable = background is not None and now < expires + stale_for
                if fresh or usable:
                    self._entries.move_to_end(key)
                else:
                    hit = None
        if hit is not None:
            if not fresh:
                self._schedule(key, compute, background, shared, ttl)
            return value
        found = shared.load(key) if shared is not None else None
        if found is not None:
            age, value = found
            if age < ttl:
                self._store(key, value, fresh_for=ttl - age)
                return value
            if background is not None and age < ttl + stale_for:
                self._store(key, value, fresh_for=0)
                self._schedule(key, compute, background, shared, ttl)
                return value
        if background is not None and previous is not None:
            stand_in = self._usable(previous, shared, ttl, stale_for)
            if stand_in is not None:
                self._store(key, stand_in, fresh_for=0)  # before the build that replaces it
                self._schedule(key, compute, background, shared, ttl)
                return stand_in
        value = compute()  # outside the lock: a slow computation must not block other keys
        if shared is not None:
            shared.save(key, value)
        self._store(key, value, fresh_for=ttl)
        return value

    def _usable(self, key: Hashable, shared: "SnapshotStore | None", ttl: float,
                stale_for: float):
        """The key's value if it may still be served (fresh, or stale by less than
        `stale_for`), from memory or else from `shared`; None otherwise."""
        now = self.clock()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and now < hit[0] + stale_for:
            return hit[1]
        found = shared.load(key) if shared is not None else None
        if found is not None and found[0] < ttl + stale_for:
            return found[1]
        return None

    def _schedule(self, key, compute, background, shared, ttl: float) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)
        background(lambda: self._refresh(key, compute, shared, ttl))

    def _refresh(self, key: Hashable, compute: Callable[[], object],
                 shared: "SnapshotStore | None", ttl: float) -> None:
        try:
            # Another worker may have rebuilt it already: take theirs rather than build again.
            found = shared.load(key) if shared is not None else None
            if found is not None and found[0] < ttl:
                self._store(key, found[1], fresh_for=ttl - found[0])
                return
            value = compute()
            if shared is not None:
                shared.save(key, value)
            self._store(key, value, fresh_for=ttl)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _store(self, key: Hashable, value: object, fresh_for: float | None = None) -> None:
        with self._lock:
            expires = self.clock() + (self.seconds if fresh_for is None else fresh_for)
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class SnapshotStore:
    """Values pickled into the insight_snapshot table: one row per key, shared by every worker
    and host, kept across restarts. Only the app writes them (to its own database); a row it
    cannot read (from an older release, say) counts as absent."""

    FORMAT = b"1"

    @classmethod
    def _hash(cls, key: Hashable) -> str:
        return hashlib.sha256(cls.FORMAT + repr(key).encode()).hexdigest()

    def load(self, key: Hashable) -> tuple[float, object] | None:
        """(age in seconds, value) of the key's snapshot, or None."""
        from .extensions import db
        from .models import InsightSnapshot, utcnow

        table = InsightSnapshot.__table__
        with db.engine.connect() as connection:
            row = connection.execute(
                db.select(table.c.built_at, table.c.payload).where(table.c.key == self._hash(key))
            ).first()
        if row is None:
            return None
        try:
            value = pickle.loads(row.payload)
        except Exception:  # noqa: BLE001 - an unreadable snapshot is rebuilt, never fatal
            log.warning("unreadable insight snapshot for %r: rebuilding", key)
            return None
        return max(0.0, (utcnow() - row.built_at).total_seconds()), value

    def save(self, key: Hashable, value: object) -> None:
        from .extensions import db
        from .models import InsightSnapshot, utcnow

        table = InsightSnapshot.__table__
        row = {"key": self._hash(key), "built_at": utcnow(),
               "payload": pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)}
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"built_at": statement.excluded.built_at, "payload": statement.excluded.payload})
        with db.engine.begin() as connection:
            connection.execute(statement)
            # Keys carry the day, so a snapshot a day old is never read again: keep the table
            # to the last day's few rows.
            connection.execute(table.delete().where(
                table.c.built_at < row["built_at"] - timedelta(seconds=KEEP_SNAPSHOTS_SECONDS)))


def counted_at(built_at: datetime | None) -> str:
    """When a snapshot's figures were counted, as a page says it: "09:12 UTC", with the day
    when it was not today ("23:58 UTC on 01 Dec"); "" when not known."""
    if built_at is None:
        return ""
    if built_at.date() == datetime.now(UTC).date():
        return f"{built_at:%H:%M} UTC"
    return f"{built_at:%H:%M} UTC on {built_at:%d %b}"


def in_background(job: Callable[[], None]) -> None:
    """Run `job` on a daemon thread inside this app's context, with its own database session."""
    from .extensions import db

    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                job()
            except Exception:  # a failed refresh keeps the stale value; the next view retries
                log.exception("background refresh failed")
            finally:
                db.session.remove()

    threading.Thread(target=run, name="insight-refresh", daemon=True).start()


def insight_cache() -> TTLCache:
    """This app's cache, created on first use."""
    store = current_app.extensions.get("clearpath_cache")
    if store is None:
        default = 0 if current_app.testing else 60
        store = TTLCache(float(current_app.config.get("INSIGHT_CACHE_SECONDS", default)))
        current_app.extensions["clearpath_cache"] = store
    return store


def kept_count(key: Hashable, count: Callable[[], object], previous: Hashable | None = None):
    """A count that takes seconds at 1M calls and whose page says when it was made (a board,
    its play outcomes and time to play, the metrics page): shared through the database,
    counted again off the request every BOARD_REFRESH_SECONDS, any snapshot younger than
    KEEP_SNAPSHOTS_SECONDS shown meanwhile (and `previous`'s while a new key is counted)."""
    return insight_cache().get_or_set(key, count, background=in_background,
                                      shared=SnapshotStore(), stale_for=KEEP_SNAPSHOTS_SECONDS,
                                      previous=previous,
                                      seconds=current_app.config["BOARD_REFRESH_SECONDS"])
