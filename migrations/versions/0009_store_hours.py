"""store hours: group opening hours and SLA settings, store hours, closures, calendar days

Revision ID: 0009_store_hours
Revises: 0008_sign_in_security
Create Date: 2026-12-03 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_store_hours'
down_revision = '0008_sign_in_security'
branch_labels = None
depends_on = None


def upgrade():
    # ### written by hand: three new tables; new group columns with defaults, nothing rewritten ###
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('contact_sla_minutes', sa.Integer(), server_default='60', nullable=False))
        batch_op.add_column(sa.Column('skip_closed_over_hours', sa.Integer(), server_default='72', nullable=True))
        batch_op.add_column(sa.Column('release_on_missed_contact', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('visit_sla_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sla_remind_at', sa.Double(), server_default='0.8', nullable=False))

    op.create_table('store_hours',
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('weekly', sa.JSON(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_store_hours_dealer_id_dealers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dealer_id', name=op.f('pk_store_hours'))
    )
    op.create_table('store_closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_store_closures_dealer_id_dealers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_closures'))
    )
    with op.batch_alter_table('store_closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_store_closures_dealer_id'), ['dealer_id'], unique=False)

    op.create_table('calendar_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_calendar_days_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_days')),
    sa.UniqueConstraint('group_id', 'day', name=op.f('uq_calendar_days_group_id_day'))
    )
    # ### end of commands ###


def downgrade():
    op.drop_table('calendar_days')
    with op.batch_alter_table('store_closures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_store_closures_dealer_id'))

    op.drop_table('store_closures')
    op.drop_table('store_hours')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('sla_remind_at')
        batch_op.drop_column('visit_sla_days')
        batch_op.drop_column('release_on_missed_contact')
        batch_op.drop_column('skip_closed_over_hours')
        batch_op.drop_column('contact_sla_minutes')
        batch_op.drop_column('opening_hours')
