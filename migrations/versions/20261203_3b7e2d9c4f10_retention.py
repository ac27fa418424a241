"""retention: per-sync policy, purged runs, change-log start, daily maintenance claims

Revision ID: 3b7e2d9c4f10
Revises: b14d0c3e7a52
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import loyalty.db


# revision identifiers, used by Alembic.
revision = '3b7e2d9c4f10'
down_revision = 'b14d0c3e7a52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('retention_days', sa.Integer(), nullable=True, server_default='90')
        )
        batch_op.add_column(sa.Column('retention_runs', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('log_start', sa.JSON(), nullable=True))
    with op.batch_alter_table('sync_instances', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('files_removed_at', loyalty.db.UTCDateTime(), nullable=True)
        )
    op.create_table(
        'maintenance_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('claimed_at', loyalty.db.UTCDateTime(), nullable=False),
        sa.Column('finished_at', loyalty.db.UTCDateTime(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_runs')),
        sa.UniqueConstraint('task', 'day', name=op.f('uq_maintenance_runs_task_day')),
    )


def downgrade():
    # Dropping columns makes batch mode copy syncs and sync_instances on SQLite;
    # migrations/env.py turns foreign keys off around every migration, so the copy's DROP
    # cascades to nothing (the runs, files and transfers stay).
    op.drop_table('maintenance_runs')
    with op.batch_alter_table('sync_instances', schema=None) as batch_op:
        batch_op.drop_column('files_removed_at')
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.drop_column('log_start')
        batch_op.drop_column('retention_runs')
        batch_op.drop_column('retention_days')
