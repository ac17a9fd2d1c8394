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
