"""transfer attempt token (fences a stale upload before its rename)

Revision ID: 9f3c1a7e5b21
Revises: 076130371337
Create Date: 2026-12-02 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9f3c1a7e5b21'
down_revision = '076130371337'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('attempt_token', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade():
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_column('attempt_token')
