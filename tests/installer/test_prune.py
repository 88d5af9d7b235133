"""installer/prune.py's rules on PyInstaller's lists (dest, source, typecode), without building: which Qt translations and plugins stay, and which symbolic links go with their targets."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "installer"))

import prune  # noqa: E402

QT = "PySide6/Qt"


def names(entries) -> list[str]:
    return [entry[0] for entry in entries]


def test_only_qtbase_sv_of_qt_s_translations_stays() -> None:
    datas = [(f"{QT}/translations/{name}", f"/src/{name}", "DATA")
             for name in ("qtbase_sv.qm", "qtbase_de.qm", "qt_sv.qm", "qt_help_sv.qm")]
    datas.append(("desktop/locale/sv/LC_MESSAGES/samverka.mo", "/src/samverka.mo", "DATA"))
    assert names(prune.keep_datas(datas)) == [f"{QT}/translations/qtbase_sv.qm", "desktop/locale/sv/LC_MESSAGES/samverka.mo"]


def test_the_plugins_kept_are_the_platforms_and_helpers_the_program_uses() -> None:
    kept = {
        "platforms/libqxcb.so", "platforms/libqoffscreen.so", "platforms/qwindows.dll", "platforms/libqcocoa.dylib",
        "platforminputcontexts/libcomposeplatforminputcontextplugin.so", "platformthemes/libqxdgdesktopportal.so",
        "networkinformation/libqnetworkmanager.so", "styles/qmodernwindowsstyle.dll",
    }
    dropped = {
        "platforms/libqwayland.so", "platforms/libqvnc.so", "platforms/libqeglfs.so", "platformthemes/libqgtk3.so",
        "imageformats/libqjpeg.so", "iconengines/libqsvgicon.so", "tls/libqopensslbackend.so",
        "xcbglintegrations/libqxcb-glx-integration.so", "networkinformation/libqglib.so",
        "wayland-shell-integration/libxdg-shell.so", "generic/libqevdevtouchplugin.so",
    }
    parts = lambda plugin: tuple(f"{QT}/plugins/{plugin}".split("/"))  # noqa: E731
    assert {plugin for plugin in kept | dropped if prune._plugin_kept(parts(plugin))} == kept


def test_a_symbolic_link_goes_with_its_target() -> None:
    binaries = [(f"{QT}/lib/libQt6Core.so.6", "/src/libQt6Core.so.6", "BINARY")]
    datas = [
        ("libQt6Core.so.6", f"{QT}/lib/libQt6Core.so.6", "SYMLINK"),
        ("libQt6Svg.so.6", f"{QT}/lib/libQt6Svg.so.6", "SYMLINK"),  # its library was pruned
    ]
    binaries, datas = prune.drop_dangling_links(binaries, datas)
    assert names(datas) == ["libQt6Core.so.6"] and len(binaries) == 1


CHILD = """
import importlib, json, pkgutil, sys
before = set(sys.modules)
import desktop
for module in pkgutil.walk_packages(desktop.__path__, "desktop."):
    if ".migrations" not in module.name:
        importlib.import_module(module.name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_excluded_packages_are_none_the_program_imports() -> None:
    """Every module of the desktop package imported in a fresh interpreter: nothing it brings in
    is excluded (but pygments, which Mako imports when present and does without)."""
    import json
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stdout)
    excluded = set(prune.EXCLUDES)
    hits = [name for name in imported if (name in excluded or name.split(".")[0] in excluded
                                          or any(name.startswith(f"{entry}.") for entry in excluded))]
    assert [name for name in hits if name.split(".")[0] != "pygments"] == []
    assert "desktop.smoke" in imported and "PySide6.QtWidgets" in imported
