"""The HQ insight feed: newest first, filtered, in the viewer's scope."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple

from flask import get_template_attribute
from markupsafe import Markup
from sqlalchemy import bindparam, false, func, literal_column, text, union_all
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.elements import False_, UnaryExpression
from sqlalchemy.sql.operators import custom_op

from ..cache import insight_cache
from ..capture.schemas import CLOCK_SKEW
from ..extensions import db
from ..models import (
    CAPTURE_ROLES,
    HCP,
    LATE_ARRIVAL,
    MEDICAL_ROLES,
    NOTE_SEARCH,
    Barrier,
    Brand,
    Category,
    JourneyStage,
    Observation,
    Role,
    Territory,
    User,
    observation_barrier,
)
from ..pagination import CURSOR, cursor_of, cursor_params, newer_rows, older_rows
from ..plays.services import role_label
from ..replica import READS_FROM_REPLICA
from ..scope import cache_scope, scoped, visible_observations

PAGE_SIZE = 25


class Option(NamedTuple):
    code: str
    name: str


class FeedItem(NamedTuple):
    """What a feed entry shows, read as plain columns (no ORM objects to build per row). It
    holds everything the entry shows, so the entry's markup is kept by content (feed_entries)."""

    id: str
    received_at: datetime
    observed_at: datetime
    safety_flag: bool
    note: str
    author_role: str
    author_name: str
    territory_code: str
    brand_name: str | None
    hcp_external_id: str
    hcp_name: str
    hcp_account: str
    hcp_specialty: str
    hcp_segment: str | None
    barriers: tuple[Option, ...]
    role_name: str  # the library's name for author_role


@dataclass
class FeedPage:
    items: list[FeedItem]
    older: str | None  # cursor of the next (older) page
    newest: str | None  # cursor to poll for anything newer than this page


def _reference_ids(key: tuple, query) -> list[int]:
    """The ids of the reference rows a filter names (a territory, a brand, a category's
    barriers). They change with the library, not with the calls: looked up once a minute per
    process, like the filter form's own choices."""
    return insight_cache().get_or_set(("feed-ids", *key), lambda: list(db.session.scalars(query)))


def _equals_id(column, model, code: str):
    """`column = <the id of the row with this code>`; false when there is no such row."""
    found = _reference_ids((model.__tablename__, code), db.select(model.id).where(model.code == code))
    return false() if not found else column == found[0]


