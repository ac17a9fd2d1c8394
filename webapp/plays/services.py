"""Plays as a field user sees them: the five questions and whether their role may run it."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, g
from sqlalchemy.orm import selectinload

from ..audit import record, record_once_stored
from ..cache import insight_cache
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
    observation_barrier,
    utcnow,
)
from ..scope import in_scope, scoped

# Next best play -----------------------------------------------------------------------------
# Beta-Binomial shrinkage, not Thompson sampling: a rep and an auditor must see the same
# recommendation for the same evidence, every time, and the evidence shown must explain it.
# Exploration comes from the prior instead: a new play starts at PRIOR_MEAN, so it outranks any
# play measured below that until its own outcomes say otherwise.
PRIOR_MEAN = 0.5  # a play nobody has judged yet is assumed to work half the time
PRIOR_WEIGHT = 2  # ... with the weight of two outcomes (Beta(1, 1))
# Outcomes in the same context (segment and brand) move the estimate away from the play's
# overall rate with this weight in outcomes: five matching outcomes count as much as all the rest.
CONTEXT_WEIGHT = 5


@dataclass(frozen=True)
class PlayContext:
    """Where a barrier was observed: what similar outcomes are looked for."""

    brand_id: int | None = None
    brand_name: str = ""
    segment: str = ""

    @classmethod
    def of(cls, observation: Observation) -> "PlayContext":
        return cls(brand_id=observation.brand_id,
                   brand_name=observation.brand.name if observation.brand else "",
                   segment=observation.hcp.segment or "")

    @property
    def label(self) -> str:
        parts = [f"{self.segment} HCPs" if self.segment else "", self.brand_name]
        return " on ".join(part for part in parts if part) or "all HCPs"


@dataclass
class RankedPlay:
    play: Play
    score: float
    resolved: int = 0  # in this context
    judged: int = 0
    all_resolved: int = 0  # anywhere
    all_judged: int = 0
    context: str = ""

    @property
    def evidence(self) -> str:
        if self.judged:
            return f"worked {self.resolved} of {self.judged} times with {self.context}"
        if self.all_judged:
            return (f"worked {self.all_resolved} of {self.all_judged} times overall; "
                    f"not yet judged with {self.context}")
        return "new play: no outcome recorded yet"


def _estimate(resolved: int, judged: int, prior: float, weight: float) -> float:
    return (resolved + weight * prior) / (judged + weight)


def rank_plays(barrier: Barrier, context: PlayContext | None = None,
               today: date | None = None) -> list[RankedPlay]:
    """The barrier's offered plays, best first by measured success in a similar context."""
    from ..metrics.services import judged_outcomes

    offered = barrier.offered_plays(today)
    if not offered:
        return []
    context = context or PlayContext()
    lineages = {play.lineage for play in offered}
    counts = {lineage: [0, 0, 0, 0] for lineage in lineages}  # resolved, judged; in context
    evidence = insight_cache().get_or_set(
        ("evidence", barrier.id, frozenset(lineages)),
        lambda: judged_outcomes(barrier.id, lineages))
    for row in evidence:
        tally = counts[row.lineage]
        if row.outcome in ("resolved", "partly", "not_resolved"):
            resolved = row.runs if row.outcome == "resolved" else 0
            tally[0] += resolved
            tally[1] += row.runs
            if ((not context.segment or row.segment == context.segment)
                    and (context.brand_id is None or row.brand_id == context.brand_id)):
                tally[2] += resolved
                tally[3] += row.runs
    ranked = []
    for play in offered:
        all_resolved, all_judged, resolved, judged = counts[play.lineage]
        overall = _estimate(all_resolved, all_judged, PRIOR_MEAN, PRIOR_WEIGHT)
        ranked.append(RankedPlay(play=play, score=_estimate(resolved, judged, overall, CONTEXT_WEIGHT),
                                 resolved=resolved, judged=judged, all_resolved=all_resolved,
                                 all_judged=all_judged, context=context.label))
    # Ties keep the library's own play first (offered_plays' order; sorted() is stable).
    return sorted(ranked, key=lambda r: -r.score)


def next_best_play(barrier: Barrier, context: PlayContext | None = None) -> Play | None:
    offered = barrier.offered_plays()
    if len(offered) < 2:  # nothing to rank: spare the evidence queries on the write path
        return offered[0] if offered else None
    ranked = rank_plays(barrier, context)
    return ranked[0].play if ranked else None


# Play cards -----------------------------------------------------------------------------------
@dataclass
class PlayCard:
    barrier: Barrier
    play: Play | None
    may_run: bool
    lead_role: str
    allowed_roles: list[str]
    tell_roles: list[str]
    ranked: list[RankedPlay] = field(default_factory=list)
    # Set when the version given at capture was since superseded, withdrawn or expired.
    given_note: str = ""

    @property
    def handoff_message(self) -> str:
        return f"Your role may not run this play: hand this to your {self.lead_role}."

    @property
    def evidence(self) -> str:
        for candidate in self.ranked:
            if candidate.play is self.play:
                return candidate.evidence
        return ""

    @property
    def alternatives(self) -> list[RankedPlay]:
        return [candidate for candidate in self.ranked if candidate.play is not self.play]


