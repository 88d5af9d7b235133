"""Outbox: when a change was rejected, and indexes for the syncer's and the merge's look-ups.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

``outbox_pending`` reads pending entries in creation order (status, seq); ``apply_pulled``
asks, per pulled record, which fields have a pending local edit (record_id, status).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("rejected_at", sa.String(), nullable=True))
    op.create_index("ix_outbox_status_seq", "outbox", ["status", "seq"], unique=False)
    op.create_index("ix_outbox_record", "outbox", ["record_id", "status"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the local database is never downgraded; restore a backup instead")
