"""Reliability of sync: concurrent writers, a real gunicorn under load, and a kill -9 mid-batch.

Each test runs on the database of the pass: a SQLite file on the SQLite pass, PostgreSQL when
TEST_DATABASE_URL points at one (the gunicorn tests then make and drop a database of their
own beside it, so the suite's test database is never touched). LOAD_SECONDS sets how long
the load test runs (8 s here; `python -m bench.load_sync` runs it for 60).
"""

import http.client
import os
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from random import Random

import pytest
from sqlalchemy import create_engine, text

from bench.load_sync import (
    LoadResult,
    Server,
    census,
    new_item,
    post_batch,
    prepare,
    run_load,
    scratch_database,
    sqlalchemy_url,
)
from webapp.auth.services import issue_token
from webapp.extensions import db
from webapp.models import HCP, Barrier, Handoff, Observation, Territory, User

from .conftest import Config, app_on, install_library, iso

slow = pytest.mark.slow  # deselect with -m "not slow"

DATABASE = "postgres" if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres") else "sqlite"
URL = "/api/v1/observations"


@pytest.fixture
def shared_app(tmp_path):
    """An app on a database that threads can share: a SQLite file, or the PostgreSQL test DB."""

    class SharedConfig(Config):
        if DATABASE == "sqlite":
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'clearpath.sqlite3'}"

    yield from app_on(SharedConfig)


