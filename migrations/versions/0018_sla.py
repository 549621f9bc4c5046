"""sla: the holders' service-level timers (first contact, visit) and follow-up notes

Revision ID: 0018_sla
Revises: 0014_held_credits
Create Date: 2026-12-04 19:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_sla'
down_revision = '0014_held_credits'
branch_labels = None
depends_on = None


def upgrade():
    # ### written by hand: one new table; leads claimed before it have no timer ###
    op.create_table('sla_timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('consultant_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('remind_at', sa.DateTime(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.Column('missed_at', sa.DateTime(), nullable=True),
    sa.Column('met_at', sa.DateTime(), nullable=True),
    sa.Column('accept_open_minutes', sa.Double(), nullable=True),
    sa.Column('open_minutes', sa.Double(), nullable=True),
    sa.Column('released', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['consultant_id'], ['users.id'], name=op.f('fk_sla_timers_consultant_id_users')),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_sla_timers_dealer_id_dealers')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_sla_timers_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_timers')),
    sa.UniqueConstraint('lead_id', 'dealer_id', 'kind', name=op.f('uq_sla_timers_lead_id_dealer_id_kind'))
    )
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_timers_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_sla_timers_state_due', ['state', 'due_at'], unique=False)

    op.create_table('follow_up_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('next_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_follow_up_notes_author_id_users')),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_follow_up_notes_dealer_id_dealers')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_follow_up_notes_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_notes'))
    )
    with op.batch_alter_table('follow_up_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_notes_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_follow_up_notes_next', ['reminded_at', 'next_at'], unique=False)
    # ### end of commands ###


def downgrade():
    with op.batch_alter_table('follow_up_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_notes_next')
        batch_op.drop_index(batch_op.f('ix_follow_up_notes_lead_id'))

    op.drop_table('follow_up_notes')
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_timers_state_due')
        batch_op.drop_index(batch_op.f('ix_sla_timers_lead_id'))

    op.drop_table('sla_timers')
