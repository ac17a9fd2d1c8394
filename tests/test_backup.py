"""Backup and restore: every row of every table comes back, across databases, or nothing does."""

import functools
import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from werkzeug.security import generate_password_hash

from webapp import create_app
from webapp.auth.services import issue_token
from webapp.demo.services import load_demo
from webapp.extensions import db
from webapp.models import HCP, AuditEvent, Barrier, Observation, User
from webapp.plays.services import run_play

from .conftest import Config, _empty_database

# What the demo-like dataset must fill, so the round trip proves more than empty tables.
FILLED = {"territory", "brand", "user", "api_token", "hcp", "barrier", "play", "leave_behind",
          "observation", "observation_barrier", "play_run", "handoff", "audit_event"}
IST = timezone(timedelta(hours=5, minutes=30))


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, by primary key."""
    db.session.commit()
    return {
        table.name: [tuple(row) for row in db.session.execute(
            db.select(table).order_by(*table.primary_key.columns))]
        for table in db.metadata.sorted_tables
    }


def assert_same_data(after, before, new_events=()):
    """Equal row for row, except the audit events the commands themselves added at the end."""
    assert after.keys() == before.keys()
    for name in before:
        if name != "audit_event":
            assert after[name] == before[name], f"table {name} differs"
    kept = len(before["audit_event"])
    assert after["audit_event"][:kept] == before["audit_event"]
    assert [row[3] for row in after["audit_event"][kept:]] == list(new_events)


def wipe():
    db.session.remove()
    _empty_database()
    db.create_all()


@pytest.fixture
def dataset(app, client, monkeypatch):
    """The demo organisation plus a token, API captures (offset, Unicode, safety), a run, a hand-off."""
    # scrypt for 21 demo users costs seconds; the hashes are opaque strings to a backup.
    monkeypatch.setattr("webapp.models.generate_password_hash",
                        functools.partial(generate_password_hash, method="pbkdf2:sha256:1"))
    load_demo(observations=120)
    rep = db.session.scalar(db.select(User).where(User.role == "sales_rep"))
    hcp = db.session.scalar(db.select(HCP).where(HCP.territory_id == rep.territory_id))
    active = db.session.scalars(db.select(Barrier).where(Barrier.retired_at.is_(None))
                                .order_by(Barrier.code)).all()
    runnable = next(b for b in active if b.may_be_run_by("sales_rep") and b.play is not None)
    medical = next(b for b in active if not b.may_be_run_by("sales_rep")
                   and "msl" in b.compliant_for)
    headers = {"Authorization": f"Bearer {issue_token(rep)}"}
    observed = datetime.now(IST).replace(microsecond=0) - timedelta(hours=3)
    items = [
        {"id": str(uuid.uuid4()), "hcp": hcp.external_id, "barriers": [runnable.code],
         "note": "Zulassung für Kühlkette — 待审批 ✓", "observed_at": observed.isoformat()},
        {"id": str(uuid.uuid4()), "hcp": hcp.external_id, "barriers": [medical.code],
         "note": "asked about a rash after the second dose", "observed_at": observed.isoformat()},
    ]
    results = client.post("/api/v1/observations", json={"observations": items},
                          headers=headers).json["results"]
    assert [r["status"] for r in results] == ["created", "created"], results
    first = db.session.get(Observation, items[0]["id"])
    run_play(rep, first, runnable.code, ran_at=datetime.now(UTC), channel=runnable.play.channel_code,
             leave_behind="given")
    data = snapshot()
    empty = {name for name, rows in data.items() if not rows}
    assert not FILLED & empty, f"the dataset leaves {FILLED & empty} empty"
    return {"items": items, "observed": observed}


def backup_lines(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_round_trip_restores_every_row_of_every_table(app, runner, dataset, tmp_path):
    before = snapshot()
    path = tmp_path / "clearpath.jsonl.gz"
    made = runner.invoke(args=["backup", str(path)])
    assert made.exit_code == 0, made.output
    assert f"rows of {len(before)} tables" in made.output
    assert f"observation_barrier  {len(before['observation_barrier']):>9,}" in made.output
    assert path.stat().st_mode & 0o077 == 0  # password and token hashes: owner only

    lines = backup_lines(path)
    assert lines[0]["format"] == "clearpath-backup" and lines[-1]["end"] is True
    captured = next(line["row"] for line in lines
                    if line.get("table") == "observation" and line["row"]["id"] == dataset["items"][0]["id"])
    assert captured["observed_at"] == dataset["observed"].astimezone(UTC).isoformat()
    assert captured["note"] == dataset["items"][0]["note"]
    flagged = next(line["row"] for line in lines
                   if line.get("table") == "observation" and line["row"]["id"] == dataset["items"][1]["id"])
    assert flagged["safety_flag"] is True and flagged["safety_terms"]  # JSON stays JSON

    wipe()
    restored = runner.invoke(args=["restore", str(path)])
    assert restored.exit_code == 0, restored.output
    assert f"Restored {sum(map(len, before.values())):,} rows" in restored.output
    after = snapshot()
    assert_same_data(after, before, new_events=["backup_restored"])
    restore_event = db.session.scalar(db.select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert restore_event.detail["tables"]["observation"] == len(before["observation"])
    assert db.session.get(Observation, dataset["items"][0]["id"]).observed_at == dataset["observed"]

    # New rows get fresh ids after a restore (PostgreSQL's sequences were moved past them).
    rep = db.session.scalar(db.select(User).where(User.role == "sales_rep"))
    issue_token(rep)
    newest = db.session.scalar(db.select(db.func.max(AuditEvent.id)))
    assert newest == after["audit_event"][-1][0] + 1


def test_a_backup_moves_between_sqlite_and_the_test_database(app, runner, dataset, tmp_path):
    """Test database → SQLite file → test database: on the PostgreSQL pass, both directions."""
    before = snapshot()
    first, second = tmp_path / "from-test-db.jsonl.gz", tmp_path / "from-sqlite.jsonl.gz"
    assert runner.invoke(args=["backup", str(first)]).exit_code == 0

    class FileConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'other.sqlite3'}"

    other = create_app(FileConfig)
    with other.app_context():
        db.create_all()
        other_runner = other.test_cli_runner()
        result = other_runner.invoke(args=["restore", str(first)])
        assert result.exit_code == 0, result.output
        assert_same_data(snapshot(), before, new_events=["backup_restored"])
        result = other_runner.invoke(args=["backup", str(second)])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()

    wipe()
    result = runner.invoke(args=["restore", str(second)])
    assert result.exit_code == 0, result.output
    # The SQLite copy's own restore event travels back with the data.
    assert_same_data(snapshot(), before, new_events=["backup_restored", "backup_restored"])


def test_restore_refuses_a_database_that_holds_data(app, runner, dataset, tmp_path):
    path = tmp_path / "clearpath.jsonl.gz"
    before = snapshot()
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    unchanged = snapshot()

    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code == 1
    assert "not empty" in refused.output and "--replace" in refused.output
    assert snapshot() == unchanged

    replaced = runner.invoke(args=["restore", "--replace", str(path)])
    assert replaced.exit_code == 0, replaced.output
    # Everything as it was when backed up; the backup's own event is gone with the old rows.
    assert_same_data(snapshot(), before, new_events=["backup_restored"])


def _row_of(lines, table):
    return next(line for line in lines if line.get("table") == table)


def raw(content: bytes):
    return lambda path: content


def edited(change):
    """The good backup with its lines changed, gzipped again."""
    def make(path) -> bytes:
        lines = backup_lines(path)
        change(lines)
        return gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode())
    return make


def _set(table, column, value):
    def change(lines):
        line = _row_of(lines, table)
        line["row"] = {**line["row"], column: value}
    return change


def _drop_a_row(lines):
    lines.remove(_row_of(lines, "observation_barrier"))


def _unknown_table(lines):
    lines[0] = {**lines[0], "tables": [*lines[0]["tables"], {"name": "secret", "columns": ["id"]}]}


def _other_version(lines):
    lines[0] = {**lines[0], "version": 99}


def _naive_datetime(lines):
    line = _row_of(lines, "observation")
    line["row"] = {**line["row"], "observed_at": line["row"]["observed_at"][:-6]}


DAMAGE = {
    "plain text": (raw(b"name,email\nAda,ada@example.test\n"), "not a JSON object"),
    "other JSON": (raw(b'{"users": []}\n'), "not a Clearpath backup"),
    "empty file": (raw(b""), "not a Clearpath backup"),
    "gzip garbage": (raw(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4), "could not be read"),
    "cut short": (lambda path: path.read_bytes()[: path.stat().st_size // 2], "could not be read"),
    "no trailer": (edited(lambda lines: lines.pop()), "truncated"),
    "a row missing": (edited(_drop_a_row), "other row counts"),
    "unknown table": (edited(_unknown_table), "does not know"),
    "newer format": (edited(_other_version), "version 99"),
    "bad date": (edited(_set("observation", "observed_at", "last Tuesday")),
                 "observation.observed_at"),
    "naive datetime": (edited(_naive_datetime), "no UTC offset"),
    "wrong type": (edited(_set("hcp", "territory_id", "T1")), "hcp.territory_id"),
    "broken reference": (edited(_set("observation", "hcp_id", 987654)), "changed nothing"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_or_foreign_file_is_refused_and_changes_nothing(app, runner, world, observe,
                                                                   tmp_path, damage):
    observe(note="before the restore")
    path = tmp_path / "good.jsonl.gz"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    before = snapshot()
    make, message = DAMAGE[damage]
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(make(path))

    result = runner.invoke(args=["restore", "--replace", str(bad)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Nothing was changed" in result.output or "changed nothing" in result.output
    assert "Traceback" not in result.output
    assert snapshot() == before
