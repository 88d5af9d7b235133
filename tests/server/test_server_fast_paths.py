"""The fast paths of push and pull give exactly what the plain rules give.

Pull builds its answer as JSON text with the stored ``fields`` spliced in (no decoding); push
reads the records it needs in a few queries up front and writes everything in one flush. These
tests hold both to the reference: ``storage.record_out`` on every stored row for pull, and the
same changes pushed one per request for push.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text

from sync.server import storage
from sync.server.models import Record
from sync.wire import PullResponse

from server_support import Dev, Region, make_region, start_server, stop_server

AWKWARD = 'quote " backslash \\ slash / newline \n tab \t ctrl \x01 å ä ö 🚒 \u2028 \u2029 end'


def _expected(server, organisation_id: str) -> list[dict[str, Any]]:
    with server.sessions() as session:
        rows = session.query(Record).order_by(Record.seq).all()
        return [storage.record_out(row, organisation_id) for row in rows]


def _pull_raw(dev: Dev, limit: int) -> list[dict[str, Any]]:
    records, cursor = [], None
    while True:
        response = dev.pull_page(cursor, limit)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        page = PullResponse.model_validate_json(response.content)  # the documented shape
        body = json.loads(response.content)
        assert set(body) == {"records", "cursor", "has_more", "server_time"}
        assert len(page.records) == len(body["records"]) <= limit
        records.extend(body["records"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return records


def _mixed_region(region: Region) -> None:
    sos, kom = region.sos_member, region.kom_member
    regional = sos.create("functions", {"organisation_id": sos.org_id, "name": "TiB", "description": AWKWARD})
    internal = sos.create("functions", {"organisation_id": sos.org_id, "name": "Intern", "visibility": "internal"})
    sos.create("channels", {"function_id": internal, "kind": "phone", "value": "+4687", "visibility": "internal"})
    sos.create("channels", {"function_id": regional, "kind": "email", "value": "tib@example.se", "priority": 2,
                            "resilient": True, "label": AWKWARD[:400]})
    gone = kom.create("functions", {"organisation_id": kom.org_id, "name": "Borta"})
    kom.delete("functions", gone)
    turned = kom.create("functions", {"organisation_id": kom.org_id, "name": "Blir intern"})
    kom.update("functions", turned, {"visibility": "internal"})
    # A conflict (its record takes the owner and visibility of the record in conflict).
    stale = sos.change("functions", regional, {"name": "Gammalt"}, base={"name": None})
    sos.update("functions", regional, {"name": "Nytt"})
    assert sos.push_one(stale)["status"] == "conflict"


def test_pull_body_is_record_out_of_every_row_for_every_device(region: Region):
    _mixed_region(region)
    for dev in (region.sos_member, region.kom_member, region.lst_admin):
        expected = _expected(region.server, dev.org_id)
        for limit in (1, 3, 1000):
            assert _pull_raw(dev, limit) == expected
    kom_view = {r["record_id"]: r for r in _pull_raw(region.kom_member, 1000)}
    hidden = [r for r in kom_view.values() if r["visibility"] == "internal" and r["owner_org"] == region.sos]
    assert hidden and all(r["deleted"] and r["fields"] == {} for r in hidden)


def test_awkward_text_comes_back_exactly(region: Region):
    sos = region.sos_member
    record_id = sos.create("functions", {"organisation_id": sos.org_id, "name": "X", "description": AWKWARD})
    pulled = region.kom_member.pulled("functions", record_id)
    assert pulled["fields"]["description"]["value"] == AWKWARD


def test_fields_stored_in_another_json_layout_are_served_unchanged(region: Region):
    """Rows written before the compact serializer (spaces, \\u escapes) are served as stored."""
    sos = region.sos_member
    record_id = sos.create("functions", {"organisation_id": sos.org_id, "name": "Räddning"})
    row = region.server.record("functions", record_id)
    spaced = json.dumps(row.fields, ensure_ascii=True, indent=2)
    with region.server.engine.begin() as conn:
        conn.execute(
            text("UPDATE records SET fields = :f WHERE collection = 'functions' AND record_id = :r"),
            {"f": spaced, "r": record_id},
        )
    pulled = region.kom_member.pulled("functions", record_id)
    assert pulled["fields"] == row.fields
    assert pulled["fields"]["name"]["value"] == "Räddning"


def test_an_empty_pull_and_a_pull_past_the_end(region: Region):
    dev = region.kom_member
    records, cursor = dev.pull_all()
    response = dev.pull_page(cursor)
    body = json.loads(response.content)
    assert body["records"] == [] and body["cursor"] == cursor and body["has_more"] is False
    PullResponse.model_validate_json(response.content)


# --- push: one request of many changes is the same as one request per change -----------------

def _script(region: Region) -> list[tuple[str, dict[str, Any]]]:
    """(device, change) pairs exercising every path of a push; ids fixed so two servers agree."""
    ids = iter(uuid.UUID(int=n).hex for n in range(1, 10_000))

    def rid() -> str:
        return str(uuid.UUID(next(ids)))

    sos, kom, lst = region.sos_member, region.kom_member, region.lst_admin
    clock = iter(range(1, 10_000))

    def c(dev, collection, record_id, fields, op="upsert", base=None, change_id=None):
        # Clocks name the sending device (the other server's devices: see _translate).
        return (dev, {
            "change_id": change_id or rid(), "collection": collection, "record_id": record_id,
            "op": op, "fields": fields,
            "clock": f"{1_700_000_000_000 + next(clock):013d}-00000-{dev.device_id}",
            "base": base if base is not None else {name: None for name in fields},
        })

    f1, f2, f3, ch1, ch2, forum, act, kf = (rid() for _ in range(8))
    repeated = rid()
    return [
        c(sos, "functions", f1, {"organisation_id": sos.org_id, "name": "TiB"}),
        c(sos, "functions", f2, {"organisation_id": sos.org_id, "name": "Intern", "visibility": "internal"}),
        c(sos, "channels", ch1, {"function_id": f1, "kind": "phone", "value": "112"}),  # earlier change
        c(kom, "channels", rid(), {"function_id": f2, "kind": "phone", "value": "1"}),  # can't see f2
        c(kom, "channels", rid(), {"function_id": rid(), "kind": "phone", "value": "1"}),  # no such function
        c(kom, "channels", rid(), {"function_id": f1, "kind": "phone", "value": "1"}),  # another org's
        c(kom, "functions", kf, {"organisation_id": kom.org_id, "name": "Kommunens TiB"}),
        c(sos, "functions", f1, {"name": "TiB 2"}, change_id=repeated),  # sequential edit
        c(sos, "functions", f1, {"name": "TiB 2"}, change_id=repeated),  # duplicate in the same push
        c(sos, "functions", f1, {"name": "stale"}, base={"name": None}),  # concurrent: a conflict
        c(sos, "channels", ch2, {"function_id": f1, "kind": "email", "value": "a@b.se"}),
        c(sos, "channels", ch2, {}, op="delete"),
        c(sos, "channels", ch2, {"value": "revived?"}),  # an upsert of a tombstone: a conflict
        c(sos, "channels", rid(), {}, op="delete"),  # not found
        c(sos, "functions", f3, {"organisation_id": kom.org_id, "name": "Fel"}),  # forbidden
        c(lst, "forums", forum, {"name": "Regional samverkan", "level": "coordinating",
                                 "convenor_function_id": kf}),
        c(lst, "mandates", rid(), {"forum_id": forum, "function_id": f1, "role": "member"}),
        c(kom, "activations", act, {"forum_id": forum, "reason": "Storm", "started_at": "2026-11-27T10:00:00Z"}),
        c(sos, "log_entries", rid(), {"activation_id": act, "at": "2026-11-27T10:01:00Z",
                                      "kind": "information", "text": "SOS i forumet"}),
        c(kom, "log_entries", rid(), {"activation_id": act, "at": "2026-11-27T10:02:00Z",
                                      "kind": "decision", "text": "sammankallande"}),
        c(sos, "functions", f1, {"name": "x" * 501}),  # invalid
        c(sos, "nope", rid(), {}),  # unknown collection
    ]


def _state(server) -> list[tuple]:
    with server.sessions() as session:
        rows = session.query(Record).order_by(Record.seq).all()
        out = []
        for row in rows:
            fields = row.fields
            if row.collection in ("conflicts", "organisations"):  # clocks of each server's own node
                fields = {k: v["value"] for k, v in fields.items()}
            out.append((row.collection, row.owner_org, row.visibility, row.deleted, row.seq,
                        None if row.collection == "conflicts" else row.record_id,
                        json.dumps(fields, sort_keys=True)))
        return out


def _outcomes(results: list[dict]) -> list[tuple]:
    return [(r["change_id"], r["status"], r.get("seq"), r.get("first_status"),
             (r.get("problem") or {}).get("type"), (r.get("problem") or {}).get("field")) for r in results]


def test_one_push_of_many_changes_equals_one_push_per_change(backend):
    servers = []
    try:
        for _ in range(2):
            server = start_server(backend.new_url())
            servers.append(server)
        regions = [make_region(server) for server in servers]
        outcomes = []
        for index, region in enumerate(regions):
            script = _script(regions[0])  # same ids everywhere
            devs = {regions[0].sos_member.device_id: region.sos_member,
                    regions[0].kom_member.device_id: region.kom_member,
                    regions[0].lst_admin.device_id: region.lst_admin}
            results = []
            if index == 0:  # all of one device's consecutive changes in one push
                batch: list = []
                for dev, change in script + [(None, None)]:
                    if batch and (dev is None or dev.device_id != batch[0][0].device_id):
                        results += devs[batch[0][0].device_id].push(*(ch for _, ch in batch))
                        batch = []
                    if dev is not None:
                        batch.append((dev, _translate(change, regions[0], region)))
            else:
                for dev, change in script:
                    results += devs[dev.device_id].push(_translate(change, regions[0], region))
            outcomes.append(_outcomes(results))
        assert outcomes[0] == outcomes[1]
        statuses = [o[1] for o in outcomes[0]]
        assert {"applied", "duplicate", "conflict", "rejected"} <= set(statuses)
        state = [_untranslate(s, regions[1], regions[0]) for s in _state(servers[1])]
        assert _state(servers[0]) == state
    finally:
        for server in servers:
            stop_server(server)
            backend.drop(server.db_url)


def _ids(a: Region, b: Region) -> dict[str, str]:
    ids = {getattr(a, name): getattr(b, name) for name in ("lst", "sos", "kom")}
    for name in ("lst_admin", "sos_member", "kom_member"):
        ids[getattr(a, name).device_id] = getattr(b, name).device_id
    return ids


def _translate(change: dict, a: Region, b: Region) -> dict:
    """The change as region b's devices send it: organisation and device ids of b."""
    text_ = json.dumps(change)
    for old, new in _ids(a, b).items():
        text_ = text_.replace(old, new)
    return json.loads(text_)


def _untranslate(row: tuple, b: Region, a: Region) -> tuple:
    out = []
    for item in row:
        if isinstance(item, str):
            for old, new in _ids(b, a).items():
                item = item.replace(old, new)
        out.append(item)
    return tuple(out)
