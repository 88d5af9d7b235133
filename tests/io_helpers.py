"""Helpers of the import/export tests: contact-list files as spreadsheet programs write them, and a demo vault."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import pytest

from desktop.io import choose_organisation
from desktop.store import Store
from desktop.store.demo import load_demo

SWEDISH_HEADER = ["Organisation", "Funktion", "Kortnamn", "Typ", "Kontaktväg", "Benämning", "Prioritet", "Anteckning"]


def write_xlsx(path: Path, rows: Iterable[Sequence[Any]], *, title: str = "Kontakter", more: dict | None = None) -> Path:
    """A workbook as a spreadsheet program saves it (openpyxl's normal mode); ``more``: further sheets."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for name, extra in (more or {}).items():
        other = workbook.create_sheet(name)
        for row in extra:
            other.append(list(row))
    workbook.save(path)
    return path


def csv_bytes(rows: Iterable[Sequence[Any]], *, encoding: str = "cp1252", delimiter: str = ";") -> bytes:
    """A CSV file as Swedish Excel saves "CSV (semikolonavgränsad)": Windows-1252, ";", CRLF."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return text.getvalue().encode(encoding)


def write_csv(path: Path, rows: Iterable[Sequence[Any]], **options: Any) -> Path:
    path.write_bytes(csv_bytes(rows, **options))
    return path


def read_sheet(path: Path, name: str | None = None) -> list[list[Any]]:
    """Every row of one sheet of a workbook (the first one by default), as values."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        sheet = workbook[name] if name else workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def snapshot(store: Store) -> dict[str, list]:
    """Every live organisation, function and channel with its fields, and the outbox size."""
    return {
        name: sorted((r["record_id"], sorted(r["fields"].items(), key=repr)) for r in store.list(name))
        for name in ("organisations", "functions", "channels")
    } | {"outbox": [store.outbox_count()]}


def organisation(store: Store, name: str, **options: Any):
    return choose_organisation(store, name, device_organisation=None, **options)


@pytest.fixture
def demo_store(db_path: Path, db_key: bytes):
    opened = Store.open(db_path, db_key)
    load_demo(opened)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def empty_store(tmp_path: Path):
    opened = Store.open(tmp_path / "empty.db", os.urandom(32))
    try:
        yield opened
    finally:
        opened.close()
