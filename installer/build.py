"""Builds one organisation's Samverka: validate its profile, bake it in, PyInstaller from the one spec, smoke-test, archive with a SHA-256 beside it.

    python installer/build.py --profile installer/profiles/lansstyrelsen-stockholm.toml

Steps, each timed in the closing report:
1. the profile is read and checked exactly as the program will (desktop.profile: the schema in
   resources/, the CA parsed); an expired CA stops the build too;
2. the profile file and a build-info.json (version, organisation, time, commit) are baked into
   the build's resources folder, where desktop.profile finds them at start (desktop.resources);
3. PyInstaller runs installer/samverka.spec (one-folder, UPX off, pruned by installer/prune.py)
   with this build's settings in SAMVERKA_BUILD_CONFIG;
4. the frozen program's ``--smoke-test`` runs; a non-zero exit or any stderr line not in
   ``EXPECTED_STDERR`` fails the build;
5. the folder is archived as ``samverka-<org>-<version>-<platform>.tar.gz`` (``.zip`` on
   Windows) with ``<archive>.sha256`` beside it (``sha256sum -c`` reads it);
6. with ``--installer`` (Windows): the Inno Setup installer, per-user, with the organisation's
   name, AppId and icon (installer/windows/samverka.iss);
7. the sizes: the folder unpacked, the archive, and the largest parts (installer/bundle_report.py).

``--bare`` builds the same program with PyInstaller's defaults (no pruning): the baseline the
size and start-time figures are compared with. Exit 0 when the build passed; 1 when the profile
is broken, PyInstaller failed or the smoke test failed (the reason on stderr).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import bundle_report  # noqa: E402

SPEC = HERE / "samverka.spec"
INNO_SCRIPT = HERE / "windows" / "samverka.iss"
# Each organisation's Windows AppId is a UUID made from its id in this namespace, so that its
# installs upgrade each other and never another organisation's Samverka.
APP_ID_NAMESPACE = uuid.UUID("0b6f3b6e-5d0c-4a49-9f6e-7f1f9c2d8a41")
PROGRAM = "samverka"
VERSION_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,40}$")
SMOKE_SECONDS = 300

# stderr lines of a passing smoke test that say nothing about the build (a regular expression
# each, with the reason); every other line fails the build.
EXPECTED_STDERR: list[tuple[str, str]] = [
    (r"^This plugin does not support propagateSizeHints\(\)$",
     "Qt's offscreen platform cannot pass a window's size limits on (pytest's qt_log_ignore too)"),
]


class BuildFailed(Exception):
    pass


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def platform_tag() -> str:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower() or "unknown"
    return f"{system}-{ {'amd64': 'x86_64', 'aarch64': 'arm64'}.get(machine, machine) }"


def project_version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def git_commit() -> str | None:
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}-dirty" if dirty else commit


# --- 1. the profile -------------------------------------------------------------------------------


def check_profile(path: Path):
    """The Profile, checked as the program checks it; BuildFailed with the program's own text."""
    from desktop.profile import ProfileError, parse_certificates, read_profile

    try:
        profile = read_profile(path)
    except ProfileError as error:
        raise BuildFailed(str(error)) from None
    if profile.ca_pem:
        now = datetime.datetime.now(datetime.timezone.utc)
        for certificate in parse_certificates(profile.ca_pem):
            ends = certificate.not_valid_after_utc
            if ends <= now:
                raise BuildFailed(f"{path}: server.ca_pem: the certificate {certificate.subject.rfc4514_string()} "
                                  f"expired on {ends.date()}; a build trusting it could not connect.")
            if (ends - now).days < 90:
                print(f"warning: the CA {certificate.subject.rfc4514_string()} expires on {ends.date()}", file=sys.stderr)
    return profile


# --- 2. baking ----------------------------------------------------------------------------------------


