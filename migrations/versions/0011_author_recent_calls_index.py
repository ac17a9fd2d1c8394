"""an index for an author's latest calls, newest first (the capture page's recent HCPs and calls)

Replaces ix_observation_author_id, which it covers: a rep with tens of thousands of calls had
them all read and sorted to show the last five.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_author_observed', ['author_id', 'observed_at'],
                              unique=False)
        batch_op.drop_index('ix_observation_author_id')
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE observation")  # as in 0008: SQLite plans from ANALYZE's statistics


def downgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_author_id', ['author_id'], unique=False)
        batch_op.drop_index('ix_observation_author_observed')
