"""The HQ insight feed: newest first, filtered, in the viewer's scope."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Barrier,
    Brand,
    Category,
    Observation,
    Territory,
    User,
    observation_barrier,
)
from ..pagination import cursor_of, received_after, received_before
from ..scope import scoped, visible_observations

PAGE_SIZE = 25


@dataclass
class FeedPage:
    items: list[Observation]
    older: str | None  # cursor of the next (older) page
    newest: str | None  # cursor to poll for anything newer than this page


def _filtered(user: User, filters: dict):
    query = visible_observations(db.select(Observation), user)
    if filters.get("territory"):
        query = query.join(Territory, Territory.id == Observation.territory_id).where(
            Territory.code == filters["territory"]
        )
    if filters.get("brand"):
        query = query.join(Brand, Brand.id == Observation.brand_id).where(
            Brand.code == filters["brand"]
        )
    if filters.get("category"):
        in_category = (
            db.select(observation_barrier.c.observation_id)
            .join(Barrier, Barrier.id == observation_barrier.c.barrier_id)
            .where(Barrier.category_code == filters["category"])
        )
        query = query.where(Observation.id.in_(in_category))
    if filters.get("date_from"):
        start = datetime.combine(filters["date_from"], time.min, tzinfo=UTC)
        query = query.where(Observation.observed_at >= start)
    if filters.get("date_to"):
        end = datetime.combine(filters["date_to"] + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(Observation.observed_at < end)
    return query


def with_details(query):
    """Load what a listed observation shows in a handful of queries, not one per row."""
    return query.options(
        selectinload(Observation.barriers),
        selectinload(Observation.hcp),
        selectinload(Observation.author),
        selectinload(Observation.territory),
        selectinload(Observation.brand),
    )


def feed_page(user: User, filters: dict, page_size: int = PAGE_SIZE) -> FeedPage:
    """One page of the feed, newest received first, older than the `before` cursor if given."""
    query = received_before(_filtered(user, filters), filters.get("before"))
    query = query.order_by(Observation.received_at.desc(), Observation.id.desc())
    rows = list(db.session.scalars(with_details(query).limit(page_size + 1)))
    items, has_more = rows[:page_size], len(rows) > page_size
    older = cursor_of(items[-1]) if has_more else None
    newest = cursor_of(items[0]) if items else filters.get("after")
    return FeedPage(items=items, older=older, newest=newest)


def newer_than(user: User, filters: dict, cursor: str | None) -> list[Observation]:
    """Items received after the cursor (all matching items if there is none), newest first."""
    query = received_after(_filtered(user, filters), cursor)
    query = query.order_by(Observation.received_at.desc(), Observation.id.desc())
    return list(db.session.scalars(with_details(query).limit(PAGE_SIZE)))


def filter_options(user: User) -> dict:
    territories = scoped(db.select(Territory), user, Territory.id).order_by(Territory.code)
    return {
        "territories": db.session.scalars(territories).all(),
        "categories": db.session.scalars(db.select(Category).order_by(Category.position)).all(),
        "brands": db.session.scalars(db.select(Brand).order_by(Brand.name)).all(),
    }
