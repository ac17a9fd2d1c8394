"""an index for a brand's feed, newest first (brand teams filter the feed by their brand)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_brand_feed', ['brand_id', 'received_at', 'id'],
                              unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE observation")  # as in 0008: SQLite plans from ANALYZE's statistics


def downgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_brand_feed')
