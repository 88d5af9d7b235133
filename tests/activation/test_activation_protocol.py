"""Protocol points of activated mode: a collection a client does not know is kept aside (as an
older client does with report_backs) without endless re-downloads; the chain's canonical form."""

from __future__ import annotations

import hashlib
import json
import uuid

from tests.syncer.syncer_helpers import put_raw_record

from sync import journal as chain


def test_a_collection_this_version_does_not_know_is_kept_aside_and_the_digest_still_agrees(server, device_factory):
    """What a client of the version before report_backs does with them: quarantined (never
    applied), the sync goes on, and the digest check does not download everything again."""
    device = device_factory(server, "sos")
    clock = device.store.clock.now().rsplit("-", 1)[0] + "-future"
    seq = put_raw_record(server.sessions, "future_things", str(uuid.uuid4()),
                         {"text": {"value": "from a newer version", "clock": clock}}, server.org_ids["sos"])
    report = device.sync()
    assert device.store.quarantine_count() == 1
    assert device.store.quarantined_seqs("future_things") and report.digest_ok is True
    assert report.repaired == []
    again = device.sync()
    assert again.repaired == [] and again.digest_ok is True and again.pulled == 0
    assert seq > 0


def test_the_canonical_form_is_the_documented_bytes():
    entry = chain.Entry.of(
        "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-0000000000aa",
        "1764000000000-00000-00000000-0000-4000-8000-0000000000dd",
        {"activation_id": "00000000-0000-4000-8000-0000000000ac", "at": "2026-12-06T10:00:00.000Z",
         "kind": "decision", "text": 'Beslut: "aktiverat"\nläge\t\u0001', "author_function_id": None},
    )
    expected = (
        '["samverka-journal-v1","00000000-0000-4000-8000-000000000001",'
        '"00000000-0000-4000-8000-0000000000ac","00000000-0000-4000-8000-0000000000aa",'
        '"1764000000000-00000-00000000-0000-4000-8000-0000000000dd","2026-12-06T10:00:00.000Z",'
        'null,"decision","Beslut: \\"aktiverat\\"\\nläge\\t\\u0001",null]'
    ).encode("utf-8")
    assert entry.canonical() == expected
    assert entry.digest() == hashlib.sha256(expected).hexdigest()
    activation = "00000000-0000-4000-8000-0000000000ac"
    genesis = hashlib.sha256(f"samverka-journal-v1\n{activation}".encode()).hexdigest()
    (first,) = chain.chain_of(activation, [entry])
    assert first.chain == hashlib.sha256(f"{genesis}:1:{entry.digest()}".encode()).hexdigest()
    assert chain.Link.from_member(json.loads(first.as_json())) == first
    assert chain.Link.from_member({**first.as_member(), "index": 0}) is None
