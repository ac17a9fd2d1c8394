"""HQ's dashboard: what changed in the field, how fast plays run, which work, and which barriers
still have no effective play. Every figure is counted in the database, in the viewer's scope
(the medical-commercial firewall included), over one period and the period before it."""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import case, func
from sqlalchemy.orm import selectinload

from ..cache import SnapshotStore, counted_at, in_background, insight_cache, kept_count
from ..extensions import db
from ..metrics.services import percentile, play_delays, success_rates
from ..models import (
    Barrier,
    Brand,
    Category,
    Observation,
    Play,
    Territory,
    User,
    observation_barrier,
)
from ..scope import cache_scope, visible_observations

# A play is effective once it resolved at least this share of at least MIN_JUDGED outcomes.
EFFECTIVE_RATE = 0.6
MIN_JUDGED = 3
TOP = 5
DELAY_BUCKETS = [(4, "under 4 h"), (24, "4–24 h"), (72, "1–3 days"), (168, "3–7 days"),
                 (None, "over a week")]


class Picked(NamedTuple):
    """A filter value as the dashboard shows it."""

    code: str
    name: str

    @classmethod
    def of(cls, row) -> "Picked | None":
        return cls(row.code, row.name) if row is not None else None


@dataclass
class Period:
    start: datetime
    end: datetime
    days: int

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    @property
    def previous_start(self) -> datetime:
        return self.start - timedelta(days=self.days)

    @classmethod
    def ending(cls, today: date, days: int) -> "Period":
        end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
        return cls(start=end - timedelta(days=days), end=end, days=days)


@dataclass
class Bar:
    label: str
    value: float
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0


@dataclass
class Chart:
    """A bar chart laid out for an SVG of CHART_WIDTH × CHART_HEIGHT; the template only draws."""

    bars: list[Bar]
    unit: str
    width: int = 640
    height: int = 180

    @classmethod
    def of(cls, points: list[tuple[str, float]], unit: str) -> "Chart":
        chart = cls(bars=[Bar(label, value) for label, value in points], unit=unit)
        top = max((bar.value for bar in chart.bars), default=0) or 1
        slot = chart.width / max(1, len(chart.bars))
        plot = chart.height - 30  # room for the labels under the bars
        for index, bar in enumerate(chart.bars):
            bar.width = slot * 0.7
            bar.x = index * slot + slot * 0.15
            bar.height = plot * bar.value / top
            bar.y = plot - bar.height + 4
        return chart


@dataclass
class Rising:
    code: str
    name: str
    now: int
    before: int
    where: str = ""  # the territory where it rose most
    where_change: int = 0

    @property
    def change(self) -> int:
        return self.now - self.before


@dataclass
class Coverage:
    brand: str
    seen: int = 0
    effective: int = 0
    uncovered: list[dict] = field(default_factory=list)  # biggest first


@dataclass
class Dashboard:
    period: Period
    filters: dict
    mentions: int
    observations: int
    weekly: Chart
    by_brand: dict[str, list[tuple[str, str, int]]]
    by_territory: dict[str, list[tuple[str, str, int]]]
    heat_rows: list[str]
    heat_columns: list[str]
    heat: dict[tuple[str, str], tuple[int, int]]  # (territory, category) -> (count, level 0-5)
    rising: list[Rising]
    delays: Chart
    delay_weeks: list[tuple[str, int, float, float]]  # week, runs, median h, p90 h
    success: list[tuple[str, object]]  # play title, Success
    coverage: list[Coverage]
    # When the figures were counted (shown: a snapshot may be served while a newer one is
    # built). None in a snapshot from before this field.
    built_at: datetime | None = None
    # When play success was counted: once per scope for every board, so it may be older.
    outcomes_built_at: datetime | None = None

    @property
    def counted_at(self) -> str:
        """When the figures were counted (the day before's board is shown on a day's first
        view, while the day's is counted)."""
        return counted_at(self.built_at)

    @property
    def outcomes_counted_at(self) -> str:
        return counted_at(self.outcomes_built_at)


def _in_period(query, user: User, filters: dict, start: datetime, end: datetime):
    """`query` (of observations) narrowed to the user's scope, the period and the filters."""
    query = query.where(Observation.observed_at >= start, Observation.observed_at < end)
    if filters.get("brand"):
        query = query.where(Observation.brand_id == filters["brand"].id)
    if filters.get("territory"):
        query = query.where(Observation.territory_id == filters["territory"].id)
    return visible_observations(query, user)


