"""The reliability suite in the test run: kill -9 against a real server, and convergence through a faulty network.

Full size on SQLite (100 client kills, 1,000 operations); a third of that on PostgreSQL, where
a server start takes longer. SAMVERKA_RELIABILITY_KILLS and SAMVERKA_RELIABILITY_OPS set both
sizes, SAMVERKA_RELIABILITY_SEED replays a run (the seed of every run is in its figures, shown
in the summary, and in every failure). ``scripts/reliability`` runs the same at full size and
prints the tables.

Each test then breaks the very data it has just checked — as a server gone wrong could — and
checks again, so the checks are shown to notice a loss, a duplicate and a device that differs.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
from reliability_convergence import Convergence, ConvergenceSettings, run_convergence
from reliability_kill import KillLoop, KillSettings, run_kill_loop
from reliability_run import KILLS_ENV, OPS_ENV, default_seed
from sqlalchemy import select
from syncer_helpers import put_raw_record

from sync.server.db import write_session
from sync.server.models import ChangeLog, Record

pytestmark = [pytest.mark.slow, pytest.mark.end2end]

SEED = default_seed()


def size(env: str, full: int, backend: str) -> int:
    chosen = os.environ.get(env)
    if chosen:
        return int(chosen)
    return full if backend == "sqlite" else full * 3 // 10


def failure(figures) -> str:
    return f"seed {figures.seed} (replay: scripts/reliability --seed {figures.seed}):\n" + "\n".join(
        figures.problems)


def test_kill_minus_nine_loses_and_doubles_nothing(backend, tmp_path, report_figures, monkeypatch):
    monkeypatch.setenv("SAMVERKA_FAST_KDF", "1")
    kills = size(KILLS_ENV, 100, backend)
    rechecked = []

    def break_and_check_again(loop: KillLoop) -> None:
        if backend == "sqlite":
            _break_the_server(loop)
            rechecked.append(loop.check())

    figures = run_kill_loop(KillSettings(kills=kills, seed=SEED, backend=backend), tmp_path,
                            then=break_and_check_again)
    report_figures(f"kill -9 ×{kills} ({backend}, seed {SEED})", figures)
    assert not figures.problems, failure(figures)
    assert figures.client_kills >= kills and figures.server_kills >= 1 and figures.compactions >= 1
    assert figures.edits_made > kills and figures.edits_acknowledged > 0
    assert figures.losses == figures.duplicates == figures.reopen_failures == 0
    if rechecked:
        broken = rechecked[0]
        assert broken.losses >= 2 and broken.duplicates >= 1 and broken.device_differences >= 1, broken.problems
        assert any("links differ from the server's" in problem for problem in broken.problems)


def _break_the_server(loop: KillLoop) -> None:
    """An acknowledged change vanishes, a journal entry changes behind the devices' backs (its
    seq unchanged), another gets a forged chain link and is handed out twice."""
    region = loop.region
    with write_session(region.sessions) as session:
        applied = session.execute(select(ChangeLog).where(
            ChangeLog.change_id.not_in(loop.setup_changes), ChangeLog.collection == "log_entries",
        )).scalars().first()
        session.delete(applied)
        entries = session.execute(select(Record).where(
            Record.collection == "log_entries", Record.record_id != applied.record_id)).scalars().all()
        changed, copied = [e for e in entries if e.value("text").startswith("rel ")][:2]
        changed.fields = {**changed.fields, "text": {**changed.fields["text"], "value": "ändrad i smyg"}}
        link = json.loads(copied.journal)
        copied.journal = json.dumps({**link, "chain": "0" * 64})  # its link in the chain, forged
        copy, owner = dict(copied.fields), copied.owner_org
    put_raw_record(region.sessions, "log_entries", str(uuid.uuid4()), copy, owner)


def test_three_organisations_converge_through_a_faulty_network(backend, tmp_path, report_figures, monkeypatch):
    monkeypatch.setenv("SAMVERKA_FAST_KDF", "1")
    operations = size(OPS_ENV, 1000, backend)
    rechecked = []

    def break_and_check_again(run: Convergence) -> None:
        if backend == "sqlite":
            with write_session(run.region.sessions) as session:
                conflict = session.execute(select(Record).where(
                    Record.collection == "conflicts")).scalars().first()
                conflict.deleted = True  # gone on the server, not told to the devices
            rechecked.append(run.check())

    figures = run_convergence(ConvergenceSettings(operations=operations, seed=SEED, backend=backend),
                              tmp_path, then=break_and_check_again)
    report_figures(f"convergence, {operations} operations ({backend}, seed {SEED})", figures)
    assert not figures.problems, failure(figures)
    assert sum(figures.operations.values()) == operations
    if operations >= 200:  # the network did fail, and overwrites were made
        assert figures.failed_syncs > 0 and figures.proxy["answers cut"] > 0 and figures.overwrites > 0
    assert figures.conflicts_on_server == figures.conflicts_expected == figures.overwrites
    assert set(figures.conflicts_per_device.values()) == {figures.conflicts_expected}
    if rechecked:
        broken = rechecked[0]
        assert broken.conflicts_on_server == broken.conflicts_expected - 1
        assert broken.device_differences == 3 and broken.problems, broken.problems
