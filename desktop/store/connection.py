"""Opening the SQLCipher file: keying every connection first, verifying the key, the pragmas, the engine.

Every new DBAPI connection gets ``PRAGMA key = "x'<64 hex>'"`` as its first statement that
touches the file (a raw 256-bit key from the vault, so SQLCipher's own KDF is not paid again),
then a read of ``sqlite_master`` to prove the key, and only then the pragmas that may write
(``journal_mode=WAL``). Nothing touches the file before the key is proven, so a wrong key or a
foreign file is reported without changing a byte of it.

SQLCipher's own log (which writes to stderr) is switched off: what went wrong reaches the user
as a StoreError in words, and the log's lines ("hmac check failed for pgno=…") only confuse.
The database and its -wal and -shm files are kept private to the user (0600).

The Store works on one connection (``SingleConnection``); SQLAlchemy, which importing costs
0.2–0.3 s of every unlock here, is imported only for a migration (``create_store_engine``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import sqlcipher3.dbapi2 as sqlcipher

if TYPE_CHECKING:
    from sqlalchemy import Engine

from desktop.store.errors import DatabaseCorrupt, DatabaseMissing, WrongKey

log = logging.getLogger(__name__)

KEY_BYTES = 32
BUSY_TIMEOUT_S = 10.0
CACHE_KIB = 64 * 1024  # page cache of the connection (see raw_connect)
_SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"
_MIN_PAGE = 512
PRIVATE_FILE_MODE = 0o600
_COMPANIONS = ("-wal", "-shm", "-journal")  # files SQLite keeps next to the database
# SQLCipher 4's page layout under its defaults (which the store never changes): each page ends
# in a 16-byte IV and a 64-byte HMAC-SHA512 of the encrypted page, its IV and its number; the
# HMAC key is PBKDF2-HMAC-SHA512(key, salt XOR 0x3a, 2 rounds), the salt the file's first 16
# bytes. Checking it here tells a damaged first page from a wrong key (see _wrong_key_or_damage).
_PAGE_SIZE = 4096
_SALT_BYTES = 16
_IV_BYTES = 16
_HMAC_BYTES = 64
_HMAC_SALT_MASK = 0x3A
_HMAC_KDF_ROUNDS = 2
_PAGES_SAMPLED = 16
# Words in SQLite's messages that mean the file is damaged (not busy, not full, not locked).
_DAMAGE_WORDS = ("malformed", "not a database", "corrupt", "disk image")


def is_damage(exc: BaseException) -> bool:
    """Whether a driver error (sqlcipher3 or SQLAlchemy's wrapper) says the file is damaged."""
    return any(word in str(exc).lower() for word in _DAMAGE_WORDS)


def damage_error(path: Path, exc: BaseException) -> DatabaseCorrupt:
    """The StoreError to raise for a damaged page found while reading `path`."""
    return DatabaseCorrupt(path=path, reason=str(exc))


@functools.cache
def silence_sqlcipher_log() -> None:
    """SQLCipher's log goes to stderr by default; its level is global to the process."""
    quiet = sqlcipher.connect(":memory:")
    try:
        quiet.execute("PRAGMA cipher_log_level = NONE")
    finally:
        quiet.close()


def _check_file_looks_like_ours(path: Path) -> None:
    """Cheap checks before SQLite sees the file: a foreign file must never be taken for new."""
    if not path.exists():
        return
    if not path.is_file():
        raise DatabaseCorrupt("store.not_a_file", path=path, reason="not a regular file")
    size = path.stat().st_size
    if size == 0:
        return  # an empty file holds nothing: SQLite creates the database in it
    with path.open("rb") as handle:
        head = handle.read(len(_SQLITE_PLAIN_HEADER))
    if head == _SQLITE_PLAIN_HEADER:
        raise DatabaseCorrupt("store.unencrypted", path=path, reason="plain SQLite file")
    if size % _MIN_PAGE:
        raise DatabaseCorrupt(
            "store.truncated", path=path, size=size, reason=f"{size} bytes: not whole pages"
        )


def make_private(path: Path, *, create: bool) -> None:
    """The database and its companion files readable by the user only (0600).

    A new database starts as an empty file made 0600 (SQLite then fills it, and gives the
    -wal and -shm files it creates the database's mode); files from before are tightened.
    """
    if create and not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        except FileExistsError:
            pass
    if os.name != "posix":
        return
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in _COMPANIONS)):
        try:
            mode = stat.S_IMODE(candidate.lstat().st_mode)
            if stat.S_ISREG(candidate.lstat().st_mode) and mode & 0o077:
                os.chmod(candidate, PRIVATE_FILE_MODE)
        except FileNotFoundError:
            continue
        except PermissionError:  # not the owner: say so in the log, the open itself may work
            log.warning("cannot make %s private (not the owner)", candidate.name)


