"""Clearpath: barriers-driven engagement for pharma field teams."""

from pathlib import Path

from flask import Flask, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import assets, errors, replica, security, transactions
from .config import SQLITE_BUSY_TIMEOUT_MS, Config, engine_options
from .extensions import csrf, db, limiter, login_manager, migrate
from .extensions import htmx as htmx_headers  # `htmx` is the name of our helper module

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type | dict | None = None) -> Flask:
    """Create and configure a Clearpath app."""
    app = Flask(
        __name__,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    given = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"], given)
    if app.config.get("DATABASE_REPLICA_URL"):
        url = app.config["DATABASE_REPLICA_URL"]
        app.config["SQLALCHEMY_BINDS"] = replica.binds(url, engine_options(url, given))

    if app.config["TRUSTED_PROXIES"]:
        # The client's address (sign-in throttling, the audit trail) and scheme (secure
        # cookies, HSTS) as the proxies saw them.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    _batch_sqlite_inserts(app)
    transactions.init_app(app)  # after db: its teardown runs first
    replica.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx_headers.init_app(app)
    security.init_app(app)
    limiter.init_app(app)  # after security: a NUL in the form is a 400 before it is counted
    errors.init_app(app)
    assets.init_app(app)

    from .auth.access import template_user
    from .urls import BoundedInt, link

    app.context_processor(template_user)  # after Flask-Login's, which it overrides

    app.url_map.converters["int"] = BoundedInt  # before any route is added
    app.jinja_env.globals["link"] = link
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .backup import bp as backup_bp
    from .capture import bp as capture_bp
    from .dashboard import bp as dashboard_bp
    from .demo import bp as demo_bp
    from .feed import bp as feed_bp
    from .hcps import bp as hcps_bp
    from .leave_behinds import bp as leave_behinds_bp
    from .library import bp as library_bp
    from .metrics import bp as metrics_bp
    from .plays import bp as plays_bp
    from .pwa import bp as pwa_bp
    from .safety import bp as safety_bp

    for bp in (
        auth_bp,
        capture_bp,
        plays_bp,
        leave_behinds_bp,
        feed_bp,
        api_bp,
        library_bp,
        hcps_bp,
        demo_bp,
        pwa_bp,
        safety_bp,
        metrics_bp,
        backup_bp,
        dashboard_bp,
        admin_bp,
    ):
        app.register_blueprint(bp)

    @app.get("/")
    @login_required
    def index():
        if current_user.can_capture:
            return redirect(url_for("capture.start"))
        if current_user.role == "drug_safety":
            return redirect(url_for("safety.queue"))
        return redirect(url_for("feed.index"))

    return app


def _batch_sqlite_inserts(app: Flask) -> None:
    """On SQLite, rows inserted together go in one INSERT with many VALUES, not one INSERT per
    row: every statement that writes an observation makes the notes' FTS5 index write out what
    it holds (its savepoint), so a sync batch of 50 calls wrote 50 small segments, 45 of
    the 50 ms its inserts took on the bench database; in one statement they take 10 ms."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite" and engine.dialect.use_insertmanyvalues:
                engine.dialect.use_insertmanyvalues_wo_returning = True


# SQLite's INDEXED BY, given as a hint (`select.with_hint(table, "INDEXED BY ix", "sqlite")`):
# SQLAlchemy's SQLite compiler otherwise leaves a table's hints out.
SQLiteCompiler.get_from_hint_text = lambda self, table, text: text


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
