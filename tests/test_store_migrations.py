"""Migrations: a database made at revision 0001 opens at head with its data intact; the ORM
metadata and the migrated schema agree; the revision scripts are static and ship as package data."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from setuptools import find_namespace_packages

from desktop.store import Store
from desktop.store.connection import create_store_engine
from desktop.store.migrations import MIGRATIONS_DIR, head_revision, make_config
from desktop.store.schema import SEARCH_INDEX_TABLE, Base

REPO = Path(__file__).resolve().parents[1]


def _not_fts(name, type_, parent_names) -> bool:
    # The FTS5 virtual table and its shadow tables are created by SQL (0001, 0003), not metadata.
    return not (type_ == "table" and name and name.startswith(SEARCH_INDEX_TABLE))


def test_revision_chain_is_linear_and_head_is_known():
    script = ScriptDirectory.from_config(make_config())
    assert script.get_heads() == ["0005"]
    assert [r.revision for r in script.walk_revisions()] == ["0005", "0004", "0003", "0002", "0001"]


def test_the_head_read_without_alembic_is_alembics_head():
    """Store.open skips Alembic when the file is at head_revision(): it must be Alembic's head."""
    script = ScriptDirectory.from_config(make_config())
    assert [head_revision()] == script.get_heads()


def test_opening_a_store_at_head_imports_neither_alembic_nor_sqlalchemy(store, db_path, db_key):
    """0.2–0.3 s of every unlock: a store already at the newest revision opens, reads and
    writes on its own connection."""
    store.create("organisations", {"name": "SOS Alarm"})
    store.close()
    program = (
        "import sys; from desktop.store import Store; "
        f"s = Store.open({str(db_path)!r}, bytes.fromhex({db_key.hex()!r})); "
        "s.create('organisations', {'name': 'Trafikverket'}); assert len(s.search('sos')) == 1; "
        "s.close(); print(sorted(m for m in ('alembic', 'sqlalchemy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_revision_scripts_are_static():
    for path in (MIGRATIONS_DIR / "versions").glob("0*.py"):
        text = path.read_text(encoding="utf-8")
        assert "sync.records" not in text and "desktop.store.schema" not in text, path.name


def test_migration_scripts_ship_as_package_data():
    packages = find_namespace_packages(where=str(REPO), include=["desktop*"])
    assert "desktop.store.migrations" in packages
    assert "desktop.store.migrations.versions" in packages
    assert (MIGRATIONS_DIR / "versions" / "__init__.py").exists()
    assert (MIGRATIONS_DIR / "env.py").exists() and (MIGRATIONS_DIR / "script.py.mako").exists()


def test_orm_metadata_matches_migrated_schema(store, db_path, db_key):
    store.close()
    engine = create_store_engine(db_path, db_key)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_name": _not_fts, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == "0005"
    finally:
        engine.dispose()


def test_database_at_revision_0001_opens_at_head_with_data_intact(db_path, db_key):
    engine = create_store_engine(db_path, db_key)
    org, fn, ch = (str(uuid.uuid4()) for _ in range(3))
    change_id = str(uuid.uuid4())
    clock = "1764238726123-00000-node-a"
    try:
        with engine.begin() as conn:
            command.upgrade(make_config(conn), "0001")
            db = conn.connection.driver_connection
            db.execute(
                "INSERT INTO organisations (record_id, clocks, name, short_name, kind) "
                "VALUES (?, ?, 'SOS Alarm', 'SOS', 'company')",
                (org, json.dumps({"name": clock, "short_name": clock, "kind": clock})),
            )
            db.execute(
                "INSERT INTO functions (record_id, clocks, organisation_id, name, short_name, "
                "is_contact_point, owner_org, server_seq) VALUES (?, '{}', ?, 'Tjänsteman i "
                "beredskap', 'TiB', 1, ?, 7)",
                (fn, org, org),
            )
            db.execute(
                "INSERT INTO channels (record_id, clocks, function_id, kind, value, priority) "
                "VALUES (?, '{}', ?, 'mobile', '+46701740605', 1)",
                (ch, fn),
            )
            db.execute(
                "INSERT INTO outbox (change_id, collection, record_id, op, fields, clock, base, "
                "created_at, status) VALUES (?, 'organisations', ?, 'upsert', ?, ?, ?, "
                "'2026-11-27T10:18:46.123Z', 'pending')",
                (change_id, org, json.dumps({"name": "SOS Alarm"}), clock, json.dumps({"name": None})),
            )
            db.execute("INSERT INTO meta (key, value) VALUES ('node_id', '\"node-a\"')")
            db.execute(f"INSERT INTO meta (key, value) VALUES ('hlc_last', '\"{clock}\"')")
            db.execute("INSERT INTO meta (key, value) VALUES ('sync_cursor', '\"c-41\"')")
            assert MigrationContext.configure(conn).get_current_revision() == "0001"
            columns = {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
            assert "rejected_at" not in columns
    finally:
        engine.dispose()

    with Store.open(db_path, db_key) as store:
        function = store.get("functions", fn)
        assert function["fields"]["name"] == "Tjänsteman i beredskap"
        assert function["fields"]["is_contact_point"] is True
        assert function["owner_org"] == org
        assert store.get("organisations", org)["fields"]["short_name"] == "SOS"
        assert store.get_meta("sync_cursor") == "c-41"
        assert store.node_id == "node-a"
        [entry] = store.outbox_pending()
        assert entry.change_id == change_id and entry.rejected_at is None
        store.outbox_reject(change_id, {"title": "nej"})  # the 0002 column is usable
        assert store.outbox_rejected()[0].rejected_at is not None
        # The search index is built for data that predates it.
        [hit] = [h for h in store.search("tib sos") if h.collection == "functions"]
        assert hit.record_id == fn and hit.best_channel.value == "070-174 06 05"
        # New clocks continue after the stored one.
        store.create("organisations", {"name": "Ny"})
        assert store.outbox_pending()[-1].clock > clock
    engine = create_store_engine(db_path, db_key)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0005"
    finally:
        engine.dispose()


def test_reopening_at_head_changes_nothing(store, db_path, db_key):
    store.create("organisations", {"name": "A"})
    store.close()
    with Store.open(db_path, db_key) as again:
        assert again.count("organisations") == 1
        assert again.outbox_count() == 1
