"""Fill a scratch database with a year of field work at scale, for the performance bench.

    python -m bench.seed --observations 1000000 --hcps 20000 --users 500 [--database-url URL]

The database is made from scratch (a PostgreSQL database is dropped and created again, a SQLite
file removed), migrated and given the library as the Procfile's release step does, then filled
with bulk writes: COPY on PostgreSQL, chunked executemany in one transaction on SQLite. What it
writes: territories in districts, brands, HCPs, users of every role (one password hash,
computed once), observations over `--days` with 1-3 barriers each (observation_barrier.play_id
is the play version the author was given), an `observation_created` audit event per
observation, play runs with outcomes for a share of the observed barriers, and adoption steps.

It never touches a database named `test`. Sign in as `bench.hq@bench.clearpath.test` (hq_brand)
or `bench.rep@bench.clearpath.test` (sales_rep, territory T001) with BENCH_PASSWORD.
"""

import argparse
import hashlib
import json
import os
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

from sqlalchemy import make_url

from bench.load_sync import sqlalchemy_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/clearpath_bench"
BENCH_PASSWORD = "bench-password-1234"
BENCH_DOMAIN = "bench.clearpath.test"
HQ_EMAIL = f"bench.hq@{BENCH_DOMAIN}"
REP_EMAIL = f"bench.rep@{BENCH_DOMAIN}"
BRANDS = [("ONCORA", "Oncora (zelitinib)"), ("DERMAVEX", "Dermavex (pen injector)"),
          ("CARDIOLYN", "Cardiolyn (infusion)"), ("NEPHRALIS", "Nephralis (tablets)"),
          ("PULMIRA", "Pulmira (inhaler)"), ("HEMOTRA", "Hemotra (subcutaneous)")]
SPECIALTIES = ["Medical oncology", "Hematology", "Dermatology", "Rheumatology", "Cardiology",
               "Internal medicine", "Nurse practitioner", "Pharmacy director"]
SEGMENTS = ["evidence seeker", "access constrained", "early adopter", "loyal to competitor",
            "high potential"]
# Field roles in the proportions a real field force has them.
FIELD_MIX = ["sales_rep"] * 5 + ["msl", "frm", "kam", "pal", "nurse_educator", "idn_director"]
HQ_MIX = ["hq_brand", "hq_market_access", "hq_digital", "head_of_medical", "medical_info",
          "drug_safety", "admin"]
OUTCOME_AFTER_DAYS = 14
# The share of calls synced days late, from a tablet offline (webapp.models.LATE_ARRIVAL).
LATE_SHARE = 0.02
CHUNK = 20_000


def _sqlite_time(value: datetime) -> str:
    """What SQLAlchemy's SQLite DateTime stores (UTC, no offset): keyset order compares it."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Writer:
    """Bulk inserts on a raw DB-API connection: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.rows = 0
        if not self.postgres:
            cursor = self.raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-200000")
            cursor.close()

    def time(self, value: datetime | None):
        if value is None or self.postgres:
            return value
        return _sqlite_time(value)

    def flag(self, value: bool):
        return value if self.postgres else int(value)

    def write(self, table: str, columns: tuple[str, ...], rows) -> int:
        """Insert every row of an iterable of tuples; returns the count."""
        count = 0
        quoted = ", ".join(f'"{c}"' for c in columns)
        cursor = self.raw.cursor()
        if self.postgres:
            with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'
            chunk = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    cursor.executemany(sql, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                cursor.executemany(sql, chunk)
                count += len(chunk)
        cursor.close()
        self.rows += count
        return count

    def query(self, sql: str) -> list[tuple]:
        cursor = self.raw.cursor()
        cursor.execute(sql)
        rows = cursor.fetchall()
        cursor.close()
        return rows

    def execute(self, *statements: str) -> None:
        cursor = self.raw.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()

    @contextmanager
    def note_search_filled_after(self):
        """On SQLite, the notes' search index (webapp.models.NOTE_SEARCH) filled once after a
        bulk load of observations instead of by its insert trigger row by row (at 1M calls the
        trigger made the load 65 s longer; filling afterwards takes about 26 s)."""
        from webapp.models import NOTE_SEARCH, NOTE_SEARCH_FILL, NOTE_SEARCH_TRIGGERS

        if self.postgres:
            yield
            return
        self.execute(f"DROP TRIGGER {NOTE_SEARCH}_insert")
        yield
        self.execute(*NOTE_SEARCH_FILL, NOTE_SEARCH_TRIGGERS["insert"])

    @contextmanager
    def indexes_built_after(self, *tables: str):
        """The tables' secondary indexes (not those of a key or a constraint) dropped before a
        bulk load and built again after it: built from the loaded rows they are sorted once,
        where each row went into nine indexes keyed on random ids and times (and, on
        PostgreSQL, the notes' trigram index)."""
        names = ", ".join(f"'{table}'" for table in tables)
        if self.postgres:
            indexes = self.query(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND "
                f"tablename IN ({names}) AND indexname NOT IN (SELECT conname FROM pg_constraint)")
        else:
            indexes = self.query("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                                 f"sql IS NOT NULL AND tbl_name IN ({names})")
        self.execute(*(f'DROP INDEX "{name}"' for name, _ in indexes))
        yield
        self.execute(*(sql for _, sql in indexes))

    def commit(self):
        self.raw.commit()

    def close(self):
        self.raw.close()


def fresh_database(url: str) -> None:
    """Drop and create the database (PostgreSQL) or remove the file (SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        for suffix in ("", "-wal", "-shm", "-writer.lock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    name = parsed.database
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to recreate the database {name!r}")
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


def migrate_and_load_library(url: str):
    """The Procfile's release step, plus the demo's alternative plays (so ranking has work)."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db
    from webapp.library.services import load_library

    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url)})
    with app.app_context():
        upgrade()
        load_library()
        db.session.commit()
    return app


