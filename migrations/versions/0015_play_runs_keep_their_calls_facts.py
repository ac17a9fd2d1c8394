"""play runs keep the facts of their call that the metrics count them by

A run now carries its call's territory, author's role, HCP, brand and observation time, copied
when it is stored (a call never changes), so play success and time to play count the runs
without looking each one's call up by its UUID (219,000 look-ups at 1M calls).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COLUMNS = {
    "call_territory_id": ("territory_id", sa.Integer(), False),
    "call_author_role": ("author_role", sa.String(length=40), False),
    "call_hcp_id": ("hcp_id", sa.Integer(), False),
    "call_brand_id": ("brand_id", sa.Integer(), True),
    "call_observed_at": ("observed_at", sa.DateTime(timezone=True), False),
}


def upgrade():
    with op.batch_alter_table('play_run', schema=None) as batch_op:
        for name, (_, type_, _) in COLUMNS.items():
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    # Portable (SQLite before 3.33 has no UPDATE … FROM): each column from the run's call.
    op.execute("UPDATE play_run SET " + ", ".join(
        f"{name} = (SELECT observation.{source} FROM observation "
        "WHERE observation.id = play_run.observation_id)"
        for name, (source, _, _) in COLUMNS.items()))
    with op.batch_alter_table('play_run', schema=None) as batch_op:
        for name, (_, type_, nullable) in COLUMNS.items():
            if not nullable:
                batch_op.alter_column(name, existing_type=type_, nullable=False)


def downgrade():
    with op.batch_alter_table('play_run', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
