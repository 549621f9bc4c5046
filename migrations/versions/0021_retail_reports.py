"""OEM retail confirmation: retail reports and their rows, confirmed deliveries, flags; the
group's retail_match_days; a program's retail confirmation and a credit's deadline

Revision ID: 0021_retail_reports
Revises: 0017_privacy
Create Date: 2026-12-08 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_retail_reports'
down_revision = '0022_admin_notices'
branch_labels = None
depends_on = None


def upgrade():
    # ### written by hand: existing groups match within 30 days; existing programs require no
    # confirmation (their credits keep no deadline), so nothing already credited changes ###
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retail_match_days', sa.Integer(), server_default='30', nullable=False))

    with op.batch_alter_table('reward_programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_retail_confirmation', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('retail_deadline_days', sa.Integer(), server_default='60', nullable=False))

    with op.batch_alter_table('reward_credits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retail_deadline_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('retail_confirmed_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_reward_credits_retail_deadline', ['retail_deadline_at'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_vin', ['vin', 'group_id', 'status'], unique=False)

    op.create_table('retail_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('oem_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_good', sa.Integer(), nullable=False),
    sa.Column('rows_bad', sa.Integer(), nullable=False),
    sa.Column('rows_duplicate', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_retail_reports_group_id_groups')),
    sa.ForeignKeyConstraint(['oem_id'], ['oems.id'], name=op.f('fk_retail_reports_oem_id_oems')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_retail_reports_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_reports')),
    sa.UniqueConstraint('scope', 'sha256', name=op.f('uq_retail_reports_scope_sha256'))
    )
    with op.batch_alter_table('retail_reports', schema=None) as batch_op:
        batch_op.create_index('ix_retail_reports_oem_created', ['oem_id', 'created_at'], unique=False)
        batch_op.create_index('ix_retail_reports_group_created', ['group_id', 'created_at'], unique=False)

    op.create_table('retail_report_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('vin', sa.String(length=40), nullable=False),
    sa.Column('dealer_code', sa.String(length=50), nullable=False),
    sa.Column('retail_date', sa.Date(), nullable=True),
    sa.Column('dealer_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_retail_report_rows_dealer_id_dealers')),
    sa.ForeignKeyConstraint(['report_id'], ['retail_reports.id'], name=op.f('fk_retail_report_rows_report_id_retail_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_report_rows'))
    )
    with op.batch_alter_table('retail_report_rows', schema=None) as batch_op:
        batch_op.create_index('ix_retail_report_rows_report_row', ['report_id', 'row_number'], unique=False)
        batch_op.create_index('ix_retail_report_rows_vin_status', ['vin', 'status'], unique=False)

    op.create_table('retail_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=False),
    sa.Column('retail_date', sa.Date(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_retail_matches_dealer_id_dealers')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_retail_matches_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['retail_reports.id'], name=op.f('fk_retail_matches_report_id_retail_reports')),
    sa.ForeignKeyConstraint(['row_id'], ['retail_report_rows.id'], name=op.f('fk_retail_matches_row_id_retail_report_rows')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_matches')),
    sa.UniqueConstraint('lead_id', name=op.f('uq_retail_matches_lead_id'))
    )

    op.create_table('retail_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('vin', sa.String(length=17), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=True),
    sa.Column('other_dealer_id', sa.Integer(), nullable=True),
    sa.Column('other_lead_id', sa.Integer(), nullable=True),
    sa.Column('row_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_retail_flags_group_id_groups')),
    sa.ForeignKeyConstraint(['holder_id'], ['dealers.id'], name=op.f('fk_retail_flags_holder_id_dealers')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_retail_flags_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_dealer_id'], ['dealers.id'], name=op.f('fk_retail_flags_other_dealer_id_dealers')),
    sa.ForeignKeyConstraint(['other_lead_id'], ['leads.id'], name=op.f('fk_retail_flags_other_lead_id_leads')),
    sa.ForeignKeyConstraint(['row_id'], ['retail_report_rows.id'], name=op.f('fk_retail_flags_row_id_retail_report_rows')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_flags')),
    sa.UniqueConstraint('lead_id', 'kind', 'ref', name=op.f('uq_retail_flags_lead_id_kind_ref'))
    )
    with op.batch_alter_table('retail_flags', schema=None) as batch_op:
        batch_op.create_index('ix_retail_flags_group_created', ['group_id', 'created_at'], unique=False)
    # ### end of commands ###


def downgrade():
    # the tables with rows lose their columns in place (SQLite 3.35+): a copy of `groups`
    # would break every key pointing at it
    with op.batch_alter_table('retail_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_retail_flags_group_created')
    op.drop_table('retail_flags')
    op.drop_table('retail_matches')
    with op.batch_alter_table('retail_report_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_retail_report_rows_vin_status')
        batch_op.drop_index('ix_retail_report_rows_report_row')
    op.drop_table('retail_report_rows')
    with op.batch_alter_table('retail_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_retail_reports_group_created')
        batch_op.drop_index('ix_retail_reports_oem_created')
    op.drop_table('retail_reports')
    with op.batch_alter_table('leads', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_leads_vin')
    with op.batch_alter_table('reward_credits', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_reward_credits_retail_deadline')
        batch_op.drop_column('retail_confirmed_at')
        batch_op.drop_column('retail_deadline_at')
    with op.batch_alter_table('reward_programs', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('retail_deadline_days')
        batch_op.drop_column('requires_retail_confirmation')
    with op.batch_alter_table('groups', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('retail_match_days')
