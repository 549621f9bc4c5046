"""Privacy: personal data sealed out of the trail (with every chain migrated and anchored), the
contact access log, the admin change log, retention and consent settings, erasure columns

Revision ID: 0017_privacy
Revises: 0016_lead_fixes
Create Date: 2026-12-04 19:30:00.000000

Every existing chain is rewritten once: each personal value in an event's data (the customer's
place, notes, free-text reasons: leadshare.leads.chain.personal_keys) moves to
lead_personal_data with a fresh salt, the event keeps only its salted commitment, every hash is
recomputed, and a last `chain_anchored` event records the chain's old head hash and length, so
an auditor holding an old head can tie it to the new chain (putting the values back into the
events before the anchor gives the old hashes again). Downgrade puts the values that were not
erased back, drops the anchors and rechains the old way.
"""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from leadshare.leads.chain import (
    GENESIS_HASH,
    event_hash,
    event_payload,
    is_sealed,
    personal_keys,
    seal,
)

# revision identifiers, used by Alembic.
revision = "0017_privacy"
down_revision = '0016_lead_fixes'
branch_labels = None
depends_on = None

ANCHOR = "chain_anchored"
BATCH = 500

leads = sa.table(
    "leads",
    sa.column("id", sa.Integer),
    sa.column("public_id", sa.String),
    sa.column("event_seq", sa.Integer),
    sa.column("head_hash", sa.String),
)
events = sa.table(
    "lead_events",
    sa.column("id", sa.Integer),
    sa.column("lead_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("type", sa.String),
    sa.column("at", sa.DateTime),
    sa.column("actor_id", sa.Integer),
    sa.column("dealer_id", sa.Integer),
    sa.column("data", sa.JSON),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
personal = sa.table(
    "lead_personal_data",
    sa.column("lead_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("key", sa.String),
    sa.column("value", sa.JSON),
    sa.column("salt", sa.String),
    sa.column("erased_at", sa.DateTime),
)


def upgrade():
    # Altered in place: rebuilding groups or leads (SQLite's batch mode) would break the rows
    # that refer to them while foreign keys are enforced.
    with op.batch_alter_table("groups", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), server_default="365", nullable=False))
        batch_op.add_column(sa.Column("contact_views_alert_per_day", sa.Integer(), server_default="20", nullable=False))
        batch_op.add_column(sa.Column("consent_required", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("leads", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("consent_text_version", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("consent_channel", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("phone_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("wechat_key", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_leads_group_phone_key", ["group_id", "phone_key"], unique=False)
        batch_op.create_index("ix_leads_group_wechat_key", ["group_id", "wechat_key"], unique=False)
    op.create_table(
        "lead_personal_data",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=30), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("erased_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_personal_data_lead_id_leads"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_personal_data")),
        sa.UniqueConstraint("lead_id", "seq", "key", name=op.f("uq_lead_personal_data_lead_id_seq_key")),
    )
    op.create_table(
        "contact_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=True),
        sa.Column("is_held", sa.Boolean(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_contact_access_group_id_groups")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_contact_access_lead_id_leads"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_contact_access_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_access")),
    )
    with op.batch_alter_table("contact_access", schema=None) as batch_op:
        batch_op.create_index("ix_contact_access_lead_at", ["lead_id", "at"], unique=False)
        batch_op.create_index("ix_contact_access_user_at", ["user_id", "at"], unique=False)
        batch_op.create_index("ix_contact_access_group_at", ["group_id", "at"], unique=False)
    op.create_table(
        "admin_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_admin_changes_group_id_groups")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_admin_changes_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_changes")),
    )
    with op.batch_alter_table("admin_changes", schema=None) as batch_op:
        batch_op.create_index("ix_admin_changes_group_at", ["group_id", "at"], unique=False)
    _seal_every_chain()


def downgrade():
    _unseal_every_chain()
    with op.batch_alter_table("admin_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_changes_group_at")
    op.drop_table("admin_changes")
    with op.batch_alter_table("contact_access", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_access_group_at")
        batch_op.drop_index("ix_contact_access_user_at")
        batch_op.drop_index("ix_contact_access_lead_at")
    op.drop_table("contact_access")
    op.drop_table("lead_personal_data")
    with op.batch_alter_table("leads", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_leads_group_wechat_key")
        batch_op.drop_index("ix_leads_group_phone_key")
        batch_op.drop_column("wechat_key")
        batch_op.drop_column("phone_key")
        batch_op.drop_column("erased_at")
        batch_op.drop_column("consent_channel")
        batch_op.drop_column("consent_text_version")
    with op.batch_alter_table("groups", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("consent_required")
        batch_op.drop_column("contact_views_alert_per_day")
        batch_op.drop_column("retention_days")


def _lead_batches(conn):
    """The leads with events, BATCH at a time in id order."""
    after = 0
    while True:
        batch = conn.execute(
            sa.select(leads.c.id, leads.c.public_id, leads.c.head_hash)
            .where(leads.c.id > after, leads.c.event_seq > 0)
            .order_by(leads.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        yield batch
        after = batch[-1].id


def _chains(conn, batch):
    """Each lead of the batch with its events as dicts, in seq order."""
    rows = conn.execute(
        sa.select(events).where(events.c.lead_id.in_([lead.id for lead in batch])).order_by(events.c.lead_id, events.c.seq)
    ).mappings()
    chains = {lead.id: [] for lead in batch}
    for row in rows:
        chains[row["lead_id"]].append(dict(row))
    for lead in batch:
        yield lead, chains[lead.id]


def _rechain(conn, lead, chain):
    """Store each event's (possibly new) data and its hash as the chain runs; return the head."""
    previous = None
    for seq, event in enumerate(chain, start=1):
        payload = event_payload({**event, "lead_id": lead.public_id, "seq": seq})
        new_hash = event_hash(previous, payload)
        conn.execute(
            events.update()
            .where(events.c.id == event["id"])
            .values(seq=seq, data=event["data"], prev_hash=previous or GENESIS_HASH, hash=new_hash)
        )
        previous = new_hash
    conn.execute(leads.update().where(leads.c.id == lead.id).values(event_seq=len(chain), head_hash=previous))
    return previous


def _seal_every_chain():
    conn = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    for batch in _lead_batches(conn):
        for lead, chain in _chains(conn, batch):
            values = []
            for event in chain:
                data = event["data"] or {}
                salts = {key: secrets.token_hex(16) for key in personal_keys(event["type"], data)}
                event["data"], taken = seal(event["type"], data, salts)
                values += [
                    {"lead_id": lead.id, "seq": event["seq"], "key": key, "value": value, "salt": salts[key], "erased_at": None}
                    for key, value in taken.items()
                ]
            if values:
                conn.execute(personal.insert(), values)
            head = _rechain(conn, lead, chain)
            anchor = {"old_head_hash": lead.head_hash, "old_events": len(chain), "sealed": len(values)}
            payload = {"lead_id": lead.public_id, "seq": len(chain) + 1, "type": ANCHOR, "at": now, "data": anchor}
            anchor_hash = event_hash(head, event_payload(payload))
            conn.execute(
                events.insert().values(
                    lead_id=lead.id,
                    seq=len(chain) + 1,
                    type=ANCHOR,
                    at=now,
                    actor_id=None,
                    dealer_id=None,
                    data=anchor,
                    prev_hash=head,
                    hash=anchor_hash,
                )
            )
            conn.execute(
                leads.update()
                .where(leads.c.id == lead.id)
                .values(event_seq=len(chain) + 1, head_hash=anchor_hash)
            )


def _unseal_every_chain():
    conn = op.get_bind()
    for batch in _lead_batches(conn):
        stored = {}
        for row in conn.execute(
            sa.select(personal).where(personal.c.lead_id.in_([lead.id for lead in batch]))
        ).mappings():
            stored[(row["lead_id"], row["seq"], row["key"])] = row["value"]
        for lead, chain in _chains(conn, batch):
            kept = []
            for event in chain:
                if event["type"] == ANCHOR:
                    conn.execute(events.delete().where(events.c.id == event["id"]))
                    continue
                data = dict(event["data"] or {})
                for key, value in data.items():
                    if is_sealed(value):
                        data[key] = stored.get((lead.id, event["seq"], key))
                event["data"] = data
                kept.append(event)
            _rechain(conn, lead, kept)
