"""a trigram index for the feed's word search (PostgreSQL with pg_trgm only)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:30:00

"""
import logging

from alembic import op
from sqlalchemy.exc import DBAPIError


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    # SQLite keeps its table scan (the embedded default is for one team's data). A PostgreSQL
    # that may not load pg_trgm keeps the scan too, with a warning: the search still works.
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as error:
        log.warning("pg_trgm unavailable (%s): the feed's word search scans", error.orig)
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_observation_note_trgm "
               "ON observation USING gin (lower(note) gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_observation_note_trgm")
