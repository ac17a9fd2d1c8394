"""The append-only audit trail: every write records who did what, in the same transaction."""

from flask import has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEvent, User

# Events waiting for their row's id: (row, action, actor id, entity, detail), per session.
AWAITING_ID = "clearpath_audit_awaiting_id"


def record(action: str, actor: User | None = None, entity: str = "", entity_id="", **detail):
    """Add an audit event to the current transaction; the caller commits it with the write."""
    event = AuditEvent(action=action, actor_id=actor.id if actor is not None else None,
                       entity=entity, entity_id=str(entity_id), detail=_with_origin(detail))
    db.session.add(event)
    return event


def record_once_stored(row, action: str, actor: User | None = None, entity: str = "",
                       **detail) -> None:
    """`record` for a row just added whose id the database assigns: the event is added, in the
    same transaction, by the flush that stores the row, so a batch need not flush once per
    row to learn its id (a flush in a loop also takes SQLite's write lock early)."""
    db.session.info.setdefault(AWAITING_ID, []).append(
        (row, action, actor.id if actor is not None else None, entity, _with_origin(detail)))


def _with_origin(detail: dict) -> dict:
    if has_request_context():
        detail.setdefault("ip", request.remote_addr or "")
    return detail


@event.listens_for(Session, "after_flush_postexec")
def _record_stored(session, flush_context) -> None:
    """Add the events whose rows this flush stored; commit flushes again until nothing is left,
    so they are stored in the same transaction."""
    awaiting = session.info.pop(AWAITING_ID, None)
    for row, action, actor_id, entity, detail in awaiting or ():
        if inspect(row).persistent:
            session.add(AuditEvent(action=action, actor_id=actor_id, entity=entity,
                                   entity_id=str(row.id), detail=detail))
        else:  # not flushed yet (it was added after this flush began): the next flush
            session.info.setdefault(AWAITING_ID, []).append(
                (row, action, actor_id, entity, detail))


@event.listens_for(Session, "after_transaction_end")
def _forget_awaiting(session, transaction) -> None:
    if transaction.parent is None:  # rolled back or committed: nothing of it is still to come
        session.info.pop(AWAITING_ID, None)
