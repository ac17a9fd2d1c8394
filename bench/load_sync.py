"""A bounded load test of the sync API: reps post batches to a real gunicorn and replay some.

    python -m bench.load_sync [--seconds 60] [--database sqlite|postgres] [--reps 8]

Gunicorn starts as the Procfile's web process does (its workers and threads), on a free
127.0.0.1 port, with a database made for the run and dropped after it: a SQLite file in a
temporary folder, or a new PostgreSQL database `clearpath_load_<random>` on the server of
TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test), which is never touched.
It is migrated and given the library as the Procfile's release step does.

Each rep (a thread with its own API token) posts batches of 5 to 30 new observations and,
one time in five, replays a batch it already sent, as the offline outbox does after a lost
answer. An answer other than 200, a connection error, a new item not `created` or a replayed
one not `duplicate` is an error. Afterwards every id sent must be stored exactly once, with
all its barriers and one `observation_created` audit event: `lost` counts ids missing,
`doubled` ids stored or processed twice, `partial` ids stored without all their parts.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from random import Random

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SYNC_PATH = "/api/v1/observations"
REPLAY_SHARE = 0.2
OFFSETS = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)),
           timezone(timedelta(hours=5, minutes=30))]
NOTES = ["", "prior auth keeps bouncing back for missing labs", "not on the EMR order set yet",
         "office manager swamped, asks for the hub number", "copay card questions at the desk",
         "formulary review next quarter", "wants the dosing schedule for elderly patients"]


def sqlalchemy_url(url: str) -> str:
    """The app's reading of a DATABASE_URL: plain postgresql:// means psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# A database for one run ------------------------------------------------------------------------
@contextmanager
def scratch_database(kind: str, workdir: Path, postgres_url: str | None = None):
    """Yield the DATABASE_URL of a new, empty database, and drop it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'clearpath-load.sqlite3'}"
        return
    import psycopg

    server = make_url(postgres_url or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES)
    server = server.set(drivername="postgresql")
    admin = server.render_as_string(hide_password=False)
    name = f"clearpath_load_{secrets.token_hex(6)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Field:
    """What the reps need: their tokens, their HCPs, and barrier codes to log."""

    tokens: list[str]
    hcps: list[str]
    barriers: list[str]
    # Barriers a sales rep runs themselves: an observation of one is a single commit.
    own_barriers: list[str]


def prepare(database_url: str, reps: int = 8, hcps: int = 40) -> Field:
    """Migrate and load the library (the Procfile's release step), then add reps and HCPs."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.services import issue_token
    from webapp.extensions import db
    from webapp.library.services import load_library
    from webapp.models import HCP, Barrier, Territory, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url)})
    with app.app_context():
        upgrade()
        load_library()
        territory = Territory(code="LOAD", name="Load test", district="LOAD")
        people = [HCP(external_id=f"LOAD-{n:03d}", name=f"Dr Load {n}", specialty="Oncology",
                      account="Load Test Clinic", territory=territory, segment="early adopter")
                  for n in range(hcps)]
        # Token-only users: "!" is no password hash, so nobody signs in as them.
        users = [User(email=f"rep{n}@load.clearpath.test", name=f"Rep {n}", role="sales_rep",
                      territory=territory, password_hash="!") for n in range(reps)]
        db.session.add_all([territory, *people, *users])
        db.session.commit()
        tokens = [issue_token(user) for user in users]
        active = db.session.scalars(db.select(Barrier).where(Barrier.retired_at.is_(None))).all()
        result = Field(
            tokens=tokens,
            hcps=[hcp.external_id for hcp in people],
            barriers=sorted(b.code for b in active),
            own_barriers=sorted(b.code for b in active if b.may_be_run_by("sales_rep")),
        )
        db.session.remove()
        db.engine.dispose()
    return result


