"""Plays as a field user sees them: the five questions and whether their role may run it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import selectinload

from ..audit import record
from ..extensions import db
from ..models import (
    OUTCOME_AFTER_DAYS,
    OUTCOMES,
    Barrier,
    Handoff,
    Observation,
    Play,
    PlayRun,
    Role,
    User,
    utcnow,
)
from ..scope import in_scope, scoped


@dataclass
class PlayCard:
    barrier: Barrier
    play: Play | None
    may_run: bool
    lead_role: str
    allowed_roles: list[str]
    tell_roles: list[str]

    @property
    def handoff_message(self) -> str:
        return f"Your role may not run this play: hand this to your {self.lead_role}."


def role_names() -> dict[str, str]:
    names = {code: name for code, name in db.session.execute(db.select(Role.code, Role.name))}
    names.setdefault("admin", "Administrator")
    return names


def play_cards(barriers: list[Barrier], role: str) -> list[PlayCard]:
    """One card per barrier with its play, saying plainly when `role` must hand it on."""
    names = role_names()
    return [
        PlayCard(
            barrier=barrier,
            play=barrier.play,
            may_run=barrier.may_be_run_by(role),
            lead_role=names.get(barrier.primary_role_code, barrier.primary_role_code),
            allowed_roles=[names.get(code, code) for code in barrier.compliant_for],
            tell_roles=[names.get(code, code) for code in (barrier.play.tell if barrier.play else [])],
        )
        for barrier in barriers
    ]


def barrier_with_play(code: str) -> Barrier | None:
    return db.session.scalar(
        db.select(Barrier)
        .where(Barrier.code == code)
        .options(selectinload(Barrier.play).selectinload(Play.leave_behind))
    )


# Plays in motion ------------------------------------------------------------------------------
class PlayError(ValueError):
    """The play cannot be run or handed on like this; the message says why."""


def _barrier_of(observation: Observation, code: str) -> Barrier:
    for barrier in observation.barriers:
        if barrier.code == code:
            return barrier
    raise PlayError("This barrier was not logged in this observation.")


def run_play(user: User, observation: Observation, code: str, ran_at: datetime,
             channel: str, leave_behind: str) -> PlayRun:
    """Record that `user` ran the barrier's play; only roles the play is compliant for may."""
    barrier = _barrier_of(observation, code)
    if not barrier.may_be_run_by(user.role):
        raise PlayError("Your role may not run this play; hand it on instead.")
    if ran_at < observation.observed_at - timedelta(minutes=1):
        raise PlayError("A play cannot run before its barrier was observed.")
    run = PlayRun(
        observation=observation, barrier=barrier, runner=user, runner_role=user.role,
        ran_at=ran_at, channel_code=channel, leave_behind=leave_behind,
        outcome_due_at=ran_at + timedelta(days=OUTCOME_AFTER_DAYS),
    )
    db.session.add(run)
    open_handoff = db.session.scalar(
        db.select(Handoff).where(Handoff.observation_id == observation.id,
                                 Handoff.barrier_id == barrier.id,
                                 Handoff.status.in_(("open", "accepted")))
    )
    if open_handoff is not None:
        open_handoff.status, open_handoff.play_run, open_handoff.owner = "run", run, user
        open_handoff.updated_at = utcnow()
    db.session.flush()
    record("play_run", actor=user, entity="play_run", entity_id=run.id,
           observation=observation.id, barrier=code)
    db.session.commit()
    return run


def hand_off(user: User, observation: Observation, code: str, to_role: str | None = None) -> Handoff:
    """Hand the play to the role that leads it (or `to_role`) in the HCP's territory."""
    barrier = _barrier_of(observation, code)
    to_role = to_role or barrier.primary_role_code
    if to_role not in barrier.compliant_for:
        raise PlayError("That role may not run this play.")
    existing = db.session.scalar(
        db.select(Handoff).where(Handoff.observation_id == observation.id,
                                 Handoff.barrier_id == barrier.id,
                                 Handoff.status.in_(("open", "accepted")))
    )
    if existing is not None:
        return existing
    handoff = Handoff(observation=observation, barrier=barrier, from_user_id=user.id,
                      to_role=to_role, territory_id=observation.territory_id)
    db.session.add(handoff)
    db.session.flush()
    record("handoff_created", actor=user, entity="handoff", entity_id=handoff.id,
           to_role=to_role, barrier=code)
    db.session.commit()
    return handoff


def queue_for(user: User) -> list[Handoff]:
    """Hand-offs waiting for the user's role in their territories, oldest first."""
    query = db.select(Handoff).where(Handoff.to_role == user.role,
                                     Handoff.status.in_(("open", "accepted")))
    query = scoped(query, user, Handoff.territory_id).order_by(Handoff.created_at)
    return list(db.session.scalars(query))


def visible_handoff(user: User, handoff_id: int) -> Handoff | None:
    handoff = db.session.get(Handoff, handoff_id)
    if handoff is None or handoff.to_role != user.role or not in_scope(user, handoff.territory_id):
        return None
    return handoff


def accept_handoff(user: User, handoff: Handoff) -> None:
    if handoff.status != "open":
        raise PlayError("Only an open hand-off can be accepted.")
    handoff.status, handoff.owner, handoff.updated_at = "accepted", user, utcnow()
    record("handoff_accepted", actor=user, entity="handoff", entity_id=handoff.id)
    db.session.commit()


def return_handoff(user: User, handoff: Handoff, reason: str) -> None:
    if not reason.strip():
        raise PlayError("Say why you are sending it back.")
    if handoff.status not in ("open", "accepted"):
        raise PlayError("This hand-off is already closed.")
    handoff.status, handoff.reason = "returned", reason.strip()[:500]
    handoff.owner, handoff.updated_at = user, utcnow()
    record("handoff_returned", actor=user, entity="handoff", entity_id=handoff.id)
    db.session.commit()


def record_outcome(user: User, run: PlayRun, outcome: str) -> None:
    if run.runner_id != user.id:
        raise PlayError("Only whoever ran the play records whether it worked.")
    if outcome not in OUTCOMES:
        raise PlayError("Choose resolved, partly, not resolved or too early to tell.")
    run.outcome, run.outcome_at = outcome, utcnow()
    record("play_outcome", actor=user, entity="play_run", entity_id=run.id, outcome=outcome)
    db.session.commit()


def outcomes_due(user: User, now: datetime | None = None) -> list[PlayRun]:
    """The user's runs whose outcome is due and not yet recorded."""
    now = now or utcnow()
    query = db.select(PlayRun).where(PlayRun.runner_id == user.id, PlayRun.outcome.is_(None),
                                     PlayRun.outcome_due_at <= now).order_by(PlayRun.ran_at)
    return list(db.session.scalars(query))


def where_it_stands(observation: Observation) -> dict[int, dict]:
    """Per barrier id: its runs and hand-offs, for the author to see where things stand."""
    status: dict[int, dict] = {b.id: {"runs": [], "handoffs": []} for b in observation.barriers}
    for run in db.session.scalars(db.select(PlayRun).where(PlayRun.observation_id == observation.id)):
        status[run.barrier_id]["runs"].append(run)
    for handoff in db.session.scalars(
        db.select(Handoff).where(Handoff.observation_id == observation.id)
    ):
        status[handoff.barrier_id]["handoffs"].append(handoff)
    return status
