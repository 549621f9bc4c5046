"""brand catalogue: group aliases, brands under catalogue names, ambiguous addresses (issue 15)

Revision ID: 0015_brand_catalogue
Revises: 0020_robot_sends
Create Date: 2026-12-04 19:40:00.000000

Schema: ``brand_aliases`` (a group admin's aliases of its catalogue brands) and
``leads.location_candidates`` (the places an ambiguous address may mean).

Data: brand match keys now ignore width and every blank (``vocabulary.brand_key``), and a brand
given by a built-in alias is stored under its catalogue name (``BMW`` -> 宝马,
``leadshare/brands/data/builtin.csv``):

* ``dealer_brands``: name and key become the catalogue's; a store left with one brand twice
  (``BMW`` and ``宝马``) keeps the first;
* ``oem_brands``: the same (a second row of one OEM with the same key is dropped);
* ``leads.brand``/``brand_key`` and ``reward_rules.brand``: the built-in name, else the group's
  store brand with the same key, else the name as it was with its blanks tidied.

Downgrade drops the new table and column; the renamed brands stay as they are.
"""

import sqlalchemy as sa
from alembic import op

from leadshare.brands.matching import canonical_name
from leadshare.vocabulary import brand_key

# revision identifiers, used by Alembic.
revision = "0015_brand_catalogue"
down_revision = '0020_robot_sends'
branch_labels = None
depends_on = None


def _table(name: str, *columns: str) -> sa.Table:
    return sa.table(name, *(sa.column(c) for c in columns))


def _rename_rows(conn, table: sa.Table, owner: str, group: str | None = None) -> None:
    """Store brand rows (a dealer's or an OEM's): catalogue name and key, one row per key and
    dealer (OEM brand keys are unique across OEMs); within a group the first spelling of a
    brand outside the built-in list wins. Duplicates go first, then keys pass through a
    temporary value, so no step meets the unique constraint."""
    order = [table.c[owner], *([table.c.position] if "position" in table.c else []), table.c.id]
    rows = conn.execute(
        sa.select(table.c.id, table.c[owner], table.c[group or owner], table.c.name).order_by(
            *order
        )
    ).all()
    seen: set[tuple[int, str]] = set()
    known: dict[int, list[str]] = {}
    renamed: dict[int, tuple[str, str]] = {}
    for row_id, owner_id, group_id, name in rows:
        new = canonical_name(name, known.setdefault(group_id, []))
        key = brand_key(new)
        scope = (owner_id if group else 0, key)
        if scope in seen:
            conn.execute(sa.delete(table).where(table.c.id == row_id))
            continue
        seen.add(scope)
        known[group_id].append(new)
        renamed[row_id] = (new, key)
    for row_id in renamed:
        conn.execute(sa.update(table).where(table.c.id == row_id).values(key=f"#{row_id}"))
    for row_id, (new, key) in renamed.items():
        conn.execute(sa.update(table).where(table.c.id == row_id).values(name=new, key=key))


def _group_names(conn) -> dict[int, list[str]]:
    brands = _table("dealer_brands", "group_id", "name")
    names: dict[int, list[str]] = {}
    for group_id, name in conn.execute(sa.select(brands.c.group_id, brands.c.name).distinct()):
        names.setdefault(group_id, []).append(name)
    return names


def upgrade():
    op.create_table(
        "brand_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("alias", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_brand_aliases_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_aliases")),
        sa.UniqueConstraint("group_id", "key", name=op.f("uq_brand_aliases_group_id_key")),
    )
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("location_candidates", sa.JSON(), nullable=True))

    conn = op.get_bind()
    dealer_brands = _table(
        "dealer_brands", "id", "dealer_id", "group_id", "name", "key", "position"
    )
    _rename_rows(conn, dealer_brands, "dealer_id", "group_id")
    _rename_rows(conn, _table("oem_brands", "id", "oem_id", "name", "key"), "oem_id")
    names = _group_names(conn)
    leads = _table("leads", "group_id", "brand", "brand_key")
    for group_id, name in conn.execute(sa.select(leads.c.group_id, leads.c.brand).distinct()).all():
        new = canonical_name(name, names.get(group_id, ()))
        conn.execute(
            sa.update(leads)
            .where(leads.c.group_id == group_id, leads.c.brand == name)
            .values(brand=new, brand_key=brand_key(new))
        )
    rules = _table("reward_rules", "program_id", "brand")
    programs = _table("reward_programs", "id", "group_id")
    rule_brands = conn.execute(
        sa.select(programs.c.group_id, rules.c.brand)
        .join(programs, programs.c.id == rules.c.program_id)
        .where(rules.c.brand.is_not(None))
        .distinct()
    ).all()
    for group_id, name in rule_brands:
        new = canonical_name(name, names.get(group_id, ()))
        ids = sa.select(programs.c.id).where(programs.c.group_id == group_id)
        conn.execute(
            sa.update(rules)
            .where(rules.c.program_id.in_(ids), rules.c.brand == name)
            .values(brand=new)
        )


def downgrade():
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("location_candidates")
    op.drop_table("brand_aliases")
