"""The append-only audit trail: every write records who did what, in the same transaction."""

from flask import has_request_context, request

from .extensions import db
from .models import AuditEvent, User


def record(action: str, actor: User | None = None, entity: str = "", entity_id="", **detail):
    """Add an audit event to the current transaction; the caller commits it with the write."""
    if has_request_context():
        detail.setdefault("ip", request.remote_addr or "")
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        entity=entity,
        entity_id=str(entity_id),
        detail=detail,
    )
    db.session.add(event)
    return event
