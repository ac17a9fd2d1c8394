"""Capturing observations: the one write path shared by the form and the sync API."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from marshmallow import ValidationError
from sqlalchemy import bindparam, func, literal_column, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..audit import record
from ..cache import SnapshotStore, in_background, insight_cache
from ..extensions import db
from ..models import (
    HCP,
    MEDICAL_ROLES,
    AdoptionStage,
    AdoptionStep,
    Barrier,
    Brand,
    Channel,
    Observation,
    Play,
    User,
    observation_barrier,
    utcnow,
)
from ..scope import cache_scope, in_scope, scoped, user_may_see
from .compliance import check_note

RECENT_HCPS = 6
RECENT_CALLS = 200  # an author's latest calls that recent HCPs are taken from
FREQUENT_BARRIERS = 8
FREQUENT_WINDOW = timedelta(days=90)
BARRIER_PAGE = 40


def find_hcp(user: User, external_id: str) -> HCP | None:
    """Return the HCP with this external id if it is in the user's scope."""
    return _hcps(user, [external_id], {})[external_id]


def recent_hcps(user: User, limit: int = RECENT_HCPS) -> list[HCP]:
    """The HCPs this user logged most recently, still in their scope, from their latest
    RECENT_CALLS calls (read newest first by index: a rep's whole history is never grouped)."""
    latest = (
        db.select(Observation.hcp_id, Observation.observed_at)
        .where(Observation.author_id == user.id)
        .order_by(Observation.observed_at.desc())
        .limit(RECENT_CALLS)
        .subquery()
    )
    last_seen = (
        db.select(latest.c.hcp_id, func.max(latest.c.observed_at).label("last"))
        .group_by(latest.c.hcp_id)
        .subquery()
    )
    query = db.select(HCP).join(last_seen, last_seen.c.hcp_id == HCP.id)
    query = scoped(query, user, HCP.territory_id)
    return list(db.session.scalars(query.order_by(last_seen.c.last.desc()).limit(limit)))


def search_hcps(user: User, q: str, limit: int = 20) -> list[HCP]:
    """HCPs in the user's scope whose name, account or specialty contains every word of q."""
    query = scoped(db.select(HCP), user, HCP.territory_id)
    query = contains_every_word(query, q, HCP.name, HCP.account, HCP.specialty)
    return list(db.session.scalars(query.order_by(HCP.name).limit(limit)))


def contains_every_word(query, q: str, *columns, max_words: int = 6):
    """Keep rows where each word of q appears (case-insensitively) in one of the columns."""
    for word in q.split()[:max_words]:
        escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
        )
    return query


@dataclass
class BarrierChoices:
    selected: list[Barrier] = field(default_factory=list)
    frequent: list[Barrier] = field(default_factory=list)
    matches: list[Barrier] = field(default_factory=list)
    more: int = 0


def active_barriers():
    return db.select(Barrier).where(Barrier.retired_at.is_(None))


def filter_barriers(query, q: str = "", category: str = "", journey_stage: str = ""):
    """Narrow a barrier query by category, journey stage and the words of q."""
    if category:
        query = query.where(Barrier.category_code == category)
    if journey_stage:
        query = query.where(Barrier.journey_stage_code == journey_stage)
    return contains_every_word(query, q, Barrier.name, Barrier.description, Barrier.code)


def barrier_choices(
    user: User,
    hcp: HCP,
    selected_codes: list[str],
    q: str = "",
    category: str = "",
    journey_stage: str = "",
) -> BarrierChoices:
    """What the barrier picker shows: chosen ones, the likely ones for this HCP, then matches."""
    choices = BarrierChoices()
    if selected_codes:
        choices.selected = list(
            db.session.scalars(
                active_barriers().where(Barrier.code.in_(selected_codes)).order_by(Barrier.code)
            )
        )
    taken = {b.id for b in choices.selected}
    filtering = bool(q.strip() or category or journey_stage)
    if not filtering:
        choices.frequent = [
            b for b in likely_barriers(user, hcp) if b.id not in taken
        ][:FREQUENT_BARRIERS]
        taken |= {b.id for b in choices.frequent}
    query = filter_barriers(active_barriers(), q, category, journey_stage)
    if taken:
        query = query.where(Barrier.id.not_in(taken))
    total = db.session.scalar(db.select(func.count()).select_from(query.subquery()))
    choices.matches = list(
        db.session.scalars(query.order_by(Barrier.category_code, Barrier.name).limit(BARRIER_PAGE))
    )
    choices.more = max(0, total - len(choices.matches))
    return choices


