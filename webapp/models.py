"""Every Clearpath model and the domain rules that belong to it."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

# Roles ---------------------------------------------------------------------------------------
# User roles are the library's role codes except `hub` (a service, not a person), plus admin.
FIELD_ROLES = ("sales_rep", "msl", "frm", "kam", "idn_director", "pal", "nurse_educator")
DISTRICT_ROLES = ("district_manager",)
HQ_ROLES = (
    "hq_brand",
    "hq_market_access",
    "hq_digital",
    "head_of_medical",
    "medical_info",
    "drug_safety",
)
ADMIN_ROLES = ("admin",)
USER_ROLES = FIELD_ROLES + DISTRICT_ROLES + HQ_ROLES + ADMIN_ROLES
# Only these see medical (MSL) insights: the medical-commercial firewall.
MEDICAL_ROLES = ("msl", "head_of_medical", "medical_info")
# Who logs barriers after a call, and who reviews the incoming feed.
CAPTURE_ROLES = FIELD_ROLES + DISTRICT_ROLES
FEED_ROLES = DISTRICT_ROLES + HQ_ROLES + ADMIN_ROLES
# Who writes and approves the barrier library (drug safety reviews events, not content).
LIBRARY_ROLES = ("hq_brand", "hq_market_access", "hq_digital", "head_of_medical",
                 "medical_info", "admin")

MIN_PASSWORD_LENGTH = 12


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(db.TypeDecorator):
    """A timezone-aware datetime stored as UTC on every database (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give an offset")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Organisation ---------------------------------------------------------------------------------
class Territory(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    district: Mapped[str | None] = mapped_column(String(40), index=True)

    def __repr__(self) -> str:
        return f"<Territory {self.code}>"


class Brand(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(40))
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id every session cookie carries: bumping it signs the user out everywhere.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    territory: Mapped[Territory] = relationship()

    def get_id(self) -> str:
        """The identity a session stores: the user and the session version it was signed in at."""
        return f"{self.id}:{self.session_version}"

    def end_all_sessions(self) -> None:
        """Make every session cookie issued so far worthless, on every device."""
        self.session_version = (self.session_version or 1) + 1

    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def sees_all_territories(self) -> bool:
        return self.role in HQ_ROLES + ADMIN_ROLES

    @property
    def sees_medical(self) -> bool:
        return self.role in MEDICAL_ROLES

    @property
    def can_capture(self) -> bool:
        return self.role in CAPTURE_ROLES

    @property
    def can_review_feed(self) -> bool:
        return self.role in FEED_ROLES

    def territory_ids(self) -> list[int] | None:
        """Return the territories this user may see, or None for every territory."""
        if self.sees_all_territories:
            return None
        if self.role in DISTRICT_ROLES and self.territory.district:
            return list(
                db.session.scalars(
                    db.select(Territory.id).where(Territory.district == self.territory.district)
                )
            )
        return [self.territory_id]

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What the owner called it ("iPad", "CRM export"), and its last 4 characters to recognise it.
    label: Mapped[str] = mapped_column(String(80), default="", server_default="")
    last4: Mapped[str] = mapped_column(String(4), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = utcnow()


class HCP(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    specialty: Mapped[str] = mapped_column(String(120))
    account: Mapped[str] = mapped_column(String(200))
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"), index=True)
    segment: Mapped[str] = mapped_column(String(80), default="")

    territory: Mapped[Territory] = relationship()

    def __repr__(self) -> str:
        return f"<HCP {self.external_id}>"


# Barrier library ------------------------------------------------------------------------------
class Category(db.Model):
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class AdoptionStage(db.Model):
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class JourneyStage(db.Model):
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)


class Role(db.Model):
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class Channel(db.Model):
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)


class Barrier(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    journey_stage_code: Mapped[str] = mapped_column(ForeignKey("journey_stage.code"), index=True)
    adoption_stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    signals: Mapped[list[str]] = mapped_column(JSON, default=list)
    primary_role_code: Mapped[str] = mapped_column(ForeignKey("role.code"))
    compliant_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A barrier dropped from the library is retired, never deleted: observations point at it.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category] = relationship()
    journey_stage: Mapped[JourneyStage] = relationship()
    primary_role: Mapped[Role] = relationship()
    # Every version of every play for this barrier; only approved, unexpired ones are offered.
    plays: Mapped[list[Play]] = relationship(back_populates="barrier", order_by="Play.id")

    def may_be_run_by(self, role: str) -> bool:
        return role in self.compliant_for

    def offered_plays(self, today: date | None = None) -> list[Play]:
        """The plays a user may be given today: approved and unexpired, the library's first."""
        today = today or utcnow().date()
        offered = [play for play in self.plays if play.is_offered(today)]
        return sorted(offered, key=lambda play: (play.lineage != self.code, play.lineage))

    @property
    def play(self) -> Play | None:
        """The play offered when nothing is known of the context (the library's own first)."""
        offered = self.offered_plays()
        return offered[0] if offered else None

    def __repr__(self) -> str:
        return f"<Barrier {self.code}>"


# MLR status of a play version. Editing approved content makes a new draft version; approving
# it supersedes the version before, which observations given it still point at.
CONTENT_STATES = ("draft", "approved", "withdrawn", "superseded")


class Play(db.Model):
    """One version of a play: the five questions, MLR-approved or not, for one barrier."""

    id: Mapped[int] = mapped_column(primary_key=True)
    barrier_id: Mapped[int] = mapped_column(ForeignKey("barrier.id"), index=True)
    # The versions of one play share a lineage; the library's own play has the barrier's code.
    lineage: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default="approved")
    approval_code: Mapped[str] = mapped_column(String(60), default="")
    expires_on: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text)
    channel_code: Mapped[str] = mapped_column(ForeignKey("channel.code"))
    know: Mapped[str] = mapped_column(Text)
    use: Mapped[str] = mapped_column(Text)
    tell: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    barrier: Mapped[Barrier] = relationship(back_populates="plays")
    channel: Mapped[Channel] = relationship()
    created_by: Mapped[User | None] = relationship()
    leave_behind_version: Mapped[LeaveBehind | None] = relationship(
        back_populates="play", uselist=False
    )

    __table_args__ = (UniqueConstraint("lineage", "version", name="uq_play_lineage_version"),)

    def is_offered(self, today: date | None = None) -> bool:
        today = today or utcnow().date()
        return self.status == "approved" and (self.expires_on is None or self.expires_on >= today)

    @property
    def leave_behind(self) -> LeaveBehind | None:
        """The leave-behind that may be printed today, if any."""
        lb = self.leave_behind_version
        return lb if lb is not None and lb.is_offered() else None


