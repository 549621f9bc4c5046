"""held credits and budget alerts: a program's hold and alert amount, a credit's hold and release,
the alerts its group admins are told; the codes each OEM knows a store by

Revision ID: 0014_held_credits
Revises: 0015_brand_catalogue
Create Date: 2026-12-04 19:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_held_credits'
down_revision = '0015_brand_catalogue'
branch_labels = None
depends_on = None


def upgrade():
    # ### written by hand: credits made before this revision were available at once (held_until
    # stays NULL); programs that existed go on with the default hold of 30 days ###
    with op.batch_alter_table('reward_programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_days', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('alert_below_minor', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('reward_credits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('release_entry_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_reward_credits_release_entry_id_ledger_entries'), 'ledger_entries', ['release_entry_id'], ['id'])
        batch_op.create_index('ix_reward_credits_held_until', ['held_until'], unique=False)

    op.create_table('reward_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('remaining_minor', sa.BigInteger(), nullable=False),
    sa.Column('alert_below_minor', sa.BigInteger(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_reward_alerts_group_id_groups')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_reward_alerts_lead_id_leads')),
    sa.ForeignKeyConstraint(['program_id'], ['reward_programs.id'], name=op.f('fk_reward_alerts_program_id_reward_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_alerts'))
    )
    with op.batch_alter_table('reward_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_reward_alerts_group_created', ['group_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reward_alerts_program_id'), ['program_id'], unique=False)

    op.create_table('dealer_oem_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('oem_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_dealer_oem_codes_dealer_id_dealers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['oem_id'], ['oems.id'], name=op.f('fk_dealer_oem_codes_oem_id_oems')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dealer_oem_codes')),
    sa.UniqueConstraint('dealer_id', 'oem_id', name=op.f('uq_dealer_oem_codes_dealer_id_oem_id')),
    sa.UniqueConstraint('oem_id', 'code', name=op.f('uq_dealer_oem_codes_oem_id_code'))
    )
    # ### end of commands ###


def downgrade():
    op.drop_table('dealer_oem_codes')
    with op.batch_alter_table('reward_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_alerts_program_id'))
        batch_op.drop_index('ix_reward_alerts_group_created')

    op.drop_table('reward_alerts')
    with op.batch_alter_table('reward_credits', schema=None) as batch_op:
        batch_op.drop_index('ix_reward_credits_held_until')
        batch_op.drop_constraint(batch_op.f('fk_reward_credits_release_entry_id_ledger_entries'), type_='foreignkey')
        batch_op.drop_column('release_entry_id')
        batch_op.drop_column('held_until')

    with op.batch_alter_table('reward_programs', schema=None) as batch_op:
        batch_op.drop_column('alert_below_minor')
        batch_op.drop_column('hold_days')
