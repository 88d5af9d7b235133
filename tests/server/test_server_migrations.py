"""The server's schema: migrations match the models, 0002 fills inherited visibility for records
already there, audit ids are 64-bit, and SQLite commits durably."""

from __future__ import annotations

import json
import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select, text

from sync.server import storage
from sync.server.db import _alembic_config, make_engine, upgrade
from sync.server.models import Audit, Base, Record

from server_support import start_server, stop_server


def test_the_migrated_schema_is_what_the_models_say(db_url: str):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def _clock(n: int, node: str) -> str:
    return f"{1_700_000_000_000 + n:013d}-00000-{node}"


def _fields(values: dict, clock: str) -> str:
    return json.dumps({name: {"value": value, "clock": clock} for name, value in values.items()})


def test_upgrade_to_0002_hides_children_of_internal_records_at_new_positions(db_url: str):
    """Records written before 0002: a channel of an internal function, a conflict that copied
    its record's old visibility. After the upgrade devices of other organisations pull both
    again, at positions above every cursor handed out before."""
    engine = make_engine(db_url)
    sos, kom = str(uuid.uuid4()), str(uuid.uuid4())
    hidden_fn, open_fn, channel, open_channel, conflict = (str(uuid.uuid4()) for _ in range(5))
    rows = [
        ("functions", hidden_fn, sos, "internal", {"organisation_id": sos, "name": "Intern", "visibility": "internal"}),
        ("channels", channel, sos, "regional", {"function_id": hidden_fn, "kind": "phone", "value": "112"}),
        ("functions", open_fn, sos, "regional", {"organisation_id": sos, "name": "Öppen"}),
        ("channels", open_channel, sos, "regional", {"function_id": open_fn, "kind": "phone", "value": "113"}),
        ("conflicts", conflict, sos, "internal", {"collection": "functions", "record_id": open_fn, "field": "name",
                                                 "visibility": "internal", "resolved": False}),
    ]
    try:
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0001")
        with engine.begin() as conn:
            for seq, (collection, record_id, owner, visibility, values) in enumerate(rows, start=1):
                conn.execute(
                    text("INSERT INTO records (collection, record_id, owner_org, visibility, deleted, fields, seq) "
                         "VALUES (:c, :r, :o, :v, :d, :f, :s)"),
                    {"c": collection, "r": record_id, "o": owner, "v": visibility, "d": False,
                     "f": _fields(values, _clock(seq, "dev")), "s": seq},
                )
            conn.execute(text("UPDATE positions SET last = :n WHERE id = 1"), {"n": len(rows)})
        upgrade(engine)
        with engine.connect() as conn:
            stored = {r.record_id: r for r in conn.execute(select(Record.__table__))}
            last = conn.execute(text("SELECT last FROM positions WHERE id = 1")).scalar_one()
    finally:
        engine.dispose()

    assert stored[channel].visible_to == sos and stored[channel].visibility == "internal"
    assert stored[channel].parent_key == f"functions/{hidden_fn}"
    assert stored[hidden_fn].visible_to == sos and stored[hidden_fn].seq == 1
    assert stored[open_channel].visible_to is None and stored[open_channel].seq == 4
    assert stored[conflict].visible_to is None and stored[conflict].visibility == "regional"
    conflict_fields = stored[conflict].fields
    if isinstance(conflict_fields, str):
        conflict_fields = json.loads(conflict_fields)
    assert "visibility" not in conflict_fields
    assert {stored[channel].seq, stored[conflict].seq} == {6, 7} and last == 7

    server = start_server(db_url)
    try:
        with server.sessions() as session:
            page = json.loads(storage.pull(session, kom, storage.Cursor(5), 100).records)
        assert {r["record_id"]: r["deleted"] for r in page} == {channel: True, conflict: False}
    finally:
        stop_server(server)


def test_audit_ids_are_64_bit(db_url: str):
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Audit), [{"id": 2**40, "at": 1, "op": "upsert", "status": "applied"}])
            if conn.dialect.name == "postgresql":  # the sequence must go on past 2**31 as well
                conn.execute(text("SELECT setval(pg_get_serial_sequence('audit', 'id'), :n)"), {"n": 2**40})
            conn.execute(insert(Audit), [{"at": 2, "op": "upsert", "status": "applied"}])
            assert conn.execute(select(Audit.id).where(Audit.at == 2)).scalar_one() > 2**40
    finally:
        engine.dispose()


def test_sqlite_commits_with_synchronous_full(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