def _filtered(user: User, filters: dict, query=None):
    """`query` (by default every observation) narrowed to the user's scope and the filters."""
    query = visible_observations(db.select(Observation) if query is None else query, user)
    # Codes become ids first, so the planner sees `territory_id = 7` and can pick the
    # territory's own feed index (a join on the code hides how selective the filter is).
    if filters.get("territory"):
        query = query.where(_equals_id(Observation.territory_id, Territory, filters["territory"]))
    if filters.get("brand"):
        query = query.where(_equals_id(Observation.brand_id, Brand, filters["brand"]))
    if filters.get("role"):
        # A medical role's calls are hidden from a commercial viewer: nothing to look for
        # (PostgreSQL would walk the whole feed to find none: 165 ms at 1M calls).
        hidden = filters["role"] in MEDICAL_ROLES and not user.sees_medical
        query = query.where(false() if hidden else Observation.author_role == filters["role"])
    barrier_ids = _barrier_ids(filters)
    if barrier_ids is not None:
        # The ids are written into the statement (it is kept, see _page_statement): as an
        # expanding parameter each run rendered and bound a category's 20-odd ids again.
        listed = [literal_column(str(int(barrier_id))) for barrier_id in barrier_ids]
        if not listed:
            query = query.where(false())
        elif _rarely_named(barrier_ids):
            # Their calls are read through the links' barrier index, then sorted (see
            # newest_first): a walk would pass hundreds of calls for each one it lists.
            query = query.where(Observation.id.in_(
                db.select(observation_barrier.c.observation_id)
                .where(observation_barrier.c.barrier_id.in_(listed))))
        else:
            # A correlated EXISTS: walking the feed index newest first and probing each call's
            # barriers finds a page at once; SQLite would otherwise gather every matching
            # call. A call's one or two links are read and their barrier checked against the
            # list (`+ 0` keeps SQLite from looking up each of a category's 20-odd barriers).
            query = query.where(
                db.select(observation_barrier.c.observation_id)
                .where(observation_barrier.c.observation_id == Observation.id,
                       (observation_barrier.c.barrier_id + literal_column("0")).in_(listed))
                .exists())
    if filters.get("safety"):
        query = query.where(Observation.safety_flag.is_(True))
    if filters.get("with_note"):
        query = query.where(Observation.note != "")
    if filters.get("q"):
        words = filters["q"].lower().split()[:5]
        for word in words:
            query = query.where(func.lower(Observation.note).contains(word, autoescape=True))
        few = _few_note_matches(words)
        if few is not None:
            query = query.where(Observation.id.in_(few))
    # The feed is walked newest first (see newest_first and _by_arrival) and the dates only
    # check each call it passes: no index of the time a call happened is to be chosen instead.
    query = query.where(*_on_dates(filters, _unindexed(Observation.observed_at)))
    start = _dates(filters)[0]
    if start:
        # A call is received after it happened (its time is refused if it lies more than
        # CLOCK_SKEW ahead of the server's): the feed's newest-first walk stops at `start`.
        query = query.where(Observation.received_at >= start - CLOCK_SKEW)
    return query


def _on_dates(filters: dict, observed) -> list:
    """The dates' conditions on `observed` (the time a call happened, or an expression of it)."""
    start, end = _dates(filters)
    return [*([observed >= start] if start else []), *([observed < end] if end else [])]


def _unindexed(column):
    """The column's value as an expression no index provides: the planner cannot use an index
    of the column to meet a condition or an order on it."""
    if db.engine.dialect.name == "postgresql":
        return column + literal_column("interval '0 seconds'")
    return UnaryExpression(column, operator=custom_op("+"))  # SQLite's no-op `+`


def _dates(filters: dict) -> tuple[datetime | None, datetime | None]:
    """The first moment of the `date_from` day and the first after the `date_to` day."""
    start = end = None
    if filters.get("date_from"):
        start = datetime.combine(filters["date_from"], time.min, tzinfo=UTC)
    if filters.get("date_to"):
        end = datetime.combine(filters["date_to"] + timedelta(days=1), time.min, tzinfo=UTC)
    return start, end


def _barrier_ids(filters: dict) -> list[int] | None:
    """The ids of the barriers the category, journey stage and barrier filters leave, or None
    when none of them is set."""
    conditions = [
        Barrier.category_code == filters["category"] if filters.get("category") else None,
        Barrier.journey_stage_code == filters["journey_stage"] if filters.get("journey_stage")
        else None,
        Barrier.code == filters["barrier"] if filters.get("barrier") else None,
    ]
    conditions = [c for c in conditions if c is not None]
    if not conditions:
        return None
    return _reference_ids(
        ("barrier", filters.get("category"), filters.get("journey_stage"), filters.get("barrier")),
        db.select(Barrier.id).where(*conditions))


# Barriers named in fewer calls than this are read through their links rather than found by
# walking the feed. Walking finds a page of 26 after some 26 × calls / mentions calls, reading
# takes every mention (and sorts them): the two meet near √(26 × calls), about 5,000 at 1M.
# At 1M the rarest bench barrier (2,510 mentions, 0.25 % of calls) took 184 ms a page on
# PostgreSQL and 70 ms on SQLite walked, and a barrier named by nobody yet had the whole feed
# walked.
RARE_MENTIONS = 5000


