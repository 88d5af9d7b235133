"""What a build's folder holds, by size: its components, its largest folders and files, and side by side with another build.

    python installer/bundle_report.py build/installer/<stem>/dist/samverka [--top 25] [--compare OTHER_FOLDER]

The components are grouped by path (Qt's libraries, plugins and translations, the Python
bindings, Python itself, the other packages, the system libraries PyInstaller copied), so that
a pruning step shows where its megabytes came from.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# First match wins; paths are relative to the build folder, with forward slashes.
COMPONENTS: list[tuple[str, str]] = [
    (r"/PySide6/Qt/lib/libicu", "Qt: ICU (Unicode data, linked by QtCore)"),
    (r"/PySide6/Qt/lib/", "Qt: libraries"),
    (r"/PySide6/Qt/plugins/", "Qt: plugins"),
    (r"/PySide6/Qt/translations/", "Qt: translations"),
    (r"/PySide6/", "PySide6 bindings"),
    (r"/shiboken6/", "shiboken6"),
    (r"/cryptography", "cryptography"),
    (r"/sqlcipher3", "sqlcipher3 (SQLCipher, OpenSSL)"),
    (r"/(libpython|python3\d*\.dll|Python$)", "Python: interpreter"),
    (r"/base_library\.zip$|/lib-dynload/|/python3\.\d+/", "Python: standard library"),
    (r"/(libcrypto|libssl)", "OpenSSL (Python's ssl)"),
    (r"/(sqlalchemy|alembic|mako)", "SQLAlchemy, Alembic, Mako"),
    (r"/(jsonschema|referencing|rpds|attrs|jsonschema_specifications)", "jsonschema and its parts"),
    (r"/(phonenumbers)", "phonenumbers"),
    (r"/(resources|desktop)/", "Samverka's data (demo region, schema, catalog, migrations)"),
    (r"/[^/]+\.so[.\d]*$|/[^/]+\.dll$|/[^/]+\.dylib$", "system libraries"),
    (r"\.dist-info/", "package metadata"),
    (r"^/samverka(-cli)?(\.exe)?$", "the executable (PyInstaller's bootloader and the program's code)"),
]


def files(folder: Path) -> list[tuple[str, int]]:
    """(path relative to the folder with a leading slash, size) of every file, links not followed."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            found.append(("/" + path.relative_to(folder).as_posix(), path.stat().st_size))
    return found


def total_size(folder: Path) -> int:
    return sum(size for _path, size in files(folder))


def component(path: str) -> str:
    for pattern, name in COMPONENTS:
        if re.search(pattern, path):
            return name
    return "other Python packages"


def by_component(folder: Path) -> Counter[str]:
    sizes: Counter[str] = Counter()
    for path, size in files(folder):
        sizes[component(path)] += size
    return sizes


def by_folder(folder: Path, depth: int = 4) -> Counter[str]:
    sizes: Counter[str] = Counter()
    for path, size in files(folder):
        parts = path.strip("/").split("/")
        for level in range(1, min(depth, len(parts) - 1) + 1):
            sizes["/".join(parts[:level]) + "/"] += size
    return sizes


def _mb(size: int) -> str:
    return f"{size / 1e6:7.1f} MB"


def report(folder: Path, top: int = 25, compare: Path | None = None) -> str:
    lines = []
    total = total_size(folder)
    components = by_component(folder)
    other = by_component(compare) if compare is not None else None
    header = f"    {'component':<66} {'size':>10}" + (f" {'compared':>10} {'saved':>10}" if other is not None else "")
    lines.append(header)
    for name, size in sorted(components.items(), key=lambda item: -item[1]):
        row = f"    {name:<66} {_mb(size):>10}"
        if other is not None:
            row += f" {_mb(other.get(name, 0)):>10} {_mb(other.get(name, 0) - size):>10}"
        lines.append(row)
    if other is not None:
        for name in sorted(set(other) - set(components)):
            lines.append(f"    {name:<66} {_mb(0):>10} {_mb(other[name]):>10} {_mb(other[name]):>10}")
    lines.append(f"    {'total':<66} {_mb(total):>10}" + (f" {_mb(total_size(compare)):>10}" if compare is not None else ""))
    lines.append("")
    lines.append(f"    largest folders (down to 4 levels):")
    for name, size in by_folder(folder).most_common(top):
        lines.append(f"    {_mb(size)}  {name}")
    lines.append("")
    lines.append(f"    largest files:")
    for name, size in sorted(files(folder), key=lambda item: -item[1])[:top]:
        lines.append(f"    {_mb(size)}  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--compare", type=Path, help="another build folder (e.g. the bare build) to set beside it")
    args = parser.parse_args()
    print(report(args.folder, args.top, args.compare))


if __name__ == "__main__":
    main()