# How much each kind of evidence says "likely for this HCP": the HCP's own open barriers most,
# then what HCPs of the same segment show, then what the territory hears lately.
LIKELY_WEIGHTS = {"hcp": 4.0, "segment": 1.0, "territory": 0.5}


def likely_barriers(user: User, hcp: HCP, limit: int = FREQUENT_BARRIERS) -> list[Barrier]:
    """Barriers ordered by what is likely for this HCP, before anything is typed (90 days):
    each mention in the user's territories counts LIKELY_WEIGHTS["territory"], one about an
    HCP of the same segment LIKELY_WEIGHTS["segment"] more, one about this HCP "hcp" more.

    Picking an HCP must not count the territory's quarter (some 7,000 mentions: 120 ms at 1M
    calls): the territory's counts by barrier and segment are kept like the dashboard's, a
    minute at most behind; only the HCP's own few mentions are counted live."""
    since = utcnow() - FREQUENT_WINDOW
    scores: dict[int, float] = {}
    # Some 900 rows (barrier × segment) at 1M calls: the HCP's segment and the two weights
    # are read once, not per row (an ORM attribute per row made this loop 1.2–1.8 ms, 0.4 now).
    own_segment = hcp.segment
    territory = LIKELY_WEIGHTS["territory"]
    same_segment = territory + LIKELY_WEIGHTS["segment"]
    for barrier_id, segment, n in _field_mentions(user, since.date()):
        weight = same_segment if own_segment is not None and segment == own_segment else territory
        scores[barrier_id] = scores.get(barrier_id, 0.0) + n * weight
    # The HCP's index finds its calls; `+ 0` keeps SQLite from walking the territory's instead.
    own = _mention_counts(user, since, territory=Observation.territory_id + literal_column("0"))
    own = own.where(Observation.hcp_id == hcp.id).group_by(observation_barrier.c.barrier_id)
    for barrier_id, n in db.session.execute(own):
        scores[barrier_id] = scores.get(barrier_id, 0.0) + n * LIKELY_WEIGHTS["hcp"]
    return _top_active(scores, limit)


def _top_active(scores: dict[int, float], limit: int) -> list[Barrier]:
    """The `limit` active barriers of highest score (ties by code), loading only the leaders:
    a territory's quarter mentions most of the library (some 175 barriers), and loading
    them all to keep 8 was most of the time an HCP pick took. Each round loads the next
    `limit` ids and any that tie with the last, until enough of them are active: a barrier
    left unloaded then scores below every one loaded."""
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    found: list[Barrier] = []
    start = 0
    while len(found) < limit and start < len(ranked):
        end = min(start + limit, len(ranked))
        while end < len(ranked) and scores[ranked[end]] == scores[ranked[end - 1]]:
            end += 1
        found += db.session.scalars(active_barriers().where(Barrier.id.in_(ranked[start:end])))
        start = end
    return sorted(found, key=lambda b: (-scores[b.id], b.code))[:limit]


def _mention_counts(user: User, since, *by, territory=Observation.territory_id):
    """Mentions (barrier links) of calls observed since `since` in the user's territories
    (`territory` is the column the scope is checked on), counted by barrier and `by`; not
    grouped yet."""
    query = (
        db.select(observation_barrier.c.barrier_id, *by, func.count())
        .join(Observation, Observation.id == observation_barrier.c.observation_id)
        .where(Observation.observed_at >= since)
    )
    return scoped(query, user, territory)


