"""Plays as a field user sees them: the five questions and whether their role may run it."""

from dataclasses import dataclass

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Barrier, Play, Role


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
