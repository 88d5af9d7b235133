"""Activated mode on two devices of different organisations against a real uvicorn server.

Offline work on both (activation, call-out, journal, ticks, report-back), then synced: both
officers' events and entries kept and ordered alike, the journal's hash chain verifies on both;
a correction; edits refused locally and by the server; a non-member refused locally and by the
server; a chain broken by editing the local database is caught.
"""

from __future__ import annotations

import uuid

import pytest

from desktop.activation import ActivationError, ActivationService, PartyReport, SituationReport
from desktop.store import AppendOnly
from desktop.syncer.client import SyncClient
from sync import journal as chain
from sync.server.models import JournalHead, Record


def _service(device) -> ActivationService:
    return ActivationService(device.store)


def _push_raw(device, change: dict) -> dict:
    """One change sent as it is, past the store's own checks (what a modified client could send)."""
    client = SyncClient(device.engine.store.get_meta("sync.server_url"), token=device.store.get_meta("sync.token"))
    try:
        change = {"change_id": str(uuid.uuid4()), "base": {}, "clock": device.store.clock.now(), **change}
        return client.push([change]).results[0]
    finally:
        client.close()


def _result(result) -> dict:
    return result if isinstance(result, dict) else result.__dict__


def test_two_organisations_offline_then_synced_keep_everything_in_one_verified_order(region):
    lst, sos = _service(region.lst), _service(region.sos)
    # Länsstyrelsen (the convenor's organisation) activates offline, as an exercise.
    activation = lst.activate(region.forum, "Strömavbrott Södertörn", exercise=True)
    assert lst.summary(activation).started_by_function_id == region.lst_tib
    assert lst.journal(activation).check.ok
    region.lst.sync()
    region.sos.sync()
    assert [a.activation_id for a in sos.open_for_my_organisation()] == [activation]
    assert sos.summary(activation).exercise

    # Both officers call the SOS function in parallel and keep journals, offline.
    lst.record_callout(activation, region.sos_vb, "no_answer")
    sos.record_callout(activation, region.sos_vb, "reached", "svarar på Rakel")
    lst.record_callout(activation, region.lst_tib, "attending")
    first = lst.write_entry(activation, "Beslut: aktiverat läge", kind="decision")
    sos.write_entry(activation, "SOS: hög belastning på 112", kind="information")
    sos.write_situation_report(activation, SituationReport(
        party_reports=(PartyReport("SOS Alarm", "== Hög belastning\nväntetid 4 min"),), regional_picture="Stabilt"))
    unsent = sos.journal(activation)
    assert not unsent.check.ok or unsent.check.unsequenced == 2
    assert all(not e.sequenced for e in unsent.entries)
    lst.mark_step(activation, region.steps[0], True)
    sos.mark_step(activation, region.steps[1], True)
    sos.record_report_back(activation, meeting_at="2026-12-06T10:00:00.000Z", note="Till SOS ledning")

    region.sync_all()

    for service in (lst, sos):
        events = service.callout_events(activation)
        assert sorted(e.status for e in events) == ["attending", "no_answer", "reached"]
        rows = {r.function_id: r for r in service.call_list(activation).rows}
        assert set(rows) == {region.lst_tib, region.sos_vb}
        assert rows[region.lst_tib].role == "convenor"
        assert [c.resilient for c in rows[region.sos_vb].channels] == [False, True]
        journal = service.journal(activation)
        assert journal.check.ok and journal.check.sequenced == 3 and journal.check.unsequenced == 0
        assert [e.index for e in journal.entries] == [1, 2, 3]
        assert journal.entries[-1].situation.party_reports[0].text == "== Hög belastning\nväntetid 4 min"
        checklist = service.checklists(activation)[0]
        assert [s.done for s in checklist.steps] == [True, True, False]
        backs = service.report_backs(activation)
        assert [r.organisation_name for r in backs.reported()] == ["SOS Alarm"]
        assert [r.organisation_name for r in backs.missing()] == ["Länsstyrelsen Stockholm"]
    # The same order and the same chain head on both devices, and on the server.
    assert [e.entry_id for e in lst.journal(activation).entries] == [e.entry_id for e in sos.journal(activation).entries]
    head = lst.verify_journal(activation).head
    assert head == sos.verify_journal(activation).head
    with region.server.session() as session:
        assert session.get(JournalHead, activation).chain == head
    # The latest event per function is the one made last (by time), on both devices.
    assert {r.function_id: r.status for r in lst.call_list(activation).rows}[region.sos_vb] == \
        {r.function_id: r.status for r in sos.call_list(activation).rows}[region.sos_vb]

    # A correction is a new entry pointing at the one it corrects, shown right after it.
    correction = sos.write_entry(activation, "Rättelse: beslutet gäller Södertörn", corrects=first)
    region.sync_all()
    for service in (lst, sos):
        journal = service.journal(activation)
        threaded = [(e.entry_id, depth) for e, depth in journal.threaded()]
        assert threaded.index((correction, 1)) == threaded.index((first, 0)) + 1
        assert journal.check.ok and journal.check.sequenced == 4

    # Ending adds a closing entry; everyone sees it ended.
    lst.end(activation, "Elen är tillbaka")
    region.sync_all()
    assert not sos.summary(activation).is_open
    assert sos.journal(activation).entries[-1].kind == "decision"
    assert sos.verify_journal(activation).ok