def _field_mentions(user: User, since: date) -> list[tuple[int, str | None, int]]:
    """(barrier id, HCP segment, mentions) in the user's territories since the start of
    `since`, shared by every viewer with the same territories and rebuilt off the request."""
    def key(day: date) -> tuple:
        return ("likely-field", *cache_scope(user), day)

    user_id = user.id

    def count() -> list[tuple[int, str | None, int]]:
        viewer = db.session.get(User, user_id)  # a background rebuild has its own session
        start = datetime.combine(since, time.min, tzinfo=UTC)
        query = (_mention_counts(viewer, start, HCP.segment)
                 .join(HCP, HCP.id == Observation.hcp_id)
                 .group_by(observation_barrier.c.barrier_id, HCP.segment))
        return [tuple(row) for row in db.session.execute(query)]

    return insight_cache().get_or_set(key(since), count, background=in_background,
                                      shared=SnapshotStore(), previous=key(since - timedelta(days=1)))


def current_stages(hcp: HCP) -> list[tuple[str, str]]:
    """(brand name, stage name) of the HCP's latest adoption step per brand."""
    latest = (
        db.select(AdoptionStep.brand_id, func.max(AdoptionStep.id).label("id"))
        .where(AdoptionStep.hcp_id == hcp.id)
        .group_by(AdoptionStep.brand_id)
        .subquery()
    )
    query = (
        db.select(Brand.name, AdoptionStage.name)
        .select_from(AdoptionStep)
        .join(latest, latest.c.id == AdoptionStep.id)
        .join(Brand, Brand.id == AdoptionStep.brand_id)
        .join(AdoptionStage, AdoptionStage.code == AdoptionStep.stage_code)
        .order_by(Brand.name)
    )
    return [tuple(row) for row in db.session.execute(query)]


# The write path ---------------------------------------------------------------------------
CREATED, DUPLICATE = "created", "duplicate"
ID_CONFLICT = "This id was already used for a different observation; give it a new id."


@dataclass
class BatchLookups:
    """What one sync batch looks up once for all its items: the ids it does not hold yet, the
    HCPs (in the author's scope), barriers (with their plays) and brands its items name; and
    the barrier links its items leave for the batch to insert at once (`commit=False`)."""

    absent_ids: set[str] = field(default_factory=set)
    created: dict[str, Observation] = field(default_factory=dict)  # by id, not yet flushed
    barriers: dict[str, Barrier | None] = field(default_factory=dict)
    brands: dict[str, Brand | None] = field(default_factory=dict)
    hcps: dict[str, HCP | None] = field(default_factory=dict)  # by external id
    links: list[dict] = field(default_factory=list)

    def prefetch(self, author: User, hcps: set[str], barriers: set[str], brands: set[str]) -> None:
        """Look up what the items name in one query per kind, before they are validated."""
        _hcps(author, hcps, self.hcps)
        _active_barriers(sorted(barriers), self.barriers)
        _brands(brands, self.brands)


