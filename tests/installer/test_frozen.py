"""The frozen build as an organisation's IT staff and its users get it: built by installer/build.py, unpacked from its archive into a fresh folder, started.

Builds the Länsstyrelsen Stockholm demo profile twice, as two releases (0.1.0 and 0.1.1), once
per module (two PyInstaller runs, ~1–2 min each here). Each test unpacks an archive into a
folder of its own and runs the program with a home folder of its own:
- the archive's SHA-256 file is right and the unpacked program passes its smoke test;
- started on a virtual X display (Xvfb), the first run opens the wizard in the profile's
  language, and the wizard's server address is the profile's (copied out of the field with the
  keyboard, as a person would);
- an upgrade (the old folder removed, the new version unpacked) opens the vault the old version
  made, which lives in the per-user data folder, never in the program's folder: the command
  line finds the same hits, and the window unlocks, finds "tib sos" and copies the number.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))

from xsession import VirtualDisplay, missing_tools  # noqa: E402


def _load_builder():
    """installer/build.py as a module (by path: "build" is also a PyPI package's name)."""
    spec = importlib.util.spec_from_file_location("samverka_installer_build", ROOT / "installer" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = _load_builder()

PROFILE = ROOT / "installer" / "profiles" / "lansstyrelsen-stockholm.toml"
SERVER_URL = "https://samverka.lansstyrelsen.example"
PASSPHRASE = "korrekt hast batteri"  # typed with xdotool: ASCII only
VERSIONS = ("0.1.0", "0.1.1")
BUILD_SECONDS = 1200

pytestmark = [
    pytest.mark.frozen,
    pytest.mark.slow,
    pytest.mark.timeout(BUILD_SECONDS + 300),  # the first test also waits for the builds
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="builds for Windows and macOS run on their CI runners"),
]


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, dict]:
    """version → build.py's result (archive, folder, sizes, timings) for both releases."""
    out = tmp_path_factory.mktemp("dist")
    work = tmp_path_factory.mktemp("work")
    results = {}
    for version in VERSIONS:
        report = out / f"{version}.json"
        done = subprocess.run(
            [sys.executable, str(ROOT / "installer" / "build.py"), "--profile", str(PROFILE), "--version", version,
             "--out", str(out), "--work", str(work), "--json", str(report)],
            capture_output=True, text=True, timeout=BUILD_SECONDS, cwd=ROOT,
        )
        assert done.returncode == 0, f"build {version} failed:\n{done.stdout}\n{done.stderr}"
        results[version] = json.loads(report.read_text(encoding="utf-8"))
    return results