def _mentions(user: User, filters: dict, start: datetime, end: datetime, *columns):
    """A select of barrier mentions (one per observed barrier) in scope and period."""
    return _in_period(
        db.select(*columns).select_from(observation_barrier)
        .join(Observation, Observation.id == observation_barrier.c.observation_id),
        user, filters, start, end)


class Counted(NamedTuple):
    """Mentions of one barrier in one territory, for one brand (or none), in the period or in
    the one before."""

    now: bool
    territory_id: int
    brand_id: int | None
    barrier_id: int
    n: int


def _counted(user: User, filters: dict, period: Period) -> list[Counted]:
    """The mentions in scope over the period and the one before, counted by period, territory,
    brand and barrier: every count the board shows but the weekly one is a sum of these rows,
    so the mentions are read once (they were read once per figure: eight scans of some 115,000
    rows each at 1M calls; the board's build went from 15.9 to 8.5 s on SQLite)."""
    now = case((Observation.observed_at >= period.start, True), else_=False)
    keys = (now, Observation.territory_id, Observation.brand_id, observation_barrier.c.barrier_id)
    query = _mentions(user, filters, period.previous_start, period.end, *keys, func.count())
    return [Counted(bool(row[0]), *row[1:]) for row in db.session.execute(query.group_by(*keys))]


def _weekly(user: User, filters: dict, period: Period) -> list[tuple[str, int]]:
    """(Monday, mentions) of each week of the period."""
    week = _week(Observation.observed_at)
    query = _mentions(user, filters, period.start, period.end, week, func.count())
    return [(w if isinstance(w, str) else w.isoformat(), n)
            for w, n in db.session.execute(query.group_by(week).order_by(week))]


def _week(column):
    """The Monday of the column's week, as the database computes it."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.date_trunc("week", func.timezone("UTC", column)), "YYYY-MM-DD")
    return func.date(column, "-6 days", "weekday 1")


def _summed(rows: list[Counted], key) -> dict:
    """The rows' mentions summed by `key(row)`."""
    totals: dict = defaultdict(int)
    for row in rows:
        totals[key(row)] += row.n
    return totals


class Names(NamedTuple):
    """What the board shows for the ids it counts by: small reference tables, read whole."""

    barriers: dict[int, tuple[str, str, str]]  # id -> code, name, category name
    territories: dict[int, str]  # id -> code
    brands: dict[int, str]  # id -> name

    @classmethod
    def read(cls) -> "Names":
        barriers = db.select(Barrier.id, Barrier.code, Barrier.name, Category.name).join(
            Category, Category.code == Barrier.category_code)
        return cls(
            barriers={row[0]: tuple(row[1:]) for row in db.session.execute(barriers)},
            territories=dict(db.session.execute(db.select(Territory.id, Territory.code)).all()),
            brands=dict(db.session.execute(db.select(Brand.id, Brand.name)).all()),
        )


def _ranked(rows) -> dict[str, list[tuple[str, str, int]]]:
    groups: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for group, code, name, count in sorted(rows, key=lambda r: (r[0] or "", -r[3], r[1])):
        if len(groups[group or "No brand"]) < TOP:
            groups[group or "No brand"].append((code, name, count))
    return dict(groups)


def build_dashboard(user: User, filters: dict, today: date | None = None) -> Dashboard:
    """The dashboard for this viewer's scope and filters: built once, then served from the
    insight cache and rebuilt in the background when it is BOARD_REFRESH_SECONDS old."""
    today = today or datetime.now(UTC).date()
    days = filters.get("days") or 28
    brand_id = filters["brand"].id if filters.get("brand") else None
    territory_id = filters["territory"].id if filters.get("territory") else None

    def key(day: date) -> tuple:
        return ("dashboard", *cache_scope(user), days, brand_id, territory_id, day)

    user_id = user.id

    def build() -> Dashboard:
        # Everything is looked up again by id: a background rebuild has its own session.
        brand = db.session.get(Brand, brand_id) if brand_id else None
        territory = db.session.get(Territory, territory_id) if territory_id else None
        return _build(db.session.get(User, user_id),
                      {"days": days, "brand": brand, "territory": territory}, today)

    # Any snapshot of the day is shown at once, with the time it was counted, while a newer
    # one is built: counting takes seconds at 1M calls (28 s on SQLite on a slow machine). The
    # first view of a day is shown the day before's board meanwhile (its period and time say
    # so), so only a brand-new scope or filter ever waits for the count.
    return kept_count(key(today), build, previous=key(today - timedelta(days=1)))


