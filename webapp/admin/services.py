"""The audit trail and every user's API tokens, as an admin sees them."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ApiToken, AuditEvent, User
from ..pagination import decode_cursor, encode_cursor

AUDIT_PAGE = 50
TOKEN_PAGE = 100
EXPORT_BATCH = 500
EXPORT_HEADER = ["id", "at", "action", "actor", "actor_role", "entity", "entity_id", "ip",
                 "detail"]


# Audit trail --------------------------------------------------------------------------------
def audit_cursor(event: AuditEvent) -> str:
    return encode_cursor(event.at, str(event.id))


def decode_audit_cursor(cursor: str) -> tuple[datetime, int] | None:
    decoded = decode_cursor(cursor)
    if decoded is None or not (decoded[1].isascii() and decoded[1].isdigit()):
        return None
    return decoded[0], int(decoded[1])


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _matching(query, filters: dict):
    """Narrow a select of audit events by the search filters (dates are whole UTC days)."""
    if filters.get("action"):
        query = query.where(AuditEvent.action == filters["action"])
    if filters.get("actor"):
        actors = db.select(User.id).where(
            func.lower(User.email).contains(filters["actor"].strip().lower(), autoescape=True))
        query = query.where(AuditEvent.actor_id.in_(actors))
    if filters.get("entity"):
        query = query.where(AuditEvent.entity == filters["entity"])
    if filters.get("entity_id"):
        query = query.where(AuditEvent.entity_id == filters["entity_id"])
    if filters.get("since"):
        query = query.where(AuditEvent.at >= _start_of(filters["since"]))
    if filters.get("until"):
        query = query.where(AuditEvent.at < _start_of(filters["until"] + timedelta(days=1)))
    return query


def _older_than(query, cursor: str | None):
    """Events after the cursor's in newest-first (at, id) order: keyset, never OFFSET."""
    decoded = decode_audit_cursor(cursor) if cursor else None
    if decoded is None:
        return query
    at, event_id = decoded
    return query.where(or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < event_id)))


def _newest_first(query):
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def audit_page(filters: dict, limit: int = AUDIT_PAGE) -> tuple[list[AuditEvent], str | None]:
    """One page of matching events, newest first, and the cursor of the next (older) page."""
    query = _older_than(_matching(db.select(AuditEvent), filters), filters.get("before"))
    query = _newest_first(query).options(joinedload(AuditEvent.actor)).limit(limit + 1)
    events = list(db.session.scalars(query))
    older = audit_cursor(events[limit - 1]) if len(events) > limit else None
    return events[:limit], older


def audit_actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def export_rows(filters: dict) -> Iterator[list]:
    """Every matching event as a CSV row, newest first, read in keyset batches."""
    cursor = None
    while True:
        query = _older_than(_matching(db.select(AuditEvent, User.email, User.role), filters), cursor)
        query = _newest_first(query.outerjoin(User, AuditEvent.actor_id == User.id))
        batch = db.session.execute(query.limit(EXPORT_BATCH)).all()
        for event, email, role in batch:
            detail = dict(event.detail or {})
            ip = detail.pop("ip", "")
            yield [event.id, event.at.isoformat(), event.action, email or "", role or "",
                   event.entity, event.entity_id, ip,
                   json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)]
            db.session.expunge(event)  # a long export must not grow the session without bound
        if len(batch) < EXPORT_BATCH:
            return
        cursor = audit_cursor(batch[-1][0])


# API tokens ---------------------------------------------------------------------------------
def tokens_page(q: str = "", before: int | None = None,
                limit: int = TOKEN_PAGE) -> tuple[list[ApiToken], int | None]:
    """Every user's tokens, newest first, optionally for owners whose email contains `q`."""
    query = db.select(ApiToken).join(ApiToken.user).options(joinedload(ApiToken.user))
    if q:
        query = query.where(func.lower(User.email).contains(q.strip().lower(), autoescape=True))
    if before:
        query = query.where(ApiToken.id < before)
    tokens = list(db.session.scalars(query.order_by(ApiToken.id.desc()).limit(limit + 1)))
    older = tokens[limit - 1].id if len(tokens) > limit else None
    return tokens[:limit], older


def user_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
