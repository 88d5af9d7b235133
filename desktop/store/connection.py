"""Opening the SQLCipher file: keying every connection first, verifying the key, the pragmas, the engine.

Every new DBAPI connection gets ``PRAGMA key = "x'<64 hex>'"`` as its first statement (a raw
256-bit key from the vault, so SQLCipher's own KDF is not paid again), then a read of
``sqlite_master`` to prove the key, and only then the pragmas that may write
(``journal_mode=WAL``). Nothing touches the file before the key is proven, so a wrong key or a
foreign file is reported without changing a byte of it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from desktop.store.errors import DatabaseCorrupt, WrongKey

log = logging.getLogger(__name__)

KEY_BYTES = 32
BUSY_TIMEOUT_S = 10.0
CACHE_KIB = 64 * 1024  # page cache of the connection (see raw_connect)
_SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"
_MIN_PAGE = 512


def _check_file_looks_like_ours(path: Path) -> None:
    """Cheap checks before SQLite sees the file: a foreign file must never be taken for new."""
    if not path.exists():
        return
    if not path.is_file():
        raise DatabaseCorrupt(path=path, reason="inte en vanlig fil")
    size = path.stat().st_size
    if size == 0:
        return  # an empty file holds nothing: SQLite creates the database in it
    with path.open("rb") as handle:
        head = handle.read(len(_SQLITE_PLAIN_HEADER))
    if head == _SQLITE_PLAIN_HEADER:
        raise DatabaseCorrupt(path=path, reason="okrypterad SQLite-fil")
    if size % _MIN_PAGE:
        raise DatabaseCorrupt(path=path, reason=f"filstorleken {size} byte är inte hela sidor")


def raw_connect(path: Path, key: bytes) -> sqlcipher.Connection:
    """A keyed, verified connection with the store's pragmas; WrongKey/DatabaseCorrupt if not.

    Used by the engine for each new connection, and by tests and benchmarks that need the raw
    driver on the same file.
    """
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
        raise ValueError(f"the database key must be {KEY_BYTES} raw bytes")
    path = Path(path)
    _check_file_looks_like_ours(path)
    conn = sqlcipher.connect(
        str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
    )
    try:
        # First statement, always. The hex form skips SQLCipher's PBKDF2 (the vault did the KDF).
        conn.execute(f"PRAGMA key = \"x'{bytes(key).hex()}'\"")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError as exc:
            if "not a database" in str(exc) and path.exists() and path.stat().st_size > 0:
                # SQLCipher cannot tell a wrong key from random bytes of whole pages; the size
                # and header checks above have already sent obvious foreign files elsewhere.
                raise WrongKey(path=path) from None
            raise DatabaseCorrupt(path=path, reason=str(exc)) from None
        try:
            conn.execute("PRAGMA busy_timeout = %d" % int(BUSY_TIMEOUT_S * 1000))
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
    except BaseException:
        conn.close()
        raise
    return conn


def create_store_engine(path: Path, key: bytes) -> Engine:
    """An engine over one keyed connection shared by all threads (the Store serialises access).

    Why StaticPool and not a pool of connections: every SQLCipher page read from disk is
    decrypted and HMAC-checked, so a connection's page cache is what makes a search take
    milliseconds; one long-lived connection keeps it warm. NullPool would re-key and re-read
    cold pages on every call. The Store holds a lock around each transaction, so the single
    connection is never used by two threads at once.
    """
    key = bytes(key)
    path = Path(path)
    engine = create_engine(
        "sqlite+pysqlite://",
        module=sqlcipher,
        creator=lambda: raw_connect(path, key),
        poolclass=StaticPool,
    )

    @event.listens_for(engine, "begin")
    def _begin(conn):  # the driver is in autocommit mode; SQLAlchemy's begin emits BEGIN
        conn.exec_driver_sql(conn.info.pop("begin_sql", "BEGIN"))

    return engine
