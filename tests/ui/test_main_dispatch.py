"""`samverka` alone: the window when a display is there, a clear message when not; subcommands and piped input stay the CLI's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.__main__ import window_arguments

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("argv", "expected"), [
    ([], {}),
    (["--lang", "en"], {"lang": "en"}),
    (["--data-dir=/tmp/x", "--lang=sv"], {"data_dir": "/tmp/x", "lang": "sv"}),
    (["search", "tib"], None),
    (["--data-dir", "/tmp/x", "status"], None),
    (["--help"], None),
    (["--lang"], None),
])
def test_only_global_options_mean_the_window(argv, expected) -> None:
    assert window_arguments(argv) == expected


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "SAMVERKA_LANG")}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.mark.end2end
def test_without_a_display_it_says_so_and_points_to_the_command_line(tmp_path: Path) -> None:
    for lang, words in ((None, "Här finns ingen bildskärm"), ("en", "There is no display here")):
        args = [sys.executable, "-m", "desktop", "--data-dir", str(tmp_path)] + (["--lang", lang] if lang else [])
        result = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=_env(), timeout=60)
        assert result.returncode == 1
        assert words in result.stderr and "samverka search" in result.stderr
        assert not list(tmp_path.iterdir()), "nothing was created"


@pytest.mark.end2end
def test_a_subcommand_is_the_cli_even_with_a_display(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(tmp_path / "none"), "status"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=_env(QT_QPA_PLATFORM="offscreen"), timeout=60,
    )
    # The CLI answered (no vault there), not the window: nothing was created either.
    assert result.returncode == 1 and "Det finns inget valv" in result.stderr, result.stderr
    assert not (tmp_path / "none").exists()


@pytest.mark.end2end
@pytest.mark.gui
def test_the_program_opens_its_window_and_writes_nothing_to_stderr(tmp_path: Path) -> None:
    """qutebrowser's smoke rule: the real program, started as a person would, says nothing unexpected."""
    child = subprocess.Popen(
        [sys.executable, "-m", "desktop", "--data-dir", str(tmp_path / "data")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(QT_QPA_PLATFORM="offscreen", SAMVERKA_CONFIG_DIR=str(tmp_path / "config"), QT_LOGGING_RULES="qt.qpa.*=false"),
    )
    try:
        time.sleep(4)
        assert child.poll() is None, child.stderr.read()
    finally:
        child.terminate()
        _out, err = child.communicate(timeout=20)
    unexpected = [line for line in err.splitlines() if line.strip()]
    assert not unexpected