def _rarely_named(barrier_ids: list[int]) -> bool:
    """Whether the barriers are named fewer than RARE_MENTIONS times in all: counted up to that
    many through the links' barrier index, once a minute per process like the ids."""
    def count() -> bool:
        named = (db.select(observation_barrier.c.observation_id)
                 .where(observation_barrier.c.barrier_id.in_(barrier_ids))
                 .limit(RARE_MENTIONS).subquery())
        return db.session.scalar(db.select(func.count()).select_from(named)) < RARE_MENTIONS

    return insight_cache().get_or_set(("rarely-named", *sorted(barrier_ids)), count)


# A word search on SQLite first asks the notes' trigram index (models.NOTE_SEARCH) for the calls
# holding every word, up to this many. Fewer: only those calls are read (a rare word took 2 s
# at 1M calls, each of a million notes read in the feed's order). More: the word is common, and
# reading the feed newest first finds a page of them within a few thousand calls.
FEW_MATCHES = 2000


def _few_note_matches(words: list[str]) -> list[str] | None:
    """On SQLite, the ids of the calls whose note holds every word of three characters or more
    (the trigram index knows no shorter), if there are at most FEW_MATCHES; otherwise None.
    They are candidates: the words' own conditions still decide."""
    searchable = [word for word in words if len(word) >= 3]
    if db.engine.dialect.name != "sqlite" or not searchable or not _has_note_search():
        return None
    phrases = " AND ".join('"' + word.replace('"', '""') + '"' for word in searchable)
    ids = db.session.scalars(
        text(f"SELECT k.observation_id FROM {NOTE_SEARCH} AS s "
             f"JOIN {NOTE_SEARCH}_key AS k ON k.rowid = s.rowid "
             f"WHERE {NOTE_SEARCH} MATCH :phrases LIMIT :limit"),
        {"phrases": phrases, "limit": FEW_MATCHES + 1}).all()
    return ids if len(ids) <= FEW_MATCHES else None


def _has_note_search() -> bool:
    """Whether this SQLite database has the notes' index: one whose SQLite had no trigram
    tokenizer (before 3.34) when it was migrated has none, and its word search reads the notes."""
    def look():
        return db.session.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": NOTE_SEARCH}).first() is not None

    return insight_cache().get_or_set(("note-search",), look)


def newest_first(query, filters: dict):
    """Order newest received first: by walking a feed index newest first until a page
    matches, or, where that walk would pass too many calls that do not, by reading the
    matches another way and sorting them (the order is then given by an expression no index
    provides, which leaves the planner no walk to choose):
    - a word search on PostgreSQL: the trigram index finds the matches, where a rare or absent
      word had the whole feed index walked;
    - barriers named in few calls (RARE_MENTIONS): their links are read.
    Dates that end long ago are walked from where they end (see _by_arrival).
    """
    received = Observation.received_at
    barrier_ids = _barrier_ids(filters)
    if ((filters.get("q") and db.engine.dialect.name == "postgresql")
            or (barrier_ids and _rarely_named(barrier_ids))):
        received = _unindexed(received)
    return query.order_by(received.desc(), Observation.id.desc())


def _by_arrival(query, filters: dict, limit):
    """The first `limit` of the query's calls newest received first (newest_first).

    With dates that end, two short runs instead of one long walk: a call that did not arrive
    late (LATE_ARRIVAL) was received before the dates' end plus that, so the walk starts
    there, not at the newest call (a month back it passed some 80,000 calls; seven months
    back, 600,000: 1.8 s a page at 1M calls, where reading the dates' own calls sorted 400,000
    of them); the calls received after that can only be late ones, read by their dates from
    their own index, ix_observation_late, and sorted. The two runs share no call. SQLite is
    told to read the late ones from it: by a brand it walked the brand's feed instead, every
    call of it received since (a month back, 12,000: 51 ms). Their order is one no index
    gives: PostgreSQL walked the whole feed back to the dates for them (2.7 s)."""
    end = _dates(filters)[1]
    if end is None or _matches_nothing(query):
        return newest_first(query, filters).limit(limit)
    received = Observation.received_at
    prompt = query.where(received < end + LATE_ARRIVAL)
    # The dates again, as their own index can meet them (_filtered hides them from it).
    late = query.where(Observation.arrived_late, received >= end + LATE_ARRIVAL,
                       *_on_dates(filters, Observation.observed_at))
    late = late.with_hint(Observation, "INDEXED BY ix_observation_late", "sqlite").order_by(
        _unindexed(received).desc(), Observation.id.desc())  # sorted: never a walk of the feed
    both = union_all(*(db.select(run.limit(limit).subquery())
                       for run in (newest_first(prompt, filters), late))).subquery()
    return db.select(both).order_by(both.c.received_at.desc(), both.c.id.desc()).limit(limit)


