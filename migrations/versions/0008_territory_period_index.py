"""an index for a territory's recent calls (the rep's top barriers, a district's dashboard)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 01:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_territory_observed', ['territory_id', 'observed_at'],
                              unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite plans from the statistics ANALYZE leaves; without them for the new index it
        # takes it for the territory's feed too, and sorts (0.6 s at 1M instead of 1 ms).
        op.execute("ANALYZE observation")


def downgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_territory_observed')
