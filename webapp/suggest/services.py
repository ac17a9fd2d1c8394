"""The suggestion index, built from the library and the notes of confirmed captures."""

from threading import Lock

from sqlalchemy import func
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Barrier, Observation, observation_barrier
from .documents import document_for
from .ranker import Index

EXAMPLES_PER_BARRIER = 50
_cache: dict = {"key": None, "index": None}
_lock = Lock()


def _freshness_key():
    """Changes when the library or the confirmed notes change; one cheap query."""
    barriers = db.session.execute(
        db.select(func.count(Barrier.id), func.count(Barrier.retired_at))
    ).one()
    notes = db.session.execute(
        db.select(func.count(Observation.id), func.max(Observation.received_at)).where(
            Observation.note != ""
        )
    ).one()
    return (db.engine.url.render_as_string(), *barriers, *notes)


def _examples() -> dict[str, list[str]]:
    """The latest notes confirmed for each barrier: how the field describes it."""
    rows = db.session.execute(
        db.select(Barrier.code, Observation.note)
        .join(observation_barrier, observation_barrier.c.barrier_id == Barrier.id)
        .join(Observation, Observation.id == observation_barrier.c.observation_id)
        .where(Observation.note != "")
        .order_by(Observation.received_at.desc())
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
    """The index for the library as it is now, rebuilt only when something changed."""
    key = _freshness_key()
    with _lock:
        if _cache["key"] != key:
            _cache["index"], _cache["key"] = build_index(), key
        return _cache["index"]


def suggest(text: str, limit: int = 5) -> list[dict]:
    return [
        {"code": code, "name": name, "score": score}
        for code, name, score in current_index().rank(text, limit=limit)
    ]
