"""Fixtures: a fresh database per test, a small organisation, and signed-in clients."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from flask import g, request_started
from sqlalchemy import inspect as sa_inspect

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db
from webapp.library.services import load_library
from webapp.models import HCP, USER_ROLES, Brand, Territory, User

PASSWORD = "correct horse battery"


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and url.startswith("postgresql"):
        url = _worker_database(url, worker)
    return url


def _worker_database(url: str, worker: str) -> str:
    """Each pytest-xdist worker gets its own PostgreSQL database (`test_gw0`, ...): every test
    empties its schema, which two workers must never do to each other."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


class Config(TestConfig):
    SQLALCHEMY_DATABASE_URI = _database_url()


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`--dist loadgroup`), a browser module stays on one worker: its live
    server and its tests' order are shared. Everything else spreads test by test."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def _fresh_g(sender, **extra):
    """Start each request with an empty `g`, as in production.

    Tests hold one app context open (to use db.session between requests), and Flask reuses
    it for every request, so `g` (and Flask-Login's cached user in it) would leak across.
    """
    g.__dict__.clear()


# PostgreSQL databases whose schema this process has built (by URL). Building it is a few
# hundred milliseconds of DDL, emptying it one TRUNCATE: a test starts from an empty schema the
# process built itself, built afresh on its first test and after any test that dropped tables.
_BUILT: set[str] = set()


def _empty_database():
    """Start from nothing, whatever an earlier run or an interrupted test left behind."""
    if db.engine.dialect.name != "postgresql":
        db.drop_all()
        db.create_all()
        return
    url = db.engine.url.render_as_string(hide_password=False)
    with db.engine.begin() as connection:
        if url in _BUILT:
            tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
            connection.execute(db.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        connection.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_all()
    _BUILT.add(url)


def _leave_database():
    """Drop what the test made; on PostgreSQL keep the schema for the next test to empty,
    unless the test changed which tables there are (a migration test drops them all)."""
    if db.engine.dialect.name != "postgresql":
        db.drop_all()
        return
    url = db.engine.url.render_as_string(hide_password=False)
    if set(sa_inspect(db.engine).get_table_names()) != set(db.metadata.tables):
        _BUILT.discard(url)


def app_on(config):
    """An app on `config`'s database, emptied and created for one test, then dropped."""
    app = create_app(config)
    request_started.connect(_fresh_g, app)
    with app.app_context():
        _empty_database()
        yield app
        db.session.remove()
        _leave_database()
        db.engine.dispose()  # each test's app has its own pool; close it, don't leak it


@pytest.fixture
def app():
    yield from app_on(Config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def library_path():
    from webapp.library.services import SHIPPED_LIBRARY

    return SHIPPED_LIBRARY


# Library tables in foreign-key order; copied row by row from the first real load.
LIBRARY_TABLES = ("category", "adoption_stage", "journey_stage", "role", "channel", "barrier",
                  "play", "leave_behind")
_LIBRARY_ROWS: dict[str, list[dict]] = {}


def install_library():
    """The shipped library, loaded for real once per run and bulk-copied after that."""
    if not _LIBRARY_ROWS:
        load_library()
        for name in LIBRARY_TABLES:
            table = db.metadata.tables[name]
            _LIBRARY_ROWS[name] = [dict(row._mapping) for row in db.session.execute(table.select())]
        return
    for name in LIBRARY_TABLES:
        db.session.execute(db.metadata.tables[name].insert(), _LIBRARY_ROWS[name])
    if db.engine.dialect.name == "postgresql":
        # Rows came with their ids: move each serial past them, as a real load would.
        for name in ("barrier", "play", "leave_behind"):
            db.session.execute(db.text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
            ))
    db.session.commit()


@pytest.fixture
def world(app):
    """The shipped library, three territories in two districts, one brand, HCPs and users."""
    install_library()
    t1 = Territory(code="T1", name="Territory one", district="D1")
    t2 = Territory(code="T2", name="Territory two", district="D1")
    t3 = Territory(code="T3", name="Territory three", district="D2")
    brand = Brand(code="ONC", name="Oncora")
    hcps = {
        "H1": HCP(external_id="H1", name="Dr Ada Patel", specialty="Oncology",
                  account="Harbor Oncology Associates", territory=t1, segment="evidence seeker"),
        "H2": HCP(external_id="H2", name="Dr Ben Okafor", specialty="Hematology",
                  account="Riverside Blood Center", territory=t2, segment="early adopter"),
        "H3": HCP(external_id="H3", name="Dr Cleo Rossi", specialty="Dermatology",
                  account="Lakeside Skin Clinic", territory=t3, segment="access constrained"),
    }
    db.session.add_all([t1, t2, t3, brand, *hcps.values()])
    users = {}
    for role in USER_ROLES:
        user = User(email=f"{role}@example.test", name=role.title(), role=role, territory=t1)
        user.password_hash = _hash()
        users[role] = user
        db.session.add(user)
    # A second rep in another district, to prove territory scope.
    other = User(email="rep3@example.test", name="Rep Three", role="sales_rep", territory=t3)
    other.password_hash = _hash()
    users["sales_rep_t3"] = other
    db.session.add(other)
    db.session.commit()
    return {"users": users, "hcps": hcps, "territories": (t1, t2, t3), "brand": brand}


# The world's users share one password hash, made with few iterations: the app's scrypt costs
# 0.16 s to check on a 2-CPU CI machine and the suite signs in over a thousand times. Checking
# reads the method from the hash, so sign-in runs the same code; the app's own hashing (scrypt,
# set_password) is tested in test_auth.
TEST_HASH_METHOD = "pbkdf2:sha256:1000"
_HASH = {}


def _hash() -> str:
    if "h" not in _HASH:
        from werkzeug.security import generate_password_hash

        _HASH["h"] = generate_password_hash(PASSWORD, method=TEST_HASH_METHOD)
    return _HASH["h"]


@pytest.fixture
def login(client):
    """Sign the test client in as the user with this key in world['users'] (a role name)."""

    def sign_in(email: str):
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return client

    return sign_in


@pytest.fixture
def as_role(world, login):
    def sign_in(role: str):
        return login(world["users"][role].email)

    return sign_in


def iso(minutes_ago: int = 5) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds")


@pytest.fixture
def observe(world):
    """Record an observation through the real write path and return it."""
    import uuid

    from webapp.capture.schemas import ObservationSchema
    from webapp.capture.services import record_observation

    def make(role="sales_rep", hcp="H1", barriers=("ACC-PA-002",), note="", minutes_ago=5,
             brand=None):
        data = ObservationSchema().load({
            "id": str(uuid.uuid4()), "hcp": hcp, "barriers": list(barriers), "note": note,
            "observed_at": iso(minutes_ago), "brand": brand,
        })
        observation, status = record_observation(world["users"][role], data)
        assert status == "created"
        return observation

    return make