def _matches_nothing(query) -> bool:
    """Whether a filter made the query's condition false (its WHERE folds to it): SQLite would
    find no way to read such a query by the index it is told to."""
    where = query.whereclause
    return isinstance(getattr(where, "element", where), False_)


def with_details(query):
    """Load what a listed observation shows in two queries, not one per row: its HCP, author,
    territory and brand joined in, its barriers (code and name) in one more."""
    return query.options(
        selectinload(Observation.barriers).load_only(Barrier.code, Barrier.name),
        joinedload(Observation.hcp),
        joinedload(Observation.author),
        joinedload(Observation.territory),
        joinedload(Observation.brand),
    )


# What an entry shows of its observation and of the rows joined to it; a row of _entries has
# these, then the barrier's code and name.
_OWN = ("id", "received_at", "observed_at", "safety_flag", "note", "author_role")
_JOINED = (User.name, Territory.code, Brand.name, HCP.external_id, HCP.name, HCP.account,
           HCP.specialty, HCP.segment)
_SHOWN = len(_OWN) + len(_JOINED)
# What a page takes from the observations it lists: what the entry shows, and the keys of the
# rows it is joined to.
_PAGE_COLUMNS = tuple(getattr(Observation, name) for name in (
    *_OWN, "hcp_id", "author_id", "territory_id", "brand_id"))


def _entries(page):
    """What the entries of a `page` (a subquery of _PAGE_COLUMNS) show: each observation with
    its HCP, author, territory, brand and barriers joined in (a row per barrier), newest first.
    The page carries its observations' columns, so they are not looked up a second time; it
    comes first: PostgreSQL, told to join in the order written, starts from it."""
    c = page.c
    return (
        db.select(*(c[name] for name in _OWN), *_JOINED, Barrier.code, Barrier.name)
        .select_from(page)
        .join(HCP, HCP.id == c.hcp_id)
        .join(User, User.id == c.author_id)
        .join(Territory, Territory.id == c.territory_id)
        .outerjoin(Brand, Brand.id == c.brand_id)
        .outerjoin(observation_barrier, observation_barrier.c.observation_id == c.id)
        .outerjoin(Barrier, Barrier.id == observation_barrier.c.barrier_id)
        .order_by(c.received_at.desc(), c.id.desc(), Barrier.code)
    )


def _listed(user: User, filters: dict):
    """The observations the user may see that match the filters, as _PAGE_COLUMNS: the
    filters and the order need nothing else, so a page walks an index of the observation
    table alone."""
    return _filtered(user, filters, db.select(*_PAGE_COLUMNS))


