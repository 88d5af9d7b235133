"""Inherited visibility (records.visible_to, records.parent_key) and a 64-bit audit.id.

A record whose parent is internal (a function's channels, a routine's steps, a conflict's
record) is internal for every other organisation (sync.rules). This fills the two new columns
for the records already there and gives every record whose readers change a new position, so
that devices of other organisations pull it again (as a tombstone, or back in full). Conflict
records no longer carry a copy of their record's visibility made when they were made (the
server-made ``visibility`` field, recognisable by its clock): they follow the record's current
visibility instead.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sync.rules import visibility_parent, visible_to

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHILD_COLLECTIONS = ("channels", "routine_steps", "conflicts")

records = sa.table(
    "records",
    sa.column("collection", sa.String),
    sa.column("record_id", sa.String),
    sa.column("owner_org", sa.String),
    sa.column("visibility", sa.String),
    sa.column("visible_to", sa.String),
    sa.column("parent_key", sa.String),
    sa.column("deleted", sa.Boolean),
    sa.column("fields", sa.JSON),
    sa.column("seq", sa.BigInteger),
)
positions = sa.table("positions", sa.column("id", sa.Integer), sa.column("last", sa.BigInteger))


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("visible_to", sa.String(36), nullable=True))
        batch.add_column(sa.Column("parent_key", sa.String(80), nullable=True))
    op.create_index("ix_records_parent_key", "records", ["parent_key"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.alter_column("audit", "id", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)
        sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('audit', 'id')")).scalar()
        if sequence:
            op.execute(f"ALTER SEQUENCE {sequence} AS bigint")
    _fill_visibility(bind)


def _fill_visibility(bind) -> None:
    last = bind.execute(
        sa.select(positions.c.last).where(positions.c.id == 1).with_for_update()
    ).scalar_one()
    own: dict[tuple[str, str], tuple[str, str, bool, int]] = {}
    for collection, record_id, owner, visibility, deleted, seq in bind.execute(
        sa.select(records.c.collection, records.c.record_id, records.c.owner_org, records.c.visibility,
                  records.c.deleted, records.c.seq)
    ):
        own[(collection, record_id)] = (owner, visibility, bool(deleted), seq)
    fields_of: dict[tuple[str, str], dict] = {}
    parent_of: dict[tuple[str, str], tuple[str, str]] = {}
    for collection, record_id, fields in bind.execute(
        sa.select(records.c.collection, records.c.record_id, records.c.fields)
        .where(records.c.collection.in_(CHILD_COLLECTIONS))
    ):
        key = (collection, record_id)
        fields = dict(fields or {})
        copied = fields.get("visibility")
        if collection == "conflicts" and copied and copied.get("clock") == (fields.get("collection") or {}).get("clock"):
            del fields["visibility"]  # the copy made with the conflict: follow the record instead
            fields_of[key] = fields
            owner, _visibility, deleted, seq = own[key]
            own[key] = (owner, "regional", deleted, seq)
        parent = visibility_parent(collection, lambda name: (fields.get(name) or {}).get("value"))
        if parent is not None:
            parent_of[key] = parent

    readers: dict[tuple[str, str], str | None] = {}

    def reader(key: tuple[str, str], depth: int = 0) -> str | None:
        if key not in readers:
            owner, visibility, _deleted, _seq = own[key]
            parent = parent_of.get(key)
            inherited = reader(parent, depth + 1) if parent in own and depth < 50 else None
            readers[key] = visible_to(owner, visibility, inherited)
        return readers[key]

    changed = []
    for key, (owner, visibility, deleted, seq) in sorted(own.items(), key=lambda item: item[1][3]):
        new_reader = reader(key)
        old_reader = owner if visibility == "internal" else None
        moved = key in fields_of or new_reader != old_reader
        if moved and not deleted:
            last += 1
            seq = last
        if moved or key in parent_of or new_reader is not None:
            parent = parent_of.get(key)
            changed.append({
                "c": key[0], "r": key[1], "vt": new_reader, "seq": seq,
                "vis": "internal" if new_reader is not None else "regional",
                "pk": f"{parent[0]}/{parent[1]}" if parent else None,
            })
    if changed:
        bind.execute(
            records.update()
            .where(records.c.collection == sa.bindparam("c"), records.c.record_id == sa.bindparam("r"))
            .values(visible_to=sa.bindparam("vt"), visibility=sa.bindparam("vis"),
                    parent_key=sa.bindparam("pk"), seq=sa.bindparam("seq")),
            changed,
        )
    if fields_of:
        bind.execute(
            records.update()
            .where(records.c.collection == sa.bindparam("c"), records.c.record_id == sa.bindparam("r"))
            .values(fields=sa.bindparam("f", type_=sa.JSON)),
            [{"c": c, "r": r, "f": fields} for (c, r), fields in fields_of.items()],
        )
    bind.execute(positions.update().where(positions.c.id == 1).values(last=last))


def downgrade() -> None:
    op.drop_index("ix_records_parent_key", "records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("parent_key")
        batch.drop_column("visible_to")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("audit", "id", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
