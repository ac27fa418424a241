"""completion markers per destination, a PGP signing key per sync, webhook outcome claim

Revision ID: b7d4e2a91c03
Revises: 65edab6a78af
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import loyalty.db


# revision identifiers, used by Alembic.
revision = 'b7d4e2a91c03'
down_revision = '65edab6a78af'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('destinations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'marker',
                sa.Enum(
                    'none', 'trigger', 'manifest_json', 'manifest_pipe', name='marker',
                    native_enum=False, create_constraint=True, length=17,
                ),
                nullable=False,
                server_default='none',
            )
        )
        batch_op.add_column(sa.Column('marker_name', sa.String(length=255), nullable=True))
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signing_key_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signing_passphrase_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signing_fingerprint', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('signing_user_ids', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('signing_expires_at', loyalty.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_webhook_deliveries_webhook_id_claim'), ['webhook_id', 'claim']
        )


def downgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_webhook_deliveries_webhook_id_claim'), type_='unique')
        batch_op.drop_column('claim')
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.drop_column('signing_expires_at')
        batch_op.drop_column('signing_user_ids')
        batch_op.drop_column('signing_fingerprint')
        batch_op.drop_column('signing_passphrase_encrypted')
        batch_op.drop_column('signing_key_encrypted')
    with op.batch_alter_table('destinations', schema=None) as batch_op:
        # SQLite's batch copy would keep the enum's CHECK on a column that is gone.
        batch_op.drop_constraint(op.f('ck_destinations_marker'), type_='check')
        batch_op.drop_column('marker_name')
        batch_op.drop_column('marker')