def _build(user: User, filters: dict, today: date) -> Dashboard:
    period = Period.ending(today, filters.get("days") or 28)
    counted = _counted(user, filters, period)
    now = [row for row in counted if row.now]
    before = [row for row in counted if not row.now]
    names = Names.read()
    barrier = names.barriers

    # Every call names at least one barrier, so the calls with mentions are the calls.
    calls = db.session.scalar(_in_period(db.select(func.count()).select_from(Observation),
                                         user, filters, period.start, period.end))
    by_brand = _summed(now, lambda row: (row.brand_id, row.barrier_id))
    by_territory = _summed(now, lambda row: (row.territory_id, row.barrier_id))
    heat_counts = _summed(now, lambda row: (names.territories[row.territory_id],
                                            barrier[row.barrier_id][2]))
    hottest = max(heat_counts.values(), default=0) or 1
    heat = {cell: (n, min(5, 1 + int(5 * n / hottest)) if n else 0)
            for cell, n in heat_counts.items()}
    categories = db.session.scalars(db.select(Category.name).order_by(Category.position)).all()
    outcomes = _outcomes(user)
    measured = outcomes.measured

    return Dashboard(
        period=period,
        # Plain values only, no database rows: the board is shared between workers as a snapshot.
        filters={"days": period.days, "brand": Picked.of(filters.get("brand")),
                 "territory": Picked.of(filters.get("territory"))},
        mentions=sum(row.n for row in now),
        observations=calls,
        weekly=Chart.of(_weekly(user, filters, period), "barriers observed"),
        by_brand=_ranked([(names.brands.get(brand_id), *barrier[barrier_id][:2], n)
                          for (brand_id, barrier_id), n in by_brand.items()]),
        by_territory=_ranked([(names.territories[territory_id], *barrier[barrier_id][:2], n)
                              for (territory_id, barrier_id), n in by_territory.items()]),
        heat_rows=sorted({territory for territory, _ in heat_counts}),
        heat_columns=list(categories),
        heat=heat,
        rising=_rising(_summed(now, _where), _summed(before, _where), names),
        **_kept_speed(user, period),
        success=_success(measured),
        coverage=_coverage(by_brand, names, measured),
        built_at=datetime.now(UTC),
        outcomes_built_at=outcomes.built_at,
    )


@dataclass
class Outcomes:
    """Play success per play lineage over every run in a scope, and when it was counted."""

    measured: list
    built_at: datetime


def _outcomes(user: User) -> Outcomes:
    user_id = user.id

    def count() -> Outcomes:
        viewer = db.session.get(User, user_id)  # a background rebuild has its own session
        return Outcomes(success_rates(viewer, "play"), datetime.now(UTC))

    # Play success (over every run) and time to play do not change with a board's brand or
    # territory: counted once per scope for every board (2–3.6 s of a build at 1M calls, paid
    # again for each filter before).
    return kept_count(("board-outcomes", *cache_scope(user)), count)


def _kept_speed(user: User, period: Period) -> dict:
    user_id = user.id
    return kept_count(("board-speed", *cache_scope(user), period.start, period.days),
                      lambda: _speed(db.session.get(User, user_id), period))


def _where(row: Counted) -> tuple[int, int]:
    return row.barrier_id, row.territory_id


def _rising(now: dict, before: dict, names: Names, limit: int = 10) -> list[Rising]:
    """Barriers seen more this period than the one before, biggest rise first, each with the
    territory where it rose most. `now` and `before` are mentions by (barrier, territory)."""
    rising: dict[str, Rising] = {}
    places = sorted(now.items(), key=lambda item: names.territories[item[0][1]])
    for (barrier_id, territory_id), n in places:
        code, name, _ = names.barriers[barrier_id]
        entry = rising.setdefault(code, Rising(code, name, 0, 0))
        entry.now += n
        change = n - before.get((barrier_id, territory_id), 0)
        if change > entry.where_change:
            entry.where, entry.where_change = names.territories[territory_id], change
    for (barrier_id, _territory_id), n in before.items():
        code = names.barriers[barrier_id][0]
        if code in rising:
            rising[code].before += n
    ranked = [r for r in rising.values() if r.change > 0]
    return sorted(ranked, key=lambda r: (-r.change, -r.now, r.code))[:limit]


