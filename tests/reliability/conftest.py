"""Fixtures of the reliability suite: the server's database backend, and its figures printed at the end of the run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reliability_region import PG_ENV  # noqa: E402

FIGURES = pytest.StashKey[list]()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (scripts/pg-start prints it)")
    return request.param


@pytest.fixture
def report_figures(request: pytest.FixtureRequest):
    """``report_figures(title, figures)``: shown in the run's summary, also when it passes."""
    kept = request.config.stash.setdefault(FIGURES, [])
    return lambda title, figures: kept.append((title, figures))


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    kept = config.stash.get(FIGURES, [])
    if not kept:
        return
    terminalreporter.section("reliability figures")
    for title, figures in kept:
        terminalreporter.write_line(title)
        rows = figures.rows()
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            terminalreporter.write_line(f"  {label:<{width}}  {value}")
