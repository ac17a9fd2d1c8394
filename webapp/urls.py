"""URLs: redirect targets taken from requests (only paths on this site), ids that fit a
column, and the links a list repeats, built once per process."""

from functools import lru_cache
from urllib.parse import urlsplit

from flask import request, url_for
from werkzeug.routing import IntegerConverter

# The largest id an INTEGER column holds on PostgreSQL (and what SQLite's driver can bind).
MAX_ID = 2**31 - 1


class BoundedInt(IntegerConverter):
    """`<int:...>` that never matches an id no row can have: a 404, not a driver overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def local_path(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in target or ""):
        return default  # CR/LF would split the Location header
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not (target or "").startswith("/") or target.startswith("//"):
        return default
    return target


def link(endpoint: str, **values) -> str:
    """`url_for` for the links a list repeats (a play per barrier, an HCP per row), built once
    per process for each target: a page of the feed asks for some sixty."""
    return _link(request.script_root, endpoint, tuple(sorted(values.items())))


@lru_cache(maxsize=16384)
def _link(script_root: str, endpoint: str, values: tuple) -> str:
    return url_for(endpoint, **dict(values))
