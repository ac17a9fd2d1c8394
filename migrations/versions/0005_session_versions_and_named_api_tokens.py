"""session versions and named API tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:31:01.169108

user.session_version is part of the identity every session cookie carries; bumping it ("sign
out everywhere") makes every earlier cookie worthless. Existing users start at 1; cookies issued
before this revision carry no version and are refused once, so everyone signs in again.
api_token gets the name its owner gave it and its last 4 characters, so a token can be told
apart without ever being shown again; tokens made before have neither ('').
Only columns are added (plain ALTER TABLE on SQLite too); the downgrade drops them in batch mode.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('last4', sa.String(length=4), server_default='', nullable=False))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('last4')
        batch_op.drop_column('label')
