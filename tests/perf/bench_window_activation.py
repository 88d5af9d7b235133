"""Benchmark: the window's side of an activation with 40 member functions and 2,000 journal entries — key to the call list painted, key to the journal painted.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_window_activation.py [--runs 9]

The vault (SQLCipher, OWASP-minimum KDF) holds bench_activation.py's activation (40 functions
with 3 channels each in one forum, 80 call-out events, 2,000 sequenced journal entries plus 50
corrections, the chain checked over all of them) and a second, small activation of another
forum. The real Application is started in this process, unlocked, and driven with real key
events (QTest), as bench_window.py does for the search: a paint event filter on the table's
viewport stamps the first paint that shows the wanted rows, and the time is taken from the key
to that paint (the pool-thread read, the model reset and the layout included).

- "Ctrl+5 → call list painted (first open)": the view is made, the list read, the first
  activation's page loaded; once per process (what a duty officer's first Ctrl+5 costs);
- "↓/↑ in the list → call list painted": the other activation, then back to the big one;
- "Alt+D → journal painted": the journal tab of the big activation, its data already loaded;
- "↓/↑ in the list → journal painted": with the journal tab showing, the big activation chosen
  again: its 2,050 entries read, threaded and chain-verified on a pool thread, then painted.

Baseline in the same run: ActivationService.call_list and .journal alone (no Qt), as
bench_activation.py measures them. Goal: ≤ 100 ms from key to painted. The machine is shared
and noisy: compare the columns of one run, not runs with each other.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["SAMVERKA_FAST_KDF"] = "1"

from bench_window import PASSPHRASE  # noqa: E402 (the same vaults' passphrase)

TIMEOUT_S = 20


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def build_vault(folder: Path) -> tuple[str, str]:
    """The vault; (the big activation's id, the small one's)."""
    from bench_activation import build

    from desktop import session as sessions
    from desktop.app import SETUP_DONE, SETUP_META
    from desktop.vault import KdfParams

    opened = sessions.create_session(folder, PASSPHRASE, kdf=KdfParams.minimum())
    try:
        store = opened.store
        big = build(store)
        with store.batch():
            org = store.create("organisations", {"name": "Övrig aktör"})
            function = store.create("functions", {"organisation_id": org, "name": "Vakthavande", "short_name": "VH"})
            forum = store.create("forums", {"name": "Lokal samverkan", "level": "executive",
                                            "convenor_function_id": function})
            small = store.create("activations", {"forum_id": forum, "reason": "Övning", "exercise": True,
                                                 "started_at": "2026-12-06T07:00:00.000Z"})
        store.set_meta(SETUP_META, SETUP_DONE)
    finally:
        opened.close()
    return big, small


class PaintStamp:
    """Stamps the first paint of a viewport at which ``ready()`` holds."""

    def __init__(self, viewport) -> None:
        from PySide6.QtCore import QEvent, QObject

        stamp = self

        class Filter(QObject):
            def eventFilter(self, watched, event) -> bool:  # noqa: N802
                if event.type() == QEvent.Type.Paint and stamp.at is None and stamp.ready():
                    stamp.at = time.perf_counter()
                return False

        self.at: float | None = None
        self.ready = lambda: False
        self.filter = Filter()
        viewport.installEventFilter(self.filter)

    def arm(self, ready) -> None:
        self.at, self.ready = None, ready


def key_to_paint(qapp, stamp: PaintStamp, ready, press) -> float:
    """ms from ``press()`` (the key) to the first paint at which ``ready()`` holds."""
    stamp.arm(ready)
    started = time.perf_counter()
    press()
    deadline = started + TIMEOUT_S
    while stamp.at is None:
        if time.perf_counter() > deadline:
            raise TimeoutError("nothing painted")
        qapp.processEvents()
        time.sleep(0.0002)
    return (stamp.at - started) * 1000


def settle(qapp, seconds: float = 0.3) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        qapp.processEvents()
        time.sleep(0.002)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from bench_window import unlocked_application

    from desktop.activation import ActivationService

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        started = time.perf_counter()
        big, small = build_vault(work_dir / "data")
        print(f"built the vault in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        application = unlocked_application(qapp, work_dir / "data", work_dir / "settings.json")
        main_window = application.main
        settle(qapp, 1.0)
        store = application.session.store
        service = ActivationService(store)
        entries = store.count("log_entries")

        # First Ctrl+5: the view is made; the call list of the first activation painted.
        view = None

        def first_ready() -> bool:
            page = view.page if view is not None else None
            return page is not None and page.activation_id == big and len(page.call_model.rows) == 40

        from PySide6.QtCore import QEvent, QObject

        first_at: list[float] = []

        class FirstPaint(QObject):  # the view does not exist before the key: watch every paint
            def eventFilter(self, watched, event) -> bool:  # noqa: N802
                if event.type() == QEvent.Type.Paint and not first_at and first_ready():
                    first_at.append(time.perf_counter())
                return False

        watcher = FirstPaint()
        qapp.installEventFilter(watcher)
        t0 = time.perf_counter()
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
        view = main_window.views.get("activations")
        deadline = t0 + TIMEOUT_S
        while not first_at and time.perf_counter() < deadline:
            view = main_window.views.get("activations")
            qapp.processEvents()
            time.sleep(0.0002)
        qapp.removeEventFilter(watcher)
        first_ms = (first_at[0] - t0) * 1000
        page = view.page
        settle(qapp, 1.0)
        assert page.journal is not None and page.journal_model.rowCount() == entries, page.journal_model.rowCount()

        calls = PaintStamp(page.call_table.viewport())
        journal = PaintStamp(page.journal_table.viewport())
        from desktop.ui.activation_models import ID_ROLE

        row_of = {view.list_model.index(r, 0).data(ID_ROLE): r for r in range(view.list_model.rowCount())}
        step_to_small = Qt.Key.Key_Down if row_of[small] > row_of[big] else Qt.Key.Key_Up
        step_to_big = Qt.Key.Key_Up if step_to_small == Qt.Key.Key_Down else Qt.Key.Key_Down

        def choose(key) -> None:
            QTest.keyClick(view.list, key)

        def to_small() -> None:
            view.list.setFocus()
            choose(step_to_small)
            deadline = time.perf_counter() + TIMEOUT_S
            while (page.activation_id != small or page.loading) and time.perf_counter() < deadline:
                qapp.processEvents()
            settle(qapp, 0.1)

        call_ms, tab_ms, journal_ms = [], [], []
        for _ in range(args.runs):
            page.tabs.setCurrentIndex(0)
            to_small()
            call_ms.append(key_to_paint(qapp, calls, lambda: page.activation_id == big and len(page.call_model.rows) == 40,
                                        lambda: choose(step_to_big)))
            settle(qapp, 0.2)
            # Alt+D: the journal tab, the big activation's journal already loaded
            tab_ms.append(key_to_paint(qapp, journal, lambda: page.journal_model.rowCount() == entries,
                                       lambda: QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_D,
                                                              Qt.KeyboardModifier.AltModifier)))
            settle(qapp, 0.2)
            to_small()
            journal_ms.append(key_to_paint(qapp, journal, lambda: page.activation_id == big
                                           and page.journal_model.rowCount() == entries, lambda: choose(step_to_big)))
            settle(qapp, 0.2)

        def timed(work) -> list[float]:
            out = []
            for _ in range(args.runs):
                t = time.perf_counter()
                work()
                out.append((time.perf_counter() - t) * 1000)
            return out

        service_call = timed(lambda: service.call_list(big))
        service_journal = timed(lambda: service.journal(big))
        application.shutdown()

    load = os.getloadavg()
    print(f"\nActivation with 40 member functions and {entries:,} journal entries: key → painted, "
          f"{args.runs} runs (load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores)")
    print(f"| {'what':<58} | {'median':>8} | {'p95':>8} | goal     |")
    print(f"| {'-' * 58} | {'-' * 8} | {'-' * 8} | -------- |")
    rows = [
        ("Ctrl+5 → call list painted (first open, 1 sample)", [first_ms], "≤ 100 ms"),
        ("↓/↑ in the list → call list painted", call_ms, "≤ 100 ms"),
        ("Alt+D → journal painted (loaded)", tab_ms, "≤ 100 ms"),
        ("↓/↑ in the list → journal painted (read, chain verified)", journal_ms, "≤ 100 ms"),
        ("baseline: ActivationService.call_list alone", service_call, ""),
        ("baseline: ActivationService.journal alone", service_journal, ""),
    ]
    for what, values, goal in rows:
        print(f"| {what:<58} | {statistics.median(values):6.1f}ms | {percentile(values, 95):6.1f}ms | {goal:<8} |")


if __name__ == "__main__":
    main()
