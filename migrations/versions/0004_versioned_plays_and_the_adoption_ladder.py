"""versioned plays with MLR status and expiry, and the adoption ladder

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 21:59:44.686957

Every existing play becomes version 1 of its own lineage (the barrier's code), approved, with
the approval code its leave-behind carried. A barrier may now have several plays, so the
unique constraint on play.barrier_id goes: it was created unnamed, which SQLite and
PostgreSQL name differently.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# SQLite reflects the unnamed unique constraint without a name: name it for the batch copy.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _drop_unique_play_barrier():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('play', naming_convention=NAMING, recreate='always') as batch_op:
            batch_op.drop_constraint('uq_play_barrier_id', type_='unique')
    else:
        op.drop_constraint('play_barrier_id_key', 'play', type_='unique')


def upgrade():
    op.create_table('adoption_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hcp_id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('stage_code', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.ForeignKeyConstraint(['hcp_id'], ['hcp.id'], ),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], ),
    sa.ForeignKeyConstraint(['stage_code'], ['adoption_stage.code'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adoption_step', schema=None) as batch_op:
        batch_op.create_index('ix_adoption_step_hcp_brand', ['hcp_id', 'brand_id', 'at'], unique=False)

    with op.batch_alter_table('leave_behind', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                      server_default='approved'))
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))

    with op.batch_alter_table('observation_barrier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('play_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_observation_barrier_play_id', 'play', ['play_id'], ['id'])

    _drop_unique_play_barrier()
    with op.batch_alter_table('play', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lineage', sa.String(length=60), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                      server_default='approved'))
        batch_op.add_column(sa.Column('approval_code', sa.String(length=60), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=False,
                                      server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_play_barrier_id'), ['barrier_id'], unique=False)
        batch_op.create_foreign_key('fk_play_created_by_id', 'user', ['created_by_id'], ['id'])

    # Existing plays: version 1 of a lineage named after their barrier, approved as shipped.
    op.execute("UPDATE play SET lineage = (SELECT code FROM barrier WHERE barrier.id = play.barrier_id)")
    op.execute("UPDATE play SET approval_code = COALESCE("
               "(SELECT approval_code FROM leave_behind WHERE leave_behind.play_id = play.id), "
               "'CP-' || lineage || '-v1')")
    op.execute("UPDATE observation_barrier SET play_id = "
               "(SELECT play.id FROM play WHERE play.barrier_id = observation_barrier.barrier_id)")

    with op.batch_alter_table('play', schema=None) as batch_op:
        for column in ('lineage', 'version', 'status', 'approval_code', 'created_at'):
            batch_op.alter_column(column, server_default=None)
        batch_op.create_unique_constraint('uq_play_lineage_version', ['lineage', 'version'])
    with op.batch_alter_table('leave_behind', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)

    with op.batch_alter_table('play_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('play_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_play_run_play_id'), ['play_id'], unique=False)
        batch_op.create_foreign_key('fk_play_run_play_id', 'play', ['play_id'], ['id'])
    op.execute("UPDATE play_run SET play_id = "
               "(SELECT play.id FROM play WHERE play.barrier_id = play_run.barrier_id)")


def downgrade():
    # Back to one play per barrier: keep the newest version of the library's own lineage.
    op.execute("DELETE FROM leave_behind WHERE play_id IN (SELECT play.id FROM play JOIN barrier "
               "ON barrier.id = play.barrier_id WHERE play.lineage != barrier.code OR play.id != "
               "(SELECT MAX(p2.id) FROM play p2 WHERE p2.lineage = play.lineage))")
    op.execute("UPDATE play_run SET play_id = NULL")
    op.execute("UPDATE observation_barrier SET play_id = NULL")
    op.execute("DELETE FROM play WHERE id NOT IN (SELECT MAX(p2.id) FROM play p2 JOIN barrier "
               "ON barrier.id = p2.barrier_id WHERE p2.lineage = barrier.code GROUP BY p2.barrier_id)")

    with op.batch_alter_table('play_run', schema=None) as batch_op:
        batch_op.drop_constraint('fk_play_run_play_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_play_run_play_id'))
        batch_op.drop_column('play_id')

    with op.batch_alter_table('play', schema=None) as batch_op:
        batch_op.drop_constraint('fk_play_created_by_id', type_='foreignkey')
        batch_op.drop_constraint('uq_play_lineage_version', type_='unique')
        batch_op.drop_index(batch_op.f('ix_play_barrier_id'))
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('created_at')
        batch_op.drop_column('expires_on')
        batch_op.drop_column('approval_code')
        batch_op.drop_column('status')
        batch_op.drop_column('version')
        batch_op.drop_column('lineage')
        batch_op.create_unique_constraint('play_barrier_id_key', ['barrier_id'])

    with op.batch_alter_table('observation_barrier', schema=None) as batch_op:
        batch_op.drop_constraint('fk_observation_barrier_play_id', type_='foreignkey')
        batch_op.drop_column('play_id')

    with op.batch_alter_table('leave_behind', schema=None) as batch_op:
        batch_op.drop_column('expires_on')
        batch_op.drop_column('status')

    with op.batch_alter_table('adoption_step', schema=None) as batch_op:
        batch_op.drop_index('ix_adoption_step_hcp_brand')

    op.drop_table('adoption_step')
