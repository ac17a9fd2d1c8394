"""The two metrics that matter: how fast a play ran after its barrier was seen, and whether
it worked. One service computes both, for every screen that shows them."""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func

from ..extensions import db
from ..models import (
    Barrier,
    Brand,
    Category,
    Observation,
    PlayRun,
    Territory,
    User,
    observation_barrier,
)
from ..scope import visible_observations

DIMENSIONS = ("barrier", "category", "role", "territory", "brand")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of values at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class TimeToPlay:
    label: str
    hours: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.hours)

    @property
    def median(self) -> float:
        return statistics.median(self.hours)

    @property
    def p90(self) -> float:
        return percentile(self.hours, 0.9)


@dataclass
class Success:
    label: str
    resolved: int = 0
    partly: int = 0
    not_resolved: int = 0
    too_early: int = 0

    @property
    def judged(self) -> int:
        """Outcomes that say something: 'too early to tell' is not one yet."""
        return self.resolved + self.partly + self.not_resolved

    @property
    def rate(self) -> float | None:
        return self.resolved / self.judged if self.judged else None


def _label_column(dimension: str):
    return {
        "barrier": Barrier.name,
        "category": Category.name,
        "role": PlayRun.runner_role,
        "territory": Territory.code,
        "brand": func.coalesce(Brand.name, "No brand"),
    }[dimension]


def _runs_query(user: User, dimension: str):
    """First run of each observed barrier, with the dimension's label, in the user's scope."""
    first_run = (
        db.select(PlayRun.observation_id, PlayRun.barrier_id, func.min(PlayRun.ran_at).label("ran_at"))
        .group_by(PlayRun.observation_id, PlayRun.barrier_id)
        .subquery()
    )
    query = (
        db.select(_label_column(dimension), Observation.observed_at, first_run.c.ran_at)
        .select_from(Observation)
        .join(first_run, first_run.c.observation_id == Observation.id)
        .join(Barrier, Barrier.id == first_run.c.barrier_id)
        .join(Category, Category.code == Barrier.category_code)
        .join(Territory, Territory.id == Observation.territory_id)
        .outerjoin(Brand, Brand.id == Observation.brand_id)
        .join(PlayRun, (PlayRun.observation_id == first_run.c.observation_id)
              & (PlayRun.barrier_id == first_run.c.barrier_id)
              & (PlayRun.ran_at == first_run.c.ran_at))
    )
    return visible_observations(query, user)


def time_to_play(user: User, dimension: str = "barrier") -> list[TimeToPlay]:
    """Observed → first play run, in hours: median and p90 per group, most runs first."""
    groups: dict[str, TimeToPlay] = {}
    for label, observed_at, ran_at in db.session.execute(_runs_query(user, dimension)):
        hours = max(0.0, (ran_at - observed_at).total_seconds() / 3600)
        groups.setdefault(label, TimeToPlay(label)).hours.append(hours)
    return sorted(groups.values(), key=lambda g: (-g.count, g.label))


def success_rates(user: User, dimension: str = "barrier") -> list[Success]:
    """Resolved ÷ judged outcomes per group, always with the counts behind it.

    A run with no outcome yet counts as not resolved once the same barrier is observed again
    for the same HCP after the run: the barrier came back.
    """
    query = (
        db.select(_label_column(dimension), PlayRun.outcome, PlayRun.ran_at, PlayRun.barrier_id,
                  Observation.hcp_id)
        .select_from(PlayRun)
        .join(Observation, Observation.id == PlayRun.observation_id)
        .join(Barrier, Barrier.id == PlayRun.barrier_id)
        .join(Category, Category.code == Barrier.category_code)
        .join(Territory, Territory.id == Observation.territory_id)
        .outerjoin(Brand, Brand.id == Observation.brand_id)
    )
    rows = db.session.execute(visible_observations(query, user)).all()
    seen_again = _reobservations(rows)
    groups: dict[str, Success] = {}
    for label, outcome, ran_at, barrier_id, hcp_id in rows:
        group = groups.setdefault(label, Success(label))
        if outcome is None and any(at > ran_at for at in seen_again.get((barrier_id, hcp_id), ())):
            outcome = "not_resolved"
        if outcome:
            setattr(group, outcome, getattr(group, outcome) + 1)
    return sorted(groups.values(), key=lambda g: (-g.judged, g.label))


def _reobservations(rows) -> dict[tuple[int, int], list]:
    """When each (barrier, HCP) pair of these runs was observed."""
    pairs = {(barrier_id, hcp_id) for _, _, _, barrier_id, hcp_id in rows}
    if not pairs:
        return {}
    query = (
        db.select(observation_barrier.c.barrier_id, Observation.hcp_id, Observation.observed_at)
        .join(Observation, Observation.id == observation_barrier.c.observation_id)
        .where(observation_barrier.c.barrier_id.in_({b for b, _ in pairs}),
               Observation.hcp_id.in_({h for _, h in pairs}))
    )
    seen: dict[tuple[int, int], list] = defaultdict(list)
    for barrier_id, hcp_id, observed_at in db.session.execute(query):
        seen[(barrier_id, hcp_id)].append(observed_at)
    return seen
