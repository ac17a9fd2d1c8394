"""indexes for the dashboard's periods and an HCP's history

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 00:12:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_observed', ['observed_at'], unique=False)
        batch_op.create_index('ix_observation_hcp_observed', ['hcp_id', 'observed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_hcp_observed')
        batch_op.drop_index('ix_observation_observed')
