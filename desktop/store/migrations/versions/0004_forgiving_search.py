"""Search index for forgiving matching: folded diacritics, short prefix indexes, detail=column,
a context column (what a hit's subtitle shows, and its organisation's token); search documents
with the short name the ranking compares.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Both tables hold derived data only: they are dropped and made again here, and the store
rebuilds every document after opening (its search version changed with this revision). Why
this layout: desktop/store/search_index.py and the README's search figures.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The index is merged by its own pass now; this flag of the old per-page indexing is gone.
    op.execute("DELETE FROM meta WHERE key = 'search_merge_due'")
    op.execute("DROP TABLE IF EXISTS search_index")
    op.drop_table("search_docs")
    op.create_table('search_docs',
        sa.Column('rowid', sa.Integer(), nullable=False),
        sa.Column('collection', sa.String(), nullable=False),
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('title', sa.String(), nullable=False),
        sa.Column('subtitle', sa.String(), nullable=True),
        sa.Column('short_name', sa.String(), nullable=True),
        sa.Column('channel_id', sa.String(length=36), nullable=True),
        sa.Column('channel_kind', sa.String(), nullable=True),
        sa.Column('channel_value', sa.String(), nullable=True),
        sa.Column('channel_label', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('rowid'),
        )
    op.create_index('ix_search_docs_record_id', 'search_docs', ['record_id'], unique=True)
    # unicode61 with remove_diacritics 2 folds case and diacritics (å, ä → a; ö → o; é → e);
    # the context column also holds a private-use token naming the document's organisation.
    op.execute(
        "CREATE VIRTUAL TABLE search_index USING fts5("
        "title, context, body, content='', contentless_delete=1, "
        "tokenize='unicode61 remove_diacritics 2', prefix='1 2 3', detail=column)"
    )


def downgrade() -> None:
    raise NotImplementedError("the local database is never downgraded; restore a backup instead")
