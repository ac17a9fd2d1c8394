"""A small per-process cache for figures that may be a minute old (evidence, dashboards).

Each app has its own store, so tests never see another app's numbers. Entries expire after
INSIGHT_CACHE_SECONDS (60 by default; 0, the default under TESTING, turns caching off).
With several gunicorn workers each keeps its own copy: at worst a figure is that many seconds
stale, never wrong for long, and nothing is shared that could leak across users because every
key carries the viewer's scope.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app

MAX_ENTRIES = 512


class TTLCache:
    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES, clock=time.monotonic):
        self.seconds, self.max_entries, self.clock = seconds, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_set(self, key: Hashable, compute: Callable[[], object]):
        if self.seconds <= 0:
            return compute()
        now = self.clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                self._entries.move_to_end(key)
                return hit[1]
        value = compute()  # outside the lock: a slow computation must not block other keys
        with self._lock:
            self._entries[key] = (now + self.seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


def insight_cache() -> TTLCache:
    """This app's cache, created on first use."""
    store = current_app.extensions.get("clearpath_cache")
    if store is None:
        default = 0 if current_app.testing else 60
        store = TTLCache(float(current_app.config.get("INSIGHT_CACHE_SECONDS", default)))
        current_app.extensions["clearpath_cache"] = store
    return store