def test_journal_entries_are_never_edited_locally_or_on_the_server(region):
    lst = _service(region.lst)
    activation = lst.activate(region.forum, "Storm")
    entry = lst.write_entry(activation, "Första posten")
    region.lst.sync()
    with pytest.raises(AppendOnly):
        region.lst.store.update("log_entries", entry, {"text": "ändrad"})
    with pytest.raises(AppendOnly):
        region.lst.store.delete("log_entries", entry)
    for op, fields in (("upsert", {"text": "ändrad"}), ("delete", {})):
        result = _push_raw(region.lst, {"collection": "log_entries", "record_id": entry, "op": op, "fields": fields})
        assert result.status == "rejected"
        assert result.problem["type"] == "/problems/forbidden" and result.problem["reason"] == "append-only"
    region.lst.sync()
    assert lst.journal(activation).entries[0].text == "Första posten"
    assert lst.verify_journal(activation).ok


def test_a_non_member_is_refused_locally_and_by_the_server(region):
    lst, sbff = _service(region.lst), _service(region.sbff)
    activation = lst.activate(region.forum, "Storm")
    region.sync_all()
    with pytest.raises(ActivationError) as refused:
        sbff.write_entry(activation, "Vi är inte med i forumet")
    assert "forum" in str(refused.value)
    with pytest.raises(ActivationError):
        sbff.record_callout(activation, region.sbff_rcb, "reached")
    with pytest.raises(ActivationError):
        sbff.activate(region.forum, "Vi får inte aktivera")
    assert region.sbff.store.outbox_count() == 0  # nothing was written
    result = _push_raw(region.sbff, {
        "collection": "log_entries", "record_id": str(uuid.uuid4()), "op": "upsert",
        "fields": {"activation_id": activation, "at": "2026-12-06T10:00:00.000Z", "kind": "information", "text": "x"},
    })
    assert result.status == "rejected" and result.problem["reason"] == "not-forum-member"
    # A report-back in another organisation's name is refused, also for a member.
    result = _push_raw(region.sos, {
        "collection": "report_backs", "record_id": str(uuid.uuid4()), "op": "upsert",
        "fields": {"activation_id": activation, "organisation_id": region.server.org_ids["lst"],
                   "at": "2026-12-06T10:00:00.000Z"},
    })
    assert result.status == "rejected" and result.problem["field"] == "organisation_id"
    with pytest.raises(ActivationError):
        _service(region.sos).record_report_back(activation, organisation_id=region.server.org_ids["lst"])


def test_an_edit_of_the_local_database_breaks_the_chain_at_that_entry(region):
    lst = _service(region.lst)
    activation = lst.activate(region.forum, "Storm")
    ids = [lst.write_entry(activation, f"Post {n}") for n in range(4)]
    region.lst.sync()
    region.lst.sync()
    assert lst.verify_journal(activation).ok
    store = region.lst.store
    with store._write() as tx:  # what someone with the key and an SQLite tool could do
        tx.db.execute("UPDATE log_entries SET text = 'Post ändrad' WHERE record_id = ?", (ids[2],))
    check = lst.verify_journal(activation)
    assert not check.ok and (check.break_index, check.break_entry_id, check.reason) == (3, ids[2], chain.BREAK_CONTENT)
    # Recomputing that entry's hash and chain value locally breaks the link to the next one
    # instead: the later values came from the server and cannot follow.
    records = {r["record_id"]: r for r in store.journal_records(activation)}
    entry = chain.Entry.of(ids[2], records[ids[2]]["owner_org"], records[ids[2]]["clock"], records[ids[2]]["fields"])
    forged = chain.link(records[ids[1]]["link"].chain, 3, entry.digest())
    with store._write() as tx:
        tx.db.execute("UPDATE journal_links SET entry_hash = ?, chain = ? WHERE record_id = ?",
                      (entry.digest(), forged, ids[2]))
    check = lst.verify_journal(activation)
    assert (check.break_index, check.reason) == (4, chain.BREAK_CHAIN)
    # An entry taken away leaves a gap.
    with store._write() as tx:
        tx.db.execute("DELETE FROM log_entries WHERE record_id = ?", (ids[0],))
    check = lst.verify_journal(activation)
    assert (check.break_index, check.reason) == (1, chain.BREAK_MISSING)


def test_the_server_links_entries_in_the_order_it_sequences_them(region):
    lst, sos = _service(region.lst), _service(region.sos)
    activation = lst.activate(region.forum, "Storm")
    region.sync_all()
    made = [lst.write_entry(activation, "a"), sos.write_entry(activation, "b"), lst.write_entry(activation, "c")]
    region.sos.sync()
    region.lst.sync()
    with region.server.session() as session:
        rows = [session.get(Record, ("log_entries", record_id)) for record_id in made]
        stored = sorted(rows, key=lambda r: r.seq)
        entries = [chain.Entry.from_stored(r.record_id, r.owner_org, r.fields) for r in stored]
        expected = chain.chain_of(activation, entries)
        assert [chain.Link.from_member(__import__("json").loads(r.journal)) for r in stored] == expected
    assert [e.entry_id for e in sos.journal(activation).entries[:1]] == [made[1]]  # pushed first


def test_an_entry_internal_to_another_organisation_keeps_its_place_in_the_chain(region):
    lst, sos = _service(region.lst), _service(region.sos)
    activation = lst.activate(region.forum, "Storm")
    region.sync_all()
    lst.write_entry(activation, "öppen")
    region.lst.sync()
    region.sos.store.create("log_entries", {"activation_id": activation, "at": sos.now(), "kind": "information",
                                            "text": "bara för SOS", "visibility": "internal"})
    region.sos.sync()
    lst.write_entry(activation, "öppen igen")
    region.sync_all()
    journal = lst.journal(activation)
    assert [e.hidden for e in journal.entries] == [False, True, False]
    assert journal.check.ok and journal.check.hidden == 1 and journal.check.sequenced == 3
    assert journal.check.head == sos.verify_journal(activation).head
    assert sos.verify_journal(activation).hidden == 0
