"""What a pruned build leaves out (read by installer/samverka.spec): other Qt bindings, the Qt modules, plugins and translations the program does not use, packages only the server or the tests use, and the libraries nothing kept loads.

Every rule here was checked by the frozen program's smoke test and a real start under Xvfb
(tests/installer/test_frozen.py; the libraries each one loaded were listed with
``LD_DEBUG=files``, docs/INSTALLER.md). What a rule removes, and why that is safe:

- Python packages: the server's (FastAPI, uvicorn, psycopg, pydantic), the tests' (pytest,
  hypothesis, schemathesis), other Qt bindings, Tk, and pygments (Mako, which Alembic imports,
  uses it only to colour its own error pages, and falls back without it). phonenumbers' geocoder,
  carrier and time-zone data (44 MB of source): the program parses and formats numbers only.
- Qt: the Python modules other than QtCore, QtGui, QtWidgets and QtNetwork; the plugins of
  platforms other than X11 (xcb) and offscreen, of OpenGL, Wayland, EGL, SVG, image formats,
  TLS (the network goes through Python's ssl), touch input and the GTK theme (which would bring
  GTK, cairo and pango); every Qt translation but qtbase_sv.qm.
- Libraries: after those removals, every shared library that no kept extension module, plugin or
  library still names as a dependency (PyInstaller had copied them for what was removed), and
  the symbolic links PyInstaller made to them.
"""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath

HIDDEN_IMPORTS = [
    # imported by the migration scripts, which Alembic loads from files PyInstaller does not scan
    "alembic.op",
    "desktop.store.schema",
]

_QT_MODULES_USED = {"QtCore", "QtGui", "QtWidgets", "QtNetwork"}
_QT_MODULES = [
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender", "QtAxContainer",
    "QtBluetooth", "QtCharts", "QtConcurrent", "QtDataVisualization", "QtDBus", "QtDesigner", "QtGraphs",
    "QtHelp", "QtHttpServer", "QtLocation", "QtMultimedia", "QtMultimediaWidgets", "QtNetworkAuth", "QtNfc",
    "QtOpenGL", "QtOpenGLWidgets", "QtPdf", "QtPdfWidgets", "QtPositioning", "QtPrintSupport", "QtQml",
    "QtQuick", "QtQuick3D", "QtQuickControls2", "QtQuickWidgets", "QtRemoteObjects", "QtScxml", "QtSensors",
    "QtSerialBus", "QtSerialPort", "QtSpatialAudio", "QtSql", "QtStateMachine", "QtSvg", "QtSvgWidgets",
    "QtTest", "QtTextToSpeech", "QtUiTools", "QtWebChannel", "QtWebEngineCore", "QtWebEngineQuick",
    "QtWebEngineWidgets", "QtWebSockets", "QtWebView", "QtXml",
]

EXCLUDES = [
    # other Qt bindings (STYLE.md: "other Qt bindings excluded") and Tk
    "PyQt5", "PyQt6", "PySide2", "shiboken2", "sip", "tkinter", "_tkinter",
    # the Qt modules the program does not import
    *[f"PySide6.{name}" for name in _QT_MODULES if name not in _QT_MODULES_USED],
    # the server's and the tests' packages (installed in the same virtualenv by scripts/test)
    "fastapi", "starlette", "uvicorn", "psycopg", "psycopg_binary", "psycopg_pool", "psycopg2", "pydantic",
    "pydantic_core", "httpx", "httpcore", "anyio", "pytest", "_pytest", "pytestqt", "hypothesis",
    "schemathesis", "hypothesis_jsonschema", "jsonschema_rs", "numpy", "IPython", "setuptools",
    "pkg_resources", "_distutils_hack",
    # Mako's error-page colouring (it falls back without it)
    "pygments",
    # phonenumbers' data the program never asks for (it parses and formats)
    "phonenumbers.geocoder", "phonenumbers.geodata", "phonenumbers.carrier", "phonenumbers.carrierdata",
    "phonenumbers.timezone", "phonenumbers.tzdata",
    # the standard library's tools for developers; sqlite3 (the store uses sqlcipher3's own SQLite)
    "unittest", "doctest", "pdb", "pydoc", "pydoc_data", "lib2to3", "idlelib", "turtledemo", "test", "sqlite3",
]

