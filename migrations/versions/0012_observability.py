"""observability: the request id on outbox messages, the workers' heartbeat table

Revision ID: 0012_observability
Revises: 0009_store_hours
Create Date: 2026-12-03 12:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_observability'
down_revision = '0009_store_hours'
branch_labels = None
depends_on = None


def upgrade():
    # ### written by hand: one nullable column and one small table; nothing is rewritten ###
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))

    op.create_table('worker_heartbeats',
    sa.Column('worker_id', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('beat_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_worker_heartbeats'))
    )
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_heartbeats_beat_at'), ['beat_at'], unique=False)


def downgrade():
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_heartbeats_beat_at'))

    op.drop_table('worker_heartbeats')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('request_id')
