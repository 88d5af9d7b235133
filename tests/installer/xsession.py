"""A virtual X display for starting the real program as a person would: Xvfb, the windows it maps (xev), keys (xdotool) and the clipboard (xclip).

Used by tests/installer/test_frozen.py and tests/perf/bench_frozen.py. The tools come from
Debian's packages (xvfb, x11-utils, xdotool, xclip); ``missing_tools()`` names the ones that
are not installed (scripts/x-tools installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

TOOLS = {"Xvfb": "xvfb", "xev": "x11-utils", "xdotool": "xdotool", "xclip": "xclip"}
_MAP = re.compile(r"^MapNotify event.*")
_WINDOW = re.compile(r"window (0x[0-9a-f]+), override (YES|NO)")


def missing_tools() -> list[str]:
    """The Debian packages of the tools that are not on PATH."""
    return sorted({package for tool, package in TOOLS.items() if shutil.which(tool) is None})


class VirtualDisplay:
    """An Xvfb server on a free display number, and a watcher of the top-level windows it maps."""

    def __init__(self, size: str = "1280x800x24") -> None:
        read_end, write_end = os.pipe()
        self.server = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        os.close(write_end)
        with os.fdopen(read_end) as numbers:
            number = numbers.readline().strip()
        if not number:
            self.server.kill()
            message = self.server.stderr.read().decode(errors="replace")
            self.server.stderr.close()
            self.server.wait()
            raise RuntimeError(f"Xvfb did not start: {message}")
        self.display = f":{number}"
        self.maps: list[tuple[float, int]] = []  # (time.perf_counter(), window id) of each MapNotify
        self._mapped = threading.Condition()
        self.watcher = subprocess.Popen(["xev", "-display", self.display, "-root", "-event", "substructure"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._watch, name="xev", daemon=True)
        self._reader.start()
        self._wait_for_watcher()

    def _watch(self) -> None:
        pending = False
        for line in self.watcher.stdout:
            if _MAP.match(line):
                pending = True
                continue
            match = _WINDOW.search(line) if pending else None
            if match:
                pending = False
                if match.group(2) == "NO":  # tooltips and menus are override-redirect windows
                    with self._mapped:
                        self.maps.append((time.perf_counter(), int(match.group(1), 16)))
                        self._mapped.notify_all()

    def _wait_for_watcher(self) -> None:
        """xev prints nothing until an event comes: give it the time to select the events."""
        time.sleep(0.3)
        if self.watcher.poll() is not None:
            self.close()
            raise RuntimeError("xev did not start")  # (close joins the reader: it has seen EOF)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["DISPLAY"] = self.display
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("QT_QPA_PLATFORM", None)
        return env

    def wait_for_map(self, after: float, timeout: float = 30.0) -> tuple[float, int] | None:
        """The first top-level window mapped after ``after`` (a perf_counter time)."""
        deadline = time.monotonic() + timeout
        with self._mapped:
            while True:
                for entry in self.maps:
                    if entry[0] >= after:
                        return entry
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._mapped.wait(remaining)

    def run(self, *args: str) -> str:
        return subprocess.run(list(args), env=self.env(), capture_output=True, text=True, timeout=30).stdout.strip()

    def window_name(self, window: int) -> str:
        return self.run("xdotool", "getwindowname", str(window))

    def focus(self, window: int) -> None:
        self.run("xdotool", "windowfocus", "--sync", str(window))

    def keys(self, *keys: str) -> None:
        self.run("xdotool", "key", "--delay", "40", *keys)

    def type(self, text: str) -> None:
        self.run("xdotool", "type", "--delay", "20", text)

    def clipboard(self) -> str:
        return self.run("xclip", "-o", "-selection", "clipboard")

    def screenshot(self, path: Path) -> None:
        """The whole screen as PNG (ImageMagick's import, when installed): for a person to look at."""
        if shutil.which("import"):
            subprocess.run(["import", "-display", self.display, "-window", "root", str(path)], timeout=30,
                           capture_output=True)

    def close(self) -> None:
        for process in (self.watcher, self.server):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._reader.join(10)
        self.watcher.stdout.close()
        self.server.stderr.close()

    def __enter__(self) -> VirtualDisplay:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
