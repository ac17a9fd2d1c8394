"""Sync: every item of a batch on its own through the one write path; a stable stream out."""

import uuid
from datetime import timedelta

from marshmallow import ValidationError

from ..capture.schemas import ObservationSchema
from ..capture.services import BatchLookups, record_observation
from ..extensions import db
from ..feed.services import with_details
from ..models import Observation, User, utcnow
from ..pagination import cursor_of, received_after
from ..scope import visible_observations

REJECTED = "rejected"


def _canonical_id(item) -> str | None:
    """The item's id as it is stored (the schema's UUID, lower case), if it is one."""
    try:
        return str(uuid.UUID(item["id"]))
    except (TypeError, KeyError, ValueError, AttributeError):
        return None


def _client_id(item):
    """The id to echo back: whatever the client sent, if it is a plain value."""
    if isinstance(item, dict) and isinstance(item.get("id"), str | int):
        return item["id"]
    return None


def sync_batch(author: User, items: list) -> list[dict]:
    """Store each observation of a batch independently; one bad item never blocks the rest."""
    schema = ObservationSchema()
    results = []
    # The batch's ids are looked up at once. Each item then commits on its own; keeping the
    # loaded rows (the author, the library) valid across those commits spares reloading them.
    ids = {canonical for item in items if (canonical := _canonical_id(item))}
    found = set(db.session.scalars(db.select(Observation.id).where(Observation.id.in_(ids))))
    lookups = BatchLookups(absent_ids=ids - found)
    session = db.session()
    session.expire_on_commit = False
    try:
        for item in items:
            results.append(_sync_one(author, schema, item, lookups))
    finally:
        session.expire_on_commit = True
    return results


def _sync_one(author: User, schema: ObservationSchema, item, lookups: BatchLookups) -> dict:
    """One item through the one write path: created, duplicate, or rejected with its reasons."""
    result = {"id": _client_id(item), "status": REJECTED, "errors": {}}
    try:
        if not isinstance(item, dict):
            raise ValidationError({"_item": ["Each observation must be a JSON object."]})
        data = schema.load(item)
        _, status = record_observation(author, data, lookups)
        # The client's id is the observation's: no reload of the committed row.
        result.update(id=str(data["id"]), status=status)
    except ValidationError as error:
        db.session.rollback()
        messages = error.messages
        result["errors"] = messages if isinstance(messages, dict) else {"_item": messages}
    return result


def observations_since(user: User, cursor: str, limit: int, settle_seconds: float):
    """Observations in the user's scope received after the cursor, oldest first.

    Items younger than `settle_seconds` are held back, so a transaction that started earlier
    but commits later cannot slip in behind a cursor a client already holds.
    """
    query = visible_observations(db.select(Observation), user)
    query = query.where(Observation.received_at <= utcnow() - timedelta(seconds=settle_seconds))
    query = received_after(query, cursor).order_by(Observation.received_at, Observation.id)
    items = list(db.session.scalars(with_details(query).limit(limit)))
    next_cursor = cursor_of(items[-1]) if items else None
    return items, next_cursor