class LeaveBehind(db.Model):
    """The one-page handout of a play version, with its own MLR code, status and expiry."""

    id: Mapped[int] = mapped_column(primary_key=True)
    play_id: Mapped[int] = mapped_column(ForeignKey("play.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    approval_code: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="approved")
    expires_on: Mapped[date | None] = mapped_column(Date)

    play: Mapped[Play] = relationship(back_populates="leave_behind_version")

    def is_offered(self, today: date | None = None) -> bool:
        today = today or utcnow().date()
        return (self.status == "approved" and self.play.is_offered(today)
                and (self.expires_on is None or self.expires_on >= today))


# Observations ---------------------------------------------------------------------------------
# A call received more than this after it happened arrived late (a tablet offline for days).
LATE_ARRIVAL = timedelta(days=1)

observation_barrier = Table(
    "observation_barrier",
    db.metadata,
    Column("observation_id", ForeignKey("observation.id", ondelete="CASCADE"), primary_key=True),
    Column("barrier_id", ForeignKey("barrier.id"), primary_key=True, index=True),
    # The play version the author was given for this barrier (None when it had none).
    Column("play_id", ForeignKey("play.id"), nullable=True),
)


class Observation(db.Model):
    """What a field user saw at one HCP: one or more barriers, identified by the client's UUID."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The author's role when observed: the medical-commercial firewall and role filters use it.
    author_role: Mapped[str] = mapped_column(String(40))
    hcp_id: Mapped[int] = mapped_column(ForeignKey("hcp.id"), index=True)
    # The HCP's territory when observed, so scope and filters need no join and survive moves.
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id"))
    channel_code: Mapped[str | None] = mapped_column(ForeignKey("channel.code"))
    note: Mapped[str] = mapped_column(Text, default="")
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the note reads like a possible adverse event: drug safety must see it in 24 h.
    safety_flag: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    safety_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Hash of the content the client sent, so a replay of the same id can be told apart
    # from a different observation that reuses the id.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Received more than LATE_ARRIVAL after it happened (set on every write, see _arrival): the
    # few calls a feed of dates long past cannot find by walking back from where they end.
    arrived_late: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    author: Mapped[User] = relationship()
    hcp: Mapped[HCP] = relationship()
    territory: Mapped[Territory] = relationship()
    brand: Mapped[Brand | None] = relationship()
    channel: Mapped[Channel | None] = relationship()
    barriers: Mapped[list[Barrier]] = relationship(
        secondary=observation_barrier, order_by=Barrier.code
    )

    __table_args__ = (
        # The feed's orders, newest first. Each holds the author's role, which a commercial
        # viewer's feed always filters by: SQLite checks it in the index and reads only the
        # rows a page shows (migration 0014).
        Index("ix_observation_feed", "received_at", "id", "author_role"),
        Index("ix_observation_territory_feed", "territory_id", "received_at", "id", "author_role"),
        # A brand's feed: a deep page filtered by brand and category walks 126 rows, not 800.
        Index("ix_observation_brand_feed", "brand_id", "received_at", "id", "author_role"),
        Index("ix_observation_safety", "safety_flag", "received_at", "id"),
        # The dashboard's period scans: the index holds what a period is counted by
        # (territory, brand, author's role, id), so they read it and the barrier links, not
        # the rows (migration 0013).
        Index("ix_observation_period", "observed_at", "territory_id", "brand_id", "author_role",
              "id"),
        # An HCP's history and "seen again" look-ups.
        Index("ix_observation_hcp_observed", "hcp_id", "observed_at"),
        # A territory's recent calls: the rep's top barriers, a district's dashboard.
        Index("ix_observation_territory_observed", "territory_id", "observed_at"),
        # An author's latest calls, newest first: the capture page's recent HCPs and calls.
        Index("ix_observation_author_observed", "author_id", "observed_at"),
        # The calls that arrived late, by the time they happened, with the feed's order and the
        # author's role: a feed of dates that ended long ago reads its late calls here, the few
        # of its dates (webapp/feed/services.py, _by_arrival).
        Index("ix_observation_late", "observed_at", "received_at", "id", "author_role",
              sqlite_where=text("arrived_late = 1"), postgresql_where=text("arrived_late")),
        # Also ix_observation_note_trgm (feed word search): PostgreSQL only, see SEARCH_INDEXES.
    )

    @staticmethod
    def fingerprint_of(
        hcp_external_id: str,
        barrier_codes: list[str],
        note: str,
        observed_at: datetime,
        brand_code: str | None,
        channel_code: str | None,
        adoption_stage: str | None = None,
    ) -> str:
        content = [
            hcp_external_id,
            sorted(set(barrier_codes)),
            note,
            observed_at.astimezone(UTC).isoformat(timespec="seconds"),
            brand_code,
            channel_code,
        ]
        if adoption_stage:  # appended only when given: older fingerprints stay valid
            content.append(adoption_stage)
        canonical = json.dumps(content)
        return hashlib.sha256(canonical.encode()).hexdigest()


# Plays in motion ----------------------------------------------------------------------------------
OUTCOMES = ("resolved", "partly", "not_resolved", "too_early")
LEAVE_BEHIND_USES = ("none", "given", "emailed")
HANDOFF_STATES = ("open", "accepted", "run", "returned")
OUTCOME_AFTER_DAYS = 14


class PlayRun(db.Model):
    """A play that somebody ran for an observed barrier, and later whether it worked."""

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[str] = mapped_column(ForeignKey("observation.id"), index=True)
    barrier_id: Mapped[int] = mapped_column(ForeignKey("barrier.id"), index=True)
    # The play version that was run; its lineage carries the success rate.
    play_id: Mapped[int | None] = mapped_column(ForeignKey("play.id"), index=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    runner_role: Mapped[str] = mapped_column(String(40))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel_code: Mapped[str] = mapped_column(ForeignKey("channel.code"))
    leave_behind: Mapped[str] = mapped_column(String(10), default="none")
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The call's facts that the metrics count runs by (its scope, HCP, brand and when the
    # barrier was seen), copied when the run is stored; a call never changes. Counting every run
    # no longer looks up each run's call by its UUID (219,000 look-ups at 1M calls).
    call_territory_id: Mapped[int] = mapped_column()
    call_author_role: Mapped[str] = mapped_column(String(40))
    call_hcp_id: Mapped[int] = mapped_column()
    call_brand_id: Mapped[int | None] = mapped_column()
    call_observed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    observation: Mapped[Observation] = relationship()
    barrier: Mapped[Barrier] = relationship()
    play: Mapped[Play | None] = relationship()
    runner: Mapped[User] = relationship()
    channel: Mapped[Channel] = relationship()


@event.listens_for(Observation, "before_insert")
@event.listens_for(Observation, "before_update")
def _arrival(mapper, connection, call: Observation) -> None:
    """Whoever stores a call (a capture, a sync, the demo), it says whether it arrived late."""
    if call.received_at is None:
        call.received_at = utcnow()
    call.arrived_late = call.received_at - call.observed_at > LATE_ARRIVAL


@event.listens_for(PlayRun, "before_insert")
def _copy_the_calls_facts(mapper, connection, run: PlayRun) -> None:
    """Whoever stores a run (a play run, a hand-off run, the demo), it carries its call's facts;
    the call is flushed first, so its keys are set."""
    call = run.observation
    run.call_territory_id, run.call_author_role = call.territory_id, call.author_role
    run.call_hcp_id, run.call_brand_id = call.hcp_id, call.brand_id
    run.call_observed_at = call.observed_at


class Handoff(db.Model):
    """A play handed to the role that may run it, in the HCP's territory."""

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[str] = mapped_column(ForeignKey("observation.id"), index=True)
    barrier_id: Mapped[int] = mapped_column(ForeignKey("barrier.id"))
    from_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    to_role: Mapped[str] = mapped_column(String(40))
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    reason: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    play_run_id: Mapped[int | None] = mapped_column(ForeignKey("play_run.id"))

    observation: Mapped[Observation] = relationship()
    barrier: Mapped[Barrier] = relationship()
    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    play_run: Mapped[PlayRun | None] = relationship()

    __table_args__ = (Index("ix_handoff_queue", "to_role", "territory_id", "status"),)


class AdoptionStep(db.Model):
    """Where an HCP stood on a brand's adoption ladder, as a field user judged it on a call.

    Only ever appended: the latest step is the HCP's stage, the history shows movement.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    hcp_id: Mapped[int] = mapped_column(ForeignKey("hcp.id"))
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"))
    stage_code: Mapped[str] = mapped_column(ForeignKey("adoption_stage.code"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    observation_id: Mapped[str | None] = mapped_column(ForeignKey("observation.id"))

    hcp: Mapped[HCP] = relationship()
    brand: Mapped[Brand] = relationship()
    stage: Mapped[AdoptionStage] = relationship()
    user: Mapped[User] = relationship()
    observation: Mapped[Observation | None] = relationship()

    __table_args__ = (Index("ix_adoption_step_hcp_brand", "hcp_id", "brand_id", "at"),)


# Audit ------------------------------------------------------------------------------------------
class AuditEvent(db.Model):
    """One write or security event. Rows are only ever inserted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity: Mapped[str] = mapped_column(String(60), default="")
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise PermissionError("audit events are append-only")


# Insight snapshots ----------------------------------------------------------------------------
class InsightSnapshot(db.Model):
    """A computed figure (a dashboard) shared by every worker and host, so it is built once for
    all of them and survives a restart; see webapp/cache.py. Not a record: nothing is audited."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cache key
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


# Indexes only migration 0007 builds, on PostgreSQL with pg_trgm: a trigram GIN index on
# lower(note) for the feed's word search. The models cannot say "PostgreSQL only", so schema
# comparisons (autogenerate, the migration test) leave them out.
SEARCH_INDEXES = frozenset({"ix_observation_note_trgm"})

# SQLite's counterpart (migration 0012, and create_all below): the notes in an FTS5 trigram
# index, which finds the calls whose note holds a word without reading every note. Its rows
# are numbered by the key table, not by the observation's rowid, which VACUUM may renumber
# (the observation's key is its UUID); triggers keep both in step with every insert, change
# and delete of an observation, whatever writes it (capture, sync, a restore, the bench seed).
NOTE_SEARCH = "observation_note_search"
NOTE_SEARCH_TABLES = (
    f"CREATE VIRTUAL TABLE {NOTE_SEARCH} USING fts5(note, tokenize='trigram')",
    f"""CREATE TABLE {NOTE_SEARCH}_key (
        rowid INTEGER PRIMARY KEY, observation_id VARCHAR(36) NOT NULL UNIQUE)""",
)
NOTE_SEARCH_TRIGGERS = {
    "insert": f"""CREATE TRIGGER {NOTE_SEARCH}_insert AFTER INSERT ON observation
    WHEN new.note != ''
    BEGIN
        INSERT INTO {NOTE_SEARCH}_key (observation_id) VALUES (new.id);
        INSERT INTO {NOTE_SEARCH} (rowid, note) VALUES (last_insert_rowid(), new.note);
    END""",
    "delete": f"""CREATE TRIGGER {NOTE_SEARCH}_delete AFTER DELETE ON observation
    WHEN old.note != ''
    BEGIN
        DELETE FROM {NOTE_SEARCH} WHERE rowid =
            (SELECT rowid FROM {NOTE_SEARCH}_key WHERE observation_id = old.id);
        DELETE FROM {NOTE_SEARCH}_key WHERE observation_id = old.id;
    END""",
    "update": f"""CREATE TRIGGER {NOTE_SEARCH}_update AFTER UPDATE OF id, note ON observation
    BEGIN
        DELETE FROM {NOTE_SEARCH} WHERE rowid =
            (SELECT rowid FROM {NOTE_SEARCH}_key WHERE observation_id = old.id);
        DELETE FROM {NOTE_SEARCH}_key WHERE observation_id = old.id;
        INSERT INTO {NOTE_SEARCH}_key (observation_id) SELECT new.id WHERE new.note != '';
        INSERT INTO {NOTE_SEARCH} (rowid, note)
            SELECT last_insert_rowid(), new.note WHERE new.note != '';
    END""",
}
# Every noted observation indexed at once, into an empty index: a bulk load (the bench seed)
# drops the insert trigger, writes, runs these and creates the trigger again.
NOTE_SEARCH_FILL = (
    f"INSERT INTO {NOTE_SEARCH}_key (observation_id) SELECT id FROM observation WHERE note != ''",
    f"""INSERT INTO {NOTE_SEARCH} (rowid, note) SELECT k.rowid, o.note
        FROM {NOTE_SEARCH}_key AS k JOIN observation AS o ON o.id = k.observation_id""",
)


@event.listens_for(Observation.__table__, "after_create")
def _create_note_search(table, connection, **kw) -> None:
    if connection.dialect.name != "sqlite":
        return
    try:
        connection.exec_driver_sql(NOTE_SEARCH_TABLES[0])
    except DBAPIError:  # no trigram tokenizer before SQLite 3.34: the word search scans
        return
    for statement in (*NOTE_SEARCH_TABLES[1:], *NOTE_SEARCH_TRIGGERS.values()):
        connection.exec_driver_sql(statement)


@event.listens_for(Observation.__table__, "after_drop")
def _drop_note_search(table, connection, **kw) -> None:
    if connection.dialect.name == "sqlite":
        for name in (NOTE_SEARCH, f"{NOTE_SEARCH}_key"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: everything but the database-only search indexes and tables."""
    if type_ == "table":
        return not name.startswith(NOTE_SEARCH)
    return not (type_ == "index" and name in SEARCH_INDEXES)
