"""SQLite's word search index for the feed: the notes in an FTS5 trigram table

PostgreSQL has had its trigram index since 0007; SQLite read every note (2 s for a rare word at
1M calls). The table's rows are numbered by a key table, not by the observation's rowid, which
VACUUM may renumber; triggers keep both in step with every write to observation. A later
migration that rebuilds the observation table on SQLite (batch mode's copy) drops these
triggers and must create them again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:40:00

"""
import logging

from alembic import op
from sqlalchemy.exc import DBAPIError


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# As webapp.models' NOTE_SEARCH_TABLES, _TRIGGERS and _FILL were when this revision was
# written (a migration stays as it was run).
DDL = (
    "CREATE VIRTUAL TABLE observation_note_search USING fts5(note, tokenize='trigram')",
    """CREATE TABLE observation_note_search_key (
        rowid INTEGER PRIMARY KEY, observation_id VARCHAR(36) NOT NULL UNIQUE)""",
    """CREATE TRIGGER observation_note_search_insert AFTER INSERT ON observation
    WHEN new.note != ''
    BEGIN
        INSERT INTO observation_note_search_key (observation_id) VALUES (new.id);
        INSERT INTO observation_note_search (rowid, note) VALUES (last_insert_rowid(), new.note);
    END""",
    """CREATE TRIGGER observation_note_search_delete AFTER DELETE ON observation
    WHEN old.note != ''
    BEGIN
        DELETE FROM observation_note_search WHERE rowid =
            (SELECT rowid FROM observation_note_search_key WHERE observation_id = old.id);
        DELETE FROM observation_note_search_key WHERE observation_id = old.id;
    END""",
    """CREATE TRIGGER observation_note_search_update AFTER UPDATE OF id, note ON observation
    BEGIN
        DELETE FROM observation_note_search WHERE rowid =
            (SELECT rowid FROM observation_note_search_key WHERE observation_id = old.id);
        DELETE FROM observation_note_search_key WHERE observation_id = old.id;
        INSERT INTO observation_note_search_key (observation_id)
            SELECT new.id WHERE new.note != '';
        INSERT INTO observation_note_search (rowid, note)
            SELECT last_insert_rowid(), new.note WHERE new.note != '';
    END""",
)
FILL = (
    "INSERT INTO observation_note_search_key (observation_id) "
    "SELECT id FROM observation WHERE note != ''",
    "INSERT INTO observation_note_search (rowid, note) SELECT k.rowid, o.note "
    "FROM observation_note_search_key AS k JOIN observation AS o ON o.id = k.observation_id",
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # An SQLite older than 3.34 has no trigram tokenizer (or no FTS5 at all): it keeps the
    # scan, with a warning, as a PostgreSQL without pg_trgm does (0007); the search still works.
    try:
        bind.exec_driver_sql(DDL[0])
    except DBAPIError as error:
        log.warning("FTS5's trigram tokenizer unavailable (%s): the feed's word search scans",
                    error.orig)
        return
    for statement in (*DDL[1:], *FILL):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS observation_note_search_{trigger}")
    op.execute("DROP TABLE IF EXISTS observation_note_search")
    op.execute("DROP TABLE IF EXISTS observation_note_search_key")