def _observation_rows(rng, args, now, authors_by_territory, hcps_by_territory, brand_ids,
                      barriers, offered, pools, notes, writer, links, runs, events,
                      runners_for):
    """Yield observation rows; collect their barrier links, play runs and audit events."""
    from webapp.models import LATE_ARRIVAL as late_after

    span = args.days * 86400
    author_list = [a for territory in authors_by_territory.values() for a in territory]
    medical_terms = json.dumps(["side effect"])
    for n in range(args.observations):
        author_id, role, territory_id = author_list[rng.randrange(len(author_list))]
        hcp_id = rng.choice(hcps_by_territory[territory_id])
        # A little busier lately, so "rising" and the 28-day dashboard have something to show.
        age = span * (rng.random() ** 1.15)
        observed = now - timedelta(seconds=age + 300)
        if rng.random() < LATE_SHARE:
            received = min(now, observed + timedelta(days=rng.uniform(1, 10)))
        else:
            received = observed + timedelta(seconds=rng.randint(30, 3 * 3600))
        k = 1 if rng.random() < 0.6 else (2 if rng.random() < 0.75 else 3)
        pool = pools[role] if rng.random() < 0.7 else barriers
        chosen = rng.sample(pool, k)
        first = chosen[0]
        note = rng.choice(notes[first[1]]) if notes[first[1]] and rng.random() < 0.6 else ""
        safety = rng.random() < 0.005
        oid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        brand_id = brand_ids[rng.randrange(len(brand_ids))] if rng.random() < 0.9 else None
        fingerprint = hashlib.sha256(oid.encode()).hexdigest()
        for barrier_id, _code, compliant in chosen:
            plays = offered.get(barrier_id)
            play_id = None
            if plays:
                play_id = plays[0][0] if len(plays) == 1 else rng.choice(plays)[0]
            links.append((oid, barrier_id, play_id))
            if play_id is not None and rng.random() < args.run_share:
                runner = (author_id, role) if role in compliant else runners_for(territory_id,
                                                                                 compliant)
                if runner is not None:
                    ran_at = observed + timedelta(hours=rng.lognormvariate(2.8, 0.9))
                    if ran_at < now:
                        due = ran_at + timedelta(days=OUTCOME_AFTER_DAYS)
                        outcome = None
                        if due <= now or rng.random() < 0.3:
                            roll = rng.random()
                            outcome = ("resolved" if roll < 0.55 else "partly" if roll < 0.7
                                       else "too_early" if roll > 0.93 else "not_resolved")
                        channel = [p for p in plays if p[0] == play_id][0][1]
                        runs.append((oid, barrier_id, play_id, runner[0], runner[1],
                                     writer.time(ran_at), channel,
                                     rng.choice(("none", "given", "emailed")), outcome,
                                     writer.time(due if outcome else None), writer.time(due),
                                     territory_id, role, hcp_id, brand_id,
                                     writer.time(observed)))
        events.append((writer.time(received), author_id, "observation_created", "observation",
                       oid, json.dumps({"barriers": sorted(c for _, c, _ in chosen)})))
        yield (oid, author_id, role, hcp_id, territory_id, brand_id, None, note,
               writer.time(observed), writer.time(received), writer.flag(safety),
               medical_terms if safety else "[]", fingerprint,
               writer.flag(received - observed > late_after))
        if (n + 1) % 100_000 == 0:
            print(f"  {n + 1} observations generated", flush=True)


