"""The two metrics that matter: how fast a play ran after its barrier was seen, and whether
it worked. One service computes both, for every screen that shows them."""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import case, func, literal_column, null
from sqlalchemy.orm import aliased

from ..cache import counted_at, kept_count
from ..extensions import db
from ..models import (
    HCP,
    AdoptionStage,
    AdoptionStep,
    Barrier,
    Brand,
    Category,
    Observation,
    Play,
    PlayRun,
    Territory,
    User,
    observation_barrier,
)
from ..scope import cache_scope, visible_observations

DIMENSIONS = ("barrier", "play", "category", "role", "territory", "brand")
# A play's effect on adoption: did the HCP move up the brand's ladder within this many days?
LADDER_WINDOW = timedelta(days=90)


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
    # Runs whose HCP had a stage on the observation's brand ladder when the play ran, and how
    # many of those HCPs stood higher on it within LADDER_WINDOW after.
    ladder_known: int = 0
    ladder_up: int = 0

    @property
    def judged(self) -> int:
        """Outcomes that say something: 'too early to tell' is not one yet."""
        return self.resolved + self.partly + self.not_resolved

    @property
    def rate(self) -> float | None:
        return self.resolved / self.judged if self.judged else None


def _label_column(dimension: str | None):
    if dimension is None:
        return null()
    return {
        "barrier": Barrier.name,
        "play": Play.lineage,
        "category": Category.name,
        "role": PlayRun.runner_role,
        "territory": Territory.code,
        "brand": func.coalesce(Brand.name, "No brand"),
    }[dimension]


def _joined_for_label(query, dimension: str | None, runs):
    """`query`, of runs (`runs`: PlayRun, or a subquery's columns of the same names), joined to
    what the dimension's label reads and to nothing else: each join is a look-up per run
    (219,000 runs at 1M calls), and the ones a label does not read were 40 % of counting play
    success by play on SQLite. (`+ 0` keeps SQLite reading the runs in table order, one barrier
    looked up by key for each, rather than each barrier's runs through the index: 219,000 reads
    out of order.)"""
    if dimension in ("barrier", "category"):
        query = query.join(Barrier, Barrier.id == runs.barrier_id + literal_column("0"))
    if dimension == "category":
        query = query.join(Category, Category.code == Barrier.category_code)
    if dimension == "territory":
        query = query.join(Territory, Territory.id == runs.call_territory_id)
    if dimension == "brand":
        query = query.outerjoin(Brand, Brand.id == runs.call_brand_id)
    if dimension == "play":
        query = query.outerjoin(Play, Play.id == PlayRun.play_id)
    return query


def _visible_runs(query, user: User, runs):
    """`query` narrowed to the runs whose call the user may see, by the call's facts the run
    keeps (`runs`: PlayRun, or a subquery's columns of the same names)."""
    return visible_observations(query, user, runs.call_territory_id, runs.call_author_role)


def _runs_query(user: User, dimension: str | None, since=None, until=None):
    """First run of each observed barrier, with the dimension's label (none without one), in
    the user's scope; `since` and `until` bound when the barrier was observed, inside the
    grouping."""
    call = (PlayRun.call_observed_at, PlayRun.call_territory_id, PlayRun.call_author_role,
            PlayRun.call_brand_id)  # the same for every run of a call
    first_run = db.select(PlayRun.observation_id, PlayRun.barrier_id, *call,
                          func.min(PlayRun.ran_at).label("ran_at"))
    if since is not None:
        first_run = first_run.where(PlayRun.call_observed_at >= since)
    if until is not None:
        first_run = first_run.where(PlayRun.call_observed_at < until)
    first_run = first_run.group_by(PlayRun.observation_id, PlayRun.barrier_id, *call).subquery()
    runs = first_run.c
    query = db.select(_label_column(dimension), runs.call_observed_at, runs.ran_at).select_from(
        first_run)
    if dimension in ("play", "role"):  # the label is read from the run itself
        query = query.join(PlayRun, (PlayRun.observation_id == runs.observation_id)
                           & (PlayRun.barrier_id == runs.barrier_id)
                           & (PlayRun.ran_at == runs.ran_at))
    return _visible_runs(_joined_for_label(query, dimension, runs), user, runs)


