"""The suggestion index, built from the library and the notes of confirmed captures."""

import math
import time
from threading import Lock

from flask import current_app
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from ..cache import in_background
from ..extensions import db
from ..models import Barrier, Observation, Play, observation_barrier
from .documents import document_for
from .ranker import Index

EXAMPLES_PER_BARRIER = 50
# Only the most recent noted captures teach the ranker: bounded work however big the table.
EXAMPLE_WINDOW = 20_000
_lock = Lock()


def _freshness_key():
    """Changes when the library or the confirmed notes change; every part is read off an index."""
    barriers = db.session.execute(
        db.select(func.count(Barrier.id), func.count(Barrier.retired_at))
    ).one()
    newest_play = db.session.scalar(db.select(func.max(Play.id)))
    newest_note = db.session.scalar(
        db.select(func.max(Observation.id)).where(Observation.note != ""))
    return (*barriers, newest_play, newest_note)


def _examples() -> dict[str, list[str]]:
    """The latest notes confirmed for each barrier: how the field describes it."""
    recent = (
        db.select(Observation.id, Observation.note)
        .where(Observation.note != "")
        .order_by(Observation.id.desc())
        .limit(EXAMPLE_WINDOW)
        .subquery()
    )
    rows = db.session.execute(
        db.select(Barrier.code, recent.c.note)
        .join(observation_barrier, observation_barrier.c.barrier_id == Barrier.id)
        .join(recent, recent.c.id == observation_barrier.c.observation_id)
        .order_by(recent.c.id.desc())
    )
    examples: dict[str, list[str]] = {}
    for code, note in rows:
        bucket = examples.setdefault(code, [])
        if len(bucket) < EXAMPLES_PER_BARRIER:
            bucket.append(note)
    return examples


def build_index() -> Index:
    barriers = db.session.scalars(
        db.select(Barrier)
        .where(Barrier.retired_at.is_(None))
        .options(selectinload(Barrier.plays), selectinload(Barrier.category),
                 selectinload(Barrier.journey_stage))
        .order_by(Barrier.code)
    )
    documents = [
        document_for(b.code, b.name, b.description, b.signals, b.play.title if b.play else "",
                     b.play.goal if b.play else "", b.category.name, b.journey_stage.name)
        for b in barriers
    ]
    return Index.build(documents, _examples())


def current_index() -> Index:
    """The index for the library as it is now: rebuilt only when something changed, and looked
    at no more often than every SUGGEST_REFRESH_SECONDS (60 by default, 0 under TESTING), so a
    suggestion costs no query at all in between. Only the first build is waited for: later
    ones run in the background while the current index keeps answering (a rebuild reads up to
    20,000 notes, a few hundred ms that no rep's keystroke should wait for)."""
    state = current_app.extensions.setdefault(
        "clearpath_suggest",
        {"key": None, "index": None, "checked": -math.inf, "refreshing": False})
    default = 0 if current_app.testing else 60
    every = float(current_app.config.get("SUGGEST_REFRESH_SECONDS", default))
    with _lock:
        now = time.monotonic()
        if state["index"] is not None and (now - state["checked"] < every or state["refreshing"]):
            return state["index"]
        state["checked"] = now
        if state["index"] is not None and every > 0:
            state["refreshing"] = True
            in_background(lambda: _refresh(state))
            return state["index"]
    _refresh(state)
    return state["index"]


def _refresh(state: dict) -> None:
    """Rebuild the index if the library or the notes changed since it was built."""
    try:
        key = _freshness_key()
        if key != state["key"]:
            index = build_index()
            with _lock:
                state["index"], state["key"] = index, key
    finally:
        state["refreshing"] = False


def suggest(text: str, limit: int = 5) -> list[dict]:
    return [
        {"code": code, "name": name, "score": score}
        for code, name, score in current_index().rank(text, limit=limit)
    ]
