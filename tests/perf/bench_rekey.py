"""Benchmark (not a test): how long a change of the database key takes at 10k and 100k records.

    .venv/bin/python tests/perf/bench_rekey.py [--sizes 10000 100000] [--runs 3]

For each size: a store filled like bench_search.py (30 % functions, 70 % channels, ~200
organisations, through bulk_create), closed. Then, `--runs` times, alternating:
- `Store.rekey` on an open store (PRAGMA rekey: every page rewritten into the WAL, committed
  with synchronous=FULL, checkpointed back into the file, the new key proven on a second
  connection) — what a new recovery key or a passphrase reset adds to the key derivation;
- the baseline in the same run: copying the database file and fsyncing the copy (writing
  every byte once, no encryption);
- `check_integrity` (every page read and its HMAC checked: what `samverka check` costs), and
  `PRAGMA cipher_integrity_check` alone, to judge whether a check at every unlock would pay.
Medians, and rekey ÷ copy.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "perf"))

from bench_search import generate  # noqa: E402

from desktop.store import Store  # noqa: E402
from desktop.store.connection import raw_connect  # noqa: E402


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def copy_and_fsync(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    target.unlink()


def cipher_check(path: Path, key: bytes) -> None:
    connection = raw_connect(path, key, create=False)
    try:
        rows = connection.execute("PRAGMA cipher_integrity_check").fetchall()
        assert rows == [], rows
    finally:
        connection.close()


def measure(size: int, runs: int, folder: Path) -> dict[str, object]:
    path = folder / f"rekey-{size}.db"
    keys = [os.urandom(32), os.urandom(32)]
    store = Store.open(path, keys[0])
    functions = size * 3 // 10
    generate(store, functions, size - functions)
    store.close()
    current = 0
    rekey_s, copy_s, check_s, cipher_s = [], [], [], []
    for _ in range(runs):
        store = Store.open(path, keys[current], create=False)
        nxt = 1 - current
        rekey_s.append(timed(lambda: store.rekey(keys[nxt])))
        current = nxt
        check_s.append(timed(lambda: store.check_integrity() == [] or sys.exit("damaged")))
        store.close()
        cipher_s.append(timed(lambda: cipher_check(path, keys[current])))
        copy_s.append(timed(lambda: copy_and_fsync(path, folder / "copy.db")))
    with Store.open(path, keys[current], create=False) as reopened:
        records = reopened.count("functions") + reopened.count("channels")
    return {
        "size": size,
        "records": records,
        "megabytes": path.stat().st_size / 1e6,
        "rekey": statistics.median(rekey_s),
        "copy": statistics.median(copy_s),
        "check": statistics.median(check_s),
        "cipher": statistics.median(cipher_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    folder = Path(tempfile.mkdtemp(prefix="samverka-rekey-"))
    try:
        results = [measure(size, arguments.runs, folder) for size in arguments.sizes]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print(f"{'records':>8} {'MB':>6} {'rekey s':>8} {'copy+fsync s':>13} {'rekey/copy':>11} "
          f"{'check s':>8} {'cipher check s':>15}   (medians of {arguments.runs})")
    for r in results:
        print(f"{r['records']:>8} {r['megabytes']:>6.1f} {r['rekey']:>8.3f} {r['copy']:>13.3f} "
              f"{r['rekey'] / r['copy']:>10.1f}x {r['check']:>8.3f} {r['cipher']:>15.3f}")


if __name__ == "__main__":
    main()
