"""destination last connection test (when, and whether it passed)

Revision ID: b14d0c3e7a52
Revises: b7d2e4f6a813
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import loyalty.db


# revision identifiers, used by Alembic.
revision = 'b14d0c3e7a52'
down_revision = 'b7d2e4f6a813'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('destinations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_test_at', loyalty.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_test_ok', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('destinations', schema=None) as batch_op:
        batch_op.drop_column('last_test_ok')
        batch_op.drop_column('last_test_at')
