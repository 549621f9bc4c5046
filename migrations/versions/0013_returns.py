"""returns and disputes: the group's return settings and the lead_returns table

Revision ID: 0013_returns
Revises: 0018_sla
Create Date: 2026-12-04 19:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_returns'
down_revision = '0018_sla'
branch_labels = None
depends_on = None


def upgrade():
    # ### written by hand: new group columns with defaults, one new table; nothing rewritten ###
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_window_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.add_column(sa.Column('dispute_window_hours', sa.Integer(), server_default='72', nullable=False))
        batch_op.add_column(sa.Column('max_return_rate', sa.Double(), server_default='0.2', nullable=False))

    op.create_table('lead_returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('referrer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('lead_status', sa.String(length=20), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('dispute_due_at', sa.DateTime(), nullable=False),
    sa.Column('is_over_rate', sa.Boolean(), nullable=False),
    sa.Column('contest_note', sa.String(length=1000), nullable=True),
    sa.Column('contested_at', sa.DateTime(), nullable=True),
    sa.Column('contested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_returns_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_lead_returns_group_id_groups')),
    sa.ForeignKeyConstraint(['holder_id'], ['dealers.id'], name=op.f('fk_lead_returns_holder_id_dealers')),
    sa.ForeignKeyConstraint(['referrer_id'], ['dealers.id'], name=op.f('fk_lead_returns_referrer_id_dealers')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_lead_returns_requested_by_id_users')),
    sa.ForeignKeyConstraint(['contested_by_id'], ['users.id'], name=op.f('fk_lead_returns_contested_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_lead_returns_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_returns')),
    sa.UniqueConstraint('lead_id', name=op.f('uq_lead_returns_lead_id'))
    )
    with op.batch_alter_table('lead_returns', schema=None) as batch_op:
        batch_op.create_index('ix_lead_returns_group_status', ['group_id', 'status'], unique=False)
        batch_op.create_index('ix_lead_returns_status_due', ['status', 'dispute_due_at'], unique=False)
        batch_op.create_index('ix_lead_returns_holder_requested', ['holder_id', 'requested_at'], unique=False)
    # ### end of commands ###


def downgrade():
    op.drop_table('lead_returns')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('max_return_rate')
        batch_op.drop_column('dispute_window_hours')
        batch_op.drop_column('return_window_days')
