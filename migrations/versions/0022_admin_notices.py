"""Admin notices and WeCom app messages: notices with read marks; outbox rows gain a channel

Revision ID: 0022_admin_notices
Revises: 0017_privacy
Create Date: 2026-12-08 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_admin_notices'
down_revision = '0017_privacy'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_admin_notices_group_id_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_notices')),
    sa.UniqueConstraint('group_id', 'key', name=op.f('uq_admin_notices_group_id_key'))
    )
    with op.batch_alter_table('admin_notices', schema=None) as batch_op:
        batch_op.create_index('ix_admin_notices_group_created', ['group_id', 'created_at'], unique=False)
    op.create_table('admin_notice_reads',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['admin_notices.id'], name=op.f('fk_admin_notice_reads_notice_id_admin_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_admin_notice_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'user_id', name=op.f('pk_admin_notice_reads'))
    )
    # Altered in place: rebuilding groups (SQLite's batch mode) would break the rows that refer
    # to it.
    with op.batch_alter_table('groups', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('admin_robot_url', sa.String(length=1000), nullable=True))
    # Existing rows are all webhook messages: the channel's default says so.
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=12), nullable=False, server_default='webhook'))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('invalid_users', sa.String(length=500), nullable=True))
        batch_op.alter_column('dealer_id', existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint('uq_notifications_offer_id_event', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_offer_id_event_channel'), ['offer_id', 'event', 'channel'])
        batch_op.create_foreign_key(batch_op.f('fk_notifications_user_id_users'), 'users', ['user_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('channel', existing_type=sa.String(length=12), server_default=None)


def downgrade():
    op.execute("DELETE FROM notifications WHERE channel <> 'webhook'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_user_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_notifications_offer_id_event_channel'), type_='unique')
        batch_op.create_unique_constraint('uq_notifications_offer_id_event', ['offer_id', 'event'])
        batch_op.alter_column('dealer_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('invalid_users')
        batch_op.drop_column('user_id')
        batch_op.drop_column('channel')
    with op.batch_alter_table('groups', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('admin_robot_url')
    op.drop_table('admin_notice_reads')
    with op.batch_alter_table('admin_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_notices_group_created')
    op.drop_table('admin_notices')
