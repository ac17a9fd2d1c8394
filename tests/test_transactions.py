"""How a request's transaction ends: committed when it only read (PostgreSQL then keeps its
prepared statements), rolled back when it wrote without committing or failed."""

import pytest
from sqlalchemy import event

from webapp.extensions import db
from webapp.models import Territory


@pytest.fixture
def endings(app):
    seen: list[str] = []
    listeners = {"commit": lambda conn: seen.append("commit"),
                 "rollback": lambda conn: seen.append("rollback")}
    for name, listener in listeners.items():
        event.listen(db.engine, name, listener)
    yield seen
    for name, listener in listeners.items():
        event.remove(db.engine, name, listener)


def _stored(code: str) -> bool:
    return db.session.scalar(db.select(Territory.id).where(Territory.code == code)) is not None


def test_a_context_that_only_read_commits(app, endings):
    with app.app_context():  # its own session, as each request has
        db.session.scalar(db.select(Territory.id).limit(1))
    assert endings == ["commit"]


def test_a_flushed_write_left_uncommitted_is_rolled_back(app, endings):
    with app.app_context():
        db.session.add(Territory(code="TX", name="Flushed only", district="D9"))
        db.session.flush()
    assert endings == ["rollback"] and not _stored("TX")


def test_a_core_write_left_uncommitted_is_rolled_back(app, endings):
    with app.app_context():
        db.session.execute(Territory.__table__.insert().values(
            code="TY", name="Core insert", district="D9"))
    assert endings == ["rollback"] and not _stored("TY")


def test_unflushed_changes_are_never_committed(app, endings):
    db.session.add(Territory(code="TZ", name="Before", district="D9"))
    db.session.commit()
    endings.clear()
    with app.app_context():
        found = db.session.scalar(db.select(Territory).where(Territory.code == "TZ"))
        found.name = "Changed, not saved"
    assert endings == ["rollback"]
    db.session.expire_all()
    assert db.session.scalar(db.select(Territory.name).where(Territory.code == "TZ")) == "Before"


def test_a_context_that_failed_rolls_back(app, endings):
    with pytest.raises(RuntimeError), app.app_context():
        db.session.scalar(db.select(Territory.id).limit(1))
        raise RuntimeError("the view failed")
    assert endings == ["rollback"]


def test_a_read_after_a_commit_in_the_same_request_commits_too(app, endings):
    with app.app_context():
        db.session.add(Territory(code="TW", name="Saved", district="D9"))
        db.session.commit()
        db.session.scalar(db.select(Territory.id).limit(1))  # a new transaction that only reads
    assert endings == ["commit", "commit"] and _stored("TW")


def _audited(action: str) -> int:
    from webapp.models import AuditEvent

    return db.session.scalar(db.select(db.func.count()).where(AuditEvent.action == action))


def test_an_audit_event_left_uncommitted_is_rolled_back(app, endings):
    from webapp.audit import record

    with app.app_context():
        db.session.scalar(db.select(Territory.id).limit(1))
        record("test_uncommitted")  # nothing else written: it alone makes the request a write
    assert endings == ["rollback"] and _audited("test_uncommitted") == 0


def test_an_audit_event_alone_is_stored_by_its_commit_and_dropped_by_a_rollback(app):
    from webapp.audit import record

    with app.app_context():
        record("test_dropped")
        db.session.rollback()
        record("test_kept", entity="thing", entity_id=7, reason="no other write")
        db.session.commit()
    assert _audited("test_dropped") == 0 and _audited("test_kept") == 1
