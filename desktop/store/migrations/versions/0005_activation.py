"""Activated mode: the report_backs collection and the journal chain's links.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

``report_backs`` is a synced collection added to the protocol (docs/PROTOCOL.md, "Report-back");
``journal_links`` keeps the server-made ``journal`` member of each pulled log entry (its place
and hashes in its activation's hash chain, sync.journal). A static script, like the others.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_backs',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('activation_id', sa.String(length=36), nullable=True),
        sa.Column('organisation_id', sa.String(length=36), nullable=True),
        sa.Column('meeting_at', sa.String(), nullable=True),
        sa.Column('at', sa.String(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_report_backs_activation_id', 'report_backs', ['activation_id'], unique=False)
    op.create_index('ix_report_backs_organisation_id', 'report_backs', ['organisation_id'], unique=False)
    op.create_table('journal_links',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('activation_id', sa.String(length=36), nullable=False),
        sa.Column('idx', sa.Integer(), nullable=False),
        sa.Column('entry_hash', sa.String(), nullable=False),
        sa.Column('chain', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_journal_links_activation', 'journal_links', ['activation_id', 'idx'], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the local database is never downgraded; restore a backup instead")
