"""A read replica: the feed and the dashboard read there, every write goes to the primary.

Two SQLite files stand in for PostgreSQL and its replica; "replication" copies the primary
into the replica, so what the replica has not received yet shows which database a page read.
"""

import sqlite3

import pytest

from webapp.config import TestConfig
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.replica import READS_FROM_REPLICA, REPLICA

from .conftest import app_on


@pytest.fixture
def files(tmp_path):
    return tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"


@pytest.fixture
def app(files):
    primary, replica = files

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{primary}"
        DATABASE_REPLICA_URL = f"sqlite:///{replica}"

    yield from app_on(Config)


@pytest.fixture
def replicate(app, files):
    def copy():
        db.session.commit()
        with sqlite3.connect(files[0]) as source, sqlite3.connect(files[1]) as target:
            source.backup(target)

    return copy


def test_the_feed_and_dashboard_read_the_replica_and_every_write_goes_to_the_primary(
        client, as_role, observe, replicate):
    observe(note="replicated call")
    replicate()
    later = observe(note="call not replicated yet")
    as_role("hq_brand")

    feed = client.get("/feed").text
    assert "replicated call" in feed and "call not replicated yet" not in feed
    updates = client.get("/feed/updates", headers={"HX-Request": "true"})
    assert "replicated call" in updates.text and "call not replicated yet" not in updates.text
    # A page not marked for the replica reads the primary.
    assert client.get("/hcps/H1").text.count("call not replicated yet") == 1
    assert client.get("/dashboard").status_code == 200

    # The export reads the replica and writes its audit event to the primary.
    export = client.get("/feed/export.csv").text
    assert "replicated call" in export and "call not replicated yet" not in export
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "feed_exported"))

    replicate()
    assert "call not replicated yet" in client.get("/feed").text
    assert later.id in client.get("/feed").text


def test_without_a_replica_nothing_is_routed():
    from webapp import create_app

    plain = create_app(TestConfig)
    with plain.app_context():
        assert REPLICA not in db.engines
        db.session.info[READS_FROM_REPLICA] = True
        assert db.session.get_bind() is db.engine
        db.session.remove()
