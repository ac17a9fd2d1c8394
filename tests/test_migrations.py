"""The Alembic migrations build exactly the schema the models describe, on each database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from webapp.extensions import db
from webapp.models import include_object


def _drop_everything():
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(db.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def empty_database(app):
    _drop_everything()
    yield
    _drop_everything()


def _differences():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(context, db.metadata)


def test_migrations_match_the_models(empty_database):
    upgrade()
    assert _differences() == []


def test_migrations_downgrade_cleanly(empty_database):
    upgrade()
    downgrade(revision="base")
    with db.engine.connect() as connection:
        tables = set(db.inspect(connection).get_table_names())
    assert tables <= {"alembic_version"}


def test_postgresql_gets_the_trigram_index_for_word_search(empty_database):
    upgrade()
    with db.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            pytest.skip("the trigram index is PostgreSQL's")
        names = {index["name"] for index in db.inspect(connection).get_indexes("observation")}
    assert "ix_observation_note_trgm" in names



def test_calls_stored_before_0017_that_arrived_late_are_flagged_by_it(empty_database):
    """The feed of dates long past finds the late calls by their flag: those stored before it
    existed are flagged by the migration that adds it (received more than a day after)."""
    upgrade(revision="0016")
    with db.engine.begin() as connection:
        # Bare rows, their keys unchecked: the migration reads a call's own two times alone.
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica"
                                   if connection.dialect.name == "postgresql"
                                   else "PRAGMA foreign_keys = OFF")
        for call_id, received in (("prompt", "2026-01-02 07:00:00"),
                                  ("late", "2026-01-02 09:00:00")):
            connection.execute(db.text(
                "INSERT INTO observation (id, author_id, author_role, hcp_id, territory_id, "
                "note, observed_at, received_at, safety_flag, safety_terms, fingerprint) "
                "VALUES (:id, 1, 'sales_rep', 1, 1, '', '2026-01-01 08:00:00.000000', "
                ":received, false, '[]', '')"), {"id": call_id, "received": received + ".000000"})
    upgrade()
    with db.engine.connect() as connection:
        flags = dict(connection.execute(db.text("SELECT id, arrived_late FROM observation")).all())
        connection.execute(db.text("DELETE FROM observation"))
        connection.commit()
    assert flags == {"prompt": False, "late": True}
