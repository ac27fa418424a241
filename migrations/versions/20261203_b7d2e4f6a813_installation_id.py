"""installation id (this install's own Redis namespace)

Revision ID: b7d2e4f6a813
Revises: c4a9e2f17d30
Create Date: 2026-12-03 10:00:00

"""
import uuid

from alembic import op
import sqlalchemy as sa

import loyalty.db


# revision identifiers, used by Alembic.
revision = 'b7d2e4f6a813'
down_revision = 'c4a9e2f17d30'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('installation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('uuid', sa.String(length=32), nullable=False),
    sa.Column('created_at', loyalty.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installation')),
    sa.UniqueConstraint('uuid', name=op.f('uq_installation_uuid'))
    )
    # The id exists from the first migration on; a process that finds no row (an emptied
    # table) creates one itself (webapp.services.installation).
    op.bulk_insert(
        table,
        [{'id': 1, 'uuid': uuid.uuid4().hex, 'created_at': loyalty.db.utcnow()}],
    )


def downgrade():
    op.drop_table('installation')
