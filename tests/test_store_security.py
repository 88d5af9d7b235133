"""The file on disk: encrypted (nothing readable without the key, not even in the WAL), and
never changed by a wrong key, a foreign file or a damaged one."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from desktop.store import DatabaseCorrupt, DatabaseMissing, Store, WrongKey, meta
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


def flip_byte(path: Path, offset: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def fill(store: Store) -> None:
    org = make_org(store)
    for i in range(200):
        make_function(store, org, f"Funktion {i}", description="text " * 50)


def test_check_integrity_names_a_damaged_page_and_reads_say_damaged(store, db_path, db_key):
    fill(store)
    assert store.check_integrity() == []
    store.close()
    pages = db_path.stat().st_size // 4096
    flip_byte(db_path, 4096 * (pages - 3) + 1000)  # the middle of a later page

    with Store.open(db_path, db_key) as damaged:  # the first pages are sound: it opens
        problems = damaged.check_integrity()
    assert problems == [f"HMAC verification failed for page {pages - 2}"]

    for page in range(pages // 2, pages):  # the later half, where the functions are
        flip_byte(db_path, 4096 * page + 1000)
    with Store.open(db_path, db_key) as damaged:
        with pytest.raises(DatabaseCorrupt) as caught:
            damaged.list("functions")
    assert caught.value.key == "store.database_corrupt" and "skadad" in str(caught.value)


def test_a_damaged_first_page_is_damage_not_a_wrong_key(store, data_dir, db_path, db_key):
    fill(store)
    store.close()
    flip_byte(db_path, 200)  # inside page 1, after the plaintext salt
    before = folder_state(data_dir)

    with pytest.raises(DatabaseCorrupt) as damaged:
        Store.open(db_path, db_key)
    with pytest.raises(WrongKey):
        Store.open(db_path, os.urandom(32))

    assert damaged.value.key == "store.header_damaged"
    assert "lösenfrasen är rätt" in str(damaged.value)
    assert folder_state(data_dir) == before


def test_rekey_changes_the_key_of_every_page(store, data_dir, db_path, db_key):
    fill(store)
    new_key = os.urandom(32)
    store.rekey(new_key)
    make_org(store, "Efter bytet")  # the open store goes on working
    store.close()

    assert sorted(p.name for p in data_dir.iterdir()) == [db_path.name]
    with pytest.raises(WrongKey):
        Store.open(db_path, db_key)
    with Store.open(db_path, new_key) as again:
        assert again.check_integrity() == []
        assert again.count("functions") == 200
        assert {r["fields"]["name"] for r in again.list("organisations")} >= {"Efter bytet"}


def test_a_missing_database_is_not_created_when_it_must_exist(db_path, db_key):
    with pytest.raises(DatabaseMissing):
        Store.open(db_path, db_key, create=False)
    assert not db_path.exists()


def test_meta_keys_keep_their_declared_type(store):
    store.set_meta(meta.DEMO, True)
    assert store.get_meta(meta.DEMO) is True
    with pytest.raises(TypeError):
        store.set_meta(meta.DEMO, "1")
    with pytest.raises(TypeError):
        store.set_meta(meta.SERVER_OFFSET_MS, True)
    store.set_meta("demo", "1")  # written past the declaration, as old code could have
    assert store.get_meta(meta.DEMO) is None
    assert store.get_meta(meta.DEMO, False) is False