@slow
def test_concurrent_writers_never_fail_and_every_id_lands_once(shared_app):
    """Eight threads, each its own client: two devices per rep send the same batches at once."""
    install_library()
    territory = Territory(code="T1", name="Territory one", district="D1")
    hcps = [HCP(external_id=f"H{n}", name=f"Dr {n}", specialty="Oncology", account="Clinic",
                territory=territory) for n in range(5)]
    reps = [User(email=f"rep{n}@example.test", name=f"Rep {n}", role=role, territory=territory,
                 password_hash="!") for n, role in enumerate(("sales_rep", "frm", "kam", "pal"))]
    db.session.add_all([territory, *hcps, *reps])
    db.session.commit()
    tokens = [issue_token(user) for user in reps]
    codes = sorted(db.session.scalars(db.select(Barrier.code).where(Barrier.retired_at.is_(None))))
    rng = Random(7)
    batches = {n: [[new_item(rng, [h.external_id for h in hcps], codes) for _ in range(10)]
                   for _ in range(4)] for n in range(len(reps))}

    answers: list[tuple[str, str]] = []
    errors: list[str] = []

    def device(rep: int, order: int):
        client = shared_app.test_client()
        headers = {"Authorization": f"Bearer {tokens[rep]}"}
        try:
            for batch in batches[rep][::order]:
                response = client.post(URL, json={"observations": batch}, headers=headers)
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
                    continue
                answers.extend((r["id"], r["status"]) for r in response.json["results"])
        except Exception as error:  # a crashed thread must fail the test, not vanish
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=device, args=(rep, order))
               for rep in batches for order in (1, -1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sent = {item["id"] for rep in batches.values() for batch in rep for item in batch}
    assert len(answers) == 2 * len(sent)
    assert {status for _, status in answers} <= {"created", "duplicate"}
    created = Counter(i for i, status in answers if status == "created")
    assert set(created) == sent and set(created.values()) == {1}
    db.session.commit()
    stored = db.session.scalars(db.select(Observation.id)).all()
    assert sorted(stored) == sorted(sent)


@slow
def test_eight_reps_on_gunicorn_get_no_errors_and_every_id_lands_once(tmp_path):
    seconds = float(os.environ.get("LOAD_SECONDS", "8"))
    result = run_load(DATABASE, seconds, reps=8, workdir=tmp_path)
    print(f"\n{LoadResult.HEADER}\n{result.row()}")
    assert result.errors == []
    assert result.census.lost == [] and result.census.doubled == []
    assert result.census.partial == [] and result.census.extra == []
    assert result.tally.created == len(result.tally.sent) == result.census.stored > 0
    assert result.tally.duplicates > 0  # replays happened, and each was answered `duplicate`


def _stored(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM observation")).scalar_one()


@slow
def test_a_server_killed_mid_batch_keeps_whole_items_and_the_replay_lands_each_once(tmp_path):
    with scratch_database(DATABASE, tmp_path) as url:
        field = prepare(url, reps=1)
        batch = [new_item(Random(n), field.hcps, field.own_barriers) for n in range(500)]
        expected = {item["id"]: len(item["barriers"]) for item in batch}
        engine = create_engine(sqlalchemy_url(url))
        server = Server(url, tmp_path / "gunicorn.log").start()
        try:
            answer = {}
            sender = threading.Thread(target=lambda: answer.update(
                first=post_batch(server.url, field.tokens[0], batch)))
            sender.start()
            deadline = time.monotonic() + 60
            while _stored(engine) < 25:
                assert time.monotonic() < deadline, server.log_tail()
                time.sleep(0.005)
            server.kill()
            sender.join(timeout=30)
            at_kill = _stored(engine)
        finally:
            server.kill()
            engine.dispose()
        assert 0 < at_kill < len(batch), "the kill must land in the middle of the batch"
        assert answer["first"][0] is None  # the client saw the connection drop, no answer

        # Whatever was stored is whole: every barrier and its audit event, nothing extra.
        after_kill = census(url, expected)
        assert after_kill.partial == [] and after_kill.doubled == [] and after_kill.extra == []
        assert len(after_kill.lost) == len(batch) - at_kill

        server = Server(url, tmp_path / "gunicorn-restarted.log").start()
        try:
            status, body, _ = post_batch(server.url, field.tokens[0], batch)  # the outbox replays
        finally:
            server.stop()
        assert status == 200, body
        assert [r["id"] for r in body["results"]] == [item["id"] for item in batch]
        assert Counter(r["status"] for r in body["results"]) == {
            "duplicate": at_kill, "created": len(batch) - at_kill}
        landed = census(url, expected)
        assert landed.stored == len(batch)
        assert (landed.lost, landed.doubled, landed.partial, landed.extra) == ([], [], [], [])


def test_a_crash_during_the_msl_hand_off_stores_nothing_and_the_replay_stores_both(
        app, client, world, monkeypatch):
    rep = world["users"]["sales_rep"]
    medical = db.session.scalars(db.select(Barrier).where(Barrier.retired_at.is_(None))).all()
    code = next(b.code for b in medical
                if not b.may_be_run_by("sales_rep") and "msl" in b.compliant_for)
    item = {"id": str(uuid.uuid4()), "hcp": "H1", "barriers": [code], "note": "",
            "observed_at": iso(10)}
    headers = {"Authorization": f"Bearer {issue_token(rep)}"}

    def crash(*args, **kwargs):
        raise SystemExit("the worker died here")

    monkeypatch.setattr("webapp.plays.services.hand_off", crash)
    with pytest.raises(SystemExit):
        client.post(URL, json={"observations": [item]}, headers=headers)
    monkeypatch.undo()
    db.session.rollback()

    assert db.session.get(Observation, item["id"]) is None  # nothing half-written
    replay = client.post(URL, json={"observations": [item]}, headers=headers)
    assert replay.json["results"][0]["status"] == "created"
    handoffs = db.session.scalars(db.select(Handoff).where(Handoff.observation_id == item["id"]))
    assert [h.to_role for h in handoffs] == ["msl"]


def _server_connections(port: int) -> Counter:
    """How many of the connections established to `port` each process holds (its pid), read
    from /proc: the kernel's TCP table, then each process's socket descriptors."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # ESTABLISHED
            inodes.add(f"socket:[{fields[9]}]")
    held = Counter()
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            held[process.name] += sum(os.readlink(fd) in inodes for fd in (process / "fd").iterdir())
        except OSError:  # gone, or not ours to read
            continue
    return +held


@slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_the_procfiles_workers_share_the_kept_alive_connections(tmp_path):
    """A load balancer keeps a few connections open to each server. Each gunicorn worker must
    take its share: one worker (one GIL) holding them all serves at half the machine's speed
    while the other waits (9 runs of 12 with wrk's 8 connections before --reuse-port)."""
    with scratch_database(DATABASE, tmp_path) as url:
        prepare(url, reps=1)
        server = Server(url, tmp_path / "gunicorn.log").start()
        connections = []
        try:
            for _ in range(16):
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                connections.append(connection)
                connection.request("GET", "/login")
                assert connection.getresponse().read()
            held = _server_connections(server.port)
        finally:
            for connection in connections:
                connection.close()
            server.stop()
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    assert sum(held.values()) == 16
    assert len(held) == workers, held
