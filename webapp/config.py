"""Configuration read from the environment, and the configuration tests start from."""

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'clearpath.sqlite3'}"
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a tablet left open all day must still submit
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    FEED_POLL_SECONDS = int(os.environ.get("FEED_POLL_SECONDS", "10"))
    # GET /api/v1/observations holds back items younger than this, so a slow transaction
    # cannot commit behind a cursor a client already holds.
    SYNC_SETTLE_SECONDS = float(os.environ.get("SYNC_SETTLE_SECONDS", "2"))
    # Mixed into the service worker's cache version; change it to force an app update.
    ASSET_VERSION_SALT = os.environ.get("ASSET_VERSION_SALT", "")
    # Where the SQLite file lives; ignored for PostgreSQL.
    INSTANCE_DIR = str(INSTANCE_DIR)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    WTF_CSRF_ENABLED = False
    SYNC_SETTLE_SECONDS = 0
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
