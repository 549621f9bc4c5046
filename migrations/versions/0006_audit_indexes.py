"""audit: indexes for the OEM and group reports over a brand's or a group's date range

Revision ID: 0006_audit_indexes
Revises: 0005_notifications
Create Date: 2026-11-23 08:40:00.000000

On PostgreSQL the indexes are built CONCURRENTLY (outside the migration's transaction), so a
live database with a million leads keeps taking leads while they build; the INCLUDE columns
let the funnel and flows run as index-only scans. SQLite builds the plain key columns.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_audit_indexes'
down_revision = '0005_notifications'
branch_labels = None
depends_on = None

LEAD_COLUMNS = [
    'id', 'referrer_id', 'holder_id', 'status', 'channel', 'province', 'city', 'offers_made',
    'progress_rank', 'accepted_at', 'voided_at', 'lost_reason',
]
INDEXES = [
    ('ix_leads_brand_created', 'leads', ['brand_key', 'created_at'], ['group_id', *LEAD_COLUMNS]),
    ('ix_leads_group_created', 'leads', ['group_id', 'created_at'], ['brand_key', *LEAD_COLUMNS]),
    ('ix_offers_lead_outcome', 'offers', ['lead_id'], ['kind', 'status', 'decline_reason', 'dealer_id']),
]


def _postgresql():
    return op.get_context().dialect.name == 'postgresql'


def upgrade():
    if not _postgresql():
        for name, table, columns, _ in INDEXES:
            op.create_index(name, table, columns, unique=False)
        return
    with op.get_context().autocommit_block():
        for name, table, columns, include in INDEXES:
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {name}')  # an interrupted build leaves it invalid
            op.create_index(
                name, table, columns, unique=False,
                postgresql_include=include, postgresql_concurrently=True,
            )


def downgrade():
    if not _postgresql():
        for name, table, _, _ in reversed(INDEXES):
            op.drop_index(name, table_name=table)
        return
    with op.get_context().autocommit_block():
        for name, table, _, _ in reversed(INDEXES):
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
