"""Entry point of `samverka` and `python -m desktop`: the window when there is no subcommand, the CLI otherwise.

`samverka` alone opens the window when a display is available (or QT_QPA_PLATFORM is set);
without one it says so in the user's language and points to the command line. The window
takes the organisation's profile (the build's baked one, or ``SAMVERKA_PROFILE``); a broken
profile stops the start with a message naming what is wrong. ``samverka --smoke-test`` checks
an installation (desktop/smoke.py; run from here before anything else is imported, and listed
in the CLI's help, which runs it too). Input piped in
(`echo tib | samverka`) goes to the command line, which reads it. Every subcommand is the
CLI's (desktop/cli.py). The window path does not import the CLI or the store, so that the first
window is up as fast as Qt allows (the store is imported on a side thread meanwhile).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Sequence

EXIT_NO_DISPLAY = 1
EXIT_BROKEN_PROFILE = 1
SMOKE_TEST = "--smoke-test"
_OPTIONS_WITH_VALUE = ("--data-dir", "--lang")


def window_arguments(argv: Sequence[str]) -> dict[str, str] | None:
    """``{"data_dir": …, "lang": …}`` when ``argv`` holds only the global options (the window's
    case); None when there is a subcommand, help, or anything the CLI's parser should judge."""
    found: dict[str, str] = {}
    items = list(argv)
    index = 0
    while index < len(items):
        arg = items[index]
        name, equals, value = arg.partition("=")
        if name in _OPTIONS_WITH_VALUE:
            if not equals:
                if index + 1 >= len(items):
                    return None
                index += 1
                value = items[index]
            found[name[2:].replace("-", "_")] = value
            index += 1
            continue
        return None
    return found


def stdin_is_piped() -> bool:
    """Data piped or redirected in (a pipe or a file), not a terminal or /dev/null."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    smoke_options = window_arguments([arg for arg in argv if arg != SMOKE_TEST]) if SMOKE_TEST in argv else None
    if smoke_options is not None:
        from desktop.i18n import set_language
        from desktop.smoke import run_smoke_test

        set_language(smoke_options.get("lang"))
        return run_smoke_test()
    options = window_arguments(argv)
    if options is None or options.get("lang", "sv") not in ("sv", "en") or stdin_is_piped():
        from desktop.cli import main as cli_main

        return cli_main(argv)
    from desktop.app import display_available
    from desktop.i18n import set_language

    set_language(options.get("lang"))
    from desktop.profile import ProfileError, startup_profile

    try:
        profile = startup_profile()
    except ProfileError as error:
        print(error, file=sys.stderr)
        if display_available():
            _show_broken_profile(str(error))
        return EXIT_BROKEN_PROFILE
    if not display_available():
        from desktop.app import no_display_message

        print(no_display_message(), file=sys.stderr)
        return EXIT_NO_DISPLAY
    from desktop.app import run

    if "data_dir" in options:
        data_dir = Path(options["data_dir"]).expanduser()
    else:
        chosen = os.environ.get("SAMVERKA_DATA_DIR")
        data_dir = Path(chosen).expanduser() if chosen else _default_data_dir()
    return run(data_dir, lang=options.get("lang"), profile=profile)


def _show_broken_profile(text: str) -> None:
    """The same text in a message box: a program started from a menu has no terminal."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.i18n import tr

    _qapp = QApplication.instance() or QApplication(sys.argv[:1])
    QMessageBox.critical(None, tr("Samverka cannot start"), text)


def _default_data_dir() -> Path:
    """desktop.session.default_data_dir without importing it (it imports the store)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("Samverka", appauthor=False))  # as desktop.session


if __name__ == "__main__":
    sys.exit(main())