def record_observation(author: User, data: dict, lookups: BatchLookups | None = None,
                       commit: bool = True) -> tuple[Observation, str]:
    """Store one validated observation, idempotent on its client id.

    Returns the observation and "created" or "duplicate"; raises ValidationError with
    field messages for anything that cannot be stored, before anything is added to the
    session. Nothing is half-written. A batch passes one BatchLookups for all its items, so
    each barrier and brand is looked up once, and may leave the writing to itself
    (`commit=False`): it then stores its items with `insert_links` and commits, where an id
    stored meanwhile by another request raises IntegrityError.
    """
    observation_id = str(data["id"])
    codes = sorted(set(data["barriers"]))
    fingerprint = Observation.fingerprint_of(
        data["hcp"], codes, data["note"], data["observed_at"], data.get("brand"),
        data.get("channel"), data.get("adoption_stage"),
    )
    # A batch has already looked for all its ids at once; an id it did not find needs no
    # look-up (a concurrent insert of it still ends as a duplicate, below), and one it has
    # created is answered from memory, since a batch does not flush between its items. A
    # single call is not looked for either: its id is almost always new (a replay is a
    # double tap), and one stored already fails the insert and is answered as a duplicate,
    # below; only an item that fails validation is looked for first, as a replay.
    single = lookups is None
    lookups = lookups or BatchLookups()
    existing = lookups.created.get(observation_id)
    if existing is None and not single and observation_id not in lookups.absent_ids:
        existing = db.session.get(Observation, observation_id)
    if existing is not None:
        return _replay(author, existing, fingerprint)

    hcp = _hcps(author, [data["hcp"]], lookups.hcps)[data["hcp"]]
    errors: dict[str, list[str]] = {}
    note_check = check_note(data["note"])
    if note_check.identifiers:
        errors["note"] = [note_check.refusal()]
    if hcp is None:
        errors["hcp"] = ["No HCP with this id in your territory."]
    barriers = _active_barriers(codes, lookups.barriers)
    unknown = sorted(set(codes) - {b.code for b in barriers})
    if unknown:
        errors["barriers"] = [f"Unknown or retired barrier: {', '.join(unknown)}."]
    brand = None
    if data.get("brand"):
        brand = _brands([data["brand"]], lookups.brands)[data["brand"]]
        if brand is None:
            errors["brand"] = [f"Unknown brand {data['brand']}."]
    if data.get("channel") and db.session.get(Channel, data["channel"]) is None:
        errors["channel"] = [f"Unknown channel {data['channel']}."]
    stage = data.get("adoption_stage")
    if stage and db.session.get(AdoptionStage, stage) is None:
        errors["adoption_stage"] = [f"Unknown adoption stage {stage}."]
    if errors:
        existing = db.session.get(Observation, observation_id) if single else None
        if existing is not None:  # a replay of a call stored before
            return _replay(author, existing, fingerprint)
        raise ValidationError(errors)

    observation = Observation(
        id=observation_id,
        author=author,
        author_id=author.id,  # set now: a repeat in the same batch compares it before the flush
        author_role=author.role,
        hcp=hcp,
        territory_id=hcp.territory_id,
        brand=brand,
        channel_code=data.get("channel") or None,
        note=data["note"].strip(),
        observed_at=data["observed_at"],
        received_at=utcnow(),
        fingerprint=fingerprint,
        safety_flag=note_check.safety_flag,
        safety_terms=note_check.adverse_event_terms,
    )
    db.session.add(observation)
    if stage:
        db.session.add(AdoptionStep(hcp=hcp, brand=brand, stage_code=stage,
                                    at=observation.observed_at, user=author,
                                    observation=observation))
    record(
        "observation_created",
        actor=author,
        entity="observation",
        entity_id=observation_id,
        barriers=codes,
        hcp=hcp.external_id,
        safety_flag=note_check.safety_flag,
        adoption_stage=stage,
    )
    # Everything is read before anything is written: on SQLite the first write takes the
    # database's only write lock, held until the commit.
    with db.session.no_autoflush:
        _link_barriers(observation, barriers, lookups.links)
        # In the same transaction: a crash can never keep the call and lose its hand-off.
        _route_medical_questions(author, observation)
    if not commit:  # a group flushes its items together, then inserts their links at once
        lookups.created[observation_id] = observation  # the batch may name it again
        return observation, CREATED
    try:
        insert_links(lookups)
        db.session.commit()
    except IntegrityError:
        # Another request stored the same id between our check and our insert.
        db.session.rollback()
        lookups.links.clear()
        existing = db.session.get(Observation, observation_id)
        if existing is None:
            raise
        return _replay(author, existing, fingerprint)
    return observation, CREATED


# What every call names, looked up by the keys it gives (an HCP's external id, a barrier's or a
# brand's code). Built once: building a statement and its cache key costs as much as running
# one of these on SQLite, and every capture and every sync group runs all three.
_KEYS = bindparam("keys", expanding=True)
_HCPS_NAMED = db.select(HCP).where(HCP.external_id.in_(_KEYS))
_BARRIERS_NAMED = active_barriers().where(Barrier.code.in_(_KEYS)).options(joinedload(Barrier.plays))
_BRANDS_NAMED = db.select(Brand).where(Brand.code.in_(_KEYS))


def _known(known: dict, keys, load) -> dict:
    """`known`, completed for the keys it lacks with what `load(missing)` finds (None for what
    it does not find): each key is looked up once however often a batch names it."""
    missing = set(keys) - known.keys()
    if missing:
        known.update(dict.fromkeys(missing))
        known.update(load(missing))
    return known


