"""The append-only audit trail: every write records who did what, in the same transaction.

Events are plain rows, not objects the session tracks: each is kept as the values to insert
and written by the transaction's next flush, or by its commit, with every other event waiting
(one statement for a sync batch's fifty). A rollback drops them with the write they record.
"""

from flask import has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEvent, User, utcnow
from .transactions import WROTE

# Events waiting to be inserted (their columns' values), per session.
PENDING = "clearpath_audit_pending"
# Events waiting for their row's id: (row, action, actor id, entity, detail), per session.
AWAITING_ID = "clearpath_audit_awaiting_id"


def record(action: str, actor: User | None = None, entity: str = "", entity_id="",
           **detail) -> None:
    """Add an audit event to the current transaction; the caller commits it with the write."""
    _add(db.session(), action, actor.id if actor is not None else None, entity, entity_id,
         _with_origin(detail))


def record_once_stored(row, action: str, actor: User | None = None, entity: str = "",
                       **detail) -> None:
    """`record` for a row just added whose id the database assigns: the event is added, in the
    same transaction, by the flush that stores the row, so a batch need not flush once per
    row to learn its id (a flush in a loop also takes SQLite's write lock early)."""
    db.session.info.setdefault(AWAITING_ID, []).append(
        (row, action, actor.id if actor is not None else None, entity, _with_origin(detail)))


def _add(session: Session, action: str, actor_id: int | None, entity: str, entity_id,
         detail: dict) -> None:
    if not session.in_transaction():  # so that a rollback drops it
        session.begin()
    session.info.setdefault(PENDING, []).append(
        {"at": utcnow(), "actor_id": actor_id, "action": action, "entity": entity,
         "entity_id": str(entity_id), "detail": detail})
    # The request's transaction wrote, even if nothing else did: it must not be committed as
    # a read-only one (webapp/transactions.py) unless the caller commits it.
    session.info[WROTE] = True


def _with_origin(detail: dict) -> dict:
    if has_request_context():
        detail.setdefault("ip", request.remote_addr or "")
    return detail


def _insert_pending(session: Session) -> None:
    rows = session.info.pop(PENDING, None)
    if rows:
        # On the primary, even in a request that reads from the replica.
        connection = session.connection(bind_arguments={"bind": db.engine})
        connection.execute(AuditEvent.__table__.insert(), rows)


@event.listens_for(Session, "after_flush_postexec")
def _record_stored(session, flush_context) -> None:
    """Insert the events waiting, with those whose rows this flush stored; commit flushes again
    until nothing is left, so they are stored in the same transaction."""
    awaiting = session.info.pop(AWAITING_ID, None)
    for row, action, actor_id, entity, detail in awaiting or ():
        if inspect(row).persistent:
            _add(session, action, actor_id, entity, row.id, detail)
        else:  # not flushed yet (it was added after this flush began): the next flush
            session.info.setdefault(AWAITING_ID, []).append(
                (row, action, actor_id, entity, detail))
    _insert_pending(session)


@event.listens_for(Session, "before_commit")
def _record_before_commit(session) -> None:
    """Events of a transaction that changed nothing else the session tracks (a sign-in that
    failed, an export) have no flush to go with."""
    _insert_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_waiting(session, transaction) -> None:
    if transaction.parent is None:  # rolled back or committed: nothing of it is still to come
        session.info.pop(AWAITING_ID, None)
        session.info.pop(PENDING, None)
