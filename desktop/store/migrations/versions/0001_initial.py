"""Initial schema: one table per synced collection, meta, outbox, search documents and index.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

A static script: it never reads sync/records, so this revision means the same thing forever.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activations',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('forum_id', sa.String(length=36), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('exercise', sa.Boolean(), nullable=True),
        sa.Column('started_at', sa.String(), nullable=True),
        sa.Column('ended_at', sa.String(), nullable=True),
        sa.Column('started_by_function_id', sa.String(length=36), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_activations_forum_id', 'activations', ['forum_id'], unique=False)
    op.create_index('ix_activations_started_by_function_id', 'activations', ['started_by_function_id'], unique=False)
    op.create_table('callout_events',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('activation_id', sa.String(length=36), nullable=True),
        sa.Column('function_id', sa.String(length=36), nullable=True),
        sa.Column('status', sa.String(), nullable=True),
        sa.Column('at', sa.String(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_callout_events_activation_id', 'callout_events', ['activation_id'], unique=False)
    op.create_index('ix_callout_events_function_id', 'callout_events', ['function_id'], unique=False)
    op.create_table('channels',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('function_id', sa.String(length=36), nullable=True),
        sa.Column('kind', sa.String(), nullable=True),
        sa.Column('value', sa.String(), nullable=True),
        sa.Column('label', sa.String(), nullable=True),
        sa.Column('priority', sa.Integer(), nullable=True),
        sa.Column('resilient', sa.Boolean(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_channels_function_id', 'channels', ['function_id'], unique=False)
    op.create_table('checklist_marks',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('activation_id', sa.String(length=36), nullable=True),
        sa.Column('step_id', sa.String(length=36), nullable=True),
        sa.Column('done', sa.Boolean(), nullable=True),
        sa.Column('at', sa.String(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_checklist_marks_activation_id', 'checklist_marks', ['activation_id'], unique=False)
    op.create_index('ix_checklist_marks_step_id', 'checklist_marks', ['step_id'], unique=False)
    op.create_table('conflicts',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('collection', sa.String(), nullable=True),
        sa.Column('field_record_id', sa.String(length=36), nullable=True),
        sa.Column('field', sa.String(), nullable=True),
        sa.Column('kept_value', sa.JSON(), nullable=True),
        sa.Column('kept_clock', sa.String(), nullable=True),
        sa.Column('kept_device', sa.String(), nullable=True),
        sa.Column('other_value', sa.JSON(), nullable=True),
        sa.Column('other_clock', sa.String(), nullable=True),
        sa.Column('other_device', sa.String(), nullable=True),
        sa.Column('resolved', sa.Boolean(), nullable=True),
        sa.Column('resolution_note', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_table('forums',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(), nullable=True),
        sa.Column('level', sa.String(), nullable=True),
        sa.Column('purpose', sa.Text(), nullable=True),
        sa.Column('convenor_function_id', sa.String(length=36), nullable=True),
        sa.Column('mode', sa.String(), nullable=True),
        sa.Column('cadence', sa.String(), nullable=True),
        sa.Column('meeting_channel', sa.Text(), nullable=True),
        sa.Column('agenda', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_forums_convenor_function_id', 'forums', ['convenor_function_id'], unique=False)
    op.create_table('functions',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('organisation_id', sa.String(length=36), nullable=True),
        sa.Column('name', sa.String(), nullable=True),
        sa.Column('short_name', sa.String(), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('availability', sa.String(), nullable=True),
        sa.Column('is_contact_point', sa.Boolean(), nullable=True),
        sa.Column('last_verified', sa.String(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_functions_organisation_id', 'functions', ['organisation_id'], unique=False)
    op.create_table('log_entries',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('activation_id', sa.String(length=36), nullable=True),
        sa.Column('at', sa.String(), nullable=True),
        sa.Column('author_function_id', sa.String(length=36), nullable=True),
        sa.Column('kind', sa.String(), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('corrects', sa.String(length=36), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_log_entries_activation_id', 'log_entries', ['activation_id'], unique=False)
    op.create_index('ix_log_entries_author_function_id', 'log_entries', ['author_function_id'], unique=False)
    op.create_index('ix_log_entries_corrects', 'log_entries', ['corrects'], unique=False)
    op.create_table('mandates',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('forum_id', sa.String(length=36), nullable=True),
        sa.Column('function_id', sa.String(length=36), nullable=True),
        sa.Column('role', sa.String(), nullable=True),
        sa.Column('mandate', sa.Text(), nullable=True),
        sa.Column('reports_back', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_mandates_forum_id', 'mandates', ['forum_id'], unique=False)
    op.create_index('ix_mandates_function_id', 'mandates', ['function_id'], unique=False)
    op.create_table('meta',
        sa.Column('key', sa.String(), nullable=False),
        sa.Column('value', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('key')
        )
    op.create_table('organisations',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(), nullable=True),
        sa.Column('short_name', sa.String(), nullable=True),
        sa.Column('kind', sa.String(), nullable=True),
        sa.Column('website', sa.Text(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('last_verified', sa.String(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_table('outbox',
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('change_id', sa.String(length=36), nullable=False),
        sa.Column('collection', sa.String(), nullable=False),
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('op', sa.String(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('clock', sa.String(), nullable=False),
        sa.Column('base', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.String(), nullable=False),
        sa.Column('status', sa.String(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column('problem', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('change_id')
        )
    op.create_table('routine_steps',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('routine_id', sa.String(length=36), nullable=True),
        sa.Column('position', sa.String(), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('responsible_function_id', sa.String(length=36), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_routine_steps_responsible_function_id', 'routine_steps', ['responsible_function_id'], unique=False)
    op.create_index('ix_routine_steps_routine_id', 'routine_steps', ['routine_id'], unique=False)
    op.create_table('routines',
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('owner_org', sa.String(length=36), nullable=True),
        sa.Column('deleted', sa.Boolean(), server_default=sa.text('0'), nullable=False),
        sa.Column('clocks', sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('deleted_clock', sa.String(), nullable=True),
        sa.Column('server_seq', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(), nullable=True),
        sa.Column('forum_id', sa.String(length=36), nullable=True),
        sa.Column('organisation_id', sa.String(length=36), nullable=True),
        sa.Column('mode', sa.String(), nullable=True),
        sa.Column('trigger', sa.Text(), nullable=True),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('version', sa.String(), nullable=True),
        sa.Column('review_due', sa.String(), nullable=True),
        sa.Column('visibility', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('record_id')
        )
    op.create_index('ix_routines_forum_id', 'routines', ['forum_id'], unique=False)
    op.create_index('ix_routines_organisation_id', 'routines', ['organisation_id'], unique=False)
    op.create_table('search_docs',
        sa.Column('rowid', sa.Integer(), nullable=False),
        sa.Column('collection', sa.String(), nullable=False),
        sa.Column('record_id', sa.String(length=36), nullable=False),
        sa.Column('title', sa.String(), nullable=False),
        sa.Column('subtitle', sa.String(), nullable=True),
        sa.Column('channel_id', sa.String(length=36), nullable=True),
        sa.Column('channel_kind', sa.String(), nullable=True),
        sa.Column('channel_value', sa.String(), nullable=True),
        sa.Column('channel_label', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('rowid'),
        sa.UniqueConstraint('record_id')
        )
    # Full-text search: a contentless FTS5 index (the text lives in the collection tables),
    # rowid = search_docs.rowid. unicode61 with remove_diacritics 0 folds case (Å → å) but
    # keeps å, ä, ö apart from a, o. Title weighted over body in bm25.
    op.execute(
        "CREATE VIRTUAL TABLE search_index USING fts5("
        "title, body, content='', contentless_delete=1, "
        "tokenize='unicode61 remove_diacritics 0', prefix='1 2 3 4 5 6', detail=full)"
    )
    op.execute("INSERT INTO search_index(search_index, rank) VALUES ('rank', 'bm25(10.0, 1.0)')")


def downgrade() -> None:
    raise NotImplementedError("the local database is never downgraded; restore a backup instead")