def _hcps(author: User, external_ids, known: dict[str, HCP | None]) -> dict[str, HCP | None]:
    """HCPs by external id; None for those that do not exist or are not in the author's scope."""
    def load(missing):
        found = db.session.scalars(_HCPS_NAMED, {"keys": list(missing)})
        return {h.external_id: h for h in found if in_scope(author, h.territory_id)}

    return _known(known, external_ids, load)


def _active_barriers(codes: list[str], known: dict[str, Barrier | None]) -> list[Barrier]:
    """The active barriers among `codes` (sorted), with their plays."""
    def load(missing):
        return {b.code: b for b in db.session.scalars(_BARRIERS_NAMED, {"keys": list(missing)}).unique()}

    _known(known, codes, load)
    return [known[code] for code in codes if known[code] is not None]


def _brands(codes, known: dict[str, Brand | None]) -> dict[str, Brand | None]:
    def load(missing):
        return {b.code: b for b in db.session.scalars(_BRANDS_NAMED, {"keys": list(missing)})}

    return _known(known, codes, load)


def _link_barriers(observation: Observation, barriers: list[Barrier], links: list[dict]) -> None:
    """The rows linking the observed barriers, each with the play version it was given so the
    call keeps pointing at it, added to `links` for `insert_links`."""
    from ..plays.services import PlayContext, next_best_play

    context = PlayContext.of(observation)
    for barrier in barriers:
        play = next_best_play(barrier, context)
        links.append({"observation_id": observation.id, "barrier_id": barrier.id,
                      "play_id": play.id if play else None})
    set_committed_value(observation, "barriers", barriers)


def insert_links(batch: BatchLookups) -> None:
    """Flush the observations, then insert the barrier links `record_observation` left in the
    batch in one statement."""
    if batch.links:
        db.session.flush()
        db.session.execute(observation_barrier.insert(), batch.links)
        batch.links.clear()


def _route_medical_questions(author: User, observation: Observation) -> None:
    """A medical barrier heard by a commercial role goes straight to the territory's MSL:
    only medical may answer off-label and scientific questions."""
    from ..plays.services import hand_off

    if author.role in MEDICAL_ROLES:
        return
    for barrier in observation.barriers:
        if not barrier.may_be_run_by(author.role) and "msl" in barrier.compliant_for:
            hand_off(author, observation, barrier.code, to_role="msl", commit=False,
                     new_observation=True)


def _replay(author: User, existing: Observation, fingerprint: str) -> tuple[Observation, str]:
    if existing.author_id != author.id or existing.fingerprint != fingerprint:
        raise ValidationError({"id": [ID_CONFLICT]})
    return existing, DUPLICATE


# What a call's page shows of it (and what running one of its plays reads), loaded with it: each
# barrier's category and plays, each play's channel and leave-behind. Lazily, a call's page read
# them one statement each: 21 statements for a call of three barriers, 12–13 for one.
_CALL_WITH_PLAYS = (
    joinedload(Observation.hcp),
    joinedload(Observation.brand),
    selectinload(Observation.barriers).options(
        joinedload(Barrier.category),
        selectinload(Barrier.plays).options(joinedload(Play.channel),
                                            selectinload(Play.leave_behind_version))),
)


def visible_observation(user: User, observation_id: str) -> Observation | None:
    observation = db.session.get(Observation, observation_id, options=_CALL_WITH_PLAYS)
    if observation is None or not user_may_see(user, observation):
        return None
    return observation


def last_brand(user: User) -> str | None:
    """The brand code of the user's latest call (the form's default), if it named one."""
    return db.session.scalar(
        db.select(Brand.code)
        .select_from(Observation)
        .outerjoin(Brand, Brand.id == Observation.brand_id)
        .where(Observation.author_id == user.id)
        .order_by(Observation.observed_at.desc())
        .limit(1))


def recent_observations(user: User, limit: int = 5) -> list[Observation]:
    """The user's latest calls, newest first, with the HCP and barriers each one shows."""
    query = (
        db.select(Observation)
        .where(Observation.author_id == user.id)
        .order_by(Observation.observed_at.desc())
        .limit(limit)
        .options(joinedload(Observation.hcp), selectinload(Observation.barriers))
    )
    return list(db.session.scalars(query))