def unpack(archive: Path, into: Path) -> Path:
    """The archive unpacked into ``into``; the program's folder."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: refuse links out of the folder
            tar.extractall(into, filter="data")
        else:
            tar.extractall(into)
    (folder,) = into.iterdir()
    return folder


def run(program: Path, *args: str, home: Path, extra: dict[str, str] | None = None, timeout: float = 120):
    env = {**builder.clean_environment(home), **(extra or {})}
    return subprocess.run([str(program), *args], capture_output=True, text=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_the_archive_is_what_its_checksum_says_and_unpacks_into_a_working_program(builds, tmp_path: Path) -> None:
    result = builds[VERSIONS[0]]
    archive = Path(result["archive"])
    assert archive.name == f"samverka-lansstyrelsen-stockholm-{VERSIONS[0]}-{builder.platform_tag()}.tar.gz"
    recorded = Path(f"{archive}.sha256").read_text(encoding="ascii").split()
    assert recorded == [hashlib.sha256(archive.read_bytes()).hexdigest(), archive.name]

    program = unpack(archive, tmp_path / "fresh") / "samverka"
    smoke = run(program, "--smoke-test", home=tmp_path / "home", extra={"SAMVERKA_LANG": "en"}, timeout=300)
    assert smoke.returncode == 0, smoke.stderr
    assert builder.unexpected_lines(smoke.stderr) == []
    assert f"Samverka smoke test ({VERSIONS[0]}, Länsstyrelsen Stockholm)" in smoke.stdout
    assert f"server {SERVER_URL}" in smoke.stdout
    assert "“tib sos” →" in smoke.stdout
    assert not (tmp_path / "home" / ".local" / "share" / "Samverka").exists()  # the smoke test keeps nothing


@pytest.mark.skipif(bool(missing_tools()), reason=f"needs the X tools ({', '.join(missing_tools())}): scripts/x-tools installs them")
def test_the_unpacked_program_opens_the_wizard_preset_for_its_organisation(builds, tmp_path: Path) -> None:
    folder = unpack(Path(builds[VERSIONS[0]]["archive"]), tmp_path / "fresh")
    program = folder / "samverka"
    home = tmp_path / "home"
    with VirtualDisplay() as display:
        env = display.env(builder.clean_environment(home))
        env["SAMVERKA_FAST_KDF"] = "1"

        # First run, no vault: the wizard, in the profile's language (Swedish).
        started = time.perf_counter()
        first = subprocess.Popen([str(program)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            mapped = display.wait_for_map(started)
            assert mapped is not None, "no window opened"
            assert display.window_name(mapped[1]).startswith("Samverka – kom igång")
            time.sleep(0.5)
            assert first.poll() is None, first.communicate()
        finally:
            first.terminate()
            _out, errors = first.communicate(timeout=30)
        assert builder.unexpected_lines(errors) == []

        # A vault made by the frozen command line (with a recovery key): the next start asks for
        # the passphrase and opens the wizard on its last page, the organisation's server.
        cli_env = {"SAMVERKA_PASSPHRASE": PASSPHRASE, "SAMVERKA_FAST_KDF": "1"}
        for command in (["init"], ["recovery-key"]):
            done = run(program, *command, home=home, extra=cli_env)
            assert done.returncode == 0, done.stderr
        data_dir = home / ".local" / "share" / "Samverka"
        assert (data_dir / "vault.json").is_file()

        started = time.perf_counter()
        second = subprocess.Popen([str(program)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            unlock = display.wait_for_map(started)
            assert unlock is not None and display.window_name(unlock[1]).startswith("Samverka")
            time.sleep(0.3)
            display.type(PASSPHRASE)
            display.keys("Return")
            wizard = display.wait_for_map(unlock[0] + 1e-6)
            assert wizard is not None, "the wizard did not open after the unlock"
            assert display.window_name(wizard[1]).startswith("Samverka – kom igång")
            copied = ""
            deadline = time.monotonic() + 20
            while copied != SERVER_URL and time.monotonic() < deadline:
                time.sleep(0.3)  # the focus lands in the code field once the page is shown
                display.keys("shift+Tab", "ctrl+a", "ctrl+c")  # to the server field, copy it
                copied = display.clipboard()
            display.screenshot(tmp_path / "wizard-connect-page.png")
            assert copied == SERVER_URL
        finally:
            second.terminate()
            _out, errors = second.communicate(timeout=30)
        assert builder.unexpected_lines(errors) == []
    assert not data_dir.resolve().is_relative_to(folder.resolve())


@pytest.mark.skipif(bool(missing_tools()), reason=f"needs the X tools ({', '.join(missing_tools())}): scripts/x-tools installs them")
def test_an_upgrade_opens_the_vault_the_previous_version_made(builds, tmp_path: Path) -> None:
    install = tmp_path / "programs"
    home = tmp_path / "home"
    cli_env = {"SAMVERKA_PASSPHRASE": PASSPHRASE, "SAMVERKA_FAST_KDF": "1"}
    old = unpack(Path(builds[VERSIONS[0]]["archive"]), install)
    made = run(old / "samverka", "init", "--demo", home=home, extra=cli_env)
    assert made.returncode == 0, made.stderr
    before = run(old / "samverka", "search", "tib", "sos", home=home, extra=cli_env)
    assert before.returncode == 0 and "SOS" in before.stdout, before.stderr
    data_dir = home / ".local" / "share" / "Samverka"
    assert (data_dir / "samverka.db").is_file() and not data_dir.resolve().is_relative_to(old.resolve())

    shutil.rmtree(install)  # the upgrade: the old program's folder goes, the new one is unpacked
    new = unpack(Path(builds[VERSIONS[1]]["archive"]), install)
    assert new.name.endswith(f"-{VERSIONS[1]}-{builder.platform_tag()}")
    after = run(new / "samverka", "search", "tib", "sos", home=home, extra=cli_env)
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    # the build's own version (not pyproject.toml's, which both builds carry as metadata)
    named = run(new / "samverka", "--version", home=home)
    assert named.returncode == 0 and named.stdout.startswith(f"Samverka {VERSIONS[1]} (Länsstyrelsen Stockholm, "), named.stdout

    # and in the window: unlock, search, Enter, Ctrl+C copies SOS Alarm's duty officer's number
    with VirtualDisplay() as display:
        env = display.env(builder.clean_environment(home))
        started = time.perf_counter()
        window = subprocess.Popen([str(new / "samverka")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            unlock = display.wait_for_map(started)
            assert unlock is not None, "no window opened"
            time.sleep(0.3)
            display.type(PASSPHRASE)
            display.keys("Return")
            main = display.wait_for_map(unlock[0] + 1e-6)
            assert main is not None and display.window_name(main[1]).startswith("Samverka — fristående (demoregion)")
            copied = ""
            deadline = time.monotonic() + 20
            while copied != "070-174 06 99" and time.monotonic() < deadline:
                time.sleep(0.5)
                display.keys("ctrl+k")
                display.type("tib sos")
                time.sleep(0.5)
                display.keys("Return", "ctrl+c")
                copied = display.clipboard()
            display.screenshot(tmp_path / "main-window-after-upgrade.png")
            assert copied == "070-174 06 99"
        finally:
            window.terminate()
            _out, errors = window.communicate(timeout=30)
        assert builder.unexpected_lines(errors) == []

    smoke = run(new / "samverka", "--smoke-test", home=tmp_path / "other-home", extra={"SAMVERKA_LANG": "en"}, timeout=300)
    assert smoke.returncode == 0 and f"({VERSIONS[1]}, Länsstyrelsen Stockholm)" in smoke.stdout, smoke.stderr
    assert os.listdir(data_dir)  # still there, untouched by the smoke test's own temporary vault