def bake(profile_path: Path, profile, version: str, folder: Path) -> dict:
    """profile.toml (the organisation's file as it is, comments included) and build-info.json."""
    from desktop.resources import BAKED_PROFILE, BUILD_INFO

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(profile_path, folder / BAKED_PROFILE)
    info = {
        "version": version,
        "organisation": profile.organisation_name,
        "organisation_id": profile.organisation_id,
        "slug": profile.slug,
        "platform": platform_tag(),
        "built_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "commit": git_commit(),
        "python": platform.python_version(),
    }
    (folder / BUILD_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return info


# --- 3. PyInstaller -------------------------------------------------------------------------------------


def run_pyinstaller(work: Path, dist: Path, config: dict, log_path: Path) -> Path:
    config_path = work / "build-config.json"
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    env = {**os.environ, "SAMVERKA_BUILD_CONFIG": str(config_path)}
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
               "--distpath", str(dist), "--workpath", str(work / "pyinstaller"), str(SPEC)]
    with open(log_path, "w", encoding="utf-8") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    if result.returncode != 0:
        tail = "".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)[-30:])
        raise BuildFailed(f"PyInstaller failed (exit {result.returncode}); the end of {log_path}:\n{tail}")
    folder = dist / config["name"]
    if not (folder / executable_name()).exists():
        raise BuildFailed(f"PyInstaller made no {executable_name()} in {folder}")
    return folder


def executable_name() -> str:
    return f"{PROGRAM}-cli.exe" if sys.platform == "win32" else PROGRAM


# --- 4. the smoke test ----------------------------------------------------------------------------------


