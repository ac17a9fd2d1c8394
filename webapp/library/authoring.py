"""HQ authoring of the library: barriers edited in place, plays and leave-behinds versioned.

A play version is what MLR approves: its five answers and its leave-behind together. Approved
content is never edited; an edit starts a new draft version, and approving that draft
supersedes the version before it. Observations keep pointing at the version they were given.
Approval needs a second person: whoever wrote a version may not approve it.
"""

from datetime import date

from sqlalchemy import func
from sqlalchemy.orm import selectinload

from ..audit import record
from ..extensions import db
from ..models import (
    Barrier,
    Category,
    LeaveBehind,
    Play,
    User,
    utcnow,
)


class AuthoringError(ValueError):
    """The change is not allowed; the message says why, for the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.errors = {field: [message]}


BARRIER_FIELDS = ("name", "description", "category_code", "journey_stage_code",
                  "adoption_stages", "signals", "primary_role_code", "compliant_for")
PLAY_FIELDS = ("title", "goal", "channel_code", "know", "use", "tell", "approval_code",
               "expires_on")


def library_barriers(q: str = "", category: str = "") -> list[Barrier]:
    query = (
        db.select(Barrier)
        .options(selectinload(Barrier.plays), selectinload(Barrier.category))
        .order_by(Barrier.code)
    )
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(func.lower(Barrier.name).like(pattern)
                            | func.lower(Barrier.code).like(pattern))
    if category:
        query = query.where(Barrier.category_code == category)
    return list(db.session.scalars(query))


def find_barrier(code: str) -> Barrier | None:
    return db.session.scalar(
        db.select(Barrier).where(Barrier.code == code)
        .options(selectinload(Barrier.plays).selectinload(Play.leave_behind_version))
    )


def lineages(barrier: Barrier) -> list[list[Play]]:
    """The barrier's plays grouped by lineage, the library's own first; newest version first."""
    groups: dict[str, list[Play]] = {}
    for play in barrier.plays:
        groups.setdefault(play.lineage, []).append(play)
    ordered = sorted(groups.items(), key=lambda item: (item[0] != barrier.code, item[0]))
    return [sorted(versions, key=lambda p: -p.version) for _, versions in ordered]


def create_barrier(user: User, data: dict) -> Barrier:
    code = data["code"].upper()
    if db.session.scalar(db.select(Barrier.id).where(Barrier.code == code)) is not None:
        raise AuthoringError("code", f"A barrier with code {code} already exists.")
    barrier = Barrier(code=code, **{name: data[name] for name in BARRIER_FIELDS})
    db.session.add(barrier)
    db.session.flush()
    record("barrier_created", actor=user, entity="barrier", entity_id=code)
    db.session.commit()
    return barrier


def update_barrier(user: User, barrier: Barrier, data: dict) -> None:
    changes = {}
    for name in BARRIER_FIELDS:
        if getattr(barrier, name) != data[name]:
            changes[name] = [_plain(getattr(barrier, name)), _plain(data[name])]
            setattr(barrier, name, data[name])
    if changes:
        record("barrier_updated", actor=user, entity="barrier", entity_id=barrier.code,
               changes=changes)
    db.session.commit()


def set_retired(user: User, barrier: Barrier, retired: bool) -> None:
    barrier.retired_at = utcnow() if retired else None
    record("barrier_retired" if retired else "barrier_restored", actor=user, entity="barrier",
           entity_id=barrier.code)
    db.session.commit()


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _next_lineage(barrier: Barrier) -> str:
    taken = {play.lineage for play in barrier.plays}
    number = 2
    while f"{barrier.code}-P{number}" in taken:
        number += 1
    return f"{barrier.code}-P{number}"


def _apply_play(play: Play, data: dict) -> None:
    for name in PLAY_FIELDS:
        setattr(play, name, data[name])
    lb = play.leave_behind_version
    if data.get("lb_title"):
        if lb is None:
            lb = LeaveBehind(play=play)
            db.session.add(lb)
        lb.title = data["lb_title"]
        lb.steps = data["lb_steps"]
        lb.approval_code = data["lb_approval_code"] or data["approval_code"]
        lb.expires_on = data["lb_expires_on"]
        lb.status = play.status
    elif lb is not None:
        play.leave_behind_version = None
        db.session.delete(lb)


def create_play(user: User, barrier: Barrier, data: dict) -> Play:
    """A new alternative play for the barrier: version 1 of a new lineage, as a draft."""
    play = Play(barrier=barrier, lineage=_next_lineage(barrier), version=1, status="draft",
                created_by=user)
    db.session.add(play)
    _apply_play(play, data)
    db.session.flush()
    record("play_created", actor=user, entity="play", entity_id=play.id, barrier=barrier.code,
           lineage=play.lineage, version=1)
    db.session.commit()
    return play


def edit_play(user: User, play: Play, data: dict) -> Play:
    """Change a play: a draft in place; anything else becomes a new draft version."""
    if play.status == "draft":
        _apply_play(play, data)
        play.created_by = user
        record("play_updated", actor=user, entity="play", entity_id=play.id,
               lineage=play.lineage, version=play.version)
        db.session.commit()
        return play
    newest = db.session.scalar(db.select(func.max(Play.version)).where(Play.lineage == play.lineage))
    if any(p.lineage == play.lineage and p.status == "draft" for p in play.barrier.plays):
        raise AuthoringError("_form", "This play already has a draft: edit that one.")
    draft = Play(barrier=play.barrier, lineage=play.lineage, version=newest + 1, status="draft",
                 created_by=user)
    db.session.add(draft)
    _apply_play(draft, data)
    db.session.flush()
    record("play_created", actor=user, entity="play", entity_id=draft.id,
           barrier=play.barrier.code, lineage=draft.lineage, version=draft.version,
           from_version=play.version)
    db.session.commit()
    return draft


def approve_play(user: User, play: Play, today: date | None = None) -> None:
    """MLR approval: a second person, an approval code, an expiry in the future."""
    today = today or utcnow().date()
    if play.status != "draft":
        raise AuthoringError("_form", "Only a draft can be approved.")
    if play.created_by_id == user.id:
        raise AuthoringError("_form", "Someone other than its author must approve a play.")
    if not play.approval_code.strip():
        raise AuthoringError("approval_code", "Enter the MLR approval code before approving.")
    if play.expires_on is None or play.expires_on <= today:
        raise AuthoringError("expires_on", "Give an expiry date in the future before approving.")
    lb = play.leave_behind_version
    if lb is not None and lb.expires_on is not None and lb.expires_on <= today:
        raise AuthoringError("lb_expires_on", "The leave-behind's expiry date has passed.")
    for other in play.barrier.plays:
        if other.lineage == play.lineage and other.status == "approved":
            other.status = "superseded"
            if other.leave_behind_version is not None:
                other.leave_behind_version.status = "superseded"
    play.status = "approved"
    if lb is not None:
        lb.status = "approved"
    record("play_approved", actor=user, entity="play", entity_id=play.id,
           lineage=play.lineage, version=play.version, approval_code=play.approval_code)
    db.session.commit()


def withdraw_play(user: User, play: Play) -> None:
    if play.status not in ("draft", "approved"):
        raise AuthoringError("_form", "This version is already out of use.")
    play.status = "withdrawn"
    if play.leave_behind_version is not None:
        play.leave_behind_version.status = "withdrawn"
    record("play_withdrawn", actor=user, entity="play", entity_id=play.id,
           lineage=play.lineage, version=play.version)
    db.session.commit()


def withdraw_leave_behind(user: User, play: Play) -> None:
    """Take a handout out of use while its play stays offered."""
    lb = play.leave_behind_version
    if lb is None or lb.status != "approved":
        raise AuthoringError("_form", "This play has no approved leave-behind.")
    lb.status = "withdrawn"
    record("leave_behind_withdrawn", actor=user, entity="play", entity_id=play.id,
           lineage=play.lineage, version=play.version)
    db.session.commit()


def categories() -> list[Category]:
    return list(db.session.scalars(db.select(Category).order_by(Category.position)))
