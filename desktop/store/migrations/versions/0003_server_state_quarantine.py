"""The server's last state of records with changes in flight, quarantined pulled records, and the
clock a re-stamped change was first made with.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

``server_state`` lets a refused change be discarded exactly (the record returns to the server's
value) and lets the digest check notice a record whose content differs from the server's under
the same seq. ``quarantine`` keeps pulled records that break the schema out of the data.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("original_clock", sa.String(), nullable=True))
    op.create_table(
        "server_state",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("collection", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("owner_org", sa.String(length=36), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("0"), nullable=False),
        sa.Column("deleted_clock", sa.String(), nullable=True),
        sa.Column("fields", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(), nullable=True),
        sa.Column("record_id", sa.String(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("record", sa.Text(), nullable=True),
        sa.Column("received_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quarantine_record", "quarantine", ["record_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the local database is never downgraded; restore a backup instead")
