"""load records: one row per bulk load of loyalty data (issue 12)

Revision ID: e5a1c7d3b920
Revises: 3b7e2d9c4f10
Create Date: 2026-12-03 11:30:00

"""
from alembic import op
import sqlalchemy as sa

import loyalty.db


# revision identifiers, used by Alembic.
revision = 'e5a1c7d3b920'
down_revision = '3b7e2d9c4f10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'load_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('rows_read', sa.Integer(), nullable=False),
        sa.Column('rows_applied', sa.Integer(), nullable=False),
        sa.Column('rows_unchanged', sa.Integer(), nullable=False),
        sa.Column('rows_rejected', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('failure', sa.String(length=500), nullable=True),
        sa.Column('started_at', loyalty.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_load_records')),
    )
    with op.batch_alter_table('load_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_load_records_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('load_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_load_records_sha256'))
    op.drop_table('load_records')
