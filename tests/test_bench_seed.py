"""The bench's data generator (bench/seed.py), on a small SQLite file: what it loads in bulk
must be what the app's own write path would have made, search index included."""

import argparse
import os
import sqlite3

import psycopg
import pytest

from bench import seed as seeding
from webapp.extensions import db
from webapp.models import NOTE_SEARCH


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "bench.sqlite3"
    args = argparse.Namespace(observations=400, hcps=60, users=30, days=365, run_share=0.15,
                              seed=8, database_url=f"sqlite:///{path}")
    report = seeding.seed(args)
    connection = sqlite3.connect(path)
    yield report, connection
    connection.close()


def test_the_seed_indexes_every_note_once_and_puts_the_trigger_back(seeded):
    report, connection = seeded

    def count(sql: str) -> int:
        return connection.execute(sql).fetchone()[0]

    assert count("SELECT count(*) FROM observation") == report["observations"] == 400
    noted = count("SELECT count(*) FROM observation WHERE note != ''")
    assert noted > 100
    assert count(f"SELECT count(*) FROM {NOTE_SEARCH}_key") == noted
    assert count(f"SELECT count(*) FROM {NOTE_SEARCH}") == noted
    # Each note is found by its own words, through the key to its own observation.
    observation_id, note = connection.execute(
        "SELECT id, note FROM observation WHERE note != '' ORDER BY id LIMIT 1").fetchone()
    found = connection.execute(
        f"SELECT k.observation_id FROM {NOTE_SEARCH} AS s JOIN {NOTE_SEARCH}_key AS k "
        f"ON k.rowid = s.rowid WHERE {NOTE_SEARCH} MATCH ?",
        ('"' + note.replace('"', '""') + '"',)).fetchall()
    assert (observation_id,) in found
    triggers = {name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {f"{NOTE_SEARCH}_insert", f"{NOTE_SEARCH}_delete", f"{NOTE_SEARCH}_update"} <= triggers


def test_the_seeds_play_runs_keep_their_calls_facts(seeded):
    _, connection = seeded
    runs = connection.execute("SELECT count(*) FROM play_run").fetchone()[0]
    differing = connection.execute(
        "SELECT count(*) FROM play_run AS p JOIN observation AS o ON o.id = p.observation_id "
        "WHERE p.call_territory_id != o.territory_id OR p.call_author_role != o.author_role "
        "OR p.call_hcp_id != o.hcp_id OR p.call_brand_id IS NOT o.brand_id "
        "OR p.call_observed_at != o.observed_at").fetchone()[0]
    assert runs > 0 and differing == 0


def test_the_seeds_calls_that_synced_days_late_are_flagged_as_the_app_flags_them(seeded):
    _, connection = seeded
    late, flagged = connection.execute(
        "SELECT sum(julianday(received_at) - julianday(observed_at) > 1), sum(arrived_late) "
        "FROM observation").fetchone()
    wrong = connection.execute(
        "SELECT count(*) FROM observation "
        "WHERE arrived_late != (julianday(received_at) - julianday(observed_at) > 1)").fetchone()[0]
    assert 0 < late == flagged < 400 * 0.1 and wrong == 0


def test_the_seed_builds_the_indexes_it_dropped_for_the_load(seeded, tmp_path):
    """The observation tables' indexes are built after their bulk load: the same ones, with
    the same definitions, as the migrations make."""
    from sqlalchemy import create_engine

    _, connection = seeded
    migrated = tmp_path / "migrated.sqlite3"
    seeding.fresh_database(f"sqlite:///{migrated}")
    seeding.migrate_and_load_library(f"sqlite:///{migrated}")
    create_engine(f"sqlite:///{migrated}").dispose()
    query = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
             "AND tbl_name IN ('observation', 'observation_barrier') ORDER BY name")
    expected = sqlite3.connect(migrated).execute(query).fetchall()
    assert len(expected) >= 9
    assert connection.execute(query).fetchall() == expected


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="the seed's PostgreSQL path")
def test_the_seed_builds_postgresqls_indexes_again_after_the_copy():
    from sqlalchemy import create_engine, make_url, text

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    base = make_url(os.environ["TEST_DATABASE_URL"])
    query = text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND "
                 "tablename IN ('observation', 'observation_barrier') ORDER BY indexname")

    def indexes(name: str, observations: int | None) -> list:
        url = base.set(database=f"clearpath_seed_{name}_{worker}").render_as_string(False)
        seeding.fresh_database(url)
        if observations is None:
            app = seeding.migrate_and_load_library(url)
            with app.app_context():
                db.engine.dispose()
        else:
            seeding.seed(argparse.Namespace(observations=observations, hcps=60, users=30,
                                            days=365, run_share=0.15, seed=8, database_url=url))
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(query)]
        finally:
            engine.dispose()
            admin = base.set(drivername="postgresql", database="postgres")
            with psycopg.connect(admin.render_as_string(False), autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    migrated = indexes("migrated", None)
    assert len(migrated) >= 10 and any("gin" in definition for _, definition in migrated)
    assert indexes("seeded", 200) == migrated