def role_names() -> dict[str, str]:
    """The library's name for each role code (reference data: read once a minute)."""
    def read() -> dict[str, str]:
        names = {code: name for code, name in db.session.execute(db.select(Role.code, Role.name))}
        names.setdefault("admin", "Administrator")
        return names

    return insight_cache().get_or_set(("role-names",), read)


def role_label(code: str) -> str:
    """The library's name for a role code (read once per request); the code, spaced, for a
    role it does not name."""
    if "role_names" not in g:
        g.role_names = role_names()
    return g.role_names.get(code) or code.replace("_", " ")


def _card(barrier: Barrier, play: Play | None, role: str, names: dict, ranked=(),
          given_note: str = "") -> PlayCard:
    return PlayCard(
        barrier=barrier,
        play=play,
        may_run=barrier.may_be_run_by(role),
        lead_role=names.get(barrier.primary_role_code, barrier.primary_role_code),
        allowed_roles=[names.get(code, code) for code in barrier.compliant_for],
        tell_roles=[names.get(code, code) for code in (play.tell if play else [])],
        ranked=list(ranked),
        given_note=given_note,
    )


def play_cards(barriers: list[Barrier], role: str) -> list[PlayCard]:
    """One card per barrier with its default play, saying plainly when `role` must hand it on."""
    names = role_names()
    return [_card(barrier, barrier.play, role, names) for barrier in barriers]


def given_plays(observation: Observation) -> dict[int, Play | None]:
    """Per barrier id, the play version the author was given when the call was logged."""
    rows = db.session.execute(
        db.select(observation_barrier.c.barrier_id, observation_barrier.c.play_id)
        .where(observation_barrier.c.observation_id == observation.id)
    )
    return {barrier_id: db.session.get(Play, play_id) if play_id else None
            for barrier_id, play_id in rows}


def observation_cards(observation: Observation, role: str) -> list[PlayCard]:
    """The plays of a logged call: the version given then, unless it may no longer be offered."""
    names = role_names()
    given = given_plays(observation)
    context = PlayContext.of(observation)
    cards = []
    for barrier in observation.barriers:
        ranked = rank_plays(barrier, context)
        play, note = _play_to_use(given.get(barrier.id), ranked)
        cards.append(_card(barrier, play, role, names, ranked, note))
    return cards


def _play_to_use(given: Play | None, ranked: list[RankedPlay]) -> tuple[Play | None, str]:
    if given is not None and given.is_offered():
        return given, ""
    best = ranked[0].play if ranked else None
    if given is None:
        return best, ""
    return best, (f"The play given with this call (“{given.title}”, version {given.version}) "
                  f"is {_no_longer(given)}; " + ("this is the play to use now." if best
                                                  else "no other play is approved yet."))


def play_for(observation: Observation, barrier: Barrier) -> Play | None:
    """The play to run now for a barrier of a logged call."""
    given = given_plays(observation).get(barrier.id)
    return _play_to_use(given, rank_plays(barrier, PlayContext.of(observation)))[0]


def _no_longer(play: Play) -> str:
    if play.status == "superseded":
        return "superseded by a newer approved version"
    if play.status == "approved":
        return "past its expiry date"
    return play.status


def barrier_with_play(code: str) -> Barrier | None:
    return db.session.scalar(
        db.select(Barrier)
        .where(Barrier.code == code)
        .options(selectinload(Barrier.plays).selectinload(Play.leave_behind_version))
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
    play = play_for(observation, barrier)
    if play is None:
        raise PlayError("This barrier has no approved play to run.")
    run = PlayRun(
        observation=observation, barrier=barrier, play=play, runner=user, runner_role=user.role,
        ran_at=ran_at, channel_code=channel, leave_behind=leave_behind,
        outcome_due_at=ran_at + timedelta(
            days=current_app.config.get("OUTCOME_AFTER_DAYS", OUTCOME_AFTER_DAYS)),
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
           observation=observation.id, barrier=code, play=play.lineage, version=play.version)
    db.session.commit()
    return run


def hand_off(user: User, observation: Observation, code: str, to_role: str | None = None,
             commit: bool = True, new_observation: bool = False) -> Handoff:
    """Hand the play to the role that leads it (or `to_role`) in the HCP's territory; with
    `commit=False` it joins the caller's transaction. An observation being stored
    (`new_observation`) has no hand-off yet to look for."""
    barrier = _barrier_of(observation, code)
    to_role = to_role or barrier.primary_role_code
    if to_role not in barrier.compliant_for:
        raise PlayError("That role may not run this play.")
    existing = None if new_observation else db.session.scalar(
        db.select(Handoff).where(Handoff.observation_id == observation.id,
                                 Handoff.barrier_id == barrier.id,
                                 Handoff.status.in_(("open", "accepted")))
    )
    if existing is not None:
        return existing
    handoff = Handoff(observation=observation, barrier=barrier, from_user_id=user.id,
                      to_role=to_role, territory_id=observation.territory_id)
    db.session.add(handoff)
    record_once_stored(handoff, "handoff_created", actor=user, entity="handoff",
                       to_role=to_role, barrier=code)
    if commit:
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
