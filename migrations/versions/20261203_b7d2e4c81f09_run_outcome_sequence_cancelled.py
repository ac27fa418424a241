"""runs: cancelled status, per-sync run numbers, stored outcome (issue 14)

Revision ID: b7d2e4c81f09
Revises: b7d4e2a91c03
Create Date: 2026-12-03 10:00:00

Adds "cancelled" to the creation and transfer statuses (their CHECK constraints are
restated), ``sync_instances.sequence`` ("Run 3" of its sync) and ``syncs.runs_created``
backfilled from the existing runs in id order, and ``sync_instances.outcome`` (the
combined status the Runs page filters by) backfilled with the rules of
``webapp.services.run_status.compute`` (restated here: a migration must not change when
the application code does), with the indexes the Runs page needs.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e4c81f09'
down_revision = 'b7d4e2a91c03'
branch_labels = None
depends_on = None

CREATION = ('pending', 'running', 'succeeded', 'failed', 'no_data')
TRANSFER = ('pending', 'transferring', 'retrying', 'succeeded', 'failed')
OUTCOME = (
    'waiting', 'running', 'retrying', 'delivered', 'partly_failed', 'failed', 'no_data',
    'cancelled',
)


def _in(column, values):
    return column + ' IN (' + ', '.join(f"'{v}'" for v in values) + ')'


def _restate(table, name, column, values):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
        batch_op.create_check_constraint(name, _in(column, values))


def upgrade():
    # Restating a CHECK makes batch mode copy the table; migrations/env.py turns SQLite's
    # foreign keys off around every migration so the copy's DROP cascades to nothing.
    _restate('sync_instances', 'creation_status', 'creation_status', CREATION + ('cancelled',))
    _restate('transfers', 'transfer_status', 'status', TRANSFER + ('cancelled',))
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('runs_created', sa.Integer(), nullable=False, server_default='0')
        )
    with op.batch_alter_table('sync_instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                'outcome',
                sa.Enum(*OUTCOME, name='run_outcome', native_enum=False, create_constraint=True,
                        length=17),
                nullable=False,
                server_default='waiting',
            )
        )
        batch_op.create_index('ix_sync_instances_outcome_id', ['outcome', 'id'], unique=False)
        batch_op.create_index('ix_sync_instances_trigger_id', ['trigger', 'id'], unique=False)
        batch_op.create_index('ix_sync_instances_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index(
            'ix_transfers_destination_instance', ['destination_id', 'instance_id'], unique=False
        )
    _backfill(op.get_bind())


def _outcome(creation, statuses):
    if creation == 'pending':
        return 'waiting'
    if creation == 'running':
        return 'running'
    if creation in ('failed', 'no_data', 'cancelled'):
        return creation
    if not statuses:
        return 'delivered'
    if any(s in ('pending', 'transferring') for s in statuses):
        return 'running'
    if 'retrying' in statuses:
        return 'retrying'
    delivered = statuses.count('succeeded')
    if delivered == len(statuses):
        return 'delivered'
    if statuses.count('cancelled') == len(statuses):
        return 'cancelled'
    return 'failed' if delivered == 0 else 'partly_failed'


def _backfill(bind):
    runs = sa.table(
        'sync_instances', sa.column('id'), sa.column('sync_id'), sa.column('creation_status'),
        sa.column('sequence'), sa.column('outcome'),
    )
    transfers = sa.table(
        'transfers', sa.column('instance_id'), sa.column('destination_id'),
        sa.column('destination_name'), sa.column('round'), sa.column('status'), sa.column('id'),
    )
    syncs = sa.table('syncs', sa.column('id'), sa.column('runs_created'))
    latest = {}
    for t in bind.execute(sa.select(transfers).order_by(transfers.c.id)):
        key = t.destination_id if t.destination_id is not None else f'gone-{t.destination_name}'
        rounds = latest.setdefault(t.instance_id, {})
        if key not in rounds or t.round > rounds[key][0]:
            rounds[key] = (t.round, t.status)
    counters = {}
    updates = []
    for run in bind.execute(
        sa.select(runs.c.id, runs.c.sync_id, runs.c.creation_status).order_by(runs.c.id)
    ):
        counters[run.sync_id] = counters.get(run.sync_id, 0) + 1
        statuses = [s for _, s in latest.get(run.id, {}).values()]
        updates.append(
            {'rid': run.id, 'seq': counters[run.sync_id],
             'out': _outcome(run.creation_status, statuses)}
        )
    if updates:
        bind.execute(
            runs.update().where(runs.c.id == sa.bindparam('rid'))
            .values(sequence=sa.bindparam('seq'), outcome=sa.bindparam('out')),
            updates,
        )
    if counters:
        bind.execute(
            syncs.update().where(syncs.c.id == sa.bindparam('sid'))
            .values(runs_created=sa.bindparam('n')),
            [{'sid': k, 'n': v} for k, v in counters.items()],
        )


def downgrade():
    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE sync_instances SET creation_status = 'failed' WHERE creation_status = 'cancelled'"
    ))
    bind.execute(sa.text("UPDATE transfers SET status = 'failed' WHERE status = 'cancelled'"))
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_transfers_destination_instance')
    with op.batch_alter_table('sync_instances', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_instances_created_at')
        batch_op.drop_index('ix_sync_instances_trigger_id')
        batch_op.drop_index('ix_sync_instances_outcome_id')
        batch_op.drop_constraint(op.f('ck_sync_instances_run_outcome'), type_='check')
        batch_op.drop_column('outcome')
        batch_op.drop_column('sequence')
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.drop_column('runs_created')
    _restate('transfers', 'transfer_status', 'status', TRANSFER)
    _restate('sync_instances', 'creation_status', 'creation_status', CREATION)
