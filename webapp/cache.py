"""A small per-process cache for figures that may be a minute old (evidence, dashboards).

Each app has its own store, so tests never see another app's numbers. Entries expire after
INSIGHT_CACHE_SECONDS (60 by default; 0, the default under TESTING, turns caching off).
A caller that can recompute off the request (the dashboard) gets stale-while-revalidate: past
its time a value is still served at once while one background thread builds the next, so only
the very first view of a key ever waits for the build; a value more than STALE_FACTOR times
its time old is never served.
With several gunicorn workers each keeps its own copy: at worst a figure is that many seconds
stale, never wrong for long, and nothing is shared that could leak across users because every
key carries the viewer's scope.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app

MAX_ENTRIES = 512
STALE_FACTOR = 10
log = logging.getLogger(__name__)


class TTLCache:
    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES, clock=time.monotonic):
        self.seconds, self.max_entries, self.clock = seconds, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._refreshing: set[Hashable] = set()
        self._lock = threading.Lock()

    def get_or_set(self, key: Hashable, compute: Callable[[], object],
                   background: Callable[[Callable[[], None]], None] | None = None):
        """The cached value, or `compute()`'s. With `background`, an expired value is returned
        as it is while `background(job)` runs the recomputation (one at a time per key)."""
        if self.seconds <= 0:
            return compute()
        now = self.clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                expires, value = hit
                fresh = expires > now
                usable = background is not None and now < expires + self.seconds * STALE_FACTOR
                if fresh or usable:
                    self._entries.move_to_end(key)
                    if not fresh and key not in self._refreshing:
                        self._refreshing.add(key)
                        background(lambda: self._refresh(key, compute))
                    return value
        value = compute()  # outside the lock: a slow computation must not block other keys
        self._store(key, value)
        return value

    def _refresh(self, key: Hashable, compute: Callable[[], object]) -> None:
        try:
            self._store(key, compute())
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _store(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + self.seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


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