def seed(args) -> dict:
    url = args.database_url
    started = time.perf_counter()
    fresh_database(url)
    app = migrate_and_load_library(url)

    from werkzeug.security import generate_password_hash

    from webapp.extensions import db
    from webapp.models import Barrier

    rng = Random(args.seed)
    now = datetime.now(UTC)
    timings = {}
    with app.app_context():
        engine = db.engine
        writer = Writer(engine)
        t = time.perf_counter()

        territories = max(4, args.users // 10)
        districts = max(1, territories // 5)
        writer.write("territory", ("code", "name", "district"), (
            (f"T{n:03d}", f"Territory {n:03d}", f"D{(n - 1) // 5 + 1:02d}")
            for n in range(1, territories + 1)))
        writer.write("brand", ("code", "name"), BRANDS)
        writer.commit()
        territory_ids = {code: tid for tid, code in writer.query("SELECT id, code FROM territory")}
        tids = [territory_ids[f"T{n:03d}"] for n in range(1, territories + 1)]
        brand_ids = sorted(bid for (bid,) in writer.query("SELECT id FROM brand"))

        writer.write("hcp", ("external_id", "name", "specialty", "account", "territory_id",
                             "segment"), (
            (f"HCP-{n:06d}", f"Dr Bench {n}", rng.choice(SPECIALTIES),
             f"Practice {n // 4} of {tids[n % len(tids)]}", tids[n % len(tids)],
             rng.choice(SEGMENTS)) for n in range(args.hcps)))
        writer.commit()
        hcps_by_territory: dict[int, list[int]] = {}
        for hid, tid in writer.query("SELECT id, territory_id FROM hcp"):
            hcps_by_territory.setdefault(tid, []).append(hid)

        password_hash = generate_password_hash(BENCH_PASSWORD)  # once, reused by every user
        users = [(HQ_EMAIL, "Bench HQ", "hq_brand", tids[0]),
                 (REP_EMAIL, "Bench Rep", "sales_rep", tids[0])]
        for n, role in enumerate(HQ_MIX * 2):
            users.append((f"{role}.{n}@{BENCH_DOMAIN}", f"HQ {n}", role, tids[0]))
        for d in range(districts):
            users.append((f"dm.{d + 1}@{BENCH_DOMAIN}", f"DM {d + 1}", "district_manager",
                          tids[d * 5]))
        n = 0
        while len(users) < args.users:
            role = FIELD_MIX[(n // len(tids)) % len(FIELD_MIX)]
            users.append((f"field.{n}@{BENCH_DOMAIN}", f"Field {n}", role, tids[n % len(tids)]))
            n += 1
        created = writer.time(now - timedelta(days=args.days + 1))
        writer.write("user", ("email", "name", "role", "territory_id", "password_hash",
                              "created_at", "session_version"),
                     ((e, nm, r, t_, password_hash, created, 1) for e, nm, r, t_ in users))
        writer.commit()
        from webapp.models import CAPTURE_ROLES

        authors_by_territory: dict[int, list[tuple]] = {}
        people: dict[int, dict[str, int]] = {}
        for uid, role, tid in writer.query('SELECT id, role, territory_id FROM "user"'):
            people.setdefault(tid, {}).setdefault(role, uid)
            if role in CAPTURE_ROLES:
                authors_by_territory.setdefault(tid, []).append((uid, role, tid))
        timings["organisation"] = time.perf_counter() - t

        def runners_for(territory_id, compliant):
            here = people.get(territory_id, {})
            for role in compliant:
                if role in here:
                    return here[role], role
            return None

        _alternative_plays(db)
        barrier_objs = db.session.scalars(
            db.select(Barrier).where(Barrier.retired_at.is_(None)).order_by(Barrier.id)).all()
        barriers = [(b.id, b.code, tuple(b.compliant_for)) for b in barrier_objs]
        offered = {b.id: [(p.id, p.channel_code) for p in b.offered_plays()]
                   for b in barrier_objs}
        notes = {b.code: [s for s in (b.signals or []) if s] for b in barrier_objs}
        pools = {role: [b for b in barriers if role in b[2]] or barriers
                 for role in CAPTURE_ROLES}
        db.session.remove()

        t = time.perf_counter()
        links, runs, events = [], [], []
        with writer.note_search_filled_after(), writer.indexes_built_after("observation"):
            count = writer.write("observation", (
                "id", "author_id", "author_role", "hcp_id", "territory_id", "brand_id",
                "channel_code", "note", "observed_at", "received_at", "safety_flag",
                "safety_terms", "fingerprint", "arrived_late"), _observation_rows(
                    rng, args, now, authors_by_territory, hcps_by_territory, brand_ids, barriers,
                    offered, pools, notes, writer, links, runs, events, runners_for))
        timings["observation"] = time.perf_counter() - t
        t = time.perf_counter()
        with writer.indexes_built_after("observation_barrier"):
            writer.write("observation_barrier", ("observation_id", "barrier_id", "play_id"),
                         links)
        timings["observation_barrier"] = time.perf_counter() - t
        t = time.perf_counter()
        writer.write("play_run", ("observation_id", "barrier_id", "play_id", "runner_id",
                                  "runner_role", "ran_at", "channel_code", "leave_behind",
                                  "outcome", "outcome_at", "outcome_due_at",
                                  "call_territory_id", "call_author_role", "call_hcp_id",
                                  "call_brand_id", "call_observed_at"), runs)
        timings["play_run"] = time.perf_counter() - t
        t = time.perf_counter()
        writer.write("audit_event", ("at", "actor_id", "action", "entity", "entity_id", "detail"),
                     events)
        timings["audit_event"] = time.perf_counter() - t
        t = time.perf_counter()
        steps = []
        stages = ["unaware", "aware", "considering", "trialing", "adopting", "advocating"]
        rep_of = {tid: next(iter(roles.values())) for tid, roles in people.items()}
        for tid, hcp_ids in hcps_by_territory.items():
            for hid in hcp_ids:
                brand = rng.choice(brand_ids)
                position = rng.randint(0, 3)
                at = now - timedelta(days=rng.randint(120, args.days))
                steps.append((hid, brand, stages[position], writer.time(at), rep_of[tid]))
                if rng.random() < 0.35:
                    at = now - timedelta(days=rng.randint(1, 110))
                    steps.append((hid, brand, stages[position + 1], writer.time(at), rep_of[tid]))
        writer.write("adoption_step", ("hcp_id", "brand_id", "stage_code", "at", "user_id"), steps)
        timings["adoption_step"] = time.perf_counter() - t
        writer.commit()
        t = time.perf_counter()
        if writer.postgres:
            writer.raw.driver_connection.autocommit = True
            writer.raw.driver_connection.execute("VACUUM ANALYZE")
        else:
            cursor = writer.raw.cursor()
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
            writer.commit()
        timings["analyze"] = time.perf_counter() - t
        rows = writer.rows
        writer.close()
        engine.dispose()
    elapsed = time.perf_counter() - started
    return {"rows": rows, "seconds": elapsed, "observations": count, "links": len(links),
            "runs": len(runs), "steps": len(steps), "timings": timings}


def _alternative_plays(db) -> None:
    """The demo's approved alternative plays, authored by the bench HQ user."""
    from webapp.demo.services import _alternative_plays as add
    from webapp.models import User

    author = db.session.scalar(db.select(User).where(User.email == HQ_EMAIL))
    add(author)
    db.session.commit()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--hcps", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--run-share", type=float, default=0.15,
                        help="share of observed barriers whose play was run")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 DEFAULT_URL))
    args = parser.parse_args(argv)
    if args.users < 30:
        parser.error("--users must be at least 30 (HQ, district managers and the field)")
    report = seed(args)
    rate = report["rows"] / report["seconds"]
    print(f"seeded {report['observations']} observations, {report['links']} barrier links, "
          f"{report['runs']} play runs, {report['steps']} adoption steps: "
          f"{report['rows']} rows in {report['seconds']:.1f} s ({rate:,.0f} rows/s)")
    for stage, seconds in report["timings"].items():
        print(f"  {stage}: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