def clean_environment(home: Path) -> dict[str, str]:
    """The environment a person's start has: none of this checkout's or the tests' variables, and
    a home folder of its own (the smoke test must not depend on, nor touch, the builder's)."""
    dropped = ("PYTHON", "SAMVERKA_", "QT_", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "PYINSTALLER")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    env.update(HOME=str(home), USERPROFILE=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local" / "share"), XDG_CACHE_HOME=str(home / ".cache"))
    if not any(env.get(name) for name in ("LC_ALL", "LC_CTYPE", "LANG")):
        env["LANG"] = "C.UTF-8"  # a desktop session has a UTF-8 locale (Qt warns on stderr without one)
    return env


def unexpected_lines(stderr: str) -> list[str]:
    patterns = [re.compile(pattern) for pattern, _reason in EXPECTED_STDERR]
    return [line for line in stderr.splitlines() if line.strip() and not any(p.search(line) for p in patterns)]


def smoke_test(folder: Path) -> str:
    """Run ``<folder>/samverka --smoke-test``; its stdout, or BuildFailed saying why."""
    with tempfile.TemporaryDirectory(prefix="samverka-smoke-home-") as home:
        try:
            result = subprocess.run([str(folder / executable_name()), "--smoke-test"], capture_output=True, text=True,
                                    env=clean_environment(Path(home)), timeout=SMOKE_SECONDS, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise BuildFailed(f"the smoke test did not finish within {SMOKE_SECONDS} s") from None
    unexpected = unexpected_lines(result.stderr)
    if result.returncode != 0 or unexpected:
        raise BuildFailed(
            f"the smoke test failed (exit {result.returncode}, {len(unexpected)} unexpected stderr line(s)).\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
    return result.stdout


# --- 5. the archive ----------------------------------------------------------------------------------------


def archive(folder: Path, out_dir: Path, stem: str) -> Path:
    """``stem.tar.gz`` (``stem.zip`` on Windows) holding the folder as ``stem/``, and its .sha256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        path = out_dir / f"{stem}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zipped:
            for file in sorted(folder.rglob("*")):
                zipped.write(file, Path(stem) / file.relative_to(folder))
    else:
        path = out_dir / f"{stem}.tar.gz"

        def owned_by_nobody(member: tarfile.TarInfo) -> tarfile.TarInfo:
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            return member

        with tarfile.open(path, "w:gz", compresslevel=9) as tar:
            tar.add(folder, arcname=stem, filter=owned_by_nobody)
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    Path(f"{path}.sha256").write_text(f"{digest.hexdigest()}  {path.name}\n", encoding="ascii")
    return path


# --- 6. the Windows installer (Inno Setup) ----------------------------------------------------------------


def app_id(profile) -> str:
    return str(uuid.uuid5(APP_ID_NAMESPACE, profile.organisation_id))


def inno_setup(folder: Path, profile, version: str, icon: Path, out_dir: Path) -> Path:
    """``samverka-<org>-<version>-windows-x86_64-setup.exe`` from installer/windows/samverka.iss
    (ISCC on PATH: Inno Setup 6, which the Windows CI runners have)."""
    compiler = shutil.which("iscc") or shutil.which("ISCC")
    if compiler is None:
        raise BuildFailed("Inno Setup's ISCC is not on PATH (needed for --installer)")
    name = f"{PROGRAM}-{profile.slug}-{version}-{platform_tag()}-setup"
    defines = {
        "AppId": app_id(profile), "OrgName": profile.organisation_name, "OrgSlug": profile.slug,
        "AppVersion": version, "SourceDir": str(folder), "IconFile": str(icon), "OutputDir": str(out_dir),
        "OutputName": name,
    }
    command = [compiler, *[f"/D{key}={value}" for key, value in defines.items()], str(INNO_SCRIPT)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildFailed(f"Inno Setup failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return out_dir / f"{name}.exe"


# --- the whole build ---------------------------------------------------------------------------------------


def build(profile_path: Path, *, version: str, out_dir: Path, work_root: Path, bare: bool = False,
          smoke: bool = True, make_archive: bool = True, icon: Path | None = None, installer: bool = False) -> dict:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    step(f"checking the profile {profile_path}")
    profile = check_profile(profile_path)
    print(f"    {profile.organisation_name} ({profile.slug}): {profile.server_url}")
    stem = f"{PROGRAM}-{profile.slug}-{version}-{platform_tag()}" + ("-bare" if bare else "")
    work = work_root / stem
    work.mkdir(parents=True, exist_ok=True)
    info = bake(profile_path, profile, version, work / "bake")
    if icon is None:
        from icon import write_icon

        icon, _png = write_icon(profile.organisation_name, profile.organisation_id, work / "icon")
    timings["profile"] = time.perf_counter() - started

    step(f"PyInstaller ({'bare: no pruning' if bare else 'pruned'}) → {work / 'dist'}")
    mark = time.perf_counter()
    config = {"bake": str(work / "bake"), "bare": bare, "name": PROGRAM, "icon": str(icon)}
    folder = run_pyinstaller(work, work / "dist", config, work / "pyinstaller.log")
    timings["pyinstaller"] = time.perf_counter() - mark

    if smoke:
        step("smoke test of the frozen program")
        mark = time.perf_counter()
        print("    " + smoke_test(folder).rstrip().replace("\n", "\n    "))
        timings["smoke"] = time.perf_counter() - mark

    result = {"folder": str(folder), "info": info, "unpacked_bytes": bundle_report.total_size(folder)}
    if make_archive:
        step("archive and SHA-256")
        mark = time.perf_counter()
        path = archive(folder, out_dir, stem)
        timings["archive"] = time.perf_counter() - mark
        result.update(archive=str(path), archive_bytes=path.stat().st_size)
    if installer:
        step("the Windows installer (Inno Setup)")
        mark = time.perf_counter()
        result["installer"] = str(inno_setup(folder, profile, version, icon, out_dir))
        timings["installer"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    result["timings"] = timings

    step("sizes")
    print(bundle_report.report(folder, top=15))
    mib = 1024 * 1024
    print(f"    unpacked: {result['unpacked_bytes'] / 1e6:.1f} MB ({result['unpacked_bytes'] / mib:.1f} MiB)")
    if make_archive:
        print(f"    archive:  {result['archive_bytes'] / mib:.1f} MiB  {result['archive']}")
    print("    time: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, type=Path, help="the organisation's profile (TOML)")
    parser.add_argument("--version", default=None, help="the version in the archive's name (default: pyproject.toml's)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the archive goes (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "installer", help="PyInstaller's work folders")
    parser.add_argument("--bare", action="store_true", help="no pruning: the baseline for the size and start figures")
    parser.add_argument("--no-smoke-test", dest="smoke", action="store_false", help="skip the smoke test")
    parser.add_argument("--no-archive", dest="archive", action="store_false", help="leave the folder, make no archive")
    parser.add_argument("--icon", type=Path, help="the organisation's own .ico (default: its initials, installer/icon.py)")
    parser.add_argument("--installer", action="store_true", help="Windows: also make the Inno Setup installer")
    parser.add_argument("--json", type=Path, help="also write the result (paths, sizes, timings) to this file")
    args = parser.parse_args(argv)
    version = args.version or project_version()
    if not VERSION_PATTERN.match(version):
        parser.error(f"--version {version!r}: use letters, digits and . + _ - only")
    try:
        result = build(args.profile.resolve(), version=version, out_dir=args.out.resolve(), work_root=args.work.resolve(),
                       bare=args.bare, smoke=args.smoke, make_archive=args.archive,
                       icon=args.icon.resolve() if args.icon else None, installer=args.installer)
    except BuildFailed as failure:
        print(f"build failed: {failure}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
