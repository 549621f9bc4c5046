"""Lead fixes (issue 15): a fixed list of lost reasons with a note, refused duplicates counted

Old free-text lost reasons become `other` with their text as the note.

Revision ID: 0016_lead_fixes
Revises: 0013_returns
Create Date: 2026-12-04 19:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_lead_fixes"
down_revision = '0013_returns'
branch_labels = None
depends_on = None

LOST_REASONS = (
    "bought_elsewhere",
    "bought_other_brand",
    "price",
    "unreachable",
    "postponed",
    "not_interested",
    "financing_declined",
    "other",
)
"""The fixed list as this revision knows it (leads/enums.py LostReason may grow later)."""

leads = sa.table(
    "leads",
    sa.column("id", sa.Integer),
    sa.column("lost_reason", sa.String),
    sa.column("lost_note", sa.String),
)


def upgrade():
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("lost_note", sa.String(length=500), nullable=True))
    op.execute(
        leads.update()
        .where(leads.c.lost_reason.is_not(None), leads.c.lost_reason.not_in(LOST_REASONS))
        .values(lost_note=leads.c.lost_reason, lost_reason="other")
    )
    op.create_table(
        "duplicate_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("dealer_id", sa.Integer(), nullable=False),
        sa.Column("brand_key", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("customer_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_duplicate_refusals_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["dealer_id"], ["dealers.id"], name=op.f("fk_duplicate_refusals_dealer_id_dealers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_refusals")),
        sa.UniqueConstraint(
            "dealer_id",
            "channel",
            "day",
            "customer_key",
            name=op.f("uq_duplicate_refusals_dealer_id_channel_day_customer_key"),
        ),
    )
    op.create_index("ix_duplicate_refusals_group_day", "duplicate_refusals", ["group_id", "day"])


def downgrade():
    op.drop_index("ix_duplicate_refusals_group_day", table_name="duplicate_refusals")
    op.drop_table("duplicate_refusals")
    # A note of `other` was the free text before this revision: put it back.
    op.execute(
        leads.update()
        .where(leads.c.lost_reason == "other", leads.c.lost_note.is_not(None))
        .values(lost_reason=leads.c.lost_note)
    )
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("lost_note")
