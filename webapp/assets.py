"""Static files under hashed names, and compressed responses.

`asset("js/app.js")` in a template gives `/assets/js/app.<digest>.js`: served with a year's
`immutable` caching, so a repeat visit asks nothing for them, and a changed file is a new name.
A name whose digest is not the file's current one (a page from before an update) still gets
the current file, but uncached. Each file is compressed once per version (brotli or gzip).
Other text responses are compressed by Flask-Compress (zstd, brotli or gzip, as the browser
accepts); streamed responses (the CSV exports) are left as streams.
"""

import gzip
import hashlib
import mimetypes
import re
from functools import lru_cache
from pathlib import Path

import brotli
from flask import Flask, Response, abort, current_app, request, url_for
from werkzeug.security import safe_join

from .extensions import compress

IMMUTABLE_SECONDS = 365 * 24 * 3600
HASHED = re.compile(r"(?P<stem>.+)\.(?P<digest>[0-9a-f]{10})(?P<ext>\.[A-Za-z0-9]+)")


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def _static_path(filename: str) -> Path | None:
    path = safe_join(current_app.static_folder, filename)
    return Path(path) if path and Path(path).is_file() else None


def digest(filename: str) -> str:
    path = _static_path(filename)
    if path is None:
        raise FileNotFoundError(f"no static file {filename!r}")
    stat = path.stat()
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


def asset_url(filename: str) -> str:
    """The hashed URL of a file under static/; worked out once per process (files change with
    a deploy, which restarts it), every time in debug mode."""
    known = current_app.extensions.setdefault("clearpath_assets", {})
    if filename not in known or current_app.debug:
        stem, ext = filename.rsplit(".", 1)
        known[filename] = url_for("assets", filename=f"{stem}.{digest(filename)}.{ext}")
    return known[filename]


@lru_cache(maxsize=64)
def _encoded(path: str, mtime_ns: int, size: int, encoding: str) -> bytes:
    """The file's bytes, compressed once per version and encoding."""
    data = Path(path).read_bytes()
    if encoding == "br":
        return brotli.compress(data, quality=11)
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    return data


def serve(filename: str):
    match = HASHED.fullmatch(filename)
    original = match and match["stem"] + match["ext"]
    path = original and _static_path(original)
    if not path:
        abort(404)
    stat = path.stat()
    current = _digest(str(path), stat.st_mtime_ns, stat.st_size) == match["digest"]
    mimetype = mimetypes.guess_type(original)[0] or "application/octet-stream"
    encoding = "identity"
    if mimetype in current_app.config["COMPRESS_MIMETYPES"]:
        encoding = next((e for e in ("br", "gzip") if e in request.accept_encodings), "identity")
    response = Response(_encoded(str(path), stat.st_mtime_ns, stat.st_size, encoding),
                        mimetype=mimetype)
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = (f"public, max-age={IMMUTABLE_SECONDS}, immutable"
                                         if current else "no-cache")
    response.set_etag(f"{match['digest'] if current else 'x'}-{stat.st_mtime_ns}-{encoding}")
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/javascript", "application/javascript",
        "application/json", "application/manifest+json", "image/svg+xml", "text/csv"])
    compress.init_app(app)
    app.add_url_rule("/assets/<path:filename>", "assets", serve)
    app.jinja_env.globals["asset"] = asset_url