# Qt plugin folders and files kept (everything else under PySide6/Qt/plugins is dropped).
# A file is named by its stem: libqxcb.so, qwindows.dll, libqcocoa.dylib.
KEEP_PLUGINS = {
    "platforms": {"libqxcb", "libqoffscreen", "qwindows", "qoffscreen", "libqcocoa"},
    "platforminputcontexts": None,  # compose (dead keys) and ibus (input methods): all
    "platformthemes": {"libqxdgdesktopportal"},  # the system's light/dark choice, portal dialogs
    # online/offline hints for the sync (desktop/app.py): NetworkManager, ConnMan, Windows, macOS;
    # not GLib's (it alone brings GIO, GObject, libmount, libblkid and libselinux: 3.3 MB)
    "networkinformation": {"libqnetworkmanager", "libqconnman", "qnetworklistmanager", "libqscnetworkreachability"},
    "styles": None,  # the native style on Windows and macOS
}
KEEP_TRANSLATIONS = {"qtbase_sv.qm"}


def _parts(dest: str) -> tuple[str, ...]:
    return PurePosixPath(dest.replace("\\", "/")).parts


def _plugin_kept(parts: tuple[str, ...]) -> bool:
    """``parts`` is a path under .../Qt/plugins/: the folder and the file's stem decide."""
    index = parts.index("plugins")
    if len(parts) < index + 3:
        return True
    folder, stem = parts[index + 1], parts[-1].split(".")[0]
    if folder not in KEEP_PLUGINS:
        return False
    wanted = KEEP_PLUGINS[folder]
    return wanted is None or stem in wanted


def _is_qt_path(parts: tuple[str, ...], folder: str) -> bool:
    return "PySide6" in parts and folder in parts


def keep_datas(datas):
    """Qt's translations but qtbase_sv.qm; plugin files are binaries, but a few come as data."""
    kept = []
    for entry in datas:
        parts = _parts(entry[0])
        if _is_qt_path(parts, "translations") and parts[-1] not in KEEP_TRANSLATIONS:
            continue
        if _is_qt_path(parts, "plugins") and not _plugin_kept(parts):
            continue
        kept.append(entry)
    return kept


def _is_library(name: str) -> bool:
    """A shared library some other binary loads by name, as opposed to a Python extension
    module or a Qt plugin (which are loaded by path, and are the roots)."""
    return (".so." in name or name.endswith((".so", ".dylib", ".dll"))) and not (
        ".cpython-" in name or ".abi3." in name or name.endswith(".pyd")
    )


def keep_binaries(binaries):
    """The Qt plugins kept, then every library still reachable from what is kept."""
    from PyInstaller.depend.bindepend import get_imports

    entries = []
    for entry in binaries:
        parts = _parts(entry[0])
        if _is_qt_path(parts, "plugins") and not _plugin_kept(parts):
            continue
        entries.append(entry)
    # Roots: extension modules, plugins, the Python library (the bootloader loads it by path).
    libraries = {}
    roots = []
    for entry in entries:
        dest, source = entry[0], entry[1]
        name = _parts(dest)[-1]
        parts = _parts(dest)
        if _is_library(name) and not (_is_qt_path(parts, "plugins")) and not name.lower().startswith(("libpython", "python3")):
            libraries.setdefault(name, entry)
        else:
            roots.append(entry)
    reached: set[str] = set()
    pending = [entry[1] for entry in roots]
    while pending:
        source = pending.pop()
        try:
            needed = get_imports(source)
        except Exception:  # an unreadable file keeps what it might need (everything stays)
            return entries
        for name, _path in needed:
            base = PurePosixPath(name).name
            if base in libraries and base not in reached:
                reached.add(base)
                pending.append(libraries[base][1])
    return [entry for entry in entries if not (_is_library(_parts(entry[0])[-1]) and _parts(entry[0])[-1] in libraries
                                               and _parts(entry[0])[-1] not in reached)]


def drop_dangling_links(binaries, datas):
    """PyInstaller's SYMLINK entries (``libQt6Svg.so.6`` → ``PySide6/Qt/lib/…``) whose target is
    no longer in the build; returns (binaries, datas)."""
    present = {_parts(entry[0]) for entry in [*binaries, *datas] if entry[2] != "SYMLINK"}

    def kept(entry) -> bool:
        if entry[2] != "SYMLINK":
            return True
        target = posixpath.normpath(posixpath.join(posixpath.dirname(entry[0].replace("\\", "/")), entry[1].replace("\\", "/")))
        return _parts(target) in present

    return [e for e in binaries if kept(e)], [e for e in datas if kept(e)]
