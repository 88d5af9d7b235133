"""Benchmark (not a test): calibrate Argon2id here, then time creating and unlocking a vault.

    .venv/bin/python tests/perf/bench_unlock.py [--target 0.5] [--unlocks 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop.store import Store  # noqa: E402
from desktop.vault import RECOVERY_KDF, KdfParams, Vault, calibrate_kdf  # noqa: E402

PASSPHRASE = "korrekt häst batteri häftklammer"


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def row(name: str, seconds: list[float]) -> str:
    median, low, high = statistics.median(seconds), min(seconds), max(seconds)
    return f"{name:<26}{len(seconds):>3}{median:>10.3f}{low:>10.3f}{high:>10.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.5, help="seconds per derivation")
    parser.add_argument("--unlocks", type=int, default=5)
    arguments = parser.parse_args()

    print(f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    calibration_seconds, params = timed(lambda: calibrate_kdf(arguments.target))
    assert isinstance(params, KdfParams)
    print(f"calibrate_kdf({arguments.target}) took {calibration_seconds:.2f} s and chose:")
    print(f"  memory {params.memory_kib} KiB ({params.memory_kib / 1024:.0f} MiB), "
          f"iterations {params.iterations}, lanes {params.lanes}")
    print(f"  recovery slots use {RECOVERY_KDF.describe()}")

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        create_seconds, (vault, key) = timed(
            lambda: Vault.create(data_dir, PASSPHRASE, kdf=params)
        )
        unlocks = []
        for _ in range(arguments.unlocks):
            seconds, unlocked = timed(lambda: Vault.open(data_dir).unlock(PASSPHRASE))
            assert unlocked == key
            unlocks.append(seconds)
        with Store.open(vault.database_path, key) as database:
            recovery_key = vault.add_recovery_key(PASSPHRASE, rekey=database.rekey)
        key = vault.unlock(PASSPHRASE)  # a new recovery key comes with a new database key
        recoveries = []
        for _ in range(arguments.unlocks):
            seconds, unlocked = timed(
                lambda: Vault.open(data_dir).unlock_with_recovery_key(recovery_key)
            )
            assert unlocked == key
            recoveries.append(seconds)

    print()
    print(f"{'operation (seconds)':<26}{'n':>3}{'median':>10}{'min':>10}{'max':>10}")
    print(row("create (given params)", [create_seconds]))
    print(row("open + unlock", unlocks))
    print(row("open + unlock (recovery)", recoveries))


if __name__ == "__main__":
    main()
