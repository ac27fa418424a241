"""retention: per-sync policy, purged runs, change-log start, daily maintenance claims

Revision ID: 3b7e2d9c4f10
Revises: b7d2e4f6a813
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import loyalty.db


# revision identifiers, used by Alembic.
revision = '3b7e2d9c4f10'
down_revision = 'b7d2e4f6a813'
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


def _sqlite_foreign_keys(on):
    """Dropping a column makes batch mode copy the table and DROP the old one; on SQLite
    with foreign keys enforced that DROP would cascade-delete every child row (a sync's
    runs, a run's files and transfers). So enforcement is off while tables are copied and
    checked when it comes back (as in b7d2e4c81f09). ``PRAGMA foreign_keys`` does nothing
    inside a transaction, so the steps done so far are committed first."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    raw = bind.connection.dbapi_connection
    if raw.in_transaction:
        raw.commit()
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if raw.execute('PRAGMA foreign_keys').fetchone()[0] != int(on):
        raise RuntimeError('could not switch SQLite foreign key enforcement')
    if on:
        broken = raw.execute('PRAGMA foreign_key_check').fetchall()
        if broken:
            raise RuntimeError(f'foreign keys broken after the migration: {broken[:5]}')


def downgrade():
    _sqlite_foreign_keys(False)
    _downgrade()
    _sqlite_foreign_keys(True)


def _downgrade():
    op.drop_table('maintenance_runs')
    with op.batch_alter_table('sync_instances', schema=None) as batch_op:
        batch_op.drop_column('files_removed_at')
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.drop_column('log_start')
        batch_op.drop_column('retention_runs')
        batch_op.drop_column('retention_days')
