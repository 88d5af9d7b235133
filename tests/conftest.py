"""Shared fixtures: a real SQLCipher store in a temporary folder, opened with a random key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.store import Store


@pytest.fixture
def db_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def db_path(data_dir: Path) -> Path:
    return data_dir / "samverka.db"


@pytest.fixture
def store(db_path: Path, db_key: bytes):
    opened = Store.open(db_path, db_key)
    try:
        yield opened
    finally:
        opened.close()
