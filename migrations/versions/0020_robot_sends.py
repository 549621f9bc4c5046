"""WeCom group robots: the messages sent to each, for its 20-a-minute limit

Revision ID: 0020_robot_sends
Revises: 0010_wecom
Create Date: 2026-12-04 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_robot_sends'
down_revision = '0010_wecom'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('robot_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('robot_key', sa.String(length=64), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robot_sends'))
    )
    with op.batch_alter_table('robot_sends', schema=None) as batch_op:
        batch_op.create_index('ix_robot_sends_robot_sent', ['robot_key', 'sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('robot_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_robot_sends_robot_sent')
    op.drop_table('robot_sends')