def play_delays(user: User, since=None, until=None) -> list[tuple]:
    """(observed_at, hours to the first run) of every observed barrier whose play ran."""
    return [(observed_at, max(0.0, (ran_at - observed_at).total_seconds() / 3600))
            for _, observed_at, ran_at in db.session.execute(_runs_query(user, None, since, until))]


class Speed(NamedTuple):
    """A TimeToPlay as a page shows it, without its thousands of hours."""

    label: str
    count: int
    median: float
    p90: float


@dataclass
class Metrics:
    """The metrics page's figures for one viewer scope and dimension, and when they were
    counted."""

    dimension: str
    speed: list[Speed]
    success: list[Success]
    built_at: datetime

    @property
    def counted_at(self) -> str:
        return counted_at(self.built_at)


def field_metrics(user: User, dimension: str) -> Metrics:
    """Both metrics by `dimension`, over every run in the user's scope: counted once for every
    viewer with the same scope and kept like the dashboard (a count of all runs takes seconds
    at 1M calls), shown with the time they were counted while a newer count is made."""
    key = ("metrics", *cache_scope(user), dimension)
    user_id = user.id

    def build() -> Metrics:
        viewer = db.session.get(User, user_id)  # a background rebuild has its own session
        speed = [Speed(g.label, g.count, g.median, g.p90) for g in time_to_play(viewer, dimension)]
        return Metrics(dimension, speed, success_rates(viewer, dimension), datetime.now(UTC))

    return kept_count(key, build)


def time_to_play(user: User, dimension: str = "barrier") -> list[TimeToPlay]:
    """Observed → first play run, in hours: median and p90 per group, most runs first."""
    groups: dict[str, TimeToPlay] = {}
    for label, observed_at, ran_at in db.session.execute(_runs_query(user, dimension)):
        hours = max(0.0, (ran_at - observed_at).total_seconds() / 3600)
        groups.setdefault(label, TimeToPlay(label)).hours.append(hours)
    return sorted(groups.values(), key=lambda g: (-g.count, g.label))


def seen_again():
    """Whether a run's barrier was observed again for the same HCP after the run: correlated on
    PlayRun (its call's HCP), and answered from the (hcp_id, observed_at) index."""
    later = aliased(Observation)
    return (
        db.select(observation_barrier.c.observation_id)
        .join(later, later.id == observation_barrier.c.observation_id)
        .where(observation_barrier.c.barrier_id == PlayRun.barrier_id,
               later.hcp_id == PlayRun.call_hcp_id, later.observed_at > PlayRun.ran_at)
        .exists()
    )


def effective_outcome():
    """A run's outcome as the metrics count it: one with no outcome yet counts as not resolved
    once its barrier was observed again for the same HCP after it ran (the barrier came back)."""
    return case((PlayRun.outcome.is_not(None), PlayRun.outcome),
                (seen_again(), "not_resolved"), else_=None)


def _runs_with_label(user: User, dimension: str, *columns):
    """Every run in the user's scope, with the dimension's label: the run's own row and what
    the label reads, never its call's row."""
    query = db.select(_label_column(dimension).label("label"), *columns).select_from(PlayRun)
    return _visible_runs(_joined_for_label(query, dimension, PlayRun), user, PlayRun)


