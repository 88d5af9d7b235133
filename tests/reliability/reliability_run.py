"""The reliability suite as a command: run the kill loop and the convergence run at a chosen size and print their tables.

    .venv/bin/python tests/reliability/reliability_run.py [--kills 100] [--ops 1000] [--seed N]
        [--backend sqlite|postgresql|both] [--only kill|convergence] [--keep]

scripts/reliability runs it (full size). The seed is printed: the same seed replays the same
edits, kill moments and faults (the operating system's timing still varies). Exit status 1
when anything was lost, doubled or differs (each problem is printed).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Nothing else is imported at the top: each client process (a forkserver child) imports this
# main module again, and it must start in milliseconds.

KILLS_ENV = "SAMVERKA_RELIABILITY_KILLS"
OPS_ENV = "SAMVERKA_RELIABILITY_OPS"
SEED_ENV = "SAMVERKA_RELIABILITY_SEED"


def default_seed() -> int:
    """SAMVERKA_RELIABILITY_SEED, else a fresh one (printed with the figures)."""
    chosen = os.environ.get(SEED_ENV)
    return int(chosen) if chosen else random.SystemRandom().randrange(1, 10**9)


def print_figures(title: str, figures) -> None:
    import reliability_region  # noqa: F401  (puts tests/perf on the path)
    from server_bench_support import print_table

    print(f"\n{title}")
    print_table(["", "value"], figures.rows())
    for problem in figures.problems:
        print(f"  PROBLEM {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=int(os.environ.get(KILLS_ENV, 100)))
    parser.add_argument("--ops", type=int, default=int(os.environ.get(OPS_ENV, 1000)))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--only", choices=("kill", "convergence"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder (vaults, logs)")
    args = parser.parse_args(argv)
    os.environ.setdefault("SAMVERKA_FAST_KDF", "1")
    logging.basicConfig(level=logging.ERROR)  # the quiet round's repairs after a compaction are expected
    seed = args.seed if args.seed is not None else default_seed()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    failed = False
    work = Path(tempfile.mkdtemp(prefix="samverka-reliability."))
    try:
        for backend in backends:
            if args.only in (None, "kill"):
                from reliability_kill import KillSettings, run_kill_loop

                figures = run_kill_loop(KillSettings(kills=args.kills, seed=seed, backend=backend),
                                        work / f"kill-{backend}")
                print_figures(f"kill -9 ×{args.kills} ({backend}, seed {seed})", figures)
                failed |= bool(figures.problems)
            if args.only in (None, "convergence"):
                from reliability_convergence import ConvergenceSettings, run_convergence

                figures = run_convergence(ConvergenceSettings(operations=args.ops, seed=seed,
                                                              backend=backend),
                                          work / f"convergence-{backend}")
                print_figures(f"convergence, {args.ops} operations ({backend}, seed {seed})", figures)
                failed |= bool(figures.problems)
    finally:
        if args.keep or failed:
            print(f"\nwork folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nreplay: scripts/reliability --seed {seed}" + (f" --backend {args.backend}" if args.backend != "sqlite" else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
