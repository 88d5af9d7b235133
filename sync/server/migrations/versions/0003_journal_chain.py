"""The journal's hash chain: records.journal (each log entry's link) and journal_heads.

Log entries already stored get their links here, per activation in the order the server
sequenced them (their seq), exactly as the server makes them from now on (sync.journal).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from sync.journal import Entry, next_link

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

records = sa.table(
    "records",
    sa.column("collection", sa.String),
    sa.column("record_id", sa.String),
    sa.column("owner_org", sa.String),
    sa.column("fields", sa.JSON),
    sa.column("seq", sa.BigInteger),
    sa.column("journal", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("journal", sa.Text(), nullable=True))
    heads_table = op.create_table(
        "journal_heads",
        sa.Column("activation_id", sa.String(36), nullable=False),
        sa.Column("last_index", sa.BigInteger(), nullable=False),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("activation_id", name="pk_journal_heads"),
    )
    bind = op.get_bind()
    heads = {}
    links = []
    for record_id, owner_org, fields in bind.execute(
        sa.select(records.c.record_id, records.c.owner_org, records.c.fields)
        .where(records.c.collection == "log_entries")
        .order_by(records.c.seq)
    ):
        if isinstance(fields, str):
            fields = json.loads(fields)
        entry = Entry.from_stored(record_id, owner_org, fields or {})
        if not entry.activation_id:
            continue  # a tombstone: nothing to link
        made = next_link(heads.get(entry.activation_id), entry.activation_id, entry)
        heads[entry.activation_id] = made
        links.append({"r": record_id, "j": made.as_json()})
    if links:
        bind.execute(
            records.update()
            .where(records.c.collection == "log_entries", records.c.record_id == sa.bindparam("r"))
            .values(journal=sa.bindparam("j")),
            links,
        )
        op.bulk_insert(heads_table, [
            {"activation_id": activation_id, "last_index": made.index, "chain": made.chain}
            for activation_id, made in heads.items()
        ])


def downgrade() -> None:
    op.drop_table("journal_heads")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("journal")
