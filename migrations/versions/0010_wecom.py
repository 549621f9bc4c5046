"""WeCom sign-in: the group's WeCom app, the member map, session expiry, forced password change

Revision ID: 0010_wecom
Revises: 0011_adcodes_today
Create Date: 2026-12-03 12:20:00.000000

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_wecom'
down_revision = '0011_adcodes_today'
branch_labels = None
depends_on = None


def upgrade():
    # ### written by hand: two new tables, two new columns; open sessions get the default 12 h ###
    op.create_table('wecom_apps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('corp_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_wecom_apps_group_id_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_apps')),
    sa.UniqueConstraint('group_id', name=op.f('uq_wecom_apps_group_id'))
    )
    op.create_table('wecom_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_id', sa.String(length=64), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wecom_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_members')),
    sa.UniqueConstraint('corp_id', 'userid', name=op.f('uq_wecom_members_corp_id_userid')),
    sa.UniqueConstraint('user_id', name=op.f('uq_wecom_members_user_id'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    sessions = sa.table('user_sessions', sa.column('expires_at', sa.DateTime()))
    soon = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=12)
    op.execute(sessions.update().values(expires_at=soon))
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(), nullable=False)

    # ### end of commands ###


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')

    op.drop_table('wecom_members')
    op.drop_table('wecom_apps')
