"""calls that arrived late: a flag, and an index of them by the time they happened

A call received more than a day after it happened (a tablet offline for days) is flagged. The
feed of dates that ended long ago then reads two short runs instead of some 400,000 calls: the
calls received up to a day after the dates end, walked back from there, and the late ones,
read from their own index (at 1M calls, the calls up to a date seven months back took 1.8 s a
page on either database).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

LATE = {  # webapp.models.LATE_ARRIVAL, one day, as each database compares two times
    "postgresql": "received_at - observed_at > interval '1 day'",
    "sqlite": "julianday(received_at) - julianday(observed_at) > 1",
}


def upgrade():
    # Not in batch mode: on SQLite a batch may copy the table, which would drop 0012's triggers.
    op.add_column('observation', sa.Column('arrived_late', sa.Boolean(), server_default=sa.false(),
                                           nullable=False))
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE observation SET arrived_late = {'true' if dialect == 'postgresql' else 1} "
               f"WHERE {LATE[dialect]}")
    op.create_index('ix_observation_late', 'observation',
                    ['observed_at', 'received_at', 'id', 'author_role'],
                    unique=False, sqlite_where=sa.text('arrived_late = 1'),
                    postgresql_where=sa.text('arrived_late'))
    # Both plan from ANALYZE's statistics: without them SQLite takes the new index for as big
    # as any, PostgreSQL read a brand's calls up to a month back by walking its feed (73 ms).
    op.execute("ANALYZE observation")


def downgrade():
    op.drop_index('ix_observation_late', table_name='observation')
    op.drop_column('observation', 'arrived_late')