# Gunicorn as the Procfile runs it ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_command(port: int) -> list[str]:
    """The Procfile's web command for this port, bound to 127.0.0.1, with this Python."""
    web = next(line.split(":", 1)[1] for line in PROCFILE.read_text().splitlines()
               if line.startswith("web:"))
    env = {**os.environ, "PORT": str(port)}
    web = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)",
                 lambda m: env.get(m[1] or m[3]) or m[2] or "", web)
    argv = shlex.split(web)
    if argv[0] != "gunicorn":
        raise RuntimeError(f"The Procfile's web process is not gunicorn: {web}")
    return [sys.executable, "-m", "gunicorn",
            *(arg.replace("0.0.0.0:", "127.0.0.1:") for arg in argv[1:])]


class Server:
    """Gunicorn in its own process group, so a kill takes the master and its workers."""

    def __init__(self, database_url: str, log_path: Path):
        self.database_url, self.log_path = database_url, log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 30) -> "Server":
        env = {**os.environ, "DATABASE_URL": self.database_url, "PYTHONUNBUFFERED": "1",
               "SECRET_KEY": secrets.token_hex(16),
               # One user drives the load here: the API's per-user limit would measure itself.
               "API_RATE_LIMIT": "1000000 per minute"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(procfile_command(self.port), cwd=ROOT, env=env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/openapi.json", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), as a deploy does."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """kill -9 the master and every worker at once, as a crash or an OOM killer does."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=20)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def server_errors(log: str) -> list[str]:
    """Lines of a gunicorn log that mean trouble: tracebacks, worker timeouts, 5xx answers."""
    return [line for line in log.splitlines()
            if "Traceback" in line or "[CRITICAL]" in line or "WORKER TIMEOUT" in line
            or re.search(r'" 5\d\d ', line)]


# Reps --------------------------------------------------------------------------------------------
def post_batch(base_url: str, token: str, items: list[dict], timeout: float = 60):
    """POST one batch on a fresh connection: (status or None, decoded body or error, seconds)."""
    host, port = base_url.removeprefix("http://").split(":")
    body = json.dumps({"observations": items}).encode()
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request("POST", SYNC_PATH, body, {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}", time.perf_counter() - started
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    try:
        return response.status, json.loads(payload), elapsed
    except ValueError:
        return response.status, payload[:200].decode(errors="replace"), elapsed


def new_item(rng: Random, hcps: list[str], barriers: list[str]) -> dict:
    offset = rng.choice(OFFSETS)
    observed = datetime.now(offset) - timedelta(minutes=rng.randint(1, 24 * 60))
    return {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "hcp": rng.choice(hcps),
            "barriers": rng.sample(barriers, k=rng.choice([1, 1, 2])), "note": rng.choice(NOTES),
            "observed_at": observed.isoformat(timespec="seconds")}


@dataclass
class Tally:
    requests: int = 0
    items: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # id -> number of barriers


def rep(base_url: str, token: str, hcps: list[str], barriers: list[str], deadline: float,
        seed: int, tally: Tally) -> None:
    """Post new batches until the deadline, replaying an answered one now and then."""
    rng = Random(seed)
    answered: list[list[dict]] = []
    outbox: list[dict] = []  # items whose answer never came: the outbox sends them again
    try:
        while time.monotonic() < deadline or outbox:
            if time.monotonic() > deadline + 30:
                tally.errors.append(f"{len(outbox)} items still unanswered after the run")
                return
            replay = not outbox and bool(answered) and rng.random() < REPLAY_SHARE
            if replay:
                batch, expected = rng.choice(answered), {"duplicate"}
            else:
                fresh = [] if time.monotonic() >= deadline else [
                    new_item(rng, hcps, barriers) for _ in range(rng.randint(5, 30))]
                batch = outbox + fresh
                expected = {"created"} if not outbox else {"created", "duplicate"}
                outbox = []
                for item in batch:
                    tally.sent[item["id"]] = len(item["barriers"])
            status, answer, seconds = post_batch(base_url, token, batch)
            tally.requests += 1
            tally.items += len(batch)
            tally.latencies.append(seconds)
            if status != 200:
                tally.errors.append(f"HTTP {status}: {str(answer)[:200]}")
                if not replay:
                    outbox = batch
                continue
            for item, result in zip(batch, answer["results"], strict=True):
                if result["status"] not in expected or result["id"] != item["id"]:
                    tally.errors.append(f"{item['id']}: {result} (expected {sorted(expected)})")
                tally.created += result["status"] == "created"
                tally.duplicates += result["status"] == "duplicate"
            if not replay:
                answered.append(batch)
    except Exception as error:  # a rep that dies must be counted, not lost
        tally.errors.append(f"rep crashed: {type(error).__name__}: {error}")


# Counting what landed ---------------------------------------------------------------------------
@dataclass
class Census:
    stored: int
    lost: list[str]
    doubled: list[str]
    partial: list[str]
    extra: list[str]


def census(database_url: str, sent: dict[str, int]) -> Census:
    """Compare the ids sent (with their barrier counts) with what the database holds."""
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as connection:
            links = dict(connection.execute(text(
                "SELECT o.id, count(ob.barrier_id) FROM observation o "
                "LEFT JOIN observation_barrier ob ON ob.observation_id = o.id GROUP BY o.id")).all())
            events = Counter(dict(connection.execute(text(
                "SELECT entity_id, count(*) FROM audit_event "
                "WHERE action = 'observation_created' GROUP BY entity_id")).all()))
    finally:
        engine.dispose()
    here = [i for i in sent if i in links]
    return Census(
        stored=len(links),
        lost=[i for i in sent if i not in links],
        doubled=[i for i in here if events[i] > 1 or links[i] > sent[i]],
        partial=[i for i in here if events[i] < 1 or links[i] < sent[i]],
        extra=[i for i in links if i not in sent],
    )


@dataclass
class LoadResult:
    database: str
    seconds: float
    reps: int
    tally: Tally
    census: Census
    server_errors: list[str]

    @property
    def errors(self) -> list[str]:
        return self.tally.errors + self.server_errors

    def percentile(self, share: float) -> float:
        ordered = sorted(self.tally.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000

    HEADER = ("| database | seconds | reps | requests | items | errors | lost | doubled | partial "
              "| p50 ms | p95 ms | rows/s | requests/s |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def row(self) -> str:
        t, c = self.tally, self.census
        return (f"| {self.database} | {self.seconds:.1f} | {self.reps} | {t.requests} | {t.items} "
                f"| {len(self.errors)} | {len(c.lost)} | {len(c.doubled)} | {len(c.partial)} "
                f"| {self.percentile(0.5):.1f} | {self.percentile(0.95):.1f} "
                f"| {t.created / self.seconds:.0f} | {t.requests / self.seconds:.1f} |")


def run_load(database: str, seconds: float, reps: int = 8, workdir: Path | None = None,
             postgres_url: str | None = None) -> LoadResult:
    """Set up a database and gunicorn, let the reps post for `seconds`, count what landed."""
    with tempfile.TemporaryDirectory(prefix="clearpath-load-") as scratch:
        workdir = Path(workdir or scratch)
        with scratch_database(database, workdir, postgres_url) as url:
            field_ = prepare(url, reps)
            server = Server(url, workdir / "gunicorn.log").start()
            tallies = [Tally() for _ in range(reps)]
            try:
                started = time.monotonic()
                deadline = started + seconds
                threads = [threading.Thread(
                    target=rep, args=(server.url, token, field_.hcps, field_.barriers, deadline,
                                      n, tallies[n]), name=f"rep-{n}")
                           for n, token in enumerate(field_.tokens)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.monotonic() - started
            finally:
                server.stop()
            total = Tally()
            for tally in tallies:
                total.requests += tally.requests
                total.items += tally.items
                total.created += tally.created
                total.duplicates += tally.duplicates
                total.errors += tally.errors
                total.latencies += tally.latencies
                total.sent.update(tally.sent)
            return LoadResult(database, elapsed, reps, total, census(url, total.sent),
                              server_errors(server.log_text()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--postgres-url", default=None,
                        help="the server to make a scratch database on (default TEST_DATABASE_URL)")
    args = parser.parse_args(argv)
    result = run_load(args.database, args.seconds, args.reps, postgres_url=args.postgres_url)
    print(LoadResult.HEADER)
    print(result.row())
    for error in result.errors[:20]:
        print(f"error: {error}", file=sys.stderr)
    clean = not (result.errors or result.census.lost or result.census.doubled
                 or result.census.partial or result.census.extra)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