def _page_statement(user: User, filters: dict, *, newer: bool, after_cursor: bool, limit: int):
    """The statement of a page of the listing, its cursor (if any) bound when it runs (_page).

    The page is found among observations alone (`limit` of them), then only its rows are
    joined to their HCP, author, territory, brand and barriers: one round trip to the database.
    Joined before the limit, every observation a filtered page walks past was joined too (125
    for the 26 of a deep page by brand and category). The limit is written into the statement,
    not bound: PostgreSQL then keeps one generic plan for the prepared statement, where a bound
    LIMIT made it plan the join again on every page (2.7 ms of planning for 0.3 ms of work).

    Building it is a quarter of the page's time in Python (some sixty clauses coerced, then its
    cache key computed) and it is the same for every page a scope and a set of filters show:
    kept a minute per process, like the ids it names. A word search is built each time: its
    words are not a small set to keep statements for."""
    def build():
        query = _listed(user, filters)
        if after_cursor:
            query = query.where((newer_rows if newer else older_rows)(*CURSOR))
        page = _by_arrival(query, filters, bindparam("limit", limit, literal_execute=True))
        return _entries(page.subquery("page"))

    if filters.get("q"):
        return build()
    key = ("feed-page", *cache_scope(user), newer, after_cursor, limit, _chosen(filters))
    return insight_cache().get_or_set(key, build)


def _chosen(filters: dict) -> tuple:
    """The filters set, cursors aside, in a fixed order."""
    return tuple(sorted((k, v) for k, v in filters.items() if v and k not in ("before", "after")))


# On PostgreSQL, for the rest of the transaction: run a prepared statement by the plan made
# once for any values of its parameters (psycopg prepares a statement on its fifth run on a
# connection). Left to choose, PostgreSQL plans a page after a cursor, or a filtered page,
# afresh on each run, and that planning (its five joins' orders searched) cost more than the
# run: at 1M calls a deep page by category and brand took 1.43 ms a statement, 1.20 with the
# joins planned in the order written, 0.92 with its generic plan, the setting's round trip
# included; a territory's page 1.02 → 0.54 ms. Measured with every filter of bench.explain,
# first and deep pages: no plan was worse. Dates excepted: which of their values the plan
# was made for matters (a generic plan read a past week's calls by category in 91 ms, its
# custom plan in 21 ms).
GENERIC_PLAN = "SET LOCAL plan_cache_mode = force_generic_plan"


def _page(user: User, filters: dict, cursor: str | None, *, newer: bool, limit: int) -> list[FeedItem]:
    """Up to `limit` entries newer (or older) than the cursor, or the newest without one, each
    with its barriers, in the listing's order.

    On PostgreSQL a page after a cursor or with a filter, but no dates, is told to use its
    statement's generic plan (see GENERIC_PLAN); an unfiltered first page gets it unasked and
    is spared the setting's round trip."""
    statement = _page_statement(user, filters, newer=newer, after_cursor=bool(cursor), limit=limit)
    if (db.engine.dialect.name == "postgresql" and (cursor or _chosen(filters))
            and _dates(filters) == (None, None)):
        db.session.connection().exec_driver_sql(GENERIC_PLAN)
    rows = db.session.execute(statement, cursor_params(cursor) if cursor else {}).all()
    listed: dict[str, tuple] = {}
    barriers: dict[str, list[Option]] = {}
    for row in rows:
        key = row[0]
        if key not in listed:
            listed[key], barriers[key] = row[:_SHOWN], []
        if row[_SHOWN] is not None:
            barriers[key].append(Option(row[_SHOWN], row[_SHOWN + 1]))
    roles = {code: role_label(code) for code in {row[5] for row in listed.values()}}
    return [FeedItem(*row, tuple(barriers[key]), roles[row[5]]) for key, row in listed.items()]


def feed_page(user: User, filters: dict, page_size: int = PAGE_SIZE) -> FeedPage:
    """One page of the feed, newest received first, older than the `before` cursor if given."""
    rows = _page(user, filters, filters.get("before") or None, newer=False, limit=page_size + 1)
    items, has_more = rows[:page_size], len(rows) > page_size
    older = cursor_of(items[-1]) if has_more else None
    newest = cursor_of(items[0]) if items else filters.get("after")
    return FeedPage(items=items, older=older, newest=newest)


def newer_than(user: User, filters: dict, cursor: str | None) -> list[FeedItem]:
    """Items received after the cursor (all matching items if there is none), newest first."""
    return _page(user, filters, cursor or None, newer=True, limit=PAGE_SIZE)


