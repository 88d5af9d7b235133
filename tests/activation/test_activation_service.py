"""The activation service on one standalone vault with the demo region: situation reports, lookups, times, the demo's checklists."""

from __future__ import annotations

import pytest

from desktop.activation import ActivationError, ActivationService, PartyReport, SituationReport, lookup, situation
from desktop.i18n import in_language
from desktop.store.demo import load_demo


@pytest.fixture
def demo(store):
    load_demo(store)
    return ActivationService(store)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_situation_report_reads_back_in_either_language(lang):
    report = SituationReport(
        party_reports=(PartyReport("SOS Alarm", "== inte en rubrik\n-- inte heller\n\\ snedstreck"),
                       PartyReport("Trafikverket", "")),
        information_sharing="Gemensamt budskap klart.", coordination_needs="Reservkraft till Huddinge",
        regional_picture="Stabilt men ansträngt", next_meeting="14.00 på telefonbryggan",
    )
    with in_language(lang):
        text = situation.to_text(report)
    assert text.splitlines()[0] == ("LÄGESBILD" if lang == "sv" else "SITUATION REPORT")
    assert situation.parse(text) == report
    assert situation.parse("Vanlig text\n== Aktörsrapportering ==") is None


def test_the_demo_forum_runs_its_routine_and_the_report_back_routine_as_checklists(demo):
    forum = lookup.find_forum(demo.store, "samverkanskonferens")
    activation = demo.activate(forum, "Storm", exercise=True)
    titles = [c.title for c in demo.checklists(activation)]
    assert titles == ["Sammankalla samverkanskonferens i aktiverat läge", "Återrapportering till hemorganisationen"]
    rows = demo.call_list(activation).rows
    assert rows[0].role == "convenor" and len(rows) == 12 and all(r.unreached for r in rows)
    assert lookup.find_function(rows, "rcb attunda", activation).organisation_name == "Brandkåren Attunda"
    with pytest.raises(ActivationError) as many:
        lookup.find_function(rows, "rcb", activation)
    assert many.value.key == "activation.ambiguous_function"
    with pytest.raises(ActivationError):
        demo.activate(forum, "igen")
    with pytest.raises(ActivationError):
        demo.record_callout(activation, rows[0].function_id, "maybe")
    with pytest.raises(ActivationError):
        demo.write_entry(activation, "   ")


def test_times_a_person_types():
    from datetime import datetime, timezone

    now = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
    assert lookup.parse_time_text("2026-12-06T13:30:00Z") == "2026-12-06T13:30:00.000Z"
    assert lookup.parse_time_text("14:30", now=now).endswith(":30:00.000Z")
    with pytest.raises(ActivationError):
        lookup.parse_time_text("halv tre")
