"""The pharmacovigilance queue: every observation flagged as a possible adverse event."""

from dataclasses import dataclass
from datetime import datetime

from ..extensions import db
from ..feed.services import with_details
from ..models import Observation, utcnow

REPORTING_HOURS = 24


@dataclass
class SafetyItem:
    observation: Observation
    age_hours: float

    @property
    def overdue(self) -> bool:
        return self.age_hours >= REPORTING_HOURS


def safety_queue(now: datetime | None = None, limit: int = 200) -> list[SafetyItem]:
    """Flagged observations, oldest first. Every territory and author, MSLs included:
    adverse events must reach drug safety whoever heard them (no medical firewall here)."""
    now = now or utcnow()
    query = (
        db.select(Observation)
        .where(Observation.safety_flag.is_(True))
        .order_by(Observation.received_at, Observation.id)
        .limit(limit)
    )
    return [
        SafetyItem(observation=o, age_hours=(now - o.received_at).total_seconds() / 3600)
        for o in db.session.scalars(with_details(query))
    ]
