"""Alembic environment: runs on the connection Store.open passes in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from desktop.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "desktop.store migrations run on a keyed connection passed in "
        "config.attributes['connection'] (see desktop.store.migrations.make_config)"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: use batch mode in revisions
)
with context.begin_transaction():
    context.run_migrations()
