"""The result list as it is painted: the right rows after fast typing, and each row's texts as the hit is now (the delegate keeps laid-out rows between keystrokes)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtGui import QFont

from desktop.ui.search import RESULT_LIMIT, ResultDelegate, hit_accessible_text

pytestmark = pytest.mark.gui


def painted_texts(view, row: int) -> list[str]:
    """The texts the delegate draws for one row of the result list, at the list's width."""
    delegate = view.results.itemDelegate()
    index = view.model.index(row)
    rect = view.results.visualRect(index).adjusted(ResultDelegate.PAD + 2, 0, -ResultDelegate.PAD - 2, 0)
    fonts = delegate.fonts(view.results.font())
    return [static.text() for *_, static in delegate.row_text(view.model.hits[row], rect.width(), fonts).parts]


def keys(hits) -> list[tuple[str, str]]:
    return [(hit.collection, hit.record_id) for hit in hits]


def test_fast_typing_shows_the_hits_of_the_last_text_painted_as_they_are(running) -> None:
    view = running.main.search_view
    store = running.application.session.store
    running.type("tib")  # every key at once: searches are dropped and answered out of turn
    running.type(" sos")
    running.qtbot.waitUntil(lambda: view.model.query == "tib sos" and not view.waiting, timeout=5000)
    assert keys(view.model.hits) == keys(store.search("tib sos", limit=RESULT_LIMIT))
    view.results.viewport().repaint()  # the paint itself (an error in it fails the test)
    first = view.model.hits[0]
    texts = painted_texts(view, 0)
    assert first.title in texts and first.best_channel.value in texts
    assert first.subtitle in texts


def test_an_edited_title_is_painted_new_not_as_remembered(running) -> None:
    view = running.main.search_view
    store = running.application.session.store
    running.type("tib sos")
    running.qtbot.waitUntil(lambda: view.model.query == "tib sos" and not view.waiting, timeout=5000)
    view.results.viewport().repaint()
    before = view.model.hits[0]
    assert before.title in painted_texts(view, 0)
    store.update("functions", before.record_id, {"name": "Tjänsteman i beredskap, natt"})
    running.qtbot.waitUntil(
        lambda: view.model.hits and view.model.hits[0].title != before.title and not view.waiting, timeout=5000
    )
    view.results.viewport().repaint()
    texts = painted_texts(view, 0)
    assert view.model.hits[0].record_id == before.record_id
    assert view.model.hits[0].title in texts and before.title not in texts


def test_a_row_is_laid_out_again_for_another_width_or_another_hit(qtbot, running) -> None:
    hit = running.application.session.store.search("tib sos", limit=1)[0]
    delegate = ResultDelegate()
    fonts = delegate.fonts(QFont())
    wide = [s.text() for *_, s in delegate.row_text(hit, 900, fonts).parts]
    narrow = [s.text() for *_, s in delegate.row_text(hit, 300, fonts).parts]
    assert hit.title in wide
    assert hit.title not in narrow, "elided to the narrow width"
    assert any(text.endswith("…") and hit.title.startswith(text[:-1]) for text in narrow)
    renamed = dataclasses.replace(hit, title="Bakjour TiB")
    assert "Bakjour TiB" in [s.text() for *_, s in delegate.row_text(renamed, 900, fonts).parts]
    assert delegate.row_text(hit, 900, fonts) is delegate.row_text(hit, 900, fonts), "kept between paints"
    marked = delegate.row_text(hit, 900, fonts, "● AKTIVERAT")
    assert marked.badge is not None and marked.badge[1].text() == "● AKTIVERAT"
    assert delegate.row_text(hit, 900, fonts).badge is None, "the mark is part of what a row is kept by"
    subtitle_x = {static.text(): x for _, _, x, _, static in marked.parts}[hit.subtitle]
    assert subtitle_x > marked.badge[0][2], "the subtitle starts after the mark"
    assert hit_accessible_text(hit).startswith("Funktion")
