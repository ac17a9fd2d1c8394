"""Opaque keyset cursors: (timestamp, id) pairs, stable while new rows arrive."""

import base64
import json
from datetime import datetime


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