class Choices(NamedTuple):
    """A filter's options and their <option> markup, rendered once with the options."""

    options: list[Option]
    markup: Markup

    def html(self, selected: str | None) -> Markup:
        """The options with `selected` chosen: the markup is searched, never rendered again."""
        if not selected:
            return self.markup
        option = Markup('<option value="{}">').format(selected)
        chosen = Markup('<option value="{}" selected>').format(selected)
        return self.markup.replace(option, chosen, 1)


def filter_options(user: User) -> dict[str, Choices]:
    """The choices of the filter form: reference data, the same for every viewer with the same
    scope, so read and rendered once a minute rather than six queries and ~300 options a page."""
    key = ("feed-options", *cache_scope(user))
    return insight_cache().get_or_set(key, lambda: _filter_options(user))


def _filter_options(user: User) -> dict[str, Choices]:
    def choices(query, macro: str = "named") -> Choices:
        options = [Option(*row) for row in db.session.execute(query)]
        return Choices(options, get_template_attribute("feed/_options.html", macro)(options))

    territories = scoped(db.select(Territory.code, Territory.name), user, Territory.id)
    roles = (db.select(Role.code, Role.name).where(Role.code.in_(CAPTURE_ROLES))
             .order_by(Role.position))
    if not user.sees_medical:
        roles = roles.where(Role.code.not_in(MEDICAL_ROLES))
    return {
        "territories": choices(territories.order_by(Territory.code), "coded"),
        "categories": choices(db.select(Category.code, Category.name).order_by(Category.position)),
        "brands": choices(db.select(Brand.code, Brand.name).order_by(Brand.name)),
        "journey_stages": choices(
            db.select(JourneyStage.code, JourneyStage.name).order_by(JourneyStage.position)),
        "roles": choices(roles),
        "barriers": choices(db.select(Barrier.code, Barrier.name).order_by(Barrier.code),
                            "barriers"),
    }


EXPORT_HEADER = ["observation_id", "received_at", "observed_at", "territory", "brand", "hcp_id",
                 "hcp_name", "account", "segment", "author_role", "barrier_code", "barrier_name",
                 "category", "journey_stage", "safety_flag", "note"]


def export_rows(user: User, filters: dict) -> Iterator[list]:
    """Every matching observation × barrier, newest first, read in batches (one row per barrier
    so the rows add up to the dashboard's counts)."""
    # Every call of the dates is read: their own index finds them, where a page walks to them.
    matching = _filtered(user, filters).with_only_columns(Observation.id).where(
        *_on_dates(filters, Observation.observed_at))
    query = (
        db.select(Observation.id, Observation.received_at, Observation.observed_at,
                  Territory.code, Brand.name, HCP.external_id, HCP.name, HCP.account, HCP.segment,
                  Observation.author_role, Barrier.code, Barrier.name, Barrier.category_code,
                  Barrier.journey_stage_code, Observation.safety_flag, Observation.note)
        .select_from(Observation)
        .join(observation_barrier, observation_barrier.c.observation_id == Observation.id)
        .join(Barrier, Barrier.id == observation_barrier.c.barrier_id)
        .join(HCP, HCP.id == Observation.hcp_id)
        .join(Territory, Territory.id == Observation.territory_id)
        .outerjoin(Brand, Brand.id == Observation.brand_id)
        .where(Observation.id.in_(matching))
        .order_by(Observation.received_at.desc(), Observation.id.desc(), Barrier.code)
        .execution_options(yield_per=1000)
    )


    # The query is built now, while the user is at hand; the rows are read as the response
    # streams, after the request's own session is gone: from the replica if the request read
    # there.
    on_replica = db.session.info.get(READS_FROM_REPLICA, False)

    def rows():
        db.session.info[READS_FROM_REPLICA] = on_replica
        for row in db.session.execute(query):
            yield [row[0], row[1].isoformat(), row[2].isoformat(), *row[3:14],
                   "yes" if row[14] else "no", row[15]]

    return rows()