def _wrong_key_or_damage(path: Path, key: bytes, exc: BaseException) -> Exception:
    """SQLCipher says "not a database" both for a wrong key and for a damaged first page.

    If later pages of the file carry valid HMACs under this key, the key is right and the
    first page is damaged; if none does, the key is wrong (or the file is not ours at all).
    While the WAL holds pages, the file's own pages may be older than the database (after a
    change of key, under the old key): then nothing can be told apart, and it is a wrong key.
    """
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return WrongKey(path=path)
    try:
        with path.open("rb") as handle:
            salt = handle.read(_SALT_BYTES)
            handle.seek(_PAGE_SIZE)
            pages = handle.read(_PAGE_SIZE * _PAGES_SAMPLED)
    except OSError:
        return DatabaseCorrupt(path=path, reason=str(exc))
    hmac_key = hashlib.pbkdf2_hmac(
        "sha512", bytes(key), bytes(b ^ _HMAC_SALT_MASK for b in salt), _HMAC_KDF_ROUNDS, 32
    )
    for index in range(len(pages) // _PAGE_SIZE):
        page = pages[index * _PAGE_SIZE : (index + 1) * _PAGE_SIZE]
        number = (index + 2).to_bytes(4, "little")
        sealed = page[: _PAGE_SIZE - _HMAC_BYTES]  # encrypted content and IV
        expected = hmac.new(hmac_key, sealed + number, hashlib.sha512).digest()
        if hmac.compare_digest(expected, page[_PAGE_SIZE - _HMAC_BYTES :]):
            return DatabaseCorrupt("store.header_damaged", path=path, reason=str(exc))
    return WrongKey(path=path)


def raw_connect(path: Path, key: bytes, *, create: bool = True) -> sqlcipher.Connection:
    """A keyed, verified connection with the store's pragmas; WrongKey/DatabaseCorrupt if not.

    With ``create=False`` a missing database is DatabaseMissing and nothing is created.
    Used by the engine for each new connection, and by tests and benchmarks that need the raw
    driver on the same file.
    """
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
        raise ValueError(f"the database key must be {KEY_BYTES} raw bytes")
    path = Path(path)
    if not create and not path.exists():
        raise DatabaseMissing(path=path)
    _check_file_looks_like_ours(path)
    silence_sqlcipher_log()
    make_private(path, create=create)
    # mode=rw: SQLite must not make a new, empty database where one was expected.
    uri = path.resolve().as_uri() + ("" if create else "?mode=rw")
    conn = sqlcipher.connect(
        uri, uri=True, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
    )
    try:
        # First statement, always. The hex form skips SQLCipher's PBKDF2 (the vault did the KDF).
        conn.execute(f"PRAGMA key = \"x'{bytes(key).hex()}'\"")
        try:
            objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlcipher.DatabaseError as exc:
            if "not a database" in str(exc) and path.exists() and path.stat().st_size > 0:
                # Whole pages of the right size: a wrong key, or a damaged first page.
                raise _wrong_key_or_damage(path, key, exc) from None
            raise DatabaseCorrupt(path=path, reason=str(exc)) from None
        try:
            conn.execute("PRAGMA busy_timeout = %d" % int(BUSY_TIMEOUT_S * 1000))
            if objects == 0:
                # A new file: pages freed later (an outbox of 100k changes, once pushed, frees
                # half the file) can be given back to the disk without rewriting the whole
                # file (Store.reclaim_space). Only possible before the first table exists.
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("journal_mode is %s, not wal, for %s", mode, path)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            # Every page read from disk is decrypted and its HMAC checked, so the page cache is
            # what keeps bulk work off the cipher: with SQLite's default 8 MB, a 100k-record
            # store re-read (and re-decrypted) the pages of its random-UUID indexes over and over
            # while building search documents and merging the index (tests/perf/bench_bulk_load.py:
            # 26 s at 8 MB, 20 s at 64 MB). A limit, not an allocation: a small store uses little.
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            # Sorts and temporary tables stay in memory: no plaintext temp files on disk.
            conn.execute("PRAGMA temp_store = MEMORY")
            # Freed pages are zeroed when that costs no extra I/O (they are encrypted anyway).
            conn.execute("PRAGMA secure_delete = FAST")
        except sqlcipher.DatabaseError as exc:
            raise DatabaseCorrupt(path=path, reason=str(exc)) from None
        make_private(path, create=False)  # the -wal and -shm files SQLite has just made
    except BaseException:
        conn.close()
        raise
    return conn


def rekey_connection(conn: sqlcipher.Connection, new_key: bytes) -> None:
    """Re-encrypt every page under ``new_key`` in one transaction, durably, then checkpoint.

    SQLCipher rewrites every page into the WAL and commits: until the commit every page has
    the old key, after it every page has the new one (the WAL frames are the database until
    they are checkpointed, also after a crash). ``synchronous = FULL`` makes the commit
    durable before this returns; the checkpoint then writes the pages into the file and
    empties the WAL, which is as large as the database until then.
    """
    if not isinstance(new_key, (bytes, bytearray)) or len(new_key) != KEY_BYTES:
        raise ValueError(f"the database key must be {KEY_BYTES} raw bytes")
    conn.execute("PRAGMA synchronous = FULL")
    try:
        conn.execute(f"PRAGMA rekey = \"x'{bytes(new_key).hex()}'\"")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.execute("PRAGMA synchronous = NORMAL")


def create_store_engine(
    path: Path, key: bytes | Callable[[], bytes], *, create: bool = True
) -> Engine:
    """An engine over one keyed connection shared by all threads (the Store serialises access).

    ``key`` may be a function returning the current key, for a store whose key can change.

    Why StaticPool and not a pool of connections: every SQLCipher page read from disk is
    decrypted and HMAC-checked, so a connection's page cache is what makes a search take
    milliseconds; one long-lived connection keeps it warm. NullPool would re-key and re-read
    cold pages on every call. The Store holds a lock around each transaction, so the single
    connection is never used by two threads at once.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    current_key = key if callable(key) else (lambda fixed=bytes(key): fixed)
    path = Path(path)
    engine = create_engine(
        "sqlite+pysqlite://",
        module=sqlcipher,
        creator=lambda: raw_connect(path, current_key(), create=create),
        poolclass=StaticPool,
    )

    @event.listens_for(engine, "begin")
    def _begin(conn):  # the driver is in autocommit mode; SQLAlchemy's begin emits BEGIN
        conn.exec_driver_sql(conn.info.pop("begin_sql", "BEGIN"))

    return engine


class _Use:
    """One use of the shared connection: the part of SQLAlchemy's Connection the Store calls
    (``connection.driver_connection``, ``info``, ``begin()``, ``close()``), so that the Store
    reads and writes the same way over either."""

    __slots__ = ("driver_connection", "info")

    def __init__(self, raw: sqlcipher.Connection) -> None:
        self.driver_connection = raw
        self.info: dict[str, Any] = {}

    @property
    def connection(self) -> _Use:
        return self

    def begin(self) -> _Use:
        """BEGIN (or ``info["begin_sql"]``, e.g. BEGIN IMMEDIATE); commit() or rollback() ends it,
        as does leaving a ``with`` block (commit, or rollback on an error)."""
        self.driver_connection.execute(self.info.pop("begin_sql", "BEGIN"))
        return self

    def commit(self) -> None:
        self.driver_connection.commit()

    def rollback(self) -> None:
        self.driver_connection.rollback()

    def __enter__(self) -> _Use:
        return self

    def __exit__(self, kind, _error, _trace) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()

    def close(self) -> None:
        """Back to the store: a transaction left open is rolled back (as SQLAlchemy's pool does)."""
        if self.driver_connection.in_transaction:
            self.driver_connection.rollback()


class SingleConnection:
    """The store's one keyed connection, made on first use and kept (every thread uses it; the
    Store's lock lets one at a time): what an SQLAlchemy engine with a StaticPool was here,
    without SQLAlchemy. ``key`` is asked at each (re)connect, so a re-keyed store reconnects
    with its new key.

    Why one long-lived connection: every SQLCipher page read from disk is decrypted and
    HMAC-checked, so a warm page cache is what makes a search take milliseconds.
    """

    def __init__(self, path: Path, key: Callable[[], bytes], *, create: bool = True) -> None:
        self.path = Path(path)
        self._key = key
        self._create = create
        self._raw: sqlcipher.Connection | None = None

    def connect(self) -> _Use:
        if self._raw is None:
            self._raw = raw_connect(self.path, self._key(), create=self._create)
        return _Use(self._raw)

    def dispose(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.close()
