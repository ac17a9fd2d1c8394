"""Sync: every item of a batch on its own through the one write path; a stable stream out."""

import uuid
from datetime import timedelta

from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from ..capture.schemas import OBSERVATION
from ..capture.services import BatchLookups, insert_links, record_observation
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


# Items committed together: few enough that a group's transaction stays far shorter than the
# settle window (SYNC_SETTLE_SECONDS) a reader waits before trusting the newest items.
GROUP_SIZE = 50


def sync_batch(author: User, items: list) -> list[dict]:
    """Store each observation of a batch independently; one bad item never blocks the rest.

    Items are written in groups, one transaction each: a rejected item adds nothing, so the
    rest of its group still commits. If another request stores one of the group's ids
    meanwhile (a second device replaying the same outbox), the group is rolled back and
    written again an item at a time, each on its own commit, so that id answers `duplicate`.
    """
    results = []
    # The author and library rows loaded for the first group stay valid after its commit.
    session = db.session()
    session.expire_on_commit = False
    lookups = None
    try:
        for start in range(0, len(items), GROUP_SIZE):
            group = items[start : start + GROUP_SIZE]
            try:
                lookups = _lookups_for(author, group, lookups)
                # Stored by one flush at the end: on SQLite the first write takes the
                # database's only write lock, held until the commit.
                with db.session.no_autoflush:
                    outcome = [_sync_one(author, item, lookups, commit=False)
                               for item in group]
                insert_links(lookups)
                db.session.commit()
            except (IntegrityError, OperationalError):
                # A concurrent insert of one of these ids, or a deadlock with the request
                # that is inserting them: nothing of this group is stored; one at a time.
                db.session.rollback()
                lookups = _lookups_for(author, group)
                outcome = [_sync_one(author, item, lookups) for item in group]
            results.extend(outcome)
    finally:
        session.expire_on_commit = True
    return results


def _lookups_for(author: User, items: list, known: BatchLookups | None = None) -> BatchLookups:
    """What the items name, looked up at once: their ids (those not stored yet need no look-up
    each), HCPs, barriers with their plays, and brands. `known` lends what earlier groups found."""
    ids = {canonical for item in items if (canonical := _canonical_id(item))}
    found = set(db.session.scalars(db.select(Observation.id).where(Observation.id.in_(ids))))
    lookups = BatchLookups(absent_ids=ids - found)
    if known is not None:
        lookups.barriers, lookups.brands, lookups.hcps = known.barriers, known.brands, known.hcps
    named: dict[str, set[str]] = {"hcp": set(), "barriers": set(), "brand": set()}
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, values in named.items():
            value = item.get(key)
            for one in (value if isinstance(value, list) else [value]):
                if isinstance(one, str) and 0 < len(one) <= 100:
                    values.add(one)
    lookups.prefetch(author, named["hcp"], named["barriers"], named["brand"])
    return lookups


def _sync_one(author: User, item, lookups: BatchLookups, commit: bool = True) -> dict:
    """One item through the one write path: created, duplicate, or rejected with its reasons.
    A rejected item has added nothing to the session, so a group's transaction goes on."""
    result = {"id": _client_id(item), "status": REJECTED, "errors": {}}
    try:
        if not isinstance(item, dict):
            raise ValidationError({"_item": ["Each observation must be a JSON object."]})
        data = OBSERVATION.load(item)
        _, status = record_observation(author, data, lookups, commit=commit)
        # The client's id is the observation's: no reload of the committed row.
        result.update(id=str(data["id"]), status=status)
    except ValidationError as error:
        if commit:
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
