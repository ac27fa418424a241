"""api tokens (issue 13: the REST API)

Revision ID: c4a9e2f17d30
Revises: b7d2e4c81f09
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import loyalty.db


# revision identifiers, used by Alembic.
revision = 'c4a9e2f17d30'
down_revision = 'b7d2e4c81f09'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('display_prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', loyalty.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', loyalty.db.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', loyalty.db.UTCDateTime(), nullable=True),
    sa.Column('last_used_addr', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', loyalty.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_tokens_secret_hash')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_api_tokens_user_id_name'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
    op.drop_table('api_tokens')