def success_rates(user: User, dimension: str = "barrier") -> list[Success]:
    """Resolved ÷ judged outcomes per group, always with the counts behind it, and how many
    HCPs moved up the adoption ladder after the play ran. Outcomes are counted in the database;
    only the runs of HCPs with a ladder history come back to Python."""
    runs = _runs_with_label(user, dimension, effective_outcome().label("outcome")).subquery()
    counts = db.select(runs.c.label, runs.c.outcome, func.count()).group_by(
        runs.c.label, runs.c.outcome)
    groups: dict[str, Success] = {}
    for label, outcome, n in db.session.execute(counts):
        group = groups.setdefault(label or "No play", Success(label or "No play"))
        if outcome:
            setattr(group, outcome, getattr(group, outcome) + n)

    on_ladder = (
        db.select(AdoptionStep.id)
        .where(AdoptionStep.hcp_id == PlayRun.call_hcp_id,
               AdoptionStep.brand_id == PlayRun.call_brand_id)
        .exists()
    )
    laddered = db.session.execute(
        _runs_with_label(user, dimension, PlayRun.ran_at, PlayRun.call_hcp_id.label("hcp_id"),
                         PlayRun.call_brand_id.label("brand_id"))
        .where(on_ladder)).all()
    ladder = _ladder_history({(r.hcp_id, r.brand_id) for r in laddered})
    for label, ran_at, hcp_id, brand_id in laddered:
        moved = _moved_up(ladder.get((hcp_id, brand_id), ()), ran_at)
        if moved is not None:
            group = groups.setdefault(label or "No play", Success(label or "No play"))
            group.ladder_known += 1
            group.ladder_up += moved
    return sorted(groups.values(), key=lambda g: (-g.judged, g.label))


class JudgedOutcome(NamedTuple):
    lineage: str
    outcome: str | None
    segment: str
    brand_id: int | None
    runs: int


def judged_outcomes(barrier_id: int, lineages: set[str]) -> list[JudgedOutcome]:
    """How many runs of these plays for this barrier, anywhere, ended in each effective outcome,
    per context they ran in (segment, brand): the evidence behind the next best play."""
    runs = (
        db.select(Play.lineage.label("lineage"), effective_outcome().label("outcome"),
                  func.coalesce(HCP.segment, "").label("segment"),
                  Observation.brand_id.label("brand_id"))
        .select_from(PlayRun)
        .join(Play, Play.id == PlayRun.play_id)
        .join(Observation, Observation.id == PlayRun.observation_id)
        .join(HCP, HCP.id == Observation.hcp_id)
        .where(PlayRun.barrier_id == barrier_id, Play.lineage.in_(lineages))
        .subquery()
    )
    grouped = db.select(runs.c.lineage, runs.c.outcome, runs.c.segment, runs.c.brand_id,
                        func.count()).group_by(runs.c.lineage, runs.c.outcome, runs.c.segment,
                                               runs.c.brand_id)
    return [JudgedOutcome(*row) for row in db.session.execute(grouped)]


def _ladder_history(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], list[tuple]]:
    """Per (HCP, brand): (when, ladder position) of every adoption step, oldest first."""
    if not pairs:
        return {}
    query = (
        db.select(AdoptionStep.hcp_id, AdoptionStep.brand_id, AdoptionStep.at,
                  AdoptionStage.position)
        .join(AdoptionStage, AdoptionStage.code == AdoptionStep.stage_code)
        .where(AdoptionStep.hcp_id.in_({h for h, _ in pairs}))
        .order_by(AdoptionStep.at, AdoptionStep.id)
    )
    history: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for hcp_id, brand_id, at, position in db.session.execute(query):
        if (hcp_id, brand_id) in pairs:
            history[(hcp_id, brand_id)].append((at, position))
    return history


def _moved_up(steps, ran_at) -> bool | None:
    """Whether the HCP stood higher within LADDER_WINDOW after `ran_at` than when the play ran;
    None when their stage then is unknown."""
    before = [position for at, position in steps if at <= ran_at]
    if not before:
        return None
    after = [position for at, position in steps if ran_at < at <= ran_at + LADDER_WINDOW]
    return bool(after) and max(after) > before[-1]
