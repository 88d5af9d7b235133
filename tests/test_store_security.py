"""The file on disk: encrypted (nothing readable without the key, not even in the WAL), and
never changed by a wrong key, a foreign file or a damaged one."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from desktop.store import DatabaseCorrupt, Store, WrongKey
from test_store_helpers import make_channel, make_function, make_org

MARKER = "MARKÖR-7f3a"


def folder_state(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
    }


def marker_hits(folder: Path) -> list[str]:
    needles = [
        MARKER.encode("utf-8"),
        MARKER.encode("utf-16-le"),
        MARKER.encode("utf-16-be"),
        MARKER.upper().encode("utf-8"),
        b"7f3a",  # the ASCII tail alone, however the rest was encoded
    ]
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {n!r}" for n in needles if n in data]
    return found


def write_markers(store: Store) -> None:
    org = make_org(store, f"Aktör {MARKER}", notes=f"Anteckning {MARKER} " * 20)
    fn = make_function(store, org, f"Funktion {MARKER}", description=MARKER)
    make_channel(store, fn, value=f"ISSI {MARKER}", kind="rakel", label=MARKER, note=MARKER)
    make_channel(store, fn)  # a phone number too
    store.create("routines", {"title": MARKER, "body": f"{MARKER}\n" * 200})
    store.set_meta("note", MARKER)


def test_markers_never_reach_the_disk_in_plaintext(store, data_dir, db_path, db_key):
    write_markers(store)
    for i in range(50):  # enough edits that the WAL holds many frames
        make_org(store, f"{MARKER} {i}")
    assert store.search(MARKER.lower())  # the data is there and searchable
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0, "the WAL should hold the edits now"
    assert marker_hits(data_dir) == []
    store.close()
    assert marker_hits(data_dir) == []
    assert sorted(p.name for p in data_dir.iterdir()) == [db_path.name]  # WAL checkpointed
    with Store.open(db_path, db_key) as again:
        assert again.list("routines")[0]["fields"]["title"] == MARKER


def test_standard_sqlite_cannot_read_the_file(store, db_path):
    make_org(store, MARKER)
    store.close()
    conn = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute("SELECT * FROM sqlite_master").fetchall()
    finally:
        conn.close()


def test_wrong_key_is_reported_and_changes_nothing(store, data_dir, db_path):
    make_org(store, MARKER)
    store.close()
    before = folder_state(data_dir)
    with pytest.raises(WrongKey) as err:
        Store.open(db_path, os.urandom(32))
    assert err.value.path == db_path
    assert str(db_path) in str(err.value) and "lösenfras" in str(err.value)
    assert folder_state(data_dir) == before


def test_right_key_after_wrong_key_still_opens(store, db_path, db_key):
    make_org(store, "Kvar")
    store.close()
    with pytest.raises(WrongKey):
        Store.open(db_path, os.urandom(32))
    with Store.open(db_path, db_key) as again:
        assert again.list("organisations")[0]["fields"]["name"] == "Kvar"


@pytest.mark.parametrize(
    "content",
    [
        b"Det h\xc3\xa4r \xc3\xa4r ingen databas.\n" * 100,
        os.urandom(10_001),
        b"\x00" * 1000,
    ],
    ids=["text", "random", "zeros-odd-size"],
)
def test_foreign_file_is_corrupt_and_untouched(data_dir, db_key, content):
    path = data_dir / "samverka.db"
    path.write_bytes(content)
    before = folder_state(data_dir)
    with pytest.raises(DatabaseCorrupt) as err:
        Store.open(path, db_key)
    assert err.value.path == path and str(path) in str(err.value)
    assert folder_state(data_dir) == before


def test_whole_pages_of_random_bytes_are_never_overwritten(data_dir, db_key):
    # SQLCipher cannot tell random whole pages from a database under another key.
    path = data_dir / "samverka.db"
    path.write_bytes(os.urandom(8192))
    before = folder_state(data_dir)
    with pytest.raises((WrongKey, DatabaseCorrupt)):
        Store.open(path, db_key)
    assert folder_state(data_dir) == before


def test_plain_sqlite_database_is_not_taken_over(data_dir, db_key):
    path = data_dir / "samverka.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = folder_state(data_dir)
    with pytest.raises(DatabaseCorrupt) as err:
        Store.open(path, db_key)
    assert "okrypterad" in str(err.value)
    assert folder_state(data_dir) == before


@pytest.mark.parametrize("cut", ["page-boundary", "mid-page"])
def test_truncated_database_is_corrupt_and_untouched(store, data_dir, db_path, db_key, cut):
    org = make_org(store)
    for i in range(300):
        fn = make_function(store, org, f"Funktion {i}", description="beskrivning " * 40)
        make_channel(store, fn)
    store.close()
    size = db_path.stat().st_size
    keep = (size // 2) // 4096 * 4096 if cut == "page-boundary" else size // 2 + 123
    with db_path.open("r+b") as handle:
        handle.truncate(keep)
    before = {k: v for k, v in folder_state(data_dir).items()}
    with pytest.raises(DatabaseCorrupt):
        Store.open(db_path, db_key)
    after = folder_state(data_dir)
    assert after[db_path.name] == before[db_path.name]


def test_key_must_be_32_raw_bytes(db_path):
    with pytest.raises(ValueError):
        Store.open(db_path, b"short")
    assert not db_path.exists()


def test_check_integrity_finds_a_damaged_page(store, db_path, db_key):
    org = make_org(store)
    for i in range(200):
        make_function(store, org, f"Funktion {i}", description="text " * 50)
    assert store.check_integrity() == []
    store.close()
    with db_path.open("r+b") as handle:  # flip one byte in the middle of a later page
        handle.seek(db_path.stat().st_size - 4096 * 3 + 1000)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    try:
        damaged = Store.open(db_path, db_key)
    except DatabaseCorrupt:
        return  # found already at open: also fine
    with damaged:
        assert damaged.check_integrity() != []
