"""Benchmark: start to the first window of the pruned frozen build, beside the bare (unpruned) build and beside running from source; and their sizes.

Run:  .venv/bin/python tests/perf/bench_frozen.py [--runs 7] [--build] [--profile installer/profiles/X.toml]

--build first builds the profile twice with installer/build.py (pruned, and --bare), each with
its archive; without it the folders of earlier builds under build/installer/ are used.

Each start is a fresh process on a virtual X display (Xvfb, tests/installer/xsession.py); the
time is from the process's launch to the X server's MapNotify of its first top-level window
(xev on the root window), so the three variants are timed alike from the outside, Python's and
the bootloader's start included. Two cases: a first start (no vault: the first-run wizard) and
a later start (a vault: the unlock window). The variants alternate within each round; one
untimed start of each warms the disk cache first. The source variant is ``python -m desktop``
in this checkout's .venv with the same profile (SAMVERKA_PROFILE). Medians of --runs.
The machine is shared and noisy: compare the columns of one run, not runs with each other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "installer"))
sys.path.insert(0, str(REPO / "installer"))

import bundle_report  # noqa: E402
from xsession import VirtualDisplay, missing_tools  # noqa: E402

DEFAULT_PROFILE = REPO / "installer" / "profiles" / "lansstyrelsen-stockholm.toml"
PASSPHRASE = "korrekt häst batteri"


def build(profile: Path, bare: bool, out: Path) -> Path:
    report = out / ("bare.json" if bare else "pruned.json")
    command = [sys.executable, str(REPO / "installer" / "build.py"), "--profile", str(profile), "--json", str(report)]
    subprocess.run(command + (["--bare"] if bare else []), check=True, cwd=REPO)
    return Path(json.loads(report.read_text(encoding="utf-8"))["folder"])


def existing_build(profile: Path, bare: bool) -> Path:
    from desktop.profile import read_profile

    slug = read_profile(profile).slug
    suffix = "-bare" if bare else ""
    candidates = sorted((REPO / "build" / "installer").glob(f"samverka-{slug}-*{suffix}/dist/samverka"),
                        key=lambda path: path.stat().st_mtime)
    candidates = [path for path in candidates if path.parts[-3].endswith("-bare") == bare]
    if not candidates:
        sys.exit(f"no {'bare ' if bare else ''}build of {profile.name} under build/installer: run with --build")
    return candidates[-1]


def make_vault(data_dir: Path) -> None:
    os.environ["SAMVERKA_FAST_KDF"] = "1"
    from desktop import session as sessions
    from desktop.app import SETUP_DONE, SETUP_META
    from desktop.store.demo import load_demo
    from desktop.vault import KdfParams

    opened = sessions.create_session(data_dir, PASSPHRASE, kdf=KdfParams.minimum())
    try:
        load_demo(opened.store)
        opened.store.set_meta(SETUP_META, SETUP_DONE)
    finally:
        opened.close()


def start_once(display: VirtualDisplay, command: list[str], env: dict[str, str], data_dir: Path) -> float:
    started = time.perf_counter()
    process = subprocess.Popen([*command, "--data-dir", str(data_dir)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        mapped = display.wait_for_map(started, timeout=60)
        if mapped is None:
            raise RuntimeError(f"{command[0]}: no window within 60 s")
        return mapped[0] - started
    finally:
        process.terminate()
        try:
            _out, errors = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--build", action="store_true", help="build the pruned and the bare program first")
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE)
    args = parser.parse_args()
    if missing_tools():
        sys.exit(f"needs {', '.join(missing_tools())}: scripts/x-tools installs them")
    if args.build:
        out = Path(tempfile.mkdtemp(prefix="bench-frozen-"))
        folders = {"pruned": build(args.profile, False, out), "bare": build(args.profile, True, out)}
    else:
        folders = {"pruned": existing_build(args.profile, False), "bare": existing_build(args.profile, True)}

    with tempfile.TemporaryDirectory(prefix="bench-frozen-") as scratch:
        scratch_dir = Path(scratch)
        vault = scratch_dir / "vault"
        make_vault(vault)
        variants = {
            "frozen, pruned": [str(folders["pruned"] / "samverka")],
            "frozen, bare": [str(folders["bare"] / "samverka")],
            "from source": [str(REPO / ".venv" / "bin" / "python"), "-m", "desktop"],
        }
        times: dict[tuple[str, str], list[float]] = {}
        starts = 0
        with VirtualDisplay() as display:
            for round_number in range(args.runs + 1):  # round 0 warms the caches, untimed
                for name, command in variants.items():
                    home = scratch_dir / f"home-{name.replace(' ', '').replace(',', '-')}"
                    home.mkdir(exist_ok=True)
                    env = {key: value for key, value in os.environ.items()
                           if not key.startswith(("SAMVERKA_", "QT_", "PYTHON"))}
                    env.update(HOME=str(home), SAMVERKA_CONFIG_DIR=str(home / "config"))
                    env.setdefault("LANG", "C.UTF-8")
                    if name == "from source":
                        env.update(SAMVERKA_PROFILE=str(args.profile), PYTHONPATH=str(REPO))
                    env = display.env(env)
                    starts += 1
                    fresh = scratch_dir / f"fresh-{starts}"  # no vault: the wizard
                    wizard = start_once(display, command, env, fresh)
                    unlock = start_once(display, command, env, vault)
                    if round_number:
                        times.setdefault((name, "first start → wizard"), []).append(wizard)
                        times.setdefault((name, "later start → unlock window"), []).append(unlock)

    load = os.getloadavg()[0]
    print(f"\nStart to the first window (MapNotify), {args.runs} runs each, medians; load average {load:.1f}")
    print("| variant | case | median | min | max | ÷ from source |")
    print("| --- | --- | --- | --- | --- | --- |")
    for case in ("first start → wizard", "later start → unlock window"):
        source = statistics.median(times[("from source", case)])
        for name in variants:
            values = times[(name, case)]
            median = statistics.median(values)
            print(f"| {name} | {case} | {median:.3f} s | {min(values):.3f} s | {max(values):.3f} s | {median / source:.2f} |")

    print("\nSize")
    print("| build | unpacked | files |")
    print("| --- | --- | --- |")
    for name, folder in folders.items():
        count = len(bundle_report.files(folder))
        print(f"| {name} | {bundle_report.total_size(folder) / 1e6:.1f} MB | {count} |")
    print()
    print(bundle_report.report(folders["pruned"], top=0, compare=folders["bare"]).split("\n\n")[0])


if __name__ == "__main__":
    main()
