"""The installable app: its manifest, the service worker's version and what it precaches."""

import hashlib
import json
from functools import cache
from pathlib import Path

from flask import current_app, url_for

from ..assets import asset_url

# Everything the app needs to open and capture with no network. Pages here hold no user data:
# they are shells that app.js fills from IndexedDB and the cached API.
SHELL_PAGES = ("pwa.offline", "pwa.offline_capture", "pwa.outbox", "pwa.offline_leave_behind")
SHELL_ASSETS = (
    "css/app.css",
    "css/print.css",
    "js/htmx.min.js",
    "js/app.js",
    "js/outbox.js",
    "js/offline.js",
    "js/suggest.js",
    "js/compliance.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/icon-maskable-512.png",
)
SERVICE_WORKER = "js/sw.js"


@cache
def _asset_digest(static_folder: str, salt: str) -> str:
    digest = hashlib.sha256(salt.encode())
    for name in (SERVICE_WORKER, *SHELL_ASSETS):
        digest.update(Path(static_folder, name).read_bytes())
    for template in ("base.html", "capture/offline.html", "pwa/offline.html", "pwa/outbox.html",
                     "pwa/leave_behind.html"):
        digest.update(Path(current_app.template_folder, template).read_bytes())
    return digest.hexdigest()[:12]


def cache_version() -> str:
    """Changes whenever the shell changes, so every app update gets fresh caches."""
    return _asset_digest(current_app.static_folder, current_app.config["ASSET_VERSION_SALT"])


def precache_urls() -> list[str]:
    pages = [url_for(endpoint) for endpoint in SHELL_PAGES]
    assets = [asset_url(name) for name in SHELL_ASSETS]
    return [*pages, *assets, url_for("pwa.manifest")]


def service_worker_source() -> str:
    source = Path(current_app.static_folder, SERVICE_WORKER).read_text(encoding="utf-8")
    return source.replace('"__VERSION__"', json.dumps(cache_version())).replace(
        '["__PRECACHE__"]', json.dumps(precache_urls())
    )


def manifest() -> dict:
    return {
        "name": "Clearpath",
        "short_name": "Clearpath",
        "description": "Log customer barriers after a call and get the play.",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f4f6f8",
        "theme_color": "#0b4f6c",
        "icons": [
            {"src": asset_url("icons/icon-192.png"), "sizes": "192x192",
             "type": "image/png"},
            {"src": asset_url("icons/icon-512.png"), "sizes": "512x512",
             "type": "image/png"},
            {"src": asset_url("icons/icon-maskable-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "maskable"},
        ],
    }