def _speed(user: User, period: Period) -> dict:
    delays = play_delays(user, since=period.start, until=period.end)
    buckets = []
    low = 0
    for high, label in DELAY_BUCKETS:
        buckets.append((label, sum(1 for _, h in delays if h >= low and (high is None or h < high))))
        low = high or low
    weeks: dict[str, list[float]] = defaultdict(list)
    for observed_at, hours in delays:
        monday = (observed_at - timedelta(days=observed_at.weekday())).date().isoformat()
        weeks[monday].append(hours)
    trend = [(week, len(hours), statistics.median(hours), percentile(hours, 0.9))
             for week, hours in sorted(weeks.items())]
    return {"delays": Chart.of(buckets, "plays run"), "delay_weeks": trend}


def _play_titles() -> dict[str, str]:
    """Each play lineage's title, from its newest version."""
    titles = {}
    for lineage, title in db.session.execute(db.select(Play.lineage, Play.title).order_by(Play.version)):
        titles[lineage] = title
    return titles


def _success(measured: list) -> list[tuple[str, object]]:
    titles = _play_titles()
    return [(f"{titles.get(group.label, group.label)} ({group.label})", group)
            for group in measured]


def _coverage(by_brand: dict, names: Names, measured: list) -> list[Coverage]:
    """Per brand: barriers seen (`by_brand`: mentions by brand and barrier) against barriers
    with an approved play that works; the rest, biggest first, is HQ's to-do list."""
    measured = {group.label: group for group in measured}
    barriers = {b.id: b for b in db.session.scalars(
        db.select(Barrier).where(Barrier.id.in_({barrier_id for _, barrier_id in by_brand}))
        .options(selectinload(Barrier.plays)))}
    coverage: dict[str, Coverage] = {}
    for (brand_id, barrier_id), n in by_brand.items():
        brand = names.brands.get(brand_id)
        code, name, _ = names.barriers[barrier_id]
        entry = coverage.setdefault(brand or "No brand", Coverage(brand or "No brand"))
        entry.seen += 1
        offered = barriers[barrier_id].offered_plays()
        groups = [measured[p.lineage] for p in offered if p.lineage in measured]
        if any(g.judged >= MIN_JUDGED and g.rate >= EFFECTIVE_RATE for g in groups):
            entry.effective += 1
            continue
        best = max(groups, key=lambda g: (g.rate or 0, g.judged), default=None)
        if not offered:
            why = "no approved play"
        elif best is None or best.judged == 0:
            why = "play not yet judged"
        elif best.judged < MIN_JUDGED:
            why = f"too few outcomes ({best.resolved} of {best.judged} resolved)"
        else:
            why = f"play works {best.rate:.0%} ({best.resolved} of {best.judged})"
        entry.uncovered.append({"code": code, "name": name, "count": n, "why": why})
    for entry in coverage.values():
        entry.uncovered.sort(key=lambda u: (-u["count"], u["code"]))
    return sorted(coverage.values(), key=lambda c: c.brand)


def territory_top(user: User, today: date | None = None, days: int = 30) -> list[dict]:
    """Back to the field: the territory's most observed barriers lately, each with its plays
    ranked by how they worked for peers across the field. The counts may be a minute old: they
    are counted once for every viewer with the same scope (a busy territory's month is tens of
    thousands of mentions), kept like the dashboard's; the barriers and their plays are read
    live."""
    from ..plays.services import rank_plays

    period = Period.ending(today or datetime.now(UTC).date(), days)
    def key(start: datetime) -> tuple:
        return ("territory-top", *cache_scope(user), start, days)

    user_id = user.id

    def count() -> list[tuple[int, int]]:
        viewer = db.session.get(User, user_id)  # a background rebuild has its own session
        barrier = observation_barrier.c.barrier_id
        return [(barrier_id, n) for barrier_id, n in db.session.execute(
            _mentions(viewer, {}, period.start, period.end, barrier, func.count())
            .group_by(barrier).order_by(func.count().desc(), barrier).limit(TOP))]

    rows = insight_cache().get_or_set(key(period.start), count, background=in_background,
                                      shared=SnapshotStore(),
                                      previous=key(period.start - timedelta(days=1)))
    barriers = {b.id: b for b in db.session.scalars(
        db.select(Barrier).where(Barrier.id.in_([barrier_id for barrier_id, _ in rows]))
        .options(selectinload(Barrier.plays)))}
    return [{"barrier": barriers[barrier_id], "count": n, "plays": rank_plays(barriers[barrier_id])}
            for barrier_id, n in rows if barrier_id in barriers]
