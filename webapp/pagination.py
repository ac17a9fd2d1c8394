"""Keyset pagination: pages that neither skip nor repeat rows while new ones arrive."""

import base64
import json
from datetime import datetime

from sqlalchemy import bindparam, tuple_

from .extensions import db
from .models import Observation


def encode_cursor(at: datetime, row_id: str) -> str:
    raw = json.dumps([at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not isinstance(row_id, str):
            return None
        return parsed, row_id
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def cursor_of(observation: Observation) -> str:
    return encode_cursor(observation.received_at, observation.id)


def newer_rows(at, row_id):
    """The condition for rows received after (at, row_id), in (received_at, id) order. The
    values may be bound parameters (`CURSOR`), given when the statement runs."""
    # One row-value comparison: both databases seek the (…, received_at, id) indexes with it
    # (PostgreSQL as an index condition, SQLite as a range). Written with OR, it needed a
    # redundant `received_at >= at` for PostgreSQL not to scan the index (4.1 s against 38 ms
    # for a deep page at 1M rows).
    return _KEY > _key_of(at, row_id)


def older_rows(at, row_id):
    """The condition for rows received before (at, row_id), in (received_at, id) order."""
    return _KEY < _key_of(at, row_id)


_KEY = tuple_(Observation.received_at, Observation.id)


def _key_of(at, row_id):
    # Typed as the columns, so the cursor's time is bound as the column stores it (in UTC).
    return tuple_(at, row_id, types=[Observation.received_at.type, Observation.id.type])


# A cursor left for execution time: a statement built once serves every page.
CURSOR = (bindparam("cursor_at", type_=Observation.__table__.c.received_at.type),
          bindparam("cursor_id", type_=Observation.__table__.c.id.type))


def cursor_params(cursor: str) -> dict:
    """The values of `CURSOR` for a (valid) cursor."""
    at, row_id = decode_cursor(cursor)
    return {"cursor_at": at, "cursor_id": row_id}


def received_after(query, cursor: str | None):
    """Observations received after the cursor's row, in (received_at, id) order."""
    return query.where(newer_rows(*decode_cursor(cursor))) if cursor else query


def page_by_key(query, key_column, cursor: str, limit: int) -> tuple[list, str | None]:
    """One page of rows ordered by a unique text key, and the key to continue after."""
    if cursor:
        query = query.where(key_column > cursor)
    rows = list(db.session.scalars(query.order_by(key_column).limit(limit + 1)))
    items = rows[:limit]
    has_more = len(rows) > limit
    return items, (getattr(items[-1], key_column.key) if has_more else None)
