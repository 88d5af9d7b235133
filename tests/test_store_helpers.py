"""Helpers for the store tests (no tests here): one valid record of every collection, references wired."""

from __future__ import annotations

from desktop.store import Store


def make_org(store: Store, name: str = "SOS Alarm", short: str | None = "SOS", **extra) -> str:
    fields = {"name": name, "kind": "company", **extra}
    if short is not None:
        fields["short_name"] = short
    return store.create("organisations", fields)


def make_function(store: Store, org_id: str, name: str = "Tjänsteman i beredskap", short="TiB", **extra) -> str:
    fields = {"organisation_id": org_id, "name": name, "availability": "24/7", **extra}
    if short is not None:
        fields["short_name"] = short
    return store.create("functions", fields)


def make_channel(store: Store, function_id: str, value="070-174 06 05", kind="mobile", **extra) -> str:
    return store.create(
        "channels", {"function_id": function_id, "kind": kind, "value": value, **extra}
    )


def one_of_each(store: Store) -> dict[str, tuple[str, dict]]:
    """collection -> (record_id, fields as given) for every collection a client may create."""
    made: dict[str, tuple[str, dict]] = {}

    def add(collection: str, fields: dict) -> str:
        rid = store.create(collection, fields)
        made[collection] = (rid, fields)
        return rid

    org = add("organisations", {
        "name": "Länsstyrelsen Stockholm", "short_name": "Lst", "kind": "county_board",
        "website": "https://lansstyrelsen.example", "notes": "Sammankallar.",
        "last_verified": "2026-02-02", "visibility": "regional",
    })
    fn = add("functions", {
        "organisation_id": org, "name": "Tjänsteman i beredskap", "short_name": "TiB",
        "description": "Dygnet runt.", "availability": "24/7", "is_contact_point": True,
        "last_verified": "2026-02-03",
    })
    add("channels", {
        "function_id": fn, "kind": "rakel", "value": "ISSI 9990121 (fiktiv)", "label": "Rakel",
        "priority": 2, "resilient": True, "note": "Fungerar vid strömavbrott.",
    })
    forum = add("forums", {
        "name": "Regional samverkanskonferens", "level": "coordinating", "purpose": "Lägesbild.",
        "convenor_function_id": fn, "mode": "ordinary", "cadence": "varje vecka",
        "meeting_channel": "Telefonbrygga", "agenda": "Aktörsrapportering.",
    })
    add("mandates", {
        "forum_id": forum, "function_id": fn, "role": "convenor", "mandate": "Sammankallar.",
        "reports_back": "Till ledningen.",
    })
    routine = add("routines", {
        "title": "Sammankalla samverkanskonferens", "forum_id": forum, "organisation_id": org,
        "mode": "activated", "trigger": "Händelse", "body": "Steg för steg.", "version": "1.0",
        "review_due": "2027-01-01", "visibility": "internal",
    })
    step = add("routine_steps", {
        "routine_id": routine, "position": "a0", "text": "Ring SOS Alarm.",
        "responsible_function_id": fn,
    })
    activation = add("activations", {
        "forum_id": forum, "reason": "Storm", "exercise": False,
        "started_at": "2026-11-27T10:18:46.123Z", "ended_at": None,
        "started_by_function_id": fn,
    })
    add("callout_events", {
        "activation_id": activation, "function_id": fn, "status": "reached",
        "at": "2026-11-27T10:20:00.000Z", "note": "Svarade direkt.",
    })
    entry = add("log_entries", {
        "activation_id": activation, "at": "2026-11-27T10:21:00.000Z", "author_function_id": fn,
        "kind": "decision", "text": "Konferens kl 11.",
    })
    made["log_entries_correction"] = (store.create("log_entries", {
        "activation_id": activation, "at": "2026-11-27T10:22:00.000Z", "kind": "other",
        "text": "Rättelse: kl 11.30.", "corrects": entry,
    }), {})
    add("checklist_marks", {
        "activation_id": activation, "step_id": step, "done": True,
        "at": "2026-11-27T10:25:00.000Z", "note": "Klart.",
    })
    add("report_backs", {
        "activation_id": activation, "organisation_id": org, "meeting_at": "2026-11-27T10:00:00.000Z",
        "at": "2026-11-27T11:00:00.000Z", "note": "Till ledningen.",
    })
    return made
