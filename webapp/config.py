"""Configuration read from the environment, and the configuration tests start from."""

import os
from pathlib import Path

from sqlalchemy import make_url

from . import sqlite_writer

SQLITE_BUSY_TIMEOUT_MS = 5000
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _database_url(name: str = "DATABASE_URL", default: str | None = None) -> str:
    url = os.environ.get(name, "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'clearpath.sqlite3'}" if default is None else default
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def rate_limit_storage(environ=os.environ) -> str:
    """Where sign-in attempts are counted: Redis when REDIS_URL is set, else this process."""
    return environ.get("REDIS_URL", "").strip() or "memory://"


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip() == "1"


def engine_options(uri: str, options: dict) -> dict:
    """The connection pool for PostgreSQL, from the environment: each gunicorn thread holds at
    most one connection, so the pool defaults to the thread count (plus a little overflow) and
    workers × (pool + overflow) must stay under the server's max_connections. SQLite keeps
    SQLAlchemy's own pool; a SQLite file's writers queue for it (webapp/sqlite_writer.py)
    unless SQLITE_WRITE_QUEUE=0."""
    options = dict(options)
    database = make_url(uri).database if uri.startswith("sqlite") else None
    if database and database != ":memory:" and not database.startswith("file:") \
            and os.environ.get("SQLITE_WRITE_QUEUE", "1") != "0":
        connect_args = dict(options.get("connect_args", {}))
        connect_args.setdefault("factory", sqlite_writer.connection_factory(
            database, SQLITE_BUSY_TIMEOUT_MS / 1000))
        options["connect_args"] = connect_args
    if uri.startswith("postgresql"):
        threads = int(os.environ.get("GUNICORN_THREADS", "4"))
        options.setdefault("pool_size", int(os.environ.get("DB_POOL_SIZE", str(threads))))
        options.setdefault("max_overflow", int(os.environ.get("DB_MAX_OVERFLOW", "2")))
        options.setdefault("pool_timeout", float(os.environ.get("DB_POOL_TIMEOUT", "10")))
        options.setdefault("pool_recycle", int(os.environ.get("DB_POOL_RECYCLE", "1800")))
    return options


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _database_url()
    # A read replica for the feed and the dashboard (webapp/replica.py); none by default.
    DATABASE_REPLICA_URL = _database_url("DATABASE_REPLICA_URL", default="")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Strict-Transport-Security goes on every HTTPS request, and on every request when HSTS=1
    # (behind a proxy that ends TLS, where the app itself only sees HTTP); on with secure cookies.
    HSTS = _flag("HSTS", "1" if SESSION_COOKIE_SECURE else "0")
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
    # Sign-in throttling (Flask-Limiter). Only failed attempts count, per client address and per
    # account; Redis shares the counts between gunicorn workers, memory keeps them per process.
    RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1") != "0"
    RATELIMIT_STORAGE_URI = rate_limit_storage()
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_KEY_PREFIX = "clearpath"
    # Redis down: count in memory rather than refuse every sign-in.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
    # Every JSON API request, per user (per address when not signed in).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    WTF_CSRF_TIME_LIMIT = None  # a tablet left open all day must still submit
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    FEED_POLL_SECONDS = int(os.environ.get("FEED_POLL_SECONDS", "10"))
    # How long a worker reuses what it counted (evidence, the feed's choices, …), and how long
    # the dashboard's and the metrics page's figures stand before they are counted again in the
    # background (a count takes seconds at 1M calls; the pages say when it was made).
    INSIGHT_CACHE_SECONDS = float(os.environ.get("INSIGHT_CACHE_SECONDS", "60"))
    BOARD_REFRESH_SECONDS = float(os.environ.get("BOARD_REFRESH_SECONDS", "300"))
    SUGGEST_REFRESH_SECONDS = float(os.environ.get("SUGGEST_REFRESH_SECONDS", "60"))
    # Days after a play ran before its runner is asked whether it worked.
    OUTCOME_AFTER_DAYS = int(os.environ.get("OUTCOME_AFTER_DAYS", "14"))
    # GET /api/v1/observations holds back items younger than this, so a slow transaction
    # cannot commit behind a cursor a client already holds.
    SYNC_SETTLE_SECONDS = float(os.environ.get("SYNC_SETTLE_SECONDS", "2"))
    # Behind a load balancer or reverse proxy: how many proxies in front set X-Forwarded-For
    # and X-Forwarded-Proto. 0 (the default) trusts neither header, which is right when the app
    # is reached directly; set it to the number of proxies, never more.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Mixed into the service worker's cache version; change it to force an app update.
    ASSET_VERSION_SALT = os.environ.get("ASSET_VERSION_SALT", "")
    # Where the SQLite file lives; ignored for PostgreSQL.
    INSTANCE_DIR = str(INSTANCE_DIR)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    WTF_CSRF_ENABLED = False
    SYNC_SETTLE_SECONDS = 0
    # Nothing counted is reused: each test sees its own writes (tests of the caches set these).
    INSIGHT_CACHE_SECONDS = 0
    SUGGEST_REFRESH_SECONDS = 0
    # The tests that check sign-in throttling turn it on for their own app.
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    HSTS = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
